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
//
// -mode lambda (lambda.go) runs the wsgw binary -wsgw names, serving Lambda
// echo functions, against serverless-offline, each in processes of their
// own, in interleaved rounds (rounds.go).
//
// -mode proxy (proxy.go) measures the HTTP_PROXY echo the way users run it,
// in three processes: the echo backend and `wsgw serve` of the echo Api (the
// binary -wsgw names, logging to a file, inspector on) each in a process of
// its own, the clients in this one. In the same interleaved rounds it drives
// a floor proxy (one goroutine per connection: read a frame, POST it, write
// the answer; nothing else), the backend directly over HTTP, and with
// -wsgw-compare an earlier wsgw build; it prints messages/s, p50, p99, the
// CPU time per message of the proxy's and the backend's processes (from
// /proc), and the ratios wsgw/floor and wsgw/direct of each round. The
// backend and the floor proxy are this executable again, started with
// WSGW_BENCH_CHILD=backend or floor in its environment (child.go).
//
// -mode idle (idle.go) holds more idle connections than one process may
// open files for: nats-server, -nodes `wsgw serve --cluster` processes of
// load.yaml and, per node, a client process (this executable as child
// "clients", idleclients.go) that is also the node's backend and opens the
// node's share of the connections on command. It reports every node's
// resident set and live heap (GODEBUG=gctrace=1) before, once open and
// through a hold, nats-server's, and whether sample connections still
// answer an echo and get a post made through another node.
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
