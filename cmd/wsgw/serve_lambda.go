package main

import (
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/wsgw/wsgw/compile"
	"github.com/wsgw/wsgw/runtime"
	"github.com/wsgw/wsgw/runtime/lambda"
)

// lambdaOptions sets the gateway's ways to run Lambda functions (SPEC ),
// its API keys and its TLS CA from the serve flags.
func (o *serveOptions) lambdaOptions(ro *runtime.Options, plan *compile.Plan) error {
	if o.LambdaEndpoint != "" {
		u, err := url.Parse(o.LambdaEndpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usageErrorf("--lambda-endpoint %q: want an absolute http(s) URL, such as http://127.0.0.1:3010", o.LambdaEndpoint)
		}
		ro.LambdaEndpoint = o.LambdaEndpoint
	}
	for _, k := range o.APIKeys {
		if k == "" {
			return usageErrorf("--api-key must not be empty")
		}
	}
	ro.APIKeys = o.APIKeys
	if needsAPIKey(plan) && len(o.APIKeys) == 0 {
		fmt.Fprintln(o.IO.Err, "wsgw: a $connect route has ApiKeyRequired and no --api-key was given: every handshake will be refused with 403")
	}
	if !o.NoTLS {
		dir := o.CADir
		if dir == "" {
			d, err := runtime.DefaultCADir()
			if err != nil {
				fmt.Fprintf(o.IO.Err, "wsgw: serving without TLS: %v\n", err)
			}
			dir = d
		}
		if dir != "" {
			ca, err := runtime.LoadCA(dir)
			if err != nil {
				fmt.Fprintf(o.IO.Err, "wsgw: serving without TLS: %v\n", err)
			} else {
				ro.CA = ca
			}
		}
	}
	// The local runner starts once the gateway listens, so that the functions
	// learn its address (AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI) and trust
	// its CA. Their output goes to stderr, "[FunctionName] line".
	errOut := o.IO.Err
	var h slog.Handler = slog.NewTextHandler(errOut, nil)
	if o.LogFormat == "json" {
		h = slog.NewJSONHandler(errOut, nil)
	}
	ro.NewLambda = func(env map[string]string) (runtime.Invoker, error) {
		return lambda.NewRunner(o.runnerOptions(env, slog.New(h), errOut)), nil
	}
	return nil
}

// runnerOptions are the local runner's options from the serve flags.
func (o *serveOptions) runnerOptions(env map[string]string, log *slog.Logger, out io.Writer) lambda.Options {
	idle := o.InstanceIdleTimeout
	if idle == 0 {
		idle = -1 // never
	}
	return lambda.Options{Env: env, Logger: log, Output: out, MaxProcesses: o.MaxInstances, IdleTimeout: idle}
}

// writeInstances prints, after the stages, the functions the gateway runs
// as local processes and how many instances each may have (SPEC ).
func (o *serveOptions) writeInstances(plan *compile.Plan) {
	if o.LambdaEndpoint != "" || len(plan.Functions) == 0 {
		return
	}
	r := lambda.NewRunner(o.runnerOptions(nil, nil, nil)) // starts nothing
	ids := make([]string, 0, len(plan.Functions))
	for id := range plan.Functions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	idle := "idle instances stop after " + o.InstanceIdleTimeout.String()
	if o.InstanceIdleTimeout == 0 {
		idle = "idle instances keep running"
	}
	for _, id := range ids {
		fn := plan.Functions[id]
		if ok, _ := lambda.CanRun(fn); !ok {
			continue
		}
		from := "--max-instances"
		if fn.ReservedConcurrency != nil {
			from = "ReservedConcurrentExecutions"
		}
		fmt.Fprintf(o.IO.Out, "  Lambda %s (%s): up to %d instances (%s), %s\n", id, fn.Runtime, r.Instances(fn), from, idle)
	}
}

// needsAPIKey reports whether a route of the plan has ApiKeyRequired.
func needsAPIKey(p *compile.Plan) bool {
	for _, api := range p.Apis {
		for _, st := range api.Stages {
			for _, r := range st.Routes {
				if r.ApiKeyRequired {
					return true
				}
			}
		}
	}
	return false
}

// writeOutsideCode prints one line per function of the plan whose code lies
// outside the template's directory (a CodeUri of ../shared, an absolute
// path): SAM allows it, and serve runs it, but it is worth knowing what a
// template makes the machine run (issue 12).
func writeOutsideCode(w io.Writer, file string, plan *compile.Plan) {
	dir, err := filepath.Abs(filepath.Dir(file))
	if err != nil {
		return
	}
	ids := slices.Sorted(maps.Keys(plan.Functions))
	for _, id := range ids {
		code := plan.Functions[id].CodeDir
		if code == "" {
			continue
		}
		rel, err := filepath.Rel(dir, code)
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			continue
		}
		fmt.Fprintf(w, "wsgw: function %s runs code from %s, outside the template's directory\n", id, code)
	}
}
