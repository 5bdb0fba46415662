package main

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// fixedPhase is a phase result with known numbers: latencies of 1 to n
// hundred microseconds, one each.
func fixedPhase(name string, n int, elapsed time.Duration, errs ...string) *phaseResult {
	r := &phaseResult{Name: name, Workers: 32, Elapsed: elapsed, Latency: &histogram{}}
	for i := 1; i <= n; i++ {
		r.Latency.record(time.Duration(i) * 100 * time.Microsecond)
	}
	r.Messages = int64(n)
	for _, e := range errs {
		r.Errors++
		if r.ErrorKinds == nil {
			r.ErrorKinds = map[string]int64{}
		}
		r.ErrorKinds["mismatch"]++
		r.FirstErrors = append(r.FirstErrors, "mismatch: "+e)
	}
	return r
}

// TestReportGolden checks the table and the JSON against testdata/*.golden
// (go test ./cmd/wsgw-bench -update rewrites them).
func TestReportGolden(t *testing.T) {
	m := machineInfo{GOOS: "linux", GOARCH: "amd64", CPUs: 2, GOMAXPROCS: 2, Go: "go1.26.8"}
	inProc := reportConfig{Conns: 32, Size: 128, Duration: 5, Warmup: 0.5, MaxMessages: 10_000_000,
		Gateway: "ws://127.0.0.1:40001/bench", Backend: "http://127.0.0.1:40000", InProcess: true}
	external := inProc
	external.InProcess, external.Gateway = false, "ws://127.0.0.1:3001/dev"
	tests := []struct {
		name string
		rep  *report
	}{
		{"clean", newReport(m, inProc, fixedPhase("gateway", 500, 5*time.Second), fixedPhase("direct", 1000, 5*time.Second))},
		{"errors", newReport(m, external,
			fixedPhase("gateway", 200, 5*time.Second, "reply to conn 3 seq 7 differs from the message at byte 100"),
			fixedPhase("direct", 0, 0))},
	}
	for _, tt := range tests {
		for _, format := range []string{"txt", "json"} {
			t.Run(tt.name+"."+format, func(t *testing.T) {
				var b bytes.Buffer
				write := func(w io.Writer, rep *report) error { return writeTable(w, rep) }
				if format == "json" {
					write = func(w io.Writer, rep *report) error { return writeAnyJSON(w, rep) }
				}
				if err := write(&b, tt.rep); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join("testdata", tt.name+"."+format+".golden")
				if *update {
					if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if !bytes.Equal(b.Bytes(), want) {
					t.Errorf("%s differs:\n--- got\n%s--- want\n%s", path, b.String(), want)
				}
			})
		}
	}
}
