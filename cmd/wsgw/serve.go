package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsgw/wsgw/compile"
	"github.com/wsgw/wsgw/runtime"
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

	MaxMessage      int
	MaxFrame        int
	IdleTimeout     time.Duration
	MaxDuration     time.Duration
	NoThrottle      bool
	ShutdownTimeout time.Duration

	// ready, when set, is called once the gateway listens (tests).
	ready func(*runtime.Gateway)
}

// newServeCmd is `wsgw serve` (SPEC ).
func newServeCmd(ios *iostreams) *cobra.Command {
	def := runtime.DefaultOptions()
	opts := &serveOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "serve [flags] TEMPLATE",
		Short: "Run the template's WebSocket APIs as a local gateway",
		Long: `Run the WebSocket APIs of a CloudFormation, SAM or CDK template as a local
API Gateway until interrupted (SIGINT or SIGTERM).

Each stage is served at ws://ADDR/<stage> (ws://ADDR/ for $default), with its
@connections API at http://ADDR/<stage>/@connections. The first Api listens on
--addr, each next one on the next port. At start wsgw prints every stage's URLs
and one line per route; then one log line per connect, message and disconnect
(on stderr), and the stages' AccessLogSettings.Format lines (on stdout, or the
--access-log file). When stderr or stdout stops taking log lines, wsgw drops
them rather than stall connections, and says how many when it stops.

API Gateway's limits apply unless turned off (0 turns a limit off): messages of
128 KB and frames of 32 KB (close 1009), 10 minutes idle and 2 hours open
(close 1001), stage and route throttling (--no-throttle).

A template with errors does not start: its diagnostics are printed as by
'wsgw validate' and the exit status is 1. On SIGINT or SIGTERM every connection
is closed with 1001 and its $disconnect runs (at most --shutdown-timeout), then
wsgw exits with status 0.`,
		Example: `  wsgw serve template.yaml
  wsgw serve --stage dev --param BackendUrl=http://127.0.0.1:8080 template.yaml
  wsgw serve --integration ChatIntegration=http://127.0.0.1:9000/chat template.yaml
  wsgw serve --addr 0.0.0.0:3001 --log-format json template.yaml`,
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
			return runServe(ctx, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Addr, "addr", def.Addr, "`HOST:PORT` of the first Api; each next Api listens on the next port")
	f.BoolVar(&opts.AllowRemote, "allow-remote", false, "allow an --addr without a host (listening on every interface)")
	f.StringVar(&opts.Stage, "stage", "", "serve only the stage `NAME`")
	f.StringArrayVar(&opts.Params, "param", nil, "override a template parameter, as `Name=Value` (repeatable)")
	f.StringArrayVar(&opts.Integrations, "integration", nil, "send integration `ID=URL` (logical ID) to URL instead of its IntegrationUri (repeatable)")
	f.StringVar(&opts.LogFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&opts.AccessLog, "access-log", "", "write the stages' access logs to `PATH` instead of stdout")
	f.BoolVar(&opts.NoWatch, "no-watch", false, "do not reload the template when it changes (accepted; reloading is not implemented yet)")
	f.IntVar(&opts.MaxMessage, "max-message-size", def.MaxMessageBytes, "largest message and @connections post, in `bytes` (0: no limit)")
	f.IntVar(&opts.MaxFrame, "max-frame-size", def.MaxFrameBytes, "largest frame, in `bytes` (0: no limit)")
	f.DurationVar(&opts.IdleTimeout, "idle-timeout", def.IdleTimeout, "close connections idle this long (0: never)")
	f.DurationVar(&opts.MaxDuration, "max-connection-duration", def.MaxConnDuration, "close connections open this long (0: never)")
	f.BoolVar(&opts.NoThrottle, "no-throttle", false, "ignore stage and route throttling")
	f.DurationVar(&opts.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "how long to wait for $disconnect calls when stopping")
	return cmd
}

// runServe loads, compiles and serves o.File until ctx ends.
func runServe(ctx context.Context, o *serveOptions) error {
	if o.LogFormat != "text" && o.LogFormat != "json" {
		return usageErrorf("unknown --log-format %q (want text or json)", o.LogFormat)
	}
	if o.MaxMessage < 0 || o.MaxFrame < 0 || o.IdleTimeout < 0 || o.MaxDuration < 0 {
		return usageErrorf("limits must not be negative (0 turns a limit off)")
	}
	if err := checkAddr(o.Addr, o.AllowRemote); err != nil {
		return err
	}
	params, err := parseParams(o.Params)
	if err != nil {
		return err
	}
	integrations, err := parseIntegrations(o.Integrations)
	if err != nil {
		return err
	}

	src, err := os.ReadFile(o.File)
	if err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("%s: %s", o.File, readError(err))}
	}
	plan, ds := compile.Build(o.File, src, template.Options{Params: params, Addr: o.Addr, RequireParams: true},
		compile.Options{Integrations: integrations, Stage: o.Stage})
	if len(ds) > 0 {
		// As validate prints them, on stderr: stdout is the gateway's.
		rep := &report{Files: []string{o.File}, Diags: ds, ReadErrors: map[string]string{}}
		if err := writeReport(o.IO.Err, "text", rep); err != nil {
			return err
		}
		fmt.Fprintln(o.IO.Err, rep.summary())
	}
	if ds.HasErrors() || plan == nil {
		return exitWith(exitFailure)
	}

	ro := runtime.DefaultOptions()
	ro.Addr = o.Addr
	ro.MaxMessageBytes, ro.MaxFrameBytes = o.MaxMessage, o.MaxFrame
	ro.IdleTimeout, ro.MaxConnDuration = o.IdleTimeout, o.MaxDuration
	ro.Throttling = !o.NoThrottle
	// The gateway writes both logs from goroutines of its own, so a stderr or
	// stdout nobody reads drops lines instead of stalling connections.
	ro.LogOutput, ro.LogFormat = o.IO.Err, o.LogFormat
	ro.AccessLog = o.IO.Out
	if o.AccessLog != "" {
		f, err := os.OpenFile(o.AccessLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return &exitError{code: exitUsage, err: fmt.Errorf("--access-log: %w", err)}
		}
		defer f.Close()
		ro.AccessLog = f
	}

	g, err := runtime.New(plan, ro)
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	if err := g.Start(); err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	if host, _, _ := net.SplitHostPort(o.Addr); !isLoopback(host) {
		fmt.Fprintf(o.IO.Err, "wsgw: listening on %s, which is not a loopback address: other machines can connect\n", o.Addr)
	}
	g.WriteSummary(o.IO.Out)
	if o.ready != nil {
		o.ready(g)
	}

	<-ctx.Done()
	fmt.Fprintln(o.IO.Err, "wsgw: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), o.ShutdownTimeout)
	defer cancel()
	if err := g.Shutdown(sctx); err != nil {
		fmt.Fprintf(o.IO.Err, "wsgw: some $disconnect calls did not finish within %s\n", o.ShutdownTimeout)
	}
	return nil
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

// isLoopback reports whether host names only the local machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
