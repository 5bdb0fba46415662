package runtime

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// logWriter hands lines to one goroutine that writes them to w, so that an
// output that does not keep up (a pipe nobody reads, a full disk) never
// holds up a connection: Write appends the line to a buffer and returns at
// once. The goroutine writes everything waiting in one Write to w, so that
// many lines cost one system call and one wake-up (it lets them gather for
// logBatchDelay after it is woken). It holds at
// most queue+1 lines (waiting or being written); a line past that is
// dropped and counted. The goroutine starts with the first line.
type logWriter struct {
	w   io.Writer
	max int // lines held at most: waiting plus being written

	start   sync.Once
	mu      sync.Mutex
	buf     []byte          // lines waiting
	spare   []byte          // the buffer last written, for reuse
	held    int             // lines waiting or being written
	waiting int             // lines in buf
	flushed []chan struct{} // flush calls waiting for the lines before them
	closed  bool
	wake    chan struct{} // buffered, 1
	done    chan struct{} // closed when the goroutine ends
	dropped atomic.Int64
}

// maxSpare bounds the buffer kept for reuse between batches.
const maxSpare = 256 << 10

// logBatchDelay is how long the goroutine, woken by a line, lets lines
// gather before it writes them: a connection that sends one message at a
// time then costs one wake-up per batch instead of one per line (each wakes
// a parked thread). Shutdown's flush does not wait for it.
const logBatchDelay = 2 * time.Millisecond

func newLogWriter(w io.Writer, queue int) *logWriter {
	return &logWriter{w: w, max: max(1, queue) + 1, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// Write queues a copy of p (one line; slog handlers write one record per
// call) and never blocks. A line that finds the writer full, or comes after
// close, is dropped.
func (l *logWriter) Write(p []byte) (int, error) {
	l.start.Do(func() { go l.run() })
	l.mu.Lock()
	if l.closed || l.held >= l.max {
		l.mu.Unlock()
		l.dropped.Add(1)
		return len(p), nil
	}
	l.buf = append(l.buf, p...)
	l.held++
	l.waiting++
	l.mu.Unlock()
	l.signal()
	return len(p), nil
}

func (l *logWriter) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *logWriter) run() {
	defer close(l.done)
	for {
		l.mu.Lock()
		batch, n, flushed, closed := l.buf, l.waiting, l.flushed, l.closed
		l.buf, l.spare, l.waiting, l.flushed = l.spare[:0], nil, 0, nil
		l.mu.Unlock()
		if len(batch) > 0 {
			_, _ = l.w.Write(batch)
		}
		l.mu.Lock()
		l.held -= n
		if cap(batch) <= maxSpare {
			l.spare = batch[:0]
		}
		l.mu.Unlock()
		for _, ch := range flushed {
			close(ch)
		}
		if closed && n == 0 {
			return
		}
		if n == 0 && len(flushed) == 0 {
			<-l.wake
			l.gather()
		}
	}
}

// gather waits logBatchDelay for more lines, unless a flush or close waits.
func (l *logWriter) gather() {
	l.mu.Lock()
	hurry := l.closed || len(l.flushed) > 0
	l.mu.Unlock()
	if !hurry {
		time.Sleep(logBatchDelay)
	}
}

// flush waits until every line queued so far is written, or ctx ends. It
// is not called concurrently with close (Shutdown calls them in turn).
func (l *logWriter) flush(ctx context.Context) error {
	l.start.Do(func() { go l.run() })
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return l.wait(ctx)
	}
	done := make(chan struct{})
	l.flushed = append(l.flushed, done)
	l.mu.Unlock()
	l.signal()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close stops taking lines and waits until those queued are written, or ctx
// ends. A Write stuck in the output cannot be interrupted: its goroutine then
// stays behind.
func (l *logWriter) close(ctx context.Context) error {
	l.start.Do(func() { go l.run() })
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.signal()
	return l.wait(ctx)
}

func (l *logWriter) wait(ctx context.Context) error {
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
