package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"text/tabwriter"
	"time"
)

// report is what a run prints: as a table, or as JSON with -json.
type report struct {
	Machine machineInfo   `json:"machine"`
	Config  reportConfig  `json:"config"`
	Phases  []phaseReport `json:"phases"`
	// Ratio is the gateway's messages/s over the direct phase's; nil when
	// either phase is missing or the direct phase sent nothing.
	Ratio *float64 `json:"ratio"`
}

type machineInfo struct {
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	Go         string `json:"go"`
}

type reportConfig struct {
	Conns       int     `json:"conns"`
	Size        int     `json:"size"`
	Duration    float64 `json:"duration_s"`
	Warmup      float64 `json:"warmup_s"`
	MaxMessages int64   `json:"max_messages"`
	Gateway     string  `json:"gateway"`
	Backend     string  `json:"backend"`
	// InProcess is true when the bench started the gateway itself.
	InProcess bool `json:"in_process"`
	Throttle  bool `json:"throttle"`
}

type phaseReport struct {
	Phase       string           `json:"phase"`
	Connections int              `json:"connections"`
	Messages    int64            `json:"messages"`
	Seconds     float64          `json:"seconds"`
	Rate        float64          `json:"messages_per_s"`
	Latency     latencyReport    `json:"latency_ms"`
	Errors      int64            `json:"errors"`
	ErrorKinds  map[string]int64 `json:"error_kinds,omitempty"`
	FirstErrors []string         `json:"first_errors,omitempty"`
	// CPUPerMessage is this process's CPU time per message, in
	// microseconds, warm-up included (see phaseResult.CPU).
	CPUPerMessage float64 `json:"cpu_us_per_message,omitempty"`
}

// latencyReport holds milliseconds, rounded to the microsecond.
type latencyReport struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func phaseReportOf(r *phaseResult) phaseReport {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return phaseReport{
		Phase:       r.Name,
		Connections: r.Workers,
		Messages:    r.Messages,
		Seconds:     math.Round(r.Elapsed.Seconds()*1000) / 1000,
		Rate:        math.Round(r.Rate()),
		Latency: latencyReport{
			P50: ms(r.Latency.quantile(0.50)),
			P90: ms(r.Latency.quantile(0.90)),
			P99: ms(r.Latency.quantile(0.99)),
			Max: ms(r.Latency.max),
		},
		Errors:        r.Errors,
		ErrorKinds:    r.ErrorKinds,
		FirstErrors:   r.FirstErrors,
		CPUPerMessage: math.Round(float64(r.CPUPerMessage().Nanoseconds())/10) / 100,
	}
}

// newReport builds the report of the phases run, gateway and direct.
func newReport(m machineInfo, c reportConfig, gw, direct *phaseResult) *report {
	rep := &report{Machine: m, Config: c}
	for _, r := range []*phaseResult{gw, direct} {
		if r != nil {
			rep.Phases = append(rep.Phases, phaseReportOf(r))
		}
	}
	if gw != nil && direct != nil && direct.Rate() > 0 {
		ratio := math.Round(gw.Rate()/direct.Rate()*1000) / 1000
		rep.Ratio = &ratio
	}
	return rep
}

// writeAnyJSON writes a report (echo or load) as indented JSON.
func writeAnyJSON(w io.Writer, rep any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// writeTable prints the run's setting, one row per phase and the ratio.
func writeTable(w io.Writer, rep *report) error {
	m, c := rep.Machine, rep.Config
	where := "gateway " + c.Gateway
	if c.InProcess {
		where = "gateway in process (throttling off)"
		if c.Throttle {
			where = "gateway in process (throttling on)"
		}
	}
	fmt.Fprintf(w, "%s %s/%s, %d CPUs, GOMAXPROCS %d\n", m.Go, m.GOOS, m.GOARCH, m.CPUs, m.GOMAXPROCS)
	fmt.Fprintf(w, "%s, backend %s; %d-byte messages, closed loop, %s after %s warm-up\n\n",
		where, c.Backend, c.Size, secs(c.Duration), secs(c.Warmup))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tconns\tmessages\tmessages/s\tp50\tp99\tmax\terrors\t")
	for _, p := range rep.Phases {
		p50, p99, mx := "-", "-", "-"
		if p.Messages > 0 {
			p50, p99, mx = msText(p.Latency.P50), msText(p.Latency.P99), msText(p.Latency.Max)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%s\t%s\t%s\t%d\t\n", p.Phase, p.Connections, p.Messages, p.Rate,
			p50, p99, mx, p.Errors)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if rep.Ratio != nil {
		fmt.Fprintf(w, "\nratio gateway/direct (messages/s): %.3f\n", *rep.Ratio)
	} else {
		fmt.Fprintln(w, "\nratio gateway/direct (messages/s): n/a")
	}
	for _, p := range rep.Phases {
		if p.CPUPerMessage > 0 {
			fmt.Fprintf(w, "CPU per message (this process: clients, gateway, backend) %s: %.1fµs\n", p.Phase, p.CPUPerMessage)
		}
	}
	for _, p := range rep.Phases {
		for _, e := range p.FirstErrors {
			fmt.Fprintf(w, "%s: %s\n", p.Phase, e)
		}
	}
	return nil
}

func msText(ms float64) string {
	if ms < 1 {
		return strconv.FormatFloat(ms*1000, 'f', 0, 64) + "µs"
	}
	return strconv.FormatFloat(ms, 'f', 2, 64) + "ms"
}

func secs(s float64) string { return time.Duration(s * float64(time.Second)).String() }
