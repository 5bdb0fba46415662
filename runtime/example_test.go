package runtime

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgw/wsgw/compile"
	"github.com/wsgw/wsgw/internal/testtool"
	"github.com/wsgw/wsgw/template"
)

// compileExample loads and compiles an example template as `wsgw serve` does,
// with --param overrides.
func compileExample(t *testing.T, path string, params map[string]string) *compile.Plan {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, ds := compile.Build(path, src, template.Options{Params: params, RequireParams: true}, compile.Options{})
	if p == nil {
		t.Fatalf("build %s: %v", path, ds.Err())
	}
	return p
}

// TestVpcLinkExample serves examples/vpclink as a user would, with the
// backend URL passed as --param, and checks what the backend receives for
// $connect, the custom route chosen by ${request.body.service}/${request.body.action},
// $default and $disconnect, and what the client receives (SPEC,
// ..R-6.4, R-7.1).
func TestVpcLinkExample(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if r.URL.Path == "/chat/sendmessage" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"echo":` + string(body) + `}`))
		}
	})
	p := compileExample(t, "../examples/vpclink/template.yaml", map[string]string{"BackendUrl": be.URL})
	g := startGateway(t, p, nil)

	hdr := http.Header{"Origin": {"http://localhost:5173"}}
	ws, resp, err := websocket.DefaultDialer.Dial("ws://"+g.Addrs()[0]+"/dev?token=s3cret&other=1", hdr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer ws.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", resp.StatusCode)
	}

	c := be.next(t)
	id := c.Header.Get("ConnectionId")
	check := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %q, want %q", what, got, want)
		}
	}
	check("$connect method", c.Method, "POST")
	check("$connect path", c.Path, "/connect")
	check("$connect body", c.Body, "")
	check("$connect X-Environment (stageVariables.environment)", c.Header.Get("X-Environment"), "dev")
	check("$connect X-Client-Origin (route.request.header.Origin)", c.Header.Get("X-Client-Origin"), "http://localhost:5173")
	check("$connect token (route.request.querystring.token)", strings.Join(c.Query["token"], ","), "s3cret")
	if len(id) != 16 || !strings.HasSuffix(id, "=") {
		t.Errorf("ConnectionId header (context.connectionId) = %q, want 15 characters and =", id)
	}
	if len(c.Query) != 1 {
		t.Errorf("$connect query %v, want only the mapped token", c.Query)
	}

	// The custom route: two-way, mapping a body field to a header and a query string, and a literal.
	msg := `{"service":"chat","action":"sendmessage","room":"lobby","text":"hi"}`
	send(t, ws, msg)
	m := be.next(t)
	check("route path", m.Path, "/chat/sendmessage")
	check("route method", m.Method, "POST")
	check("route body", m.Body, msg)
	check("route Content-Type", m.Header.Get("Content-Type"), "application/json")
	check("route ConnectionId", m.Header.Get("ConnectionId"), id)
	check("route X-Action (route.request.body.action)", m.Header.Get("X-Action"), "sendmessage")
	check("route room (route.request.body.room)", strings.Join(m.Query["room"], ","), "lobby")
	check("route source ('static-value')", strings.Join(m.Query["source"], ","), "static-value")
	check("two-way reply", recv(t, ws), `{"echo":`+msg+`}`)

	// $default: a key that matches no route, and a message that is not JSON.
	for _, tc := range []struct{ body, contentType string }{
		{`{"service":"chat","action":"nope"}`, "application/json"},
		{"plain text", ""}, // not JSON: no application/json (SPEC)
	} {
		body := tc.body
		send(t, ws, body)
		d := be.next(t)
		check("$default path", d.Path, "/default")
		check("$default method", d.Method, "POST")
		check("$default Content-Type of "+body, d.Header.Get("Content-Type"), tc.contentType)
		check("$default body", d.Body, body)
		check("$default ConnectionId", d.Header.Get("ConnectionId"), id)
		if rid := d.Header.Get("X-Request-Id"); rid == "" {
			t.Errorf("$default X-Request-Id (context.requestId) missing")
		}
	}
	noMessage(t, ws, 100*time.Millisecond) // one-way routes send nothing back

	_ = ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"))
	d := be.next(t)
	check("$disconnect path", d.Path, "/disconnect")
	check("$disconnect ConnectionId", d.Header.Get("ConnectionId"), id)
	check("$disconnect event ('disconnect')", strings.Join(d.Query["event"], ","), "disconnect")
}

// TestConnectionsAPIWithNodeSDK drives the @connections API with the AWS SDK
// for JavaScript v3 under Node, configured as deployed code configures it
// (SPEC §8). Without Node or the SDK it skips, naming what is missing; in CI
// it fails (internal/testtool).
func TestConnectionsAPIWithNodeSDK(t *testing.T) {
	dir := filepath.Join("testdata", "node")
	node := testtool.NeedNodeModules(t, dir, "@aws-sdk/client-apigatewaymanagementapi")
	connect := newBackend(t, nil)
	disc := newBackend(t, nil)
	p := testPlan(actionSel,
		route("$connect", httpInteg("C", connect.URL, header("X-Id", ctxVar("connectionId")))),
		route("$disconnect", httpInteg("D", disc.URL, header("X-Id", ctxVar("connectionId")))))
	g := startGateway(t, p, nil)
	ws := dial(t, g, "/dev")
	id := connect.next(t).Header.Get("X-Id")

	cmd := exec.Command(node, "connections.mjs", "http://"+g.Addrs()[0]+"/dev", id, `{"from":"node"}`)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	type step struct {
		Step         string `json:"step"`
		OK           bool   `json:"ok"`
		Status       int    `json:"status"`
		Error        string `json:"error"`
		ConnectedAt  string `json:"ConnectedAt"`
		LastActiveAt string `json:"LastActiveAt"`
		Identity     struct{ SourceIp, UserAgent string }
	}
	var steps []step
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		var s step
		if json.Unmarshal(sc.Bytes(), &s) == nil && s.Step != "" {
			steps = append(steps, s)
		}
	}
	if len(steps) != 4 {
		t.Fatalf("node printed %d steps:\n%s", len(steps), out)
	}
	if s := steps[0]; !s.OK || s.Status != 200 {
		t.Errorf("PostToConnection: %+v", s)
	}
	if got := recv(t, ws); got != `{"from":"node"}` {
		t.Errorf("client got %q", got)
	}
	if s := steps[1]; !s.OK || s.ConnectedAt == "" || s.LastActiveAt == "" || s.Identity.SourceIp != "127.0.0.1" {
		t.Errorf("GetConnection: %+v", s)
	}
	if s := steps[2]; !s.OK || s.Status != 204 {
		t.Errorf("DeleteConnection: %+v", s)
	}
	if ce := recvClose(t, ws); ce.Code != 1000 {
		t.Errorf("close %v", ce)
	}
	if s := steps[3]; s.OK || s.Error != "GoneException" || s.Status != 410 {
		t.Errorf("PostToConnection after delete: %+v, want GoneException", s)
	}
	if d := disc.next(t); d.Header.Get("X-Id") != id {
		t.Errorf("$disconnect for %q", d.Header.Get("X-Id"))
	}
}
