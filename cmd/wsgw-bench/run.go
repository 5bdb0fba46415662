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
	// -mode load runs longer and with many more connections (one fd each on
	// the client side, and one more in the gateway when it runs in process).
	maxLoadDuration = 30 * time.Minute
	maxLoadConns    = 20000
)

// options are the command line's.
type options struct {
	mode        string
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

	// -mode load
	rate            float64
	connRate        float64
	route           string
	gatewayPID      int
	backendListen   string
	dialConcurrency int
	memProfile      string
	postVia         string

	// -mode idle
	nodes      int
	nats       string
	serveFlags string
	probes     int
	openRate   float64

	// -mode lambda
	wsgw        string
	targets     string
	connsList   string
	rounds      int
	soak        time.Duration
	slsDir      string
	chat        string
	chatCompare string
	wsgwCompare string
}

const usageText = `usage: wsgw-bench [-mode echo] [flags]
       wsgw-bench -mode load [flags]
       wsgw-bench -mode lambda -wsgw PATH [flags]
       wsgw-bench -mode proxy -wsgw PATH [-wsgw-compare OLD] [flags]
       wsgw-bench -mode idle -wsgw PATH -conns N [-nodes 6] [flags]

-mode echo (the default) runs the same closed-loop echo load (each connection sends a message and waits
for its echo before the next) twice: through a wsgw gateway over WebSocket, then
straight to the HTTP echo backend behind it, and prints messages/s, latency
percentiles and errors of each phase, and the ratio gateway/direct.

Without -gateway, wsgw-bench starts an echo backend and a gateway on 127.0.0.1
itself. With -gateway ws://HOST:PORT/STAGE it drives a running 'wsgw serve'
(whose route for these messages must be two-way and echo; run it with
--no-throttle), and -backend names that echo backend for the direct phase.

-mode load opens -conns connections and sends, open loop, -rate messages/s in
all (or -conn-rate per connection) for -duration, to the Api of load.yaml:
"echo" messages come back as route responses, "post" messages as @connections
posts its backend (run by wsgw-bench) makes. Every message carries a sequence
number; the report counts those lost, duplicated or reordered per connection,
latencies, $connect/$disconnect calls, and the gateway's memory (this process
when the gateway runs in it, else the process -gateway-pid names). -rate 0
holds idle connections. To load a running gateway:

  wsgw serve --no-throttle --param BackendUrl=http://127.0.0.1:9300 cmd/wsgw-bench/load.yaml
  wsgw-bench -mode load -gateway ws://127.0.0.1:3001/load -gateway-pid PID

-mode lambda (lambda.go) measures Lambda integrations end to end, each side in
a process of its own: the wsgw binary -wsgw names serves a two-way $default
route whose AWS_PROXY integration runs an echo function (Node.js, Python,
Go), and, in the same run, serverless-offline 13.9 --useInProcess serves the
same Node.js handler (installed with npm into -sls-dir on first use). The
same closed-loop client drives each, first unmeasured for 4 times -warmup,
then -rounds times, interleaved, at every count of -conns-list, and the report gives messages/s, p50 and p99, the CPU
per message of the gateway and of the function processes (from /proc), the
memory per warm instance and the ratio wsgw node / serverless-offline:

  go build -o /tmp/wsgw ./cmd/wsgw && go run ./cmd/wsgw-bench -mode lambda -wsgw /tmp/wsgw

-mode proxy (proxy.go) measures the HTTP_PROXY echo as users run it, in three
processes: the echo backend, 'wsgw serve' of the echo Api (the binary -wsgw
names; logs to a file, inspector on) and the clients (this process). In the
same interleaved rounds, at every count of -conns-list, it also drives a floor
proxy in a process of its own (one goroutine per connection: read a frame,
POST it to the backend, write the answer; no routing, mapping, limits or logs),
the backend directly over HTTP, and, with -wsgw-compare OLD, an earlier build
(wsgw-cmp). It prints messages/s, p50, p99, the CPU per message of the proxy's
process and of the backend's, and the ratios of each round: wsgw/floor,
wsgw/direct, floor/direct, wsgw/wsgw-cmp (-json: as JSON):

  go build -o /tmp/wsgw ./cmd/wsgw && go run ./cmd/wsgw-bench -mode proxy -wsgw /tmp/wsgw -rounds 5

-mode idle (idle.go) holds more idle connections than one process may open
files for: it starts nats-server and -nodes 'wsgw serve --cluster' processes of
load.yaml (the binary -wsgw names, with -serve-flags), each with a client
process of its own (its backend too) that opens its share of -conns to it. It
reports each node's resident set and live heap (from GODEBUG=gctrace=1) before
and after the connections opened and after holding them -duration (read every
second), the sums per connection, nats-server's resident set, and whether
-probes sample connections per node still answer an echo and receive a post
made through the next node's @connections API; then it closes them all and
counts the $disconnect calls. Hold 2 minutes or more for the Go runtime's
periodic collection to measure the live heap with every connection open. The
clients send no TCP keep-alive probes; the gateway's (every 15 s) cross the
loopback's input backlog (1000 packets) in batches as large as the
connections opened within half a second: keep -open-rate under about 1000/s,
and read the kernel's drop counters the report gives:

  go build -o /tmp/wsgw ./cmd/wsgw && go build -o /tmp/wsgw-bench ./cmd/wsgw-bench
  /tmp/wsgw-bench -mode idle -wsgw /tmp/wsgw -conns 100000 -nodes 6 -open-rate 700 -duration 150s -serve-flags --no-inspector

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
	fs.StringVar(&o.mode, "mode", "echo", "echo: closed-loop echo through the gateway vs direct; load: open-loop load with loss, duplicate and order checks; lambda: Lambda integrations vs serverless-offline; proxy: the wsgw binary's HTTP_PROXY vs a floor proxy and the backend direct, each in a process of its own; idle: idle connections held by a cluster of wsgw processes, their memory")
	fs.IntVar(&o.conns, "conns", 32, fmt.Sprintf("WebSocket connections, and goroutines calling the backend directly (1-%d; -mode load: 1-%d)", maxConns, maxLoadConns))
	fs.IntVar(&o.size, "size", 128, fmt.Sprintf("message size in `bytes` (%d-%d)", minSize, maxSize))
	fs.DurationVar(&o.duration, "duration", 5*time.Second, fmt.Sprintf("measured time of each phase (at most %s; -mode load: %s)", maxDuration, maxLoadDuration))
	fs.DurationVar(&o.warmup, "warmup", 500*time.Millisecond, fmt.Sprintf("unmeasured load before each phase (at most %s)", maxWarmup))
	fs.Int64Var(&o.maxMessages, "max-messages", 10_000_000, "most messages measured in each phase")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Second, "longest wait for a connection or a reply")
	fs.StringVar(&o.action, "action", "", "value of the messages' \"action\" field, for route selection (none: the field is left out and messages go to $default)")
	fs.StringVar(&o.gateway, "gateway", "", "drive the running gateway stage at `ws://HOST:PORT/STAGE` instead of starting one (-mode load: several, comma-separated, are nodes of one --cluster: connections spread over them and the backend posts through any)")
	fs.StringVar(&o.backend, "backend", "", "echo backend `URL` called in the direct phase (and by the gateway started, if any) instead of starting one")
	fs.BoolVar(&o.throttle, "throttle", false, "keep API Gateway's stage and route throttling in the gateway started (off by default: it caps at 10,000 messages/s)")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow -gateway and -backend hosts other than loopback addresses")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the gateway phase (warm-up included; -mode load: the whole run) to `FILE`")
	fs.Float64Var(&o.rate, "rate", 1000, "-mode load: messages/s sent in all, spread over the connections (0: idle connections)")
	fs.Float64Var(&o.connRate, "conn-rate", 0, "-mode load: messages/s sent by each connection (instead of -rate)")
	fs.StringVar(&o.route, "route", "mix", "-mode load: echo (route responses), post (@connections posts) or mix (alternate)")
	fs.IntVar(&o.gatewayPID, "gateway-pid", 0, "-mode load: `PID` of the -gateway process, whose memory is reported")
	fs.StringVar(&o.backendListen, "backend-listen", "", "-mode load: `HOST:PORT` the load backend listens on (default 127.0.0.1:9300 with -gateway, else a free port)")
	fs.IntVar(&o.dialConcurrency, "dial-concurrency", 100, "-mode load: handshakes under way at once while opening the connections")
	fs.StringVar(&o.postVia, "post-via", "", "-mode load: the backend's posts go through the @connections API at `http://HOST:PORT/STAGE/@connections` (comma-separated: one at random each time) instead of the -gateway's (a cluster's other node: the cross-node path)")
	fs.StringVar(&o.memProfile, "memprofile", "", "-mode load: write a heap profile to `FILE` once the connections are open (in process: gateway and clients)")
	fs.StringVar(&o.wsgw, "wsgw", "wsgw", "-mode lambda, proxy and idle: the wsgw `binary` to serve the templates with")
	fs.IntVar(&o.nodes, "nodes", 6, fmt.Sprintf("-mode idle: cluster nodes (1-%d), each holding its share of -conns (at most %d) from a client process of its own", maxIdleNodes, maxProcConns))
	fs.StringVar(&o.nats, "nats", "nats-server", "-mode idle: the nats-server `binary` the nodes share")
	fs.StringVar(&o.serveFlags, "serve-flags", "", "-mode idle and proxy: more `flags` for every 'wsgw serve', space-separated (for instance --no-inspector)")
	fs.Float64Var(&o.openRate, "open-rate", 0, "-mode idle: connections opened per second in all (0: as fast as -dial-concurrency allows per client process)")
	fs.IntVar(&o.probes, "probes", 3, "-mode idle: sample connections per node that, after the hold, send an echo and a post message (posted back through the next node)")
	fs.StringVar(&o.targets, "targets", "node,python,go,sls,http", "-mode lambda: what to measure: node, python, go (wsgw serving a Lambda echo), sls (serverless-offline 13.9 --useInProcess), http (wsgw's HTTP_PROXY, the gateway's reference cost), chat (the chat example's sendmessage, at 1 connection), node-cmp and chat-cmp (node and chat served by -wsgw-compare)")
	fs.StringVar(&o.connsList, "conns-list", "1,32", "-mode lambda and proxy: connection counts measured in each round")
	fs.IntVar(&o.rounds, "rounds", 3, "-mode lambda and proxy: interleaved rounds (each measures every target at every connection count)")
	fs.DurationVar(&o.soak, "soak", 0, "-mode lambda: after the rounds, run node (and sls) at the largest connection count this long, in 6 slices, and report each slice's rate")
	fs.StringVar(&o.wsgwCompare, "wsgw-compare", "", "-mode lambda and proxy: another wsgw `binary` (an earlier build) serving the node echo as target node-cmp and the chat example as chat-cmp (-mode proxy: the HTTP_PROXY echo as target wsgw-cmp)")
	fs.StringVar(&o.chat, "chat", "examples/chat/template.yaml", "-mode lambda: the chat example's template, for -targets chat (needs npm ci in its src directory)")
	fs.StringVar(&o.chatCompare, "chat-compare", "", "-mode lambda: the chat template target chat-cmp serves (default: -chat), for instance an earlier version of the example")
	fs.StringVar(&o.slsDir, "sls-dir", "", "-mode lambda: where serverless@3 and serverless-offline@13.9.0 are installed with npm (default: wsgw-bench/serverless-offline-13.9.0 in the user cache directory)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.mode != "idle" {
		if err := onlyFor(fs, "idle", idleOnly); err != nil {
			return nil, err
		}
		if o.mode != "proxy" {
			if err := onlyFor(fs, "idle or proxy", serveFlagsOnly); err != nil {
				return nil, err
			}
		}
	}
	switch o.mode {
	case "echo":
	case "idle":
		return o, checkIdleFlags(o, fs)
	case "load":
		if err := onlyFor(fs, "lambda", lambdaOnly); err != nil {
			return nil, err
		}
		if err := onlyFor(fs, "lambda or proxy", roundsOnly); err != nil {
			return nil, err
		}
		return o, checkLoadFlags(o, fs)
	case "lambda":
		if err := onlyFor(fs, "load", loadOnly); err != nil {
			return nil, err
		}
		return o, checkRoundsFlags(o, fs)
	case "proxy":
		bad := onlyFor(fs, "load", loadOnly)
		if bad == nil {
			bad = onlyFor(fs, "lambda", lambdaOnly)
		}
		if bad != nil {
			return nil, bad
		}
		return o, checkRoundsFlags(o, fs)
	default:
		return nil, fmt.Errorf("-mode %q: want echo, load, lambda, proxy or idle", o.mode)
	}
	bad := onlyFor(fs, "load", loadOnly)
	if bad == nil {
		bad = onlyFor(fs, "lambda", lambdaOnly)
	}
	if bad == nil {
		bad = onlyFor(fs, "lambda or proxy", roundsOnly)
	}
	if bad != nil {
		return nil, bad
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

// Flags of one mode only.
var (
	loadOnly = map[string]bool{"rate": true, "conn-rate": true, "route": true, "gateway-pid": true,
		"backend-listen": true, "dial-concurrency": true, "memprofile": true, "post-via": true}
	lambdaOnly = map[string]bool{"targets": true, "soak": true, "sls-dir": true, "chat": true, "chat-compare": true}
	roundsOnly = map[string]bool{"wsgw": true, "conns-list": true, "rounds": true, "wsgw-compare": true}
	idleOnly   = map[string]bool{"nodes": true, "nats": true, "probes": true, "open-rate": true}
	// serveFlagsOnly is -serve-flags, which -mode idle and proxy take.
	serveFlagsOnly = map[string]bool{"serve-flags": true}
	// idleFlags are the flags -mode idle takes.
	idleFlags = map[string]bool{"mode": true, "conns": true, "duration": true, "timeout": true, "json": true, "wsgw": true,
		"dial-concurrency": true, "nodes": true, "nats": true, "serve-flags": true, "probes": true, "open-rate": true}
)

// checkIdleFlags checks the flags of -mode idle.
func checkIdleFlags(o *options, fs *flag.FlagSet) error {
	var bad error
	fs.Visit(func(f *flag.Flag) {
		if !idleFlags[f.Name] && bad == nil {
			bad = fmt.Errorf("-%s does not apply to -mode idle", f.Name)
		}
	})
	switch {
	case bad != nil:
		return bad
	case o.nodes < 1 || o.nodes > maxIdleNodes:
		return fmt.Errorf("-nodes %d: want 1 to %d", o.nodes, maxIdleNodes)
	case o.conns < o.nodes || o.conns > o.nodes*maxProcConns:
		return fmt.Errorf("-conns %d: want %d to %d with -nodes %d (at most %d per node and per client process: a process may open 20,000 files on most machines)",
			o.conns, o.nodes, o.nodes*maxProcConns, o.nodes, maxProcConns)
	case o.duration <= 0 || o.duration > maxLoadDuration:
		return fmt.Errorf("-duration %s: want more than 0 and at most %s", o.duration, maxLoadDuration)
	case o.timeout <= 0:
		return fmt.Errorf("-timeout %s: want more than 0", o.timeout)
	case o.dialConcurrency < 1:
		return fmt.Errorf("-dial-concurrency %d: want at least 1", o.dialConcurrency)
	case o.openRate < 0:
		return fmt.Errorf("-open-rate %g: must not be negative", o.openRate)
	case o.probes < 1 || o.probes > maxProcConns:
		return fmt.Errorf("-probes %d: want 1 to %d", o.probes, maxProcConns)
	}
	return nil
}

// onlyFor refuses a flag of set given outside -mode mode.
func onlyFor(fs *flag.FlagSet, mode string, set map[string]bool) error {
	var bad error
	fs.Visit(func(f *flag.Flag) {
		if set[f.Name] && bad == nil {
			bad = fmt.Errorf("-%s applies to -mode %s", f.Name, mode)
		}
	})
	return bad
}

// checkLoadFlags checks the flags of -mode load.
func checkLoadFlags(o *options, fs *flag.FlagSet) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case o.conns < 1 || o.conns > maxLoadConns:
		return fmt.Errorf("-conns %d: want 1 to %d", o.conns, maxLoadConns)
	case o.size < minSize || o.size > maxSize:
		return fmt.Errorf("-size %d: want %d to %d bytes", o.size, minSize, maxSize)
	case o.duration <= 0 || o.duration > maxLoadDuration:
		return fmt.Errorf("-duration %s: want more than 0 and at most %s", o.duration, maxLoadDuration)
	case o.warmup < 0 || o.warmup > maxWarmup:
		return fmt.Errorf("-warmup %s: want 0 to %s", o.warmup, maxWarmup)
	case o.maxMessages < 1:
		return fmt.Errorf("-max-messages %d: want at least 1", o.maxMessages)
	case o.timeout <= 0:
		return fmt.Errorf("-timeout %s: want more than 0", o.timeout)
	case o.rate < 0 || o.connRate < 0:
		return errors.New("-rate and -conn-rate must not be negative")
	case set["rate"] && set["conn-rate"]:
		return errors.New("-rate and -conn-rate: give one")
	case o.route != "echo" && o.route != "post" && o.route != "mix":
		return fmt.Errorf("-route %q: want echo, post or mix", o.route)
	case o.dialConcurrency < 1:
		return fmt.Errorf("-dial-concurrency %d: want at least 1", o.dialConcurrency)
	case o.backend != "":
		return errors.New("-backend applies to -mode echo: -mode load runs its own backend (-backend-listen)")
	case o.gatewayPID != 0 && o.gateway == "":
		return errors.New("-gateway-pid needs -gateway: without it the gateway runs in this process")
	case o.gateway != "" && o.throttle:
		return errors.New("-throttle applies to the gateway wsgw-bench starts, not to -gateway")
	case o.gateway != "" && o.memProfile != "":
		return errors.New("-memprofile profiles this process: it needs the gateway in process (no -gateway)")
	}
	if o.gateway != "" {
		for _, gw := range strings.Split(o.gateway, ",") {
			if err := checkURL("-gateway", gw, []string{"ws"}, o.allowRemote); err != nil {
				return err
			}
		}
	}
	if o.postVia != "" {
		for _, u := range strings.Split(o.postVia, ",") {
			if err := checkURL("-post-via", u, []string{"http"}, o.allowRemote); err != nil {
				return err
			}
		}
	}
	if o.backendListen != "" {
		host, _, err := net.SplitHostPort(o.backendListen)
		if err != nil {
			return fmt.Errorf("-backend-listen %q: want HOST:PORT", o.backendListen)
		}
		if !isLoopback(host) {
			return fmt.Errorf("-backend-listen %q: %s is not a loopback address", o.backendListen, host)
		}
	}
	return nil
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
	switch o.mode {
	case "load":
		return runLoad(ctx, o, stdout, stderr, loadHooks{})
	case "lambda":
		return runLambda(ctx, o, stdout, stderr)
	case "proxy":
		return runProxy(ctx, o, stdout, stderr)
	case "idle":
		return runIdle(ctx, o, stdout, stderr)
	}
	rep, err := bench(ctx, o, stderr, backendHandler)
	if err != nil {
		fmt.Fprintf(stderr, "wsgw-bench: %v\n", err)
		return exitFailure
	}
	if !printReport(ctx, stdout, stderr, o.json, rep, func(w io.Writer) error { return writeTable(w, rep) }) {
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

// printReport writes rep as JSON or with table, and reports a write error
// or an interrupted run on stderr; ok is false in either case.
func printReport(ctx context.Context, stdout, stderr io.Writer, asJSON bool, rep any, table func(io.Writer) error) (ok bool) {
	var err error
	if asJSON {
		err = writeAnyJSON(stdout, rep)
	} else {
		err = table(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "wsgw-bench: %v\n", err)
		return false
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "wsgw-bench: interrupted")
		return false
	}
	return true
}

// runLoad runs -mode load and prints its report; the exit status is 1 when
// any error was counted (a message lost, duplicated, reordered or wrong, a
// connection that failed, a $disconnect missing) or nothing was measured
// while messages were due.
func runLoad(ctx context.Context, o *options, stdout, stderr io.Writer, hooks loadHooks) int {
	rep, err := load(ctx, o, stderr, hooks)
	if err != nil {
		fmt.Fprintf(stderr, "wsgw-bench: %v\n", err)
		return exitFailure
	}
	if !printReport(ctx, stdout, stderr, o.json, rep, func(w io.Writer) error { return writeLoadTable(w, rep) }) {
		return exitFailure
	}
	code := exitOK
	if rep.Errors > 0 || rep.PostErrors > 0 {
		fmt.Fprintf(stderr, "wsgw-bench: %d errors, %d failed @connections posts\n", rep.Errors, rep.PostErrors)
		code = exitFailure
	}
	if rep.Config.Rate > 0 && rep.Messages.Measured == 0 {
		fmt.Fprintln(stderr, "wsgw-bench: no message measured")
		code = exitFailure
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
