package runtime

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
)

// logWriter hands lines to one goroutine that writes them to w, so that an
// output that does not keep up (a pipe nobody reads, a full disk) never
// holds up a connection: Write copies the line into a bounded queue and
// returns at once, and a line that finds the queue full is dropped and
// counted. The goroutine starts with the first line.
type logWriter struct {
	w io.Writer

	start   sync.Once
	mu      sync.RWMutex // Write holds it for reading; close for writing
	closed  bool
	lines   chan logItem
	done    chan struct{} // closed when the goroutine ends
	dropped atomic.Int64
}

// logItem is a line to write, or a flush marker (done set).
type logItem struct {
	line []byte
	done chan struct{}
}

func newLogWriter(w io.Writer, queue int) *logWriter {
	return &logWriter{w: w, lines: make(chan logItem, max(1, queue)), done: make(chan struct{})}
}

// Write queues a copy of p (one line; slog handlers write one record per
// call) and never blocks. A line that finds the queue full, or comes after
// close, is dropped.
func (l *logWriter) Write(p []byte) (int, error) {
	l.start.Do(func() { go l.run() })
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		l.dropped.Add(1)
		return len(p), nil
	}
	select {
	case l.lines <- logItem{line: append([]byte(nil), p...)}:
	default:
		l.dropped.Add(1)
	}
	return len(p), nil
}

func (l *logWriter) run() {
	defer close(l.done)
	for it := range l.lines {
		if it.done != nil {
			close(it.done)
			continue
		}
		_, _ = l.w.Write(it.line)
	}
}

// flush waits until every line queued so far is written, or ctx ends. It
// is not called concurrently with close (Shutdown calls them in turn).
func (l *logWriter) flush(ctx context.Context) error {
	l.start.Do(func() { go l.run() })
	done := make(chan struct{})
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return l.wait(ctx)
	}
	select {
	case l.lines <- logItem{done: done}:
	case <-ctx.Done():
		l.mu.RUnlock()
		return ctx.Err()
	}
	l.mu.RUnlock()
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
	if !l.closed {
		l.closed = true
		close(l.lines)
	}
	l.mu.Unlock()
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
