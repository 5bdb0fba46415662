// Package wsgwtest starts wsgw on a template inside a Go test, as
// net/http/httptest starts an HTTP server: the template's WebSocket APIs are
// served on free ports of 127.0.0.1 with API Gateway's limits, Lambda
// functions of the template run as local processes, and the gateway stops
// when the test ends (t.Cleanup).
//
//	srv := wsgwtest.Start(t, "template.yaml", &wsgwtest.Options{
//		Params: map[string]string{"BackendUrl": backend.URL},
//	})
//	ws, _, err := websocket.DefaultDialer.Dial(srv.URL, nil)
//	...
//	client := apigatewaymanagementapi.New(apigatewaymanagementapi.Options{
//		BaseEndpoint: aws.String(srv.ConnectionsEndpoint), ...})
package wsgwtest

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wsgw/wsgw/compile"
	"github.com/wsgw/wsgw/runtime"
	"github.com/wsgw/wsgw/runtime/lambda"
	"github.com/wsgw/wsgw/template"
)

// Options change how Start serves the template. The zero value (or nil)
// serves every stage with the template's defaults.
type Options struct {
	// Params override template parameters, as wsgw serve --param Name=Value.
	Params map[string]string
	// Stage serves only the stage of that name, as --stage.
	Stage string
	// Integrations send an integration or authorizer (by logical ID) to a
	// URL, as --integration ID=URL: handy to point a Lambda integration at
	// an httptest.Server of the test.
	Integrations map[string]string
	// Logs receives the gateway's log lines and the functions' output; nil
	// discards them.
	Logs io.Writer
	// Runtime, when set, changes the gateway's options (limits, throttling)
	// before it starts; Addr is always 127.0.0.1:0.
	Runtime func(*runtime.Options)
}

// Server is a running gateway.
type Server struct {
	// URL is the WebSocket URL of the first stage served, such as
	// ws://127.0.0.1:41234/dev.
	URL string
	// ConnectionsEndpoint is the @connections API's base endpoint of that
	// stage (http://127.0.0.1:41234/dev): the BaseEndpoint of an
	// apigatewaymanagementapi client, or the prefix of
	// ConnectionsEndpoint + "/@connections/" + connectionId.
	ConnectionsEndpoint string
	// Endpoints lists every stage served, in the template's order.
	Endpoints []runtime.Endpoint
	// Gateway is the gateway itself (its Plan, Swap, Shutdown).
	Gateway *runtime.Gateway
}

// Stage returns the endpoint of the stage named name (of the first Api that
// has one); it fails the test when no stage has that name.
func (s *Server) Stage(tb testing.TB, name string) runtime.Endpoint {
	tb.Helper()
	for _, ep := range s.Endpoints {
		if ep.Stage == name {
			return ep
		}
	}
	tb.Fatalf("wsgwtest: no stage %q is served", name)
	return runtime.Endpoint{}
}

// Start serves the template at path and returns once it listens. A template
// with errors fails the test with wsgw's diagnostics. The gateway shuts down
// (closing every connection with 1001 and running the $disconnect routes)
// when the test and its subtests end.
func Start(tb testing.TB, path string, opts *Options) *Server {
	tb.Helper()
	if opts == nil {
		opts = &Options{}
	}
	src, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("wsgwtest: %v", err)
	}
	plan, ds := compile.Build(path, src,
		template.Options{Params: opts.Params, Addr: "127.0.0.1:0", RequireParams: true},
		compile.Options{Integrations: opts.Integrations, Stage: opts.Stage, CanRun: lambda.CanRun})
	if plan == nil || ds.HasErrors() {
		var b strings.Builder
		for _, d := range ds {
			b.WriteString("\n  " + d.Text())
		}
		tb.Fatalf("wsgwtest: %s does not compile:%s", path, b.String())
	}
	logs := opts.Logs
	if logs == nil {
		logs = io.Discard
	}
	ro := runtime.DefaultOptions()
	if opts.Runtime != nil {
		opts.Runtime(&ro)
	}
	ro.Addr = "127.0.0.1:0"
	ro.LogOutput = logs
	ro.NewLambda = func(env map[string]string) (runtime.Invoker, error) {
		return lambda.NewRunner(lambda.Options{Env: env, Output: logs}), nil
	}
	g, err := runtime.New(plan, ro)
	if err != nil {
		tb.Fatalf("wsgwtest: %v", err)
	}
	if err := g.Start(); err != nil {
		tb.Fatalf("wsgwtest: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := g.Shutdown(ctx); err != nil {
			tb.Errorf("wsgwtest: shutdown: %v", err)
		}
	})
	eps := g.Endpoints()
	if len(eps) == 0 {
		tb.Fatalf("wsgwtest: %s serves no stage", path)
	}
	return &Server{URL: eps[0].WebSocketURL, ConnectionsEndpoint: strings.TrimSuffix(eps[0].ConnectionsURL, "/@connections"),
		Endpoints: eps, Gateway: g}
}

// String names the first stage, for test logs.
func (s *Server) String() string { return fmt.Sprintf("wsgw at %s", s.URL) }
