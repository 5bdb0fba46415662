package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wsgw/wsgw/runtime/inspect"
)

// logBodyBytes is how much of each body --log-body shows.
const logBodyBytes = 1 << 10

// inspectorPortOffset puts the default inspector port past the ports the Apis
// take (--addr port, + 1, ...): 4001 for 3001.
const inspectorPortOffset = 1000

// parseLogLevel reads --log-level.
func parseLogLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, usageErrorf("unknown --log-level %q (want debug, info, warn or error)", s)
}

// closedOpt turns --inspector-closed into inspect.Options.ClosedConns (0: none).
func closedOpt(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// checkInspectorAddr refuses an --inspector that is not HOST:PORT, or whose
// host is not loopback, unless --allow-remote (SPEC ).
func checkInspectorAddr(addr string, allowRemote bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return usageErrorf("--inspector %q: want HOST:PORT, such as 127.0.0.1:4001", addr)
	}
	if !allowRemote && !isLoopback(host) {
		return usageErrorf("--inspector %q is not a loopback address; the inspector shows every message and can close connections: use 127.0.0.1:%s, or add --allow-remote", addr, port)
	}
	return nil
}

// serveInspector listens for the inspector at addr or, when addr is empty,
// on 127.0.0.1 and the --addr port + 1000, else on a free port; it returns
// a function that stops it and the address it listens on.
func serveInspector(in *inspect.Inspector, addr, apiAddr string) (func(), string, error) {
	var ln net.Listener
	var err error
	if addr != "" {
		ln, err = net.Listen("tcp", addr)
		if err != nil {
			return nil, "", fmt.Errorf("--inspector: %w", err)
		}
	} else {
		ln, err = listenDefaultInspector(apiAddr)
		if err != nil {
			return nil, "", fmt.Errorf("inspector: %w (--no-inspector turns it off)", err)
		}
	}
	srv := &http.Server{Handler: in.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	stop := func() {
		// The live streams never end by themselves: close rather than wait.
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if err := srv.Shutdown(ctx); errors.Is(err, context.DeadlineExceeded) {
			srv.Close()
		}
	}
	return stop, ln.Addr().String(), nil
}

func listenDefaultInspector(apiAddr string) (net.Listener, error) {
	host := "127.0.0.1"
	if h, p, err := net.SplitHostPort(apiAddr); err == nil {
		if isLoopback(h) && h != "localhost" {
			host = h
		}
		if port, err := strconv.Atoi(p); err == nil && port != 0 && port+inspectorPortOffset <= 65535 {
			if ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port+inspectorPortOffset))); err == nil {
				return ln, nil
			}
		}
	}
	return net.Listen("tcp", net.JoinHostPort(host, "0"))
}
