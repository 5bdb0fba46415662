package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// Interleaved rounds: the engine of -mode lambda and -mode proxy, where each
// target is a server in a process of its own and the CPU time of each
// process comes from /proc.

// measurement is one phase against one target.
type measurement struct {
	Target string  `json:"target"`
	Round  int     `json:"round"`
	Conns  int     `json:"conns"`
	Rate   float64 `json:"messages_per_s"`
	P50    float64 `json:"p50_ms"`
	P99    float64 `json:"p99_ms"`
	Errors int64   `json:"errors"`
	// GwCPU is the server's own process (the gateway, or the floor proxy),
	// FnCPU its descendants' (the function instances it started), BeCPU
	// the backend's process (-mode proxy); CPU time per message answered,
	// in µs.
	GwCPU float64 `json:"gateway_cpu_us_per_message"`
	FnCPU float64 `json:"function_cpu_us_per_message"`
	BeCPU float64 `json:"backend_cpu_us_per_message,omitempty"`
	// ClCPU is this process's: the clients'.
	ClCPU    float64 `json:"client_cpu_us_per_message,omitempty"`
	FirstErr string  `json:"first_error,omitempty"`
}

func (m measurement) totalCPU() float64 { return m.GwCPU + m.FnCPU + m.BeCPU }

// measurePhase runs one closed-loop phase against tg with conns connections
// and reads the CPU time used meanwhile by the process pid and its
// descendants, and by the process backendPID (either 0: none).
func measurePhase(ctx context.Context, o *options, name string, tg target, pid, backendPID, conns int, warmup, duration time.Duration, msgs *messages) measurement {
	before := allProcs()
	res := runPhase(ctx, tg,
		phaseConfig{name: name, workers: conns, warmup: warmup, duration: duration, maxMessages: o.maxMessages, msgs: msgs})
	after := allProcs()
	m := measurement{Target: name, Conns: conns, Rate: math.Round(res.Rate()),
		P50: ms(res.Latency.quantile(0.50)), P99: ms(res.Latency.quantile(0.99)), Errors: res.Errors}
	if len(res.FirstErrors) > 0 {
		m.FirstErr = res.FirstErrors[0]
	}
	if n := res.All; n > 0 {
		us := func(d time.Duration) float64 { return math.Round(float64(max(0, d).Microseconds())/float64(n)*10) / 10 }
		if pid > 0 {
			gw0, fn0, _ := treeCPU(before, pid)
			gw1, fn1, _ := treeCPU(after, pid)
			m.GwCPU, m.FnCPU = us(gw1-gw0), us(fn1-fn0)
		}
		if backendPID > 0 {
			m.BeCPU = us(after[backendPID].cpu - before[backendPID].cpu)
		}
		m.ClCPU = us(res.CPU)
	}
	return m
}

// roundPlan is what runRounds measures and how.
type roundPlan struct {
	targets []string
	conns   []int
	// skip, when set, leaves a target out at a connection count.
	skip func(target string, conns int) bool
	// measure runs one phase.
	measure func(target string, conns int, warmup, duration time.Duration) measurement
	// row prints a measure as it comes; tail returns the last output of a
	// target's server, shown with its errors ("" when it has none).
	row  func(w io.Writer, m measurement)
	tail func(target string) string
}

func (p *roundPlan) skips(t string, c int) bool { return p.skip != nil && p.skip(t, c) }

// runRounds runs every target unmeasured first (for 4 times -warmup, at the
// largest connection count it is measured at), so that round 1 does not
// measure processes starting or a JIT warming up; then -rounds rounds, each
// measuring every target at every connection count, interleaved: each
// round starts with another target. failed is true when a measure had
// errors.
func runRounds(ctx context.Context, o *options, stdout, stderr io.Writer, p roundPlan) (all []measurement, failed bool) {
	if o.warmup > 0 {
		for _, t := range p.targets {
			largest := 0
			for _, c := range p.conns {
				if !p.skips(t, c) {
					largest = max(largest, c)
				}
			}
			if largest > 0 && ctx.Err() == nil {
				p.measure(t, largest, 0, 4*o.warmup)
			}
		}
	}
	ts := p.targets
	for r := 1; r <= o.rounds && ctx.Err() == nil; r++ {
		for _, c := range p.conns {
			order := append(slices.Clone(ts[(r-1)%len(ts):]), ts[:(r-1)%len(ts)]...)
			for _, t := range order {
				if ctx.Err() != nil {
					break
				}
				if p.skips(t, c) {
					continue
				}
				m := p.measure(t, c, o.warmup, o.duration)
				m.Round = r
				all = append(all, m)
				p.row(stdout, m)
				if m.Errors > 0 {
					failed = true
					fmt.Fprintf(stderr, "wsgw-bench: %s at %d connections: %d errors, first: %s\n", t, c, m.Errors, m.FirstErr)
					if out := p.tail(t); out != "" {
						fmt.Fprintf(stderr, "its last output:\n%s\n", out)
					}
				}
			}
		}
	}
	return all, failed
}

// pickMeasures returns the measures of target t at c connections.
func pickMeasures(all []measurement, t string, c int) []measurement {
	var out []measurement
	for _, m := range all {
		if m.Target == t && m.Conns == c {
			out = append(out, m)
		}
	}
	return out
}

// span prints the range of f over ms: "lo–hi", or one value.
func span(ms []measurement, f func(measurement) float64, format string) string {
	if len(ms) == 0 {
		return "-"
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, m := range ms {
		lo, hi = min(lo, f(m)), max(hi, f(m))
	}
	if lo == hi {
		return fmt.Sprintf(format, lo)
	}
	return fmt.Sprintf(format+"–"+format, lo, hi)
}

// roundRatios returns, sorted, f(num)/f(den) for every round in which both
// targets were measured at c connections and f(den) is positive.
func roundRatios(all []measurement, num, den string, c int, f func(measurement) float64) []float64 {
	var out []float64
	for _, m := range pickMeasures(all, num, c) {
		for _, d := range pickMeasures(all, den, c) {
			if d.Round == m.Round && f(d) > 0 {
				out = append(out, f(m)/f(d))
			}
		}
	}
	sort.Float64s(out)
	return out
}

// median of sorted values; 0 when there are none.
func median(sorted []float64) float64 {
	n := len(sorted)
	switch {
	case n == 0:
		return 0
	case n%2 == 1:
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func floats(fs []float64) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = fmt.Sprintf("%.2f", f)
	}
	return strings.Join(s, " ")
}
