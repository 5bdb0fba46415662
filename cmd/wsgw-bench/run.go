package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	goruntime "runtime"
	"runtime/pprof"
	"strings"
	"time"
)

// Exit statuses: 0 when both phases ran without error, 1 when a reply was
// wrong or missing or a phase sent nothing, 2 for a bad command line.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// Bounds of the flags: every run ends by itself, in time and in count.
const (
	maxDuration = 60 * time.Second
	maxWarmup   = 10 * time.Second
	maxConns    = 1000
)

// options are the command line's.
type options struct {
	conns       int
	size        int
	duration    time.Duration
	warmup      time.Duration
	maxMessages int64
	timeout     time.Duration
	action      string
	gateway     string
	backend     string
	throttle    bool
	allowRemote bool
	json        bool
	cpuProfile  string
}

const usageText = `usage: wsgw-bench [flags]

Runs the same closed-loop echo load (each connection sends a message and waits
for its echo before the next) twice: through a wsgw gateway over WebSocket, then
straight to the HTTP echo backend behind it, and prints messages/s, latency
percentiles and errors of each phase, and the ratio gateway/direct.

Without -gateway, wsgw-bench starts an echo backend and a gateway on 127.0.0.1
itself. With -gateway ws://HOST:PORT/STAGE it drives a running 'wsgw serve'
(whose route for these messages must be two-way and echo; run it with
--no-throttle), and -backend names that echo backend for the direct phase.

Flags:
`

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("wsgw-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	fs.IntVar(&o.conns, "conns", 32, fmt.Sprintf("WebSocket connections, and goroutines calling the backend directly (1-%d)", maxConns))
	fs.IntVar(&o.size, "size", 128, fmt.Sprintf("message size in `bytes` (%d-%d)", minSize, maxSize))
	fs.DurationVar(&o.duration, "duration", 5*time.Second, fmt.Sprintf("measured time of each phase (at most %s)", maxDuration))
	fs.DurationVar(&o.warmup, "warmup", 500*time.Millisecond, fmt.Sprintf("unmeasured load before each phase (at most %s)", maxWarmup))
	fs.Int64Var(&o.maxMessages, "max-messages", 10_000_000, "most messages measured in each phase")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Second, "longest wait for a connection or a reply")
	fs.StringVar(&o.action, "action", "", "value of the messages' \"action\" field, for route selection (none: the field is left out and messages go to $default)")
	fs.StringVar(&o.gateway, "gateway", "", "drive the running gateway stage at `ws://HOST:PORT/STAGE` instead of starting one")
	fs.StringVar(&o.backend, "backend", "", "echo backend `URL` called in the direct phase (and by the gateway started, if any) instead of starting one")
	fs.BoolVar(&o.throttle, "throttle", false, "keep API Gateway's stage and route throttling in the gateway started (off by default: it caps at 10,000 messages/s)")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow -gateway and -backend hosts other than loopback addresses")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the gateway phase (warm-up included) to `FILE`")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case o.conns < 1 || o.conns > maxConns:
		return nil, fmt.Errorf("-conns %d: want 1 to %d", o.conns, maxConns)
	case o.size < minSize || o.size > maxSize:
		return nil, fmt.Errorf("-size %d: want %d to %d bytes", o.size, minSize, maxSize)
	case o.duration <= 0 || o.duration > maxDuration:
		return nil, fmt.Errorf("-duration %s: want more than 0 and at most %s", o.duration, maxDuration)
	case o.warmup < 0 || o.warmup > maxWarmup:
		return nil, fmt.Errorf("-warmup %s: want 0 to %s", o.warmup, maxWarmup)
	case o.maxMessages < 1:
		return nil, fmt.Errorf("-max-messages %d: want at least 1", o.maxMessages)
	case o.timeout <= 0:
		return nil, fmt.Errorf("-timeout %s: want more than 0", o.timeout)
	case o.gateway != "" && o.backend == "":
		return nil, errors.New("-gateway needs -backend: the URL of the echo backend behind it, for the direct phase")
	case o.gateway != "" && o.throttle:
		return nil, errors.New("-throttle applies to the gateway wsgw-bench starts, not to -gateway")
	}
	if o.gateway != "" {
		if err := checkURL("-gateway", o.gateway, []string{"ws"}, o.allowRemote); err != nil {
			return nil, err
		}
	}
	if o.backend != "" {
		if err := checkURL("-backend", o.backend, []string{"http"}, o.allowRemote); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// checkURL accepts an absolute URL of one of schemes on a loopback host
// (any host with allowRemote).
func checkURL(flagName, raw string, schemes []string, allowRemote bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || !contains(schemes, u.Scheme) {
		return fmt.Errorf("%s %q: want %s://HOST:PORT/...", flagName, raw, schemes[0])
	}
	if !allowRemote && !isLoopback(u.Hostname()) {
		return fmt.Errorf("%s %q: %s is not a loopback address (add -allow-remote to load another machine)", flagName, raw, u.Hostname())
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// run is the command: it parses args, sets up the backend and the gateway
// unless given, runs the gateway phase then the direct phase, and prints
// the report on stdout. backend, when not nil, replaces the echo handler of
// the backend wsgw-bench starts (tests inject a faulty one).
func run(ctx context.Context, args []string, stdout, stderr io.Writer, backendHandler http.Handler) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "wsgw-bench: %v\n", err)
		return exitUsage
	}
	rep, err := bench(ctx, o, stderr, backendHandler)
	if err != nil {
		fmt.Fprintf(stderr, "wsgw-bench: %v\n", err)
		return exitFailure
	}
	if o.json {
		err = writeJSON(stdout, rep)
	} else {
		err = writeTable(stdout, rep)
	}
	if err != nil {
		fmt.Fprintf(stderr, "wsgw-bench: %v\n", err)
		return exitFailure
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "wsgw-bench: interrupted")
		return exitFailure
	}
	code := exitOK
	for _, p := range rep.Phases {
		if p.Errors > 0 {
			fmt.Fprintf(stderr, "wsgw-bench: %s phase: %d errors\n", p.Phase, p.Errors)
			code = exitFailure
		}
		if p.Messages == 0 {
			fmt.Fprintf(stderr, "wsgw-bench: %s phase: no message measured\n", p.Phase)
			code = exitFailure
		}
	}
	return code
}

// bench sets up what o asks for, runs both phases and tears down.
func bench(ctx context.Context, o *options, stderr io.Writer, backendHandler http.Handler) (*report, error) {
	cfg := reportConfig{Conns: o.conns, Size: o.size, Duration: o.duration.Seconds(), Warmup: o.warmup.Seconds(),
		MaxMessages: o.maxMessages, Gateway: o.gateway, Backend: o.backend, Throttle: o.throttle}

	if cfg.Backend == "" {
		if backendHandler == nil {
			backendHandler = echoHandler()
		}
		be, err := startBackend(backendHandler)
		if err != nil {
			return nil, fmt.Errorf("starting the echo backend: %w", err)
		}
		defer shutdown(stderr, "backend", be.shutdown)
		cfg.Backend = be.url
	}
	if cfg.Gateway == "" {
		g, wsURL, err := startGateway(cfg.Backend, o.throttle)
		if err != nil {
			return nil, fmt.Errorf("starting the gateway: %w", err)
		}
		defer shutdown(stderr, "gateway", g.Shutdown)
		cfg.Gateway, cfg.InProcess = wsURL, true
	}

	msgs := newMessages(o.action, o.size)
	phase := func(name string) phaseConfig {
		return phaseConfig{name: name, workers: o.conns, warmup: o.warmup, duration: o.duration,
			maxMessages: o.maxMessages, msgs: msgs}
	}

	stopProfile := func() {}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return nil, fmt.Errorf("-cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("-cpuprofile: %w", err)
		}
		stopProfile = func() {
			pprof.StopCPUProfile()
			if err := f.Close(); err != nil {
				fmt.Fprintf(stderr, "wsgw-bench: -cpuprofile: %v\n", err)
			}
		}
	}
	gw := runPhase(ctx, &wsTarget{url: cfg.Gateway, timeout: o.timeout}, phase("gateway"))
	stopProfile()

	var direct *phaseResult
	if ctx.Err() == nil {
		ht := newHTTPTarget(cfg.Backend, o.conns, o.timeout)
		direct = runPhase(ctx, ht, phase("direct"))
		ht.closeIdle()
	}
	m := machineInfo{GOOS: goruntime.GOOS, GOARCH: goruntime.GOARCH, CPUs: goruntime.NumCPU(),
		GOMAXPROCS: goruntime.GOMAXPROCS(0), Go: goruntime.Version()}
	return newReport(m, cfg, gw, direct), nil
}

// shutdown stops a server the bench started, giving it a few seconds.
func shutdown(stderr io.Writer, what string, f func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f(ctx); err != nil {
		fmt.Fprintf(stderr, "wsgw-bench: stopping the %s: %v\n", what, err)
	}
}
