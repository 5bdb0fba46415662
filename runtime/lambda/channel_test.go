package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The frame channel is the loops' only way in: the function sees neither a
// Runtime API address nor the channel's descriptor variable, in Node.js and
// in Python.
func TestFrameChannelEnvironment(t *testing.T) {
	needFrames(t)
	cases := []struct {
		runtime, handler string
		files            map[string]string
		need             func(testing.TB)
	}{
		{"nodejs20.x", "index.handler", map[string]string{"index.js": `
const fs = require("node:fs");
exports.handler = async () => ({
  api: process.env.AWS_LAMBDA_RUNTIME_API ?? null,
  fd: process.env._WSGW_RUNTIME_FD ?? null,
});`}, needNode},
		{"python3.12", "app.handler", map[string]string{"app.py": `import os
def handler(event, context):
    return {"api": os.environ.get("AWS_LAMBDA_RUNTIME_API"), "fd": os.environ.get("_WSGW_RUNTIME_FD")}
`}, needPython},
	}
	for _, c := range cases {
		t.Run(c.runtime, func(t *testing.T) {
			c.need(t)
			fn := scriptFunction(t, c.runtime, c.handler, c.files)
			r, _ := newRunner(t, Options{})
			out, err := invoke(t, r, fn, `{}`)
			if err != nil {
				t.Fatal(err)
			}
			jsonEqual(t, out, `{"api":null,"fd":null}`)
		})
	}
}

// A response over Lambda's 6 MB fails the invocation with
// Function.ResponseSizeTooLarge, and the process stays warm: a frame just
// over the limit and one past the largest frame read whole.
func TestFrameChannelResponseTooLarge(t *testing.T) {
	needNode(t)
	needFrames(t)
	fn := scriptFunction(t, "nodejs20.x", "index.handler", map[string]string{"index.js": `
exports.handler = async (event) => event.size ? "x".repeat(event.size) : process.pid;`})
	r, _ := newRunner(t, Options{MaxProcesses: 1})
	pid, err := invoke(t, r, fn, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{maxPayload, maxFrame + 1000} {
		_, err := invoke(t, r, fn, `{"size":`+itoa(size)+`}`)
		if fe := functionError(t, err); fe.Type != "Function.ResponseSizeTooLarge" {
			t.Errorf("size %d: error %q, want Function.ResponseSizeTooLarge", size, fe.Type)
		}
		again, err := invoke(t, r, fn, `{}`)
		if err != nil || string(again) != string(pid) {
			t.Errorf("size %d: then pid %s, %v; want the same process %s", size, again, err, pid)
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// A loop that answers another request than the one in flight breaks the
// protocol: the invocation fails with ErrProtocol and the process is killed.
func TestFrameChannelProtocolError(t *testing.T) {
	needNode(t)
	needFrames(t)
	loops := t.TempDir()
	// A fake loop: ready, then answers every event with a wrong request ID.
	fake := `import net from "node:net";
const sock = new net.Socket({ fd: Number(process.env._WSGW_RUNTIME_FD) });
function send(kind, rest) {
  const body = Buffer.from(kind + rest);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(body.length);
  sock.write(Buffer.concat([len, body]));
}
console.log("pid " + process.pid);
send("N", "");
sock.on("data", () => send("R", "not-the-request\n{}"));
`
	if err := os.WriteFile(filepath.Join(loops, nodeLoopFile), []byte(fake), 0o644); err != nil {
		t.Fatal(err)
	}
	fn := scriptFunction(t, "nodejs20.x", "index.handler", map[string]string{"index.js": "exports.handler = async () => 1;"})
	r, out := newRunner(t, Options{})
	r.loopDir = loops // in place of the embedded loop
	_, err := invoke(t, r, fn, `{}`)
	if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), `unknown request id "not-the-request"`) {
		t.Fatalf("error = %v, want ErrProtocol naming the request id", err)
	}
	var pid int
	for _, line := range strings.Split(out.String(), "\n") {
		if _, rest, ok := strings.Cut(line, "pid "); ok {
			json.Unmarshal([]byte(rest), &pid)
		}
	}
	if pid == 0 {
		t.Fatalf("the fake loop did not print its pid: %q", out.String())
	}
	waitGone(t, pid)
}

// On the frame channel too, a Node.js invocation past its Timeout kills the
// process, a caller that gives up leaves the invocation running and the
// process warm, and the next invocation works.
func TestFrameChannelTimeouts(t *testing.T) {
	needNode(t)
	needFrames(t)
	fn := scriptFunction(t, "nodejs20.x", "index.handler", map[string]string{"index.js": `
exports.handler = async (event) => {
  if (event.ms) await new Promise((resolve) => setTimeout(resolve, event.ms));
  return process.pid;
};`})
	fn.TimeoutMillis = 300
	r, _ := newRunner(t, Options{MaxProcesses: 1})
	first, err := invoke(t, r, fn, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := r.Invoke(ctx, fn, []byte(`{"ms":150}`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("caller that gives up: error = %v, want its context's", err)
	}
	same, err := invoke(t, r, fn, `{}`)
	if err != nil || string(same) != string(first) {
		t.Fatalf("after an abandoned invocation: pid %s, %v; want the warm process %s", same, err, first)
	}
	if _, err := invoke(t, r, fn, `{"ms":5000}`); !errors.Is(err, ErrTimeout) {
		t.Fatalf("error = %v, want ErrTimeout", err)
	}
	var pid int
	json.Unmarshal(first, &pid)
	waitGone(t, pid)
	next, err := invoke(t, r, fn, `{}`)
	if err != nil || string(next) == string(first) {
		t.Errorf("after the timeout: pid %s, %v; want a new process", next, err)
	}
}

// needFrames skips where the loops use the Runtime API instead (Windows).
func needFrames(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("no frame channel on Windows: the loops use the Runtime API")
	}
}

// A loop that exits during an invocation (the handler calls process.exit)
// fails it with ErrExited and the exit status, even when the caller had
// given up on it before; the next invocation starts a new process.
func TestFrameChannelExitDuringInvocation(t *testing.T) {
	needNode(t)
	needFrames(t)
	fn := scriptFunction(t, "nodejs20.x", "index.handler", map[string]string{"index.js": `
exports.handler = async (event) => {
  if (event.exit) setTimeout(() => process.exit(3), event.after || 0);
  if (event.exit) await new Promise(() => {});
  return process.pid;
};`})
	r, _ := newRunner(t, Options{MaxProcesses: 1})
	first, err := invoke(t, r, fn, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = invoke(t, r, fn, `{"exit":true}`)
	if !errors.Is(err, ErrExited) || !strings.Contains(err.Error(), "exited during the invocation (exit status 3)") {
		t.Fatalf("error = %v, want ErrExited during the invocation with exit status 3", err)
	}
	second, err := invoke(t, r, fn, `{}`)
	if err != nil || string(second) == string(first) {
		t.Fatalf("after the exit: pid %s, %v; want a new process (was %s)", second, err, first)
	}
	// Given up on, then exited: the next invocation gets a new process.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := r.Invoke(ctx, fn, []byte(`{"exit":true,"after":100}`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("caller that gives up: error = %v, want its context's", err)
	}
	third, err := invoke(t, r, fn, `{}`)
	if err != nil || string(third) == string(second) {
		t.Fatalf("after an abandoned invocation that exited: pid %s, %v; want a new process (was %s)", third, err, second)
	}
}
