package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsgw/wsgw/compile"
	"github.com/wsgw/wsgw/runtime"
	"github.com/wsgw/wsgw/runtime/inspect"
	"github.com/wsgw/wsgw/runtime/lambda"
	"github.com/wsgw/wsgw/template"
)

type serveOptions struct {
	IO           *iostreams
	File         string
	Addr         string
	AllowRemote  bool
	Stage        string
	Params       []string
	Integrations []string
	LogFormat    string
	AccessLog    string
	NoWatch      bool

	// Lambda (SPEC) and TLS.
	LambdaEndpoint string
	APIKeys        []string
	CADir          string
	NoTLS          bool
	// Local Lambda instances (SPEC ).
	MaxInstances        int
	InstanceIdleTimeout time.Duration

	MaxMessage      int
	MaxFrame        int
	IdleTimeout     time.Duration
	MaxDuration     time.Duration
	NoThrottle      bool
	AllowBinary     bool
	ShutdownTimeout time.Duration

	// The inspector and the logs of SPEC §11.
	Inspector       string
	NoInspector     bool
	InspectorEvents int
	InspectorClosed int
	Record          string
	LogLevel        string
	LogBody         bool

	Cluster string
	Node    string

	// reload delivers the requests to reload (SIGHUP); nil: none.
	reload <-chan os.Signal
	// ready, when set, is called once the gateway listens (tests).
	ready func(*runtime.Gateway)
	// onInspector, when set, is called with the inspector's address (tests).
	onInspector func(addr string)
	// onReload, when set, is called after every reload is printed (tests).
	onReload func(runtime.Reload)
}

// newServeCmd is `wsgw serve` (SPEC ).
func newServeCmd(ios *iostreams) *cobra.Command {
	opts := &serveOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "serve [flags] TEMPLATE",
		Short: "Run the template's WebSocket APIs as a local gateway",
		Long:  serveLong,
		Example: `  wsgw serve template.yaml
  wsgw serve --stage dev --param BackendUrl=http://127.0.0.1:8080 template.yaml
  wsgw serve --integration ChatIntegration=http://127.0.0.1:9000/chat template.yaml
  wsgw serve --lambda-endpoint http://127.0.0.1:3010 template.yaml
  wsgw serve --api-key devkey template.yaml
  wsgw serve --addr 0.0.0.0:3001 --log-format json template.yaml
  wsgw serve --record session.jsonl --log-level debug template.yaml
  wsgw serve --addr 127.0.0.1:3002 --cluster nats://127.0.0.1:4222 template.yaml`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("serve needs exactly one TEMPLATE, got %d", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			opts.reload = hup
			return runServe(ctx, opts)
		},
	}
	opts.addFlags(cmd)
	return cmd
}

// serveLong is serve's help text.
const serveLong = `Run the WebSocket APIs of a CloudFormation, SAM or CDK template as a local
API Gateway until interrupted (SIGINT or SIGTERM).

Each stage is served at ws://ADDR/<stage> (ws://ADDR/ for $default), with its
@connections API at http://ADDR/<stage>/@connections. The first Api listens on
--addr, each next one on the next port. At start wsgw prints every stage's URLs
and one line per route; then one log line per connect, message and disconnect
(on stderr), and the stages' AccessLogSettings.Format lines (on stdout, or the
--access-log file). When stderr or stdout stops taking log lines, wsgw drops
them rather than stall connections, and says how many when it stops.

Lambda (AWS_PROXY) integrations and $connect REQUEST authorizers run their
function through --integration ID=URL (the event is POSTed there), else the
Lambda Invoke API at --lambda-endpoint, else as a local process (provided.*
bootstrap, go1.x, nodejs*.x with the machine's node, python3.* with python3).
Every port also answers TLS (wss://, https://) with a certificate signed by a
local CA kept in --ca-dir, which the functions wsgw starts trust, so that SDKs
reach @connections at https:// + requestContext.domainName.

A local function runs one invocation per instance (process) at a time, as on
Lambda; concurrent invocations start more instances, up to the function's
ReservedConcurrentExecutions, else --max-instances (4), then wait. Instances
stay warm between invocations; one idle for --instance-idle-timeout (10m) is
stopped. The start lists each local function with its limit.

API Gateway's limits apply unless turned off (0 turns a limit off): messages of
128 KB and frames of 32 KB (close 1009), 10 minutes idle and 2 hours open
(close 1001), stage and route throttling (--no-throttle). A binary frame from a
client closes its connection with 1003, as on API Gateway; --allow-binary
routes it to $default instead, base64-encoded.

A template with errors does not start: its diagnostics are printed as by
'wsgw validate' and the exit status is 1. On SIGINT or SIGTERM every connection
is closed with 1001 and its $disconnect runs (at most --shutdown-timeout), then
wsgw exits with status 0.

Hot reload: when the template changes (or on SIGHUP) wsgw compiles it again
with the same flags and swaps the new plan in; open connections stay open and
their next message uses it. Connections whose stage or Api is gone are closed
with 1001; an Api the template adds is served on the next free port. One line
on stderr says what changed. A template with errors keeps the previous plan
serving and its diagnostics are printed as by 'wsgw validate'. --no-watch stops
watching the file; SIGHUP still reloads.

Inspector: wsgw serves a live inspector on loopback, printed at start as
"Inspector  http://127.0.0.1:PORT/": a page with the stages and routes, the
live connections and each one's timeline (connect, messages in, the route
chosen and why, integration requests as sent and their responses, frames out,
@connections calls, errors, disconnect), with buttons to disconnect a client,
replay one of its messages or send it a frame; and a JSON API behind it
(/api/connections, /api/connections/ID/events, /api/stream). Its default port
is the --addr port + 1000 (4001 for 3001), else any free port; --inspector
moves it, --no-inspector turns it off. It keeps the last
--inspector-events events of each connection (bodies cut to 4 KB; about
100,000 events for all open connections together, at least 10 each) and the
last --inspector-closed closed connections. It costs about 4-6 KB per idle
connection: serve load tests with --no-inspector.

--record FILE writes every event as JSON Lines; 'wsgw replay FILE --to
ws://HOST:PORT/STAGE' replays it and reports every frame that differs.
--log-level debug (or --log-body) adds message bodies and integration requests
and responses to the log lines, cut to 1 KB with their sizes.

Several nodes: with --cluster, wsgw joins the NATS servers given, and every
node serving the same template behind a load balancer answers @connections
calls for the connections of every other node (POST, GET and DELETE, as if
local). A connection whose node stopped, or that no node can reach while NATS
is away, answers 410 GoneException; local connections never wait for NATS, and
the node reconnects by itself.`

// addFlags defines serve's flags on f, with the gateway's defaults.
func (o *serveOptions) addFlags(cmd *cobra.Command) {
	def := runtime.DefaultOptions()
	f := cmd.Flags()
	f.StringVar(&o.Addr, "addr", def.Addr, "`HOST:PORT` of the first Api; each next Api listens on the next port")
	f.BoolVar(&o.AllowRemote, "allow-remote", false, "allow an --addr without a host (listening on every interface)")
	f.StringVar(&o.Stage, "stage", "", "serve only the stage `NAME`")
	f.StringArrayVar(&o.Params, "param", nil, "override a template parameter, as `Name=Value`, or set what wsgw makes up for a resource it does not run (Resource=Value for its Ref, Resource.Attribute=Value) (repeatable)")
	f.StringArrayVar(&o.Integrations, "integration", nil, "send integration or authorizer `ID=URL` (logical ID) to URL instead of its IntegrationUri or AuthorizerUri (repeatable)")
	f.StringVar(&o.LogFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&o.AccessLog, "access-log", "", "write the stages' access logs to `PATH` instead of stdout")
	f.BoolVar(&o.NoWatch, "no-watch", false, "do not watch the template for changes (SIGHUP still reloads it)")
	f.StringVar(&o.LambdaEndpoint, "lambda-endpoint", "", "invoke Lambda functions through the Lambda Invoke API at `URL` (sam local start-lambda, LocalStack, AWS) instead of running them locally")
	f.StringArrayVar(&o.APIKeys, "api-key", nil, "accept `KEY` in the x-api-key header of routes with ApiKeyRequired (repeatable)")
	f.StringVar(&o.CADir, "ca-dir", "", "keep the local CA that signs the gateway's TLS certificate in `DIR` (default $WSGW_CA_DIR, else wsgw/ca in the user cache directory)")
	f.IntVar(&o.MaxInstances, "max-instances", lambda.DefaultMaxProcesses, "most instances (processes) of a local Lambda function at once, for functions without ReservedConcurrentExecutions")
	f.DurationVar(&o.InstanceIdleTimeout, "instance-idle-timeout", lambda.DefaultIdleTimeout, "stop a local Lambda instance idle this long (0: never)")
	f.BoolVar(&o.NoTLS, "no-tls", false, "answer plain HTTP and WebSocket only (no https:// and wss:// on the same port)")
	f.IntVar(&o.MaxMessage, "max-message-size", def.MaxMessageBytes, "largest message and @connections post, in `bytes` (0: no limit)")
	f.IntVar(&o.MaxFrame, "max-frame-size", def.MaxFrameBytes, "largest frame, in `bytes` (0: no limit)")
	f.DurationVar(&o.IdleTimeout, "idle-timeout", def.IdleTimeout, "close connections idle this long (0: never)")
	f.DurationVar(&o.MaxDuration, "max-connection-duration", def.MaxConnDuration, "close connections open this long (0: never)")
	f.BoolVar(&o.NoThrottle, "no-throttle", false, "ignore stage and route throttling")
	f.BoolVar(&o.AllowBinary, "allow-binary", false, "route binary frames to $default, base64-encoded (API Gateway closes the connection with 1003)")
	f.StringVar(&o.Cluster, "cluster", "", "join the nodes sharing connections through NATS at `nats://HOST:PORT[,nats://...]`: @connections calls on any node reach the node holding the connection")
	f.StringVar(&o.Node, "node", "", "this node's `NAME` in the --cluster (default: host name and port)")
	f.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "how long to wait for $disconnect calls when stopping")
	f.StringVar(&o.Inspector, "inspector", "", "serve the inspector at `HOST:PORT` (default: 127.0.0.1 and the --addr port + 1000, else a free port)")
	f.BoolVar(&o.NoInspector, "no-inspector", false, "do not serve the inspector")
	f.IntVar(&o.InspectorEvents, "inspector-events", inspect.DefaultEventsPerConn, "events the inspector keeps per connection (the latest; 0: the default)")
	f.IntVar(&o.InspectorClosed, "inspector-closed", inspect.DefaultClosedConns, "closed connections the inspector keeps (the latest; 0: none)")
	f.StringVar(&o.Record, "record", "", "write every event to `FILE` as JSON Lines, for 'wsgw replay'")
	f.StringVar(&o.LogLevel, "log-level", "info", "least level logged: debug (adds bodies), info, warn or error")
	f.BoolVar(&o.LogBody, "log-body", false, "add message bodies and integration requests and responses to the log lines (cut to 1 KB)")
}

// runServe loads, compiles and serves o.File until ctx ends.
func runServe(ctx context.Context, o *serveOptions) error {
	flags, err := o.parseFlags()
	if err != nil {
		return err
	}
	// Inline code (InlineCode, Code.ZipFile) runs from a private temporary
	// directory, removed when serve ends (SPEC ).
	inline := &lambda.InlineCode{}
	defer inline.Close()
	build := o.buildFunc(flags, inline)
	src, plan, err := o.load(build)
	if err != nil {
		return err
	}
	ro, insp, closeOutputs, err := o.runtimeOptions(plan, flags.level)
	if err != nil {
		return err
	}
	defer closeOutputs()
	g, stopInspector, err := o.start(plan, ro, insp)
	if err != nil {
		return err
	}
	defer stopInspector()
	stopReload, err := o.startReloader(ctx, g, src, build)
	if err != nil {
		return err
	}
	if o.ready != nil {
		o.ready(g)
	}

	<-ctx.Done()
	// No reload once shutdown begins.
	stopReload()
	fmt.Fprintln(o.IO.Err, "wsgw: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), o.ShutdownTimeout)
	defer cancel()
	if err := g.Shutdown(sctx); err != nil {
		fmt.Fprintf(o.IO.Err, "wsgw: some $disconnect calls did not finish within %s\n", o.ShutdownTimeout)
	}
	return nil
}

// serveFlags is what parseFlags makes of the flags that need parsing.
type serveFlags struct {
	level        slog.Level
	params       map[string]string
	integrations map[string]string
}

// parseFlags checks the flags, before anything is read or started.
func (o *serveOptions) parseFlags() (serveFlags, error) {
	var f serveFlags
	if o.LogFormat != "text" && o.LogFormat != "json" {
		return f, usageErrorf("unknown --log-format %q (want text or json)", o.LogFormat)
	}
	if o.MaxMessage < 0 || o.MaxFrame < 0 || o.IdleTimeout < 0 || o.MaxDuration < 0 || o.InstanceIdleTimeout < 0 {
		return f, usageErrorf("limits must not be negative (0 turns a limit off)")
	}
	if o.MaxInstances < 0 {
		return f, usageErrorf("--max-instances %d: want at least 1", o.MaxInstances)
	}
	if o.MaxInstances == 0 {
		o.MaxInstances = lambda.DefaultMaxProcesses
	}
	if err := checkAddr(o.Addr, o.AllowRemote); err != nil {
		return f, err
	}
	var err error
	if f.level, err = parseLogLevel(o.LogLevel); err != nil {
		return f, err
	}
	if o.InspectorEvents < 0 || o.InspectorClosed < 0 {
		return f, usageErrorf("--inspector-events and --inspector-closed must not be negative")
	}
	if o.Inspector != "" && !o.NoInspector {
		if err := checkInspectorAddr(o.Inspector, o.AllowRemote); err != nil {
			return f, err
		}
	}
	if err := checkCluster(o.Cluster, o.Node); err != nil {
		return f, err
	}
	if f.params, err = parseParams(o.Params); err != nil {
		return f, err
	}
	if f.integrations, err = parseIntegrations(o.Integrations); err != nil {
		return f, err
	}
	return f, nil
}

// buildFunc is the whole way from template text to plan, at start and at
// every reload, with the same options.
func (o *serveOptions) buildFunc(f serveFlags, inline *lambda.InlineCode) func([]byte) (*compile.Plan, template.Diagnostics) {
	return func(src []byte) (*compile.Plan, template.Diagnostics) {
		return compile.Build(o.File, src, template.Options{Params: f.params, Addr: o.Addr, RequireParams: true},
			compile.Options{Integrations: f.integrations, Stage: o.Stage, LambdaEndpoint: o.LambdaEndpoint, CanRun: lambda.CanRun, WriteInline: inline.Write})
	}
}

// load reads and builds the template, printing its diagnostics; errors
// stop serve.
func (o *serveOptions) load(build func([]byte) (*compile.Plan, template.Diagnostics)) ([]byte, *compile.Plan, error) {
	src, err := os.ReadFile(o.File)
	if err != nil {
		return nil, nil, &exitError{code: exitUsage, err: fmt.Errorf("%s: %s", o.File, readError(err))}
	}
	plan, ds := build(src)
	if len(ds) > 0 {
		// As validate prints them, on stderr: stdout is the gateway's.
		if err := writeDiagnostics(o.IO.Err, o.File, ds); err != nil {
			return nil, nil, err
		}
	}
	if ds.HasErrors() || plan == nil {
		return nil, nil, exitWith(exitFailure)
	}
	return src, plan, nil
}

// runtimeOptions turns the flags into the gateway's options, opening the
// files they name (closeOutputs closes them) and making the inspector
// (nil with --no-inspector).
func (o *serveOptions) runtimeOptions(plan *compile.Plan, level slog.Level) (ro runtime.Options, insp *inspect.Inspector, closeOutputs func(), err error) {
	var closers []func()
	closeOutputs = func() {
		for _, c := range slices.Backward(closers) {
			c()
		}
	}
	defer func() {
		if err != nil {
			closeOutputs()
		}
	}()
	ro = runtime.DefaultOptions()
	ro.Addr = o.Addr
	ro.MaxMessageBytes, ro.MaxFrameBytes = o.MaxMessage, o.MaxFrame
	ro.IdleTimeout, ro.MaxConnDuration = o.IdleTimeout, o.MaxDuration
	ro.Throttling = !o.NoThrottle
	ro.AllowBinary = o.AllowBinary
	ro.Cluster, ro.NodeName = o.Cluster, o.Node
	// The gateway writes both logs from goroutines of its own, so a stderr or
	// stdout nobody reads drops lines instead of stalling connections.
	ro.LogOutput, ro.LogFormat = o.IO.Err, o.LogFormat
	ro.AccessLog = o.IO.Out
	if o.AccessLog != "" {
		f, err := os.OpenFile(o.AccessLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return ro, nil, closeOutputs, &exitError{code: exitUsage, err: fmt.Errorf("--access-log: %w", err)}
		}
		closers = append(closers, func() { f.Close() })
		ro.AccessLog = f
	}

	if err := o.lambdaOptions(&ro, plan); err != nil {
		return ro, nil, closeOutputs, err
	}
	ro.LogLevel = level
	if o.LogBody || level <= slog.LevelDebug {
		ro.LogBodies = logBodyBytes
	}
	var observers runtime.Observers
	if !o.NoInspector {
		insp = inspect.New(inspect.Options{EventsPerConn: o.InspectorEvents, ClosedConns: closedOpt(o.InspectorClosed), AllowRemote: o.AllowRemote})
		observers = append(observers, insp)
	}
	if o.Record != "" {
		f, err := os.Create(o.Record)
		if err != nil {
			return ro, nil, closeOutputs, &exitError{code: exitUsage, err: fmt.Errorf("--record: %w", err)}
		}
		closers = append(closers, func() { f.Close() })
		rec := inspect.NewRecorder(f)
		closers = append(closers, func() {
			if err := rec.Close(); err != nil {
				fmt.Fprintf(o.IO.Err, "wsgw: --record %s: %v\n", o.Record, err)
			}
		})
		observers = append(observers, rec)
	}
	switch len(observers) {
	case 0:
	case 1:
		ro.Observer = observers[0]
	default:
		ro.Observer = observers
	}
	return ro, insp, closeOutputs, nil
}

// start starts the gateway and the inspector, and prints the banner.
func (o *serveOptions) start(plan *compile.Plan, ro runtime.Options, insp *inspect.Inspector) (g *runtime.Gateway, stopInspector func(), err error) {
	g, err = runtime.New(plan, ro)
	if err != nil {
		return nil, nil, &exitError{code: exitFailure, err: err}
	}
	if err := g.Start(); err != nil {
		return nil, nil, &exitError{code: exitFailure, err: err}
	}
	if host, _, _ := net.SplitHostPort(o.Addr); !isLoopback(host) {
		fmt.Fprintf(o.IO.Err, "wsgw: listening on %s, which is not a loopback address: other machines can connect\n", o.Addr)
	}
	g.WriteSummary(o.IO.Out)
	stopInspector = func() {}
	if insp != nil {
		insp.Attach(g)
		stop, addr, err := serveInspector(insp, o.Inspector, o.Addr)
		if err != nil {
			sctx, cancel := context.WithTimeout(context.Background(), o.ShutdownTimeout)
			_ = g.Shutdown(sctx)
			cancel()
			return nil, nil, &exitError{code: exitFailure, err: err}
		}
		stopInspector = stop
		fmt.Fprintf(o.IO.Out, "Inspector  http://%s/\n", addr)
		if o.onInspector != nil {
			o.onInspector(addr)
		}
	}
	if o.Record != "" {
		fmt.Fprintf(o.IO.Err, "wsgw: recording every event to %s; replay it with: wsgw replay %s --to ws://HOST:PORT/STAGE\n", o.Record, o.Record)
	}
	writeOutsideCode(o.IO.Err, o.File, plan)
	o.writeInstances(plan)
	return g, stopInspector, nil
}

// startReloader reloads the template when it changes (unless --no-watch)
// and on SIGHUP, until stop, which returns once no reload runs.
func (o *serveOptions) startReloader(ctx context.Context, g *runtime.Gateway, src []byte, build func([]byte) (*compile.Plan, template.Diagnostics)) (stop func(), err error) {
	rl, err := runtime.NewReloader(g, runtime.ReloadOptions{
		File: o.File, Initial: src, Watch: !o.NoWatch,
		Build: func(src []byte) (*compile.Plan, error) {
			plan, ds := build(src)
			if len(ds) == 0 {
				return plan, nil
			}
			return plan, &diagnosticsError{ds}
		},
		Report: func(r runtime.Reload) {
			writeReload(o.IO.Err, r)
			if o.onReload != nil {
				o.onReload(r)
			}
		},
	})
	if err != nil {
		return nil, &exitError{code: exitFailure, err: err}
	}
	if o.NoWatch {
		fmt.Fprintf(o.IO.Err, "wsgw: not watching %s (--no-watch); SIGHUP reloads it\n", o.File)
	} else {
		fmt.Fprintf(o.IO.Err, "wsgw: watching %s; saving it reloads the gateway\n", o.File)
	}
	rctx, stopReload := context.WithCancel(ctx)
	reloading := make(chan struct{})
	go func() {
		defer close(reloading)
		rl.Run(rctx)
	}()
	go func() {
		for {
			select {
			case <-o.reload:
				rl.Reload()
			case <-rctx.Done():
				return
			}
		}
	}()
	return func() {
		stopReload()
		<-reloading
	}, nil
}

// checkAddr refuses an address without a host unless --allow-remote: wsgw
// never binds a non-loopback address unless asked (SPEC ). A host
// written out, such as 0.0.0.0, is asking.
func checkAddr(addr string, allowRemote bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return usageErrorf("--addr %q: want HOST:PORT, such as 127.0.0.1:3001", addr)
	}
	if host == "" && !allowRemote {
		return usageErrorf("--addr %q listens on every interface; give a host (127.0.0.1:%s), or add --allow-remote", addr, port)
	}
	return nil
}

// checkCluster checks --cluster (nats://HOST:PORT URLs, comma-separated)
// and --node (only with --cluster).
func checkCluster(urls, node string) error {
	if urls == "" {
		if node != "" {
			return usageErrorf("--node names a node of a --cluster; give --cluster too")
		}
		return nil
	}
	for _, u := range strings.Split(urls, ",") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(u), "nats://")
		if !ok {
			rest, ok = strings.CutPrefix(strings.TrimSpace(u), "tls://")
		}
		if _, port, err := net.SplitHostPort(rest); !ok || err != nil || port == "" {
			return usageErrorf("--cluster %q: want nats://HOST:PORT[,nats://HOST:PORT...]", urls)
		}
	}
	return nil
}

// isLoopback reports whether host names only the local machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// writeDiagnostics prints ds as `wsgw validate` does in text format, then
// the summary line.
func writeDiagnostics(w io.Writer, file string, ds template.Diagnostics) error {
	rep := &report{Files: []string{file}, Diags: ds, ReadErrors: map[string]string{}}
	if err := writeReport(w, "text", rep); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, rep.summary())
	return err
}

// diagnosticsError carries a reload's diagnostics through the runtime, which
// knows nothing of templates, back to writeReload.
type diagnosticsError struct{ ds template.Diagnostics }

func (e *diagnosticsError) Error() string {
	if err := e.ds.Err(); err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%d warnings", len(e.ds))
}

// writeReload prints what a reload did, in one write so that log lines from
// the connections do not cut through it: the diagnostics (as validate prints
// them), then one line: what changed and how long reading, compiling and
// swapping took, or why the previous plan keeps serving.
func writeReload(w io.Writer, r runtime.Reload) {
	var b bytes.Buffer
	how := ""
	if r.Requested {
		how = " (SIGHUP)"
	}
	var de *diagnosticsError
	for _, err := range []error{r.Err, r.Warnings} {
		if errors.As(err, &de) {
			_ = writeDiagnostics(&b, r.File, de.ds)
		}
	}
	switch {
	case r.Unchanged:
		fmt.Fprintf(&b, "wsgw: %s is unchanged since the last reload%s: nothing to do\n", r.File, how)
	case r.Err != nil:
		why := " has errors"
		var pe *os.PathError
		switch {
		case errors.As(r.Err, &pe):
			why = ": " + readError(pe)
		case de == nil:
			why = ": " + r.Err.Error()
		}
		fmt.Fprintf(&b, "wsgw: %s%s%s; the previous plan keeps serving\n", r.File, how, why)
	default:
		fixed := ""
		if r.Recovered {
			fixed = ", recovered"
		}
		changes := "no change to the plan"
		if len(r.Changes) > 0 {
			parts := make([]string, len(r.Changes))
			for i, c := range r.Changes {
				parts[i] = c.String()
			}
			changes = strings.Join(parts, ", ")
		}
		closed := ""
		if r.Closed > 0 {
			closed = "; closed " + plural(r.Closed, "connection") + " with 1001 (stage or Api gone)"
		}
		fmt.Fprintf(&b, "wsgw: reloaded %s%s in %s%s: %s%s\n", r.File, how, tookText(r.Took), fixed, changes, closed)
		for _, ep := range r.Served {
			fmt.Fprintf(&b, "  now serving %s stage %s at %s (@connections %s)\n", ep.Api, ep.Stage, ep.WebSocketURL, ep.ConnectionsURL)
		}
		if r.ListenErr != nil {
			fmt.Fprintf(&b, "wsgw: not served: %v\n", r.ListenErr)
		}
	}
	_, _ = w.Write(b.Bytes())
}

// tookText is a duration as "4.1ms" (or "1.25s").
func tookText(d time.Duration) string {
	if d >= time.Second {
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
	return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
}
