package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// -mode proxy measures wsgw's HTTP_PROXY integration the way users run it,
// each side in a process of its own: the echo backend (this executable as a
// child, echoHandler), `wsgw serve` of benchTemplate (the binary -wsgw
// names, with its default logging to a file and its inspector, as a
// developer runs it), and the clients (this process). In the same run, in
// interleaved rounds, the same clients drive:
//
//   - floor: the floor proxy (floorHandler, this executable as another
//     child): per message only what any WebSocket-to-HTTP proxy must do;
//   - direct: the backend itself over HTTP, with no proxy in between;
//   - wsgw-cmp: with -wsgw-compare, an earlier wsgw build serving the same
//     template (before/after in one run).
//
// The ratios wsgw/floor and wsgw/direct of each round say how far wsgw is
// from the physical limit (issue 15).

// proxyTargetNames are the targets of -mode proxy, in report order.
var proxyTargetNames = []string{"wsgw", "wsgw-cmp", "floor", "direct"}

// proxyReport is what -mode proxy prints with -json.
type proxyReport struct {
	Machine machineInfo `json:"machine"`
	Config  proxyConfig `json:"config"`
	// LoadAverage is /proc/loadavg's 1-minute figure before and after the
	// rounds: how much else ran on the machine.
	LoadAverage [2]float64    `json:"load_average"`
	Measures    []measurement `json:"measures"`
	Ratios      []ratioReport `json:"ratios"`
}

type proxyConfig struct {
	Size     int      `json:"size"`
	Duration float64  `json:"duration_s"`
	Warmup   float64  `json:"warmup_s"`
	Rounds   int      `json:"rounds"`
	Conns    []int    `json:"conns"`
	Targets  []string `json:"targets"`
	Wsgw     string   `json:"wsgw"`
	Compare  string   `json:"wsgw_compare,omitempty"`
	// ServeFlags are -serve-flags, given to both wsgw builds.
	ServeFlags string `json:"serve_flags,omitempty"`
}

// ratioReport is one ratio (Num over Den) of one metric at one connection
// count, over the rounds where both were measured.
type ratioReport struct {
	Num    string `json:"num"`
	Den    string `json:"den"`
	Metric string `json:"metric"` // messages_per_s, p99_ms, proxy_cpu_us_per_message or all_cpu_us_per_message
	Conns  int    `json:"conns"`
	// Rounds holds each round's ratio, sorted.
	Rounds []float64 `json:"rounds"`
	Min    float64   `json:"min"`
	Median float64   `json:"median"`
	Max    float64   `json:"max"`
}

// proxyMetrics are the metrics whose ratios -mode proxy reports.
var proxyMetrics = []struct {
	name, label string
	f           func(measurement) float64
}{
	{"messages_per_s", "msg/s", func(m measurement) float64 { return m.Rate }},
	{"p99_ms", "p99", func(m measurement) float64 { return m.P99 }},
	{"proxy_cpu_us_per_message", "proxy CPU", func(m measurement) float64 { return m.GwCPU }},
	// On a machine whose cores the three processes share, the rates go
	// about as the inverse of this: a less noisy view of them.
	{"all_cpu_us_per_message", "all CPU", measurement.allCPU},
}

// allCPU is the CPU time per message of the client, proxy and backend
// processes together.
func (m measurement) allCPU() float64 { return m.ClCPU + m.GwCPU + m.BeCPU }

// metricLabel is the table's name of a metric.
func metricLabel(name string) string {
	for _, m := range proxyMetrics {
		if m.name == name {
			return m.label
		}
	}
	return name
}

// proxyRatios computes the ratios of -mode proxy from the measures: wsgw
// (and wsgw-cmp) over floor and over direct, floor over direct, and wsgw
// over wsgw-cmp, for each metric and connection count, pairing measures of
// the same round. A ratio with no pair (a target not run, direct's proxy
// CPU, a zero) is left out.
func proxyRatios(all []measurement, conns []int) []ratioReport {
	pairs := [][2]string{{"wsgw", "floor"}, {"wsgw", "direct"}, {"wsgw-cmp", "floor"}, {"wsgw-cmp", "direct"},
		{"floor", "direct"}, {"wsgw", "wsgw-cmp"}}
	var out []ratioReport
	for _, p := range pairs {
		for _, c := range conns {
			for _, mt := range proxyMetrics {
				rs := roundRatios(all, p[0], p[1], c, mt.f)
				if len(rs) == 0 {
					continue
				}
				for i := range rs {
					rs[i] = round3(rs[i])
				}
				out = append(out, ratioReport{Num: p[0], Den: p[1], Metric: mt.name, Conns: c, Rounds: rs,
					Min: rs[0], Median: round3(median(rs)), Max: rs[len(rs)-1]})
			}
		}
	}
	return out
}

// loadAverage reads the 1-minute load average; 0 when unknown.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _ := strconv.ParseFloat(strings.Fields(string(b) + " 0")[0], 64)
	return f
}

// runProxy is -mode proxy.
func runProxy(ctx context.Context, o *options, stdout, stderr io.Writer) int {
	if !hasProc(o, stderr) {
		return exitUsage
	}
	if code := findBinaries(o, o.wsgwCompare != "", "-mode proxy", stderr); code != exitOK {
		return code
	}
	conns, _ := parseConnsList(o.connsList)
	var targets []string
	for _, t := range proxyTargetNames {
		if t != "wsgw-cmp" || o.wsgwCompare != "" {
			targets = append(targets, t)
		}
	}
	dir, err := os.MkdirTemp("", "wsgw-bench-proxy-")
	if err != nil {
		fmt.Fprintf(stderr, "wsgw-bench: %v\n", err)
		return exitFailure
	}
	defer os.RemoveAll(dir)

	servers := map[string]*serverProcess{}
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	start := func(name string, f func() (*serverProcess, error)) bool {
		s, err := f()
		if err != nil {
			fmt.Fprintf(stderr, "wsgw-bench: %s: %v\n", name, err)
			return false
		}
		servers[name] = s
		fmt.Fprintf(stderr, "wsgw-bench: %s serving at %s (pid %d)\n", name, s.url, s.pid())
		return true
	}
	if !start("backend", func() (*serverProcess, error) { return startChild(ctx, "backend") }) {
		return exitFailure
	}
	be := servers["backend"]
	for _, t := range targets {
		ok := true
		switch t {
		case "wsgw", "wsgw-cmp":
			ok = start(t, func() (*serverProcess, error) { return startProxyWsgw(ctx, o, t, filepath.Join(dir, t), be.url) })
		case "floor":
			ok = start(t, func() (*serverProcess, error) { return startChild(ctx, "floor", be.url) })
		}
		if !ok {
			return exitFailure
		}
	}

	msgs := newMessages("", o.size)
	rep := &proxyReport{Machine: thisMachine(), Config: proxyConfig{Size: o.size, Duration: o.duration.Seconds(),
		Warmup: o.warmup.Seconds(), Rounds: o.rounds, Conns: conns, Targets: targets, Wsgw: o.wsgw, Compare: o.wsgwCompare, ServeFlags: o.serveFlags}}
	rep.LoadAverage[0] = loadAverage()
	const row = "%5s  %-8s  %5s  %7s  %8s  %8s  %12s  %14s  %13s  %6s\n"
	if !o.json {
		fmt.Fprintf(stdout, "wsgw-bench -mode proxy: %d-byte messages, %s per phase after %s warm-up, %d rounds, %d CPUs, load average %.2f, %s\n",
			o.size, o.duration, o.warmup, o.rounds, rep.Machine.CPUs, rep.LoadAverage[0], time.Now().UTC().Format(time.RFC3339))
		if o.serveFlags != "" {
			fmt.Fprintf(stdout, "wsgw serve flags: %s\n", o.serveFlags)
		}
		fmt.Fprintf(stdout, row, "round", "target", "conns", "msg/s", "p50 ms", "p99 ms", "proxy µs/msg", "backend µs/msg", "client µs/msg", "errors")
	}
	all, failed := runRounds(ctx, o, stdout, stderr, roundPlan{
		targets: targets,
		conns:   conns,
		measure: func(t string, c int, warmup, duration time.Duration) measurement {
			if t == "direct" {
				ht := newHTTPTarget(be.url, c, o.timeout)
				defer ht.closeIdle()
				return measurePhase(ctx, o, t, ht, 0, be.pid(), c, warmup, duration, msgs)
			}
			s := servers[t]
			return measurePhase(ctx, o, t, &wsTarget{url: s.url, timeout: o.timeout}, s.pid(), be.pid(), c, warmup, duration, msgs)
		},
		row: func(w io.Writer, m measurement) {
			if o.json {
				return
			}
			cpu := "-"
			if m.Target != "direct" {
				cpu = fmt.Sprintf("%.1f", m.GwCPU)
			}
			fmt.Fprintf(w, row, strconv.Itoa(m.Round), m.Target, strconv.Itoa(m.Conns), fmt.Sprintf("%.0f", m.Rate), fmt.Sprintf("%.3f", m.P50),
				fmt.Sprintf("%.3f", m.P99), cpu, fmt.Sprintf("%.1f", m.BeCPU), fmt.Sprintf("%.1f", m.ClCPU), strconv.FormatInt(m.Errors, 10))
		},
		tail: func(t string) string {
			if s := servers[t]; s != nil {
				return s.tail()
			}
			return ""
		},
	})
	rep.LoadAverage[1] = loadAverage()
	rep.Measures, rep.Ratios = all, proxyRatios(all, conns)

	code := exitOK
	if failed {
		code = exitFailure
	}
	for _, m := range all {
		if m.Rate == 0 && ctx.Err() == nil {
			fmt.Fprintf(stderr, "wsgw-bench: %s at %d connections, round %d: no message measured\n", m.Target, m.Conns, m.Round)
			code = exitFailure
		}
	}
	if !printReport(ctx, stdout, stderr, o.json, rep, func(w io.Writer) error { return writeProxySummary(w, rep) }) {
		return exitFailure
	}
	return code
}

// writeProxySummary prints, per target and connection count, the range over
// the rounds, then the ratios.
func writeProxySummary(w io.Writer, rep *proxyReport) error {
	fmt.Fprintf(w, "\nsummary (min–max over the rounds; load average %.2f before, %.2f after):\n", rep.LoadAverage[0], rep.LoadAverage[1])
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "target\tconns\tmsg/s\tp50 ms\tp99 ms\tproxy µs/msg\tbackend µs/msg\tall µs/msg")
	for _, t := range rep.Config.Targets {
		for _, c := range rep.Config.Conns {
			ms := pickMeasures(rep.Measures, t, c)
			if len(ms) == 0 {
				continue
			}
			cpu := "-"
			if t != "direct" {
				cpu = span(ms, func(m measurement) float64 { return m.GwCPU }, "%.1f")
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", t, c,
				span(ms, func(m measurement) float64 { return m.Rate }, "%.0f"),
				span(ms, func(m measurement) float64 { return m.P50 }, "%.3f"),
				span(ms, func(m measurement) float64 { return m.P99 }, "%.3f"),
				cpu, span(ms, func(m measurement) float64 { return m.BeCPU }, "%.1f"), span(ms, measurement.allCPU, "%.1f"))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nratios of the same round (min–max, median):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i := 0; i < len(rep.Ratios); {
		r := rep.Ratios[i]
		line := fmt.Sprintf("%s/%s\t%d conns", r.Num, r.Den, r.Conns)
		for ; i < len(rep.Ratios) && rep.Ratios[i].Num == r.Num && rep.Ratios[i].Den == r.Den && rep.Ratios[i].Conns == r.Conns; i++ {
			x := rep.Ratios[i]
			line += fmt.Sprintf("\t%s %.2f–%.2f (%.2f)", metricLabel(x.Metric), x.Min, x.Max, x.Median)
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}
