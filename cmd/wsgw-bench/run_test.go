package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// corruptNth wraps the echo handler: the nth request (counting from 1)
// whose User-Agent starts with uaPrefix gets its reply changed in one byte
// of the padding. The gateway calls with "AmazonAPIGateway_<apiId>" (SPEC
// ), the direct phase with Go's default user agent.
func corruptNth(uaPrefix string, n int64) http.Handler {
	var seen atomic.Int64
	echo := echoHandler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.UserAgent(), uaPrefix) || seen.Add(1) != n {
			echo.ServeHTTP(w, r)
			return
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(r.Body)
		body := b.Bytes()
		body[len(body)-3] = '#' // inside "pad"
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
}

// runJSON runs the command with -json and returns its exit status and report.
func runJSON(t *testing.T, backend http.Handler, args ...string) (int, *report, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append(args, "-json"), &stdout, &stderr, backend)
	var rep report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("exit %d, report is not JSON: %v\nstdout:\n%s\nstderr:\n%s", code, err, stdout.String(), stderr.String())
	}
	return code, &rep, stderr.String()
}

func phaseOf(t *testing.T, rep *report, name string) phaseReport {
	t.Helper()
	for _, p := range rep.Phases {
		if p.Phase == name {
			return p
		}
	}
	t.Fatalf("report has no %s phase: %+v", name, rep.Phases)
	return phaseReport{}
}

var shortRun = []string{"-duration", "300ms", "-warmup", "50ms", "-conns", "4"}

// TestRun drives the whole command in process (generated template, real
// gateway, echo backend) and checks the report; a backend that answers one
// message with a wrong echo must show as exactly one error of that phase.
func TestRun(t *testing.T) {
	tests := []struct {
		name          string
		backend       http.Handler
		wantCode      int
		gwErrs, dErrs int64
	}{
		{name: "clean", wantCode: exitOK},
		{name: "wrong echo through the gateway", backend: corruptNth("AmazonAPIGateway_", 5), wantCode: exitFailure, gwErrs: 1},
		{name: "wrong echo direct", backend: corruptNth("Go-http-client", 5), wantCode: exitFailure, dErrs: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, rep, stderr := runJSON(t, tt.backend, shortRun...)
			if code != tt.wantCode {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, tt.wantCode, stderr)
			}
			if !rep.Config.InProcess || rep.Config.Conns != 4 || rep.Config.Size != 128 {
				t.Errorf("config = %+v, want in process, 4 conns, 128 bytes", rep.Config)
			}
			for _, c := range []struct {
				phase string
				errs  int64
			}{{"gateway", tt.gwErrs}, {"direct", tt.dErrs}} {
				p := phaseOf(t, rep, c.phase)
				if p.Messages == 0 || p.Rate <= 0 || p.Seconds <= 0 {
					t.Errorf("%s: messages %d, %v messages/s over %vs: want some", c.phase, p.Messages, p.Rate, p.Seconds)
				}
				if p.Connections != 4 {
					t.Errorf("%s: %d connections, want 4", c.phase, p.Connections)
				}
				if l := p.Latency; l.P50 <= 0 || l.P50 > l.P99 || l.P99 > l.Max {
					t.Errorf("%s: latency %+v: want 0 < p50 <= p99 <= max", c.phase, l)
				}
				if p.Errors != c.errs {
					t.Errorf("%s: %d errors (%v), want %d", c.phase, p.Errors, p.FirstErrors, c.errs)
				}
				if c.errs > 0 && (p.ErrorKinds["mismatch"] != c.errs || len(p.FirstErrors) == 0 ||
					!strings.Contains(p.FirstErrors[0], "differs from the message at byte")) {
					t.Errorf("%s: errors %v %q, want one mismatch at a byte", c.phase, p.ErrorKinds, p.FirstErrors)
				}
			}
			if rep.Ratio == nil || *rep.Ratio <= 0 {
				t.Errorf("ratio = %v, want a positive number", rep.Ratio)
			}
		})
	}
}

// TestRunExternal drives a gateway and a backend the command did not start
// (-gateway, -backend), as it would a running 'wsgw serve'.
func TestRunExternal(t *testing.T) {
	be, err := startBackend(echoHandler())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = be.shutdown(context.Background()) })
	g, wsURL, err := startGateway(be.url, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Shutdown(context.Background()) })

	code, rep, stderr := runJSON(t, nil, append(shortRun, "-gateway", wsURL, "-backend", be.url, "-max-messages", "50")...)
	if code != exitOK {
		t.Fatalf("exit status %d; stderr:\n%s", code, stderr)
	}
	if rep.Config.InProcess || rep.Config.Gateway != wsURL || rep.Config.Backend != be.url {
		t.Errorf("config = %+v, want the gateway and backend given", rep.Config)
	}
	for _, name := range []string{"gateway", "direct"} {
		// -max-messages bounds the measured messages of each phase.
		if p := phaseOf(t, rep, name); p.Messages < 1 || p.Messages > 50 || p.Errors != 0 {
			t.Errorf("%s: %d messages, %d errors: want 1 to 50 and none", name, p.Messages, p.Errors)
		}
	}
}

// TestRunGatewayDown counts a gateway that refuses connections as errors.
func TestRunGatewayDown(t *testing.T) {
	be, err := startBackend(echoHandler())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = be.shutdown(context.Background()) })
	code, rep, _ := runJSON(t, nil, append(shortRun, "-gateway", "ws://127.0.0.1:1/none", "-backend", be.url)...)
	if code != exitFailure {
		t.Errorf("exit status %d, want %d", code, exitFailure)
	}
	if p := phaseOf(t, rep, "gateway"); p.Errors != 4 || p.ErrorKinds["open"] != 4 || p.Messages != 0 {
		t.Errorf("gateway phase = %+v, want 4 open errors and no message", p)
	}
	if rep.Ratio == nil || *rep.Ratio != 0 {
		t.Errorf("ratio = %v, want 0", rep.Ratio)
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"too long", []string{"-duration", "61s"}, "-duration 1m1s: want more than 0 and at most 1m0s"},
		{"no duration", []string{"-duration", "0s"}, "-duration 0s"},
		{"small size", []string{"-size", "10"}, "-size 10: want 64 to 131072 bytes"},
		{"no conns", []string{"-conns", "0"}, "-conns 0: want 1 to 1000"},
		{"no messages", []string{"-max-messages", "0"}, "-max-messages 0: want at least 1"},
		{"gateway alone", []string{"-gateway", "ws://127.0.0.1:3001/dev"}, "-gateway needs -backend"},
		{"gateway throttle", []string{"-gateway", "ws://127.0.0.1:3001/dev", "-backend", "http://127.0.0.1:8080", "-throttle"}, "-throttle applies to the gateway wsgw-bench starts"},
		{"remote gateway", []string{"-gateway", "ws://10.1.2.3:3001/dev", "-backend", "http://127.0.0.1:8080"}, "10.1.2.3 is not a loopback address"},
		{"remote backend", []string{"-backend", "http://example.com/echo"}, "example.com is not a loopback address"},
		{"wrong scheme", []string{"-gateway", "http://127.0.0.1:3001/dev", "-backend", "http://127.0.0.1:8080"}, `-gateway "http://127.0.0.1:3001/dev": want ws://HOST:PORT/...`},
		{"argument", []string{"extra"}, `unexpected argument "extra"`},
		{"unknown flag", []string{"-nope"}, "flag provided but not defined: -nope"},
		{"unknown mode", []string{"-mode", "soak"}, `-mode "soak": want echo, load, lambda, proxy or idle`},
		{"load flag in echo mode", []string{"-rate", "5"}, "-rate applies to -mode load"},
		{"load: too many conns", []string{"-mode", "load", "-conns", "20001"}, "-conns 20001: want 1 to 20000"},
		{"load: negative rate", []string{"-mode", "load", "-rate", "-1"}, "-rate and -conn-rate must not be negative"},
		{"load: both rates", []string{"-mode", "load", "-rate", "5", "-conn-rate", "1"}, "-rate and -conn-rate: give one"},
		{"load: route", []string{"-mode", "load", "-route", "both"}, `-route "both": want echo, post or mix`},
		{"load: backend", []string{"-mode", "load", "-backend", "http://127.0.0.1:1"}, "-backend applies to -mode echo"},
		{"load: pid alone", []string{"-mode", "load", "-gateway-pid", "1"}, "-gateway-pid needs -gateway"},
		{"load: remote backend", []string{"-mode", "load", "-backend-listen", "0.0.0.0:9300"}, "0.0.0.0 is not a loopback address"},
		{"load: remote gateway", []string{"-mode", "load", "-gateway", "ws://10.0.0.1:3001/load"}, "10.0.0.1 is not a loopback address"},
		{"load: too long", []string{"-mode", "load", "-duration", "31m"}, "-duration 31m0s: want more than 0 and at most 30m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr, nil)
			if code != exitUsage {
				t.Errorf("exit status %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.want)
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
		})
	}
}

// TestInterrupted ends a run from its context: it stops well before its
// duration and says so.
func TestInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr bytes.Buffer
	var wg sync.WaitGroup
	wg.Add(1)
	code := -1
	go func() {
		defer wg.Done()
		code = run(ctx, []string{"-duration", "60s", "-warmup", "0s", "-conns", "2"}, &stdout, &stderr, nil)
	}()
	time.AfterFunc(200*time.Millisecond, cancel)
	wg.Wait()
	if code != exitFailure || !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("exit %d, stderr %q: want %d and interrupted", code, stderr.String(), exitFailure)
	}
}
