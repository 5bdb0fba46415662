package main

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// A target is what a phase drives: the gateway over WebSocket, or the
// backend over HTTP. It opens one session per worker.
type target interface {
	open(ctx context.Context, worker int) (session, error)
}

// A session is one worker's channel to the target: a WebSocket connection
// or a share of a keep-alive HTTP client.
type session interface {
	// roundTrip sends msg and returns its reply; an error means the
	// session cannot go on (a broken connection, a failed request).
	roundTrip(ctx context.Context, msg []byte) ([]byte, error)
	close() error
}

// phaseConfig is what one phase runs: workers sessions in a closed loop
// (each sends a message and waits for its reply before the next), first for
// warmup, unrecorded, then for duration or until maxMessages were recorded.
type phaseConfig struct {
	name        string
	workers     int
	warmup      time.Duration
	duration    time.Duration
	maxMessages int64 // 0: no limit
	msgs        *messages
}

// phaseResult is what a phase measured. Messages, Elapsed and the latencies
// count only the measured part; Errors count every wrong or missing reply,
// warm-up included, since a wrong echo is wrong whenever it comes.
type phaseResult struct {
	Name     string
	Workers  int
	Messages int64
	Elapsed  time.Duration
	Latency  *histogram
	Errors   int64
	// ErrorKinds counts errors by kind: "mismatch" (a reply that is not
	// the message), "transport" (a session that failed), "open" (a session
	// that could not be opened).
	ErrorKinds map[string]int64
	// FirstErrors holds the first few errors, for the report.
	FirstErrors []string
	// All counts every message answered, warm-up included, and CPU is the
	// CPU time (user and system) this process spent meanwhile: with the
	// gateway in process, CPU/All is what a message costs the clients, the
	// gateway and the backend together, a measure less disturbed by other
	// work on the machine than the rate.
	All int64
	CPU time.Duration
}

// CPUPerMessage is the process's CPU time per message answered; 0 when
// unknown.
func (r *phaseResult) CPUPerMessage() time.Duration {
	if r.All == 0 || r.CPU <= 0 {
		return 0
	}
	return r.CPU / time.Duration(r.All)
}

// Rate is the measured messages per second.
func (r *phaseResult) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Messages) / r.Elapsed.Seconds()
}

const keepErrors = 5

// errorLog collects a phase's errors from its workers.
type errorLog struct {
	mu    sync.Mutex
	n     int64
	kinds map[string]int64
	first []string
}

func (l *errorLog) add(kind string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	if l.kinds == nil {
		l.kinds = map[string]int64{}
	}
	l.kinds[kind]++
	if len(l.first) < keepErrors {
		l.first = append(l.first, kind+": "+err.Error())
	}
}

// errorSnapshot is a copy of an errorLog's counts.
type errorSnapshot struct {
	n     int64
	kinds map[string]int64
	first []string
}

func (l *errorLog) snapshot() errorSnapshot {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := errorSnapshot{n: l.n, first: append([]string(nil), l.first...)}
	if l.kinds != nil {
		s.kinds = map[string]int64{}
		for k, v := range l.kinds {
			s.kinds[k] = v
		}
	}
	return s
}

// runPhase opens every session, then runs the closed loop on all of them
// at once. It returns once every worker stopped: at the end of the phase,
// after maxMessages, when ctx ends (interrupted), or when its session failed.
func runPhase(ctx context.Context, t target, pc phaseConfig) *phaseResult {
	var errs errorLog
	sessions := make([]session, pc.workers)
	var wg sync.WaitGroup
	for i := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := t.open(ctx, i)
			if err != nil {
				if ctx.Err() == nil {
					errs.add("open", err)
				}
				return
			}
			sessions[i] = s
		}()
	}
	wg.Wait()
	defer func() {
		for _, s := range sessions {
			if s != nil {
				_ = s.close()
			}
		}
	}()

	// No message is sent from end on; those under way finish (each session
	// bounds its wait for a reply), so that every message sent is checked.
	cpu0 := cpuTime()
	var all atomic.Int64
	start := time.Now()
	measureAt := start.Add(pc.warmup)
	end := measureAt.Add(pc.duration)
	var count atomic.Int64 // measured messages reserved so far

	hists := make([]*histogram, pc.workers)
	for i, s := range sessions {
		if s == nil {
			continue
		}
		hists[i] = &histogram{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := hists[i]
			for seq := 1; ; seq++ {
				t0 := time.Now()
				if !t0.Before(end) || ctx.Err() != nil {
					return
				}
				measuring := !t0.Before(measureAt)
				if measuring && pc.maxMessages > 0 && count.Add(1) > pc.maxMessages {
					return
				}
				msg := pc.msgs.build(i, seq)
				reply, err := s.roundTrip(ctx, msg)
				lat := time.Since(t0)
				var bad *badReply
				switch {
				case errors.As(err, &bad):
					errs.add("mismatch", err)
				case err != nil:
					if ctx.Err() == nil {
						errs.add("transport", err)
					}
					return
				default:
					if err := verify(msg, reply, i, seq); err != nil {
						errs.add("mismatch", err)
					}
				}
				all.Add(1)
				if measuring {
					h.record(lat)
				}
			}
		}()
	}
	wg.Wait()
	stop := time.Now()
	cpu := cpuTime() - cpu0

	res := &phaseResult{Name: pc.name, Workers: pc.workers, Latency: &histogram{}}
	for _, h := range hists {
		if h != nil {
			res.Latency.merge(h)
		}
	}
	res.Messages = int64(res.Latency.n)
	if stop.After(measureAt) {
		res.Elapsed = stop.Sub(measureAt)
	}
	res.Errors, res.ErrorKinds, res.FirstErrors = errs.n, errs.kinds, errs.first
	if cpu0 > 0 {
		res.All, res.CPU = all.Load(), cpu
	}
	return res
}

// cpuTime is the CPU time (user and system) this process used so far; 0
// when unknown.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
