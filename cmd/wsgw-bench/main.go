// Command wsgw-bench measures wsgw's gateway against the backend it fronts:
// the same closed-loop echo load, first through a WebSocket stage whose
// two-way $default route proxies to an HTTP echo backend, then straight to
// that backend over HTTP, and prints both phases and their ratio.
//
// By default it starts everything itself on 127.0.0.1: the echo backend and
// a gateway serving an Api it generates (compile.Build,
// runtime.New). With -gateway it drives a running `wsgw serve` instead, and
// -backend names the echo backend behind it for the direct phase.
//
// Latency percentiles are nearest-rank values read from a log-linear
// histogram, within 0.4% of the exact ones (histogram.go). Every reply is
// compared byte for byte with the message sent (sequence number and
// padding); a wrong, missing or late reply is an error, and any error makes
// the exit status 1.
//
// The load engine (phase.go) runs workers over the sessions of a target;
// the targets (targets.go) are a WebSocket stage and an HTTP backend.
//
// -mode load (load.go) is the soak and fault tool: up to 20,000 connections
// to the Api of load.yaml (in process, or a running `wsgw serve` of it),
// an open-loop rate (-rate in all or -conn-rate per connection), messages
// that come back either as route responses (two-way "echo" route) or as
// @connections posts its backend makes (one-way "post" route), each with a
// sequence number per connection checked for loss, duplication and order
// (seqcheck.go); it reports latencies from each message's due time, the
// $connect and $disconnect calls the backend saw, and the gateway's memory
// (memory.go): the resident set of -gateway-pid, or of this process.
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	if role := os.Getenv(childEnv); role != "" {
		os.Exit(runChild(role, os.Args[1:], os.Stdout, os.Stderr))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil)
	stop()
	os.Exit(code)
}
