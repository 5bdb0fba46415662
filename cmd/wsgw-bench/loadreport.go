package main

import (
	"fmt"
	"io"
	"maps"
	"math"
	goruntime "runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// loadReport is what -mode load prints: as a table, or as JSON with -json.
type loadReport struct {
	Machine     machineInfo          `json:"machine"`
	Config      loadConfig           `json:"config"`
	Connections connReport           `json:"connections"`
	Messages    messagesReport       `json:"messages"`
	Latency     *latencyReport       `json:"latency_ms"` // nil: no message measured
	Streams     map[string]kindStats `json:"streams"`    // by route: echo, post
	Memory      *memoryReport        `json:"memory"`     // nil: not measured (external gateway without -gateway-pid)
	Errors      int64                `json:"errors"`
	ErrorKinds  map[string]int64     `json:"error_kinds,omitempty"`
	// PostErrors counts the @connections posts the backend could not make
	// (each also shows as a lost post message).
	PostErrors  int64    `json:"backend_post_errors"`
	FirstErrors []string `json:"first_errors,omitempty"`
}

type loadConfig struct {
	Conns       int     `json:"conns"`
	Rate        float64 `json:"rate"` // offered messages/s in all; 0: idle connections
	Size        int     `json:"size"`
	Route       string  `json:"route"`
	Duration    float64 `json:"duration_s"`
	Warmup      float64 `json:"warmup_s"`
	MaxMessages int64   `json:"max_messages"`
	Gateway     string  `json:"gateway"`
	GatewayPID  int     `json:"gateway_pid,omitempty"`
	PostVia     string  `json:"post_via,omitempty"`
	Backend     string  `json:"backend"`
	InProcess   bool    `json:"in_process"`
	Throttle    bool    `json:"throttle"`
}

type connReport struct {
	Requested int `json:"requested"`
	Opened    int `json:"opened"`
	// Connects and Disconnects are the $connect and $disconnect calls the
	// backend received.
	Connects    int64 `json:"connects"`
	Disconnects int64 `json:"disconnects"`
}

type messagesReport struct {
	Sent     int64 `json:"sent"`
	Received int64 `json:"received"` // once each, duplicates not counted
	// Measured are the messages due after the warm-up that came back (the
	// latencies are theirs); Rate is the messages that came back during the
	// measured time, per second: below the offered rate, the gateway did not
	// keep up.
	Measured int64   `json:"measured"`
	Seconds  float64 `json:"seconds"`
	Rate     float64 `json:"messages_per_s"`
}

// memoryReport holds the gateway's memory: before the connections open,
// once they are open, at the end of the load (before they close), and the
// highest resident set seen (sampled every 250 ms).
type memoryReport struct {
	Source    string    `json:"source"`
	Before    memSample `json:"before"`
	Open      memSample `json:"open"`
	End       memSample `json:"end"`
	PeakRSSKB int64     `json:"peak_rss_kb"`
	// PerConnBytes is (Open-Before) resident set over the connections
	// opened; HeapPerConnBytes the same of the Go heap (in process only).
	PerConnBytes     int64 `json:"rss_per_conn_bytes"`
	HeapPerConnBytes int64 `json:"heap_per_conn_bytes,omitempty"`
}

func thisMachine() machineInfo {
	return machineInfo{GOOS: goruntime.GOOS, GOARCH: goruntime.GOARCH, CPUs: goruntime.NumCPU(),
		GOMAXPROCS: goruntime.GOMAXPROCS(0), Go: goruntime.Version()}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

func round0(f float64) float64 { return math.Round(f) }

// writeLoadTable prints the load report for people.
func writeLoadTable(w io.Writer, rep *loadReport) error {
	m, c := rep.Machine, rep.Config
	where := "gateway " + c.Gateway
	if c.InProcess {
		where = "gateway in process (throttling off)"
		if c.Throttle {
			where = "gateway in process (throttling on)"
		}
	}
	fmt.Fprintf(w, "%s %s/%s, %d CPUs, GOMAXPROCS %d\n", m.Go, m.GOOS, m.GOARCH, m.CPUs, m.GOMAXPROCS)
	load := "idle connections"
	if c.Rate > 0 {
		load = fmt.Sprintf("open loop %.0f messages/s in all (%.3g/s per connection), %d-byte messages, route %s",
			c.Rate, c.Rate/float64(max(c.Conns, 1)), c.Size, c.Route)
	}
	if c.PostVia != "" {
		where += ", posts via " + c.PostVia
	}
	fmt.Fprintf(w, "%s, backend %s\n%d connections, %s, %s after %s warm-up\n\n", where, c.Backend, c.Conns, load,
		secs(c.Duration), secs(c.Warmup))

	cr := rep.Connections
	fmt.Fprintf(w, "connections  %d of %d opened; the backend saw %d $connect, %d $disconnect\n",
		cr.Opened, cr.Requested, cr.Connects, cr.Disconnects)
	mr := rep.Messages
	fmt.Fprintf(w, "messages     %d sent, %d received (%d of them due after the warm-up); %.0f messages/s came back over %s\n",
		mr.Sent, mr.Received, mr.Measured, mr.Rate, secs(mr.Seconds))
	if l := rep.Latency; l != nil {
		fmt.Fprintf(w, "latency      p50 %s  p90 %s  p99 %s  max %s\n", msText(l.P50), msText(l.P90), msText(l.P99), msText(l.Max))
	}
	if len(rep.Streams) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "route\tcomes back as\tsent\treceived\tlost\tduplicated\treordered\t")
		for k, name := range kindNames {
			s, ok := rep.Streams[name]
			if !ok {
				continue
			}
			how := [numKinds]string{"route response", "@connections post"}[k]
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t\n", name, how, s.Sent, s.Received, s.Lost, s.Duplicated, s.Reordered)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if mem := rep.Memory; mem != nil {
		fmt.Fprintf(w, "\nmemory of %s\n", mem.Source)
		fmt.Fprintf(w, "  rss before %s, connections open %s (%s per connection), end %s, peak %s\n",
			kb(mem.Before.RSSKB), kb(mem.Open.RSSKB), bytesText(mem.PerConnBytes), kb(mem.End.RSSKB), kb(mem.PeakRSSKB))
		if mem.Open.HeapInuseKB > 0 {
			fmt.Fprintf(w, "  heap in use before %s, connections open %s (%s per connection); stacks %s, %d goroutines\n",
				kb(mem.Before.HeapInuseKB), kb(mem.Open.HeapInuseKB), bytesText(mem.HeapPerConnBytes), kb(mem.Open.StackInuseKB), mem.Open.Goroutines)
		}
	}
	fmt.Fprintf(w, "\nerrors       %d", rep.Errors)
	if len(rep.ErrorKinds) > 0 {
		var parts []string
		for _, k := range sortedKeys(rep.ErrorKinds) {
			parts = append(parts, fmt.Sprintf("%s %d", k, rep.ErrorKinds[k]))
		}
		fmt.Fprintf(w, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintln(w)
	for _, e := range rep.FirstErrors {
		fmt.Fprintf(w, "  %s\n", e)
	}
	return nil
}

func kb(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/1024) }

func bytesText(n int64) string {
	if n >= 10*1024 || n <= -10*1024 {
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	}
	return fmt.Sprintf("%d B", n)
}

func sortedKeys(m map[string]int64) []string { return slices.Sorted(maps.Keys(m)) }
