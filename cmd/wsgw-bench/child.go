package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// childEnv names the role of a wsgw-bench process that -mode proxy started
// from its own executable: "backend" (the echo backend), "floor" (the
// floor proxy, whose one argument is the backend's URL) or, for -mode idle,
// "clients" (idleclients.go). Such a process
// serves on a free port of 127.0.0.1, prints "wsgw-bench ROLE URL" and runs
// until SIGTERM or SIGINT.
const childEnv = "WSGW_BENCH_CHILD"

var childReady = regexp.MustCompile(`wsgw-bench \w+ ((?:http|ws)://127\.0\.0\.1:\d+/?)`)

// runChild is the whole of a child process: it serves role and returns the
// exit status.
func runChild(role string, args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(stderr, "wsgw-bench %s: %v\n", role, err)
		return exitFailure
	}
	var b *backend
	switch {
	case role == "backend" && len(args) == 0:
		b = serveBackend(ln, echoHandler())
	case role == "clients" && len(args) == 0:
		b = serveBackend(ln, newIdleClients(ctx).handler())
	case role == "floor" && len(args) == 1:
		b = serveBackend(ln, floorHandler(args[0], maxConns, 5*time.Second))
		b.url = "ws://" + ln.Addr().String() + "/"
	default:
		ln.Close()
		fmt.Fprintf(stderr, "wsgw-bench: %s=%s with %d arguments: want backend or clients (none) or floor (the backend's URL)\n", childEnv, role, len(args))
		return exitUsage
	}
	fmt.Fprintf(stdout, "wsgw-bench %s %s\n", role, b.url)
	<-ctx.Done()
	shutdown(stderr, role, b.shutdown)
	return exitOK
}

// startChild runs this executable as a child of role (runChild) in a
// process group of its own, and returns it once it serves.
func startChild(ctx context.Context, role string, args ...string) (*serverProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), childEnv+"="+role)
	return startServer(ctx, role, cmd, childReady, 30*time.Second)
}

// floorHandler is the floor proxy: what any WebSocket-to-HTTP proxy must do
// per message, and nothing more. Each connection is served by one goroutine
// (the HTTP server's) that reads a frame, POSTs it to backendURL over a
// shared keep-alive client (up to conns connections), and writes the
// response body back as a frame of the same type, before reading the next:
// no routing, mapping, limits, queues or logs. A failed call closes the
// connection.
func floorHandler(backendURL string, conns int, timeout time.Duration) http.Handler {
	backend := newHTTPTarget(backendURL, conns, timeout)
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return // the upgrader answered
		}
		defer ws.Close()
		for {
			typ, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			reply, err := backend.roundTrip(r.Context(), msg)
			if err != nil {
				return
			}
			if err := ws.WriteMessage(typ, reply); err != nil {
				return
			}
		}
	})
}
