package runtime

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsgw/wsgw/compile"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// SPEC: the startup output lists every stage's URLs and one line per
// route. `go test ./runtime -update` rewrites testdata/summary.golden.
func TestWriteSummary(t *testing.T) {
	connect := httpInteg("ConnectInteg", "http://127.0.0.1:8080/connect")
	connect.Method = "GET"
	p := testPlan([]compile.SelectionPart{bodyPath("action")},
		route("$connect", connect),
		route("$disconnect", &compile.Integration{LogicalID: "DisconnectFn", Type: "AWS_PROXY", Function: "OnDisconnect",
			URL:         "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:OnDisconnect/invocations",
			NotRunnable: "Lambda integrations (AWS_PROXY) are not supported yet"}),
		twoWay(route("sendmessage", httpInteg("SendInteg", "http://127.0.0.1:8080/send"))),
		route("$default", &compile.Integration{LogicalID: "MockInteg", Type: "MOCK"}),
		route("orphan", nil),
	)
	p.Apis[0].Stages = append(p.Apis[0].Stages, &compile.Stage{Name: "$default", Path: "/", Routes: map[string]*compile.Route{}})
	g := startGateway(t, p, nil)
	var buf bytes.Buffer
	g.WriteSummary(&buf)
	got := strings.ReplaceAll(buf.String(), g.Addrs()[0], "ADDR")
	golden := filepath.Join("testdata", "summary.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
