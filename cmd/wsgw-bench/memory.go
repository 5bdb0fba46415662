package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"sync"
	"time"
)

// memProbe reads the gateway's memory: the resident set (VmRSS of
// /proc/PID/status) of an external gateway given its pid, or of this
// process (gateway and clients together) when the gateway runs in process,
// plus, in process, the Go heap in use.
type memProbe struct {
	pid       int  // 0: this process
	inProcess bool // the gateway runs in this process: the heap is its (and the clients')

	mu      sync.Mutex
	peakKB  int64
	samples int
}

// memSample is one reading; zero fields were not measured.
type memSample struct {
	RSSKB       int64 `json:"rss_kb"`
	HeapInuseKB int64 `json:"heap_inuse_kb,omitempty"`
	// StackInuseKB is the goroutine stacks' memory (in process only).
	StackInuseKB int64 `json:"stack_inuse_kb,omitempty"`
	Goroutines   int   `json:"goroutines,omitempty"`
}

// source says whose memory the probe reads.
func (p *memProbe) source() string {
	if p.pid != 0 {
		return fmt.Sprintf("gateway process %d (VmRSS of /proc/%d/status)", p.pid, p.pid)
	}
	return "this process: gateway and clients together (VmRSS of /proc/self/status; heap from runtime.MemStats)"
}

// sample reads the memory now; gc first collects garbage (in process only:
// an external gateway's garbage stays counted).
func (p *memProbe) sample(gc bool) (memSample, error) {
	var s memSample
	if p.pid == 0 {
		if gc {
			goruntime.GC()
		}
		var ms goruntime.MemStats
		goruntime.ReadMemStats(&ms)
		s.HeapInuseKB = int64(ms.HeapInuse >> 10)
		s.StackInuseKB = int64(ms.StackInuse >> 10)
		s.Goroutines = goruntime.NumGoroutine()
	}
	rss, err := readRSS(p.pid)
	if err != nil {
		return s, err
	}
	s.RSSKB = rss
	p.mu.Lock()
	p.peakKB = max(p.peakKB, rss)
	p.samples++
	p.mu.Unlock()
	return s, nil
}

func (p *memProbe) peak() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peakKB
}

// watch samples every interval until stop is closed, to catch the peak.
func (p *memProbe) watch(interval time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			_, _ = p.sample(false)
		}
	}
}

// readRSS returns VmRSS in KiB of process pid (0: this process).
func readRSS(pid int) (int64, error) {
	path := "/proc/self/status"
	if pid != 0 {
		path = filepath.Join("/proc", strconv.Itoa(pid), "status")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("reading the gateway's memory: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Bytes()
		if v, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			f := bytes.Fields(v)
			if len(f) >= 1 {
				return strconv.ParseInt(string(f[0]), 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("%s has no VmRSS line", path)
}
