package lambda

import (
	"net"
	"net/http"
	"testing"
	"time"
)

// Issue 12: a function's Runtime API answers only its own processes; another
// local program that finds the port cannot poll for its invocations, and the
// function keeps working.
func TestRuntimeAPIRefusesOtherProcesses(t *testing.T) {
	requireSockDiag(t)
	fn := goFunction(t)
	r, _ := newRunner(t, Options{})
	rep := invokeGo(t, r, fn, `{"env":["AWS_LAMBDA_RUNTIME_API"]}`)
	addr := rep.Env["AWS_LAMBDA_RUNTIME_API"]
	if addr == "" {
		t.Fatal("no AWS_LAMBDA_RUNTIME_API")
	}
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + addr + "/2018-06-01/runtime/invocation/next")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("another process polled the function's Runtime API: %s", resp.Status)
	}
	// Refused: the connection is closed at once. A poll let through would
	// wait for an event until the client's timeout.
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the poll was let through and waited for an event: %v", err)
	}

	again := invokeGo(t, r, fn, `{}`)
	if again.Pid != rep.Pid {
		t.Errorf("pid %d then %d: the refused connection cost the warm process", rep.Pid, again.Pid)
	}
}

// requireSockDiag skips when the kernel does not answer socket diagnostics
// (some sandboxes), where the check lets every connection through.
func requireSockDiag(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, found, err := sockInode(c.LocalAddr().(*net.TCPAddr), c.RemoteAddr().(*net.TCPAddr)); err != nil || !found {
		t.Skipf("no socket diagnostics here (%v): the Runtime API cannot tell its callers apart", err)
	}
}
