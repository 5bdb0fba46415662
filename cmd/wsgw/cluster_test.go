//go:build unix

package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgw/wsgw/internal/testtool"
)

// freePort returns a TCP port free on 127.0.0.1 a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startNATSServer runs Debian's nats-server binary on 127.0.0.1:port until
// the test ends.
func startNATSServer(t *testing.T, bin string, port int) {
	t.Helper()
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server does not listen on %d: %v", port, err)
		}
	}
}

// buildWSGW builds the wsgw command into a temporary directory.
func buildWSGW(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "wsgw")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// wsgwNode is one `wsgw serve --cluster` process.
type wsgwNode struct {
	cmd       *exec.Cmd
	ws, conns string // ws://.../dev and http://.../dev/@connections
	banner    string
}

var (
	connsURL    = regexp.MustCompile(`http://127\.0\.0\.1:\d+/dev/@connections`)
	clusterLine = regexp.MustCompile(`(?m)^Cluster  .*$`)
)

// startWSGWNode runs `wsgw serve` as a node named name of the cluster at
// natsURL, and waits for its startup output.
func startWSGWNode(t *testing.T, bin, natsURL, name, backend string) *wsgwNode {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--no-watch", "--no-tls",
		"--cluster", natsURL, "--node", name, "--param", "BackendUrl="+backend, "testdata/serve/echo.yaml")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	n := &wsgwNode{cmd: cmd}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var out strings.Builder
	timeout := time.After(20 * time.Second)
	for n.conns == "" || n.ws == "" || n.banner == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("node %s ended:\n%s", name, out.String())
			}
			out.WriteString(l + "\n")
			if u := wsURL.FindString(l); u != "" {
				n.ws = u
			}
			if u := connsURL.FindString(l); u != "" {
				n.conns = u
			}
			if b := clusterLine.FindString(l); b != "" {
				n.banner = b
			}
		case <-timeout:
			t.Fatalf("node %s printed no URLs:\n%s", name, out.String())
		}
	}
	go func() {
		for range lines { // access log lines
		}
	}()
	return n
}

// call sends an @connections request and returns its status.
func (n *wsgwNode) call(t *testing.T, method, id, body string) int {
	t.Helper()
	req, err := http.NewRequest(method, n.conns+"/"+id, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusGone && (resp.Header.Get("x-amzn-ErrorType") != "GoneException" || string(b) != `{"message":null}`) {
		t.Errorf("410 %q %s", resp.Header.Get("x-amzn-ErrorType"), b)
	}
	return resp.StatusCode
}

// SPEC R-12.1 to R-12.3 end to end: Debian's nats-server and three `wsgw
// serve --cluster` processes; @connections calls through the nodes that do
// not hold the connection, then a node killed and one stopped: their
// connections answer 410 on the others.
func TestClusterProcesses(t *testing.T) {
	natsBin := testtool.Need(t, "nats-server")
	testtool.Need(t, "go")
	port := freePort(t)
	startNATSServer(t, natsBin, port)
	natsURL := "nats://127.0.0.1:" + strconv.Itoa(port)

	ids := make(chan string, 10)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/connect" {
			ids <- r.Header.Get("X-Connection-Id")
		}
	}))
	defer backend.Close()
	bin := buildWSGW(t)
	nodes := []*wsgwNode{
		startWSGWNode(t, bin, natsURL, "n1", backend.URL),
		startWSGWNode(t, bin, natsURL, "n2", backend.URL),
		startWSGWNode(t, bin, natsURL, "n3", backend.URL),
	}
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	if want := "Cluster  " + natsURL + " as node n1 (connection ids end with "; !strings.HasPrefix(n1.banner, want) || !strings.Contains(n1.banner, "connected to") {
		t.Errorf("banner %q, want %q... connected to", n1.banner, want)
	}
	dialNode := func(n *wsgwNode) (*websocket.Conn, string) {
		t.Helper()
		ws, _, err := websocket.DefaultDialer.Dial(n.ws, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.Close() })
		select {
		case id := <-ids:
			return ws, id
		case <-time.After(5 * time.Second):
			t.Fatal("no $connect")
			return nil, ""
		}
	}
	read := func(ws *websocket.Conn) string {
		t.Helper()
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}

	ws, id := dialNode(n1)
	if st := n2.call(t, "POST", id, "through n2"); st != http.StatusOK {
		t.Fatalf("POST through n2: %d", st)
	}
	if got := read(ws); got != "through n2" {
		t.Fatalf("got %q", got)
	}
	if st := n3.call(t, "GET", id, ""); st != http.StatusOK {
		t.Fatalf("GET through n3: %d", st)
	}
	if st := n2.call(t, "DELETE", id, ""); st != http.StatusNoContent {
		t.Fatalf("DELETE through n2: %d", st)
	}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := ws.ReadMessage(); !websocket.IsCloseError(err, 1000) {
		t.Fatalf("after DELETE: %v", err)
	}
	for _, n := range nodes {
		if st := n.call(t, "POST", id, "late"); st != http.StatusGone {
			t.Errorf("POST to a deleted connection: %d", st)
		}
	}

	// Killed: its connections are gone for the others as soon as NATS sees
	// its socket close.
	_, id1 := dialNode(n1)
	ws3, id3 := dialNode(n3)
	if st := n2.call(t, "POST", id1, "hello"); st != http.StatusOK {
		t.Fatalf("POST through n2: %d", st)
	}
	if err := n1.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = n1.cmd.Wait()
	for deadline := time.Now().Add(5 * time.Second); n2.call(t, "POST", id1, "after") != http.StatusGone; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a killed node's connection does not answer 410 on n2 after 5 s")
		}
	}
	// Stopped (SIGTERM): its connections close with 1001 and are gone.
	if err := n3.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = ws3.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, _, err := ws3.ReadMessage(); !websocket.IsCloseError(err, 1001) {
		t.Errorf("n3 stopping: %v", err)
	}
	_ = n3.cmd.Wait()
	if st := n2.call(t, "GET", id3, ""); st != http.StatusGone {
		t.Errorf("GET through n2 of a stopped node's connection: %d", st)
	}
}
