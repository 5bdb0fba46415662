package lambda

import (
	"sync"
	"time"
)

// codeWatch tells whether a function's code directory changed, cheaply
// enough to ask before every invocation (SPEC: nothing knowable before
// the first invocation is looked up per invocation). On Linux it reads an
// inotify descriptor without blocking: a change saved before Invoke is seen by
// that Invoke, at the cost of one read(2). Elsewhere, or when inotify is out
// of watches, it falls back to fingerprinting the directory (walkWatch).
type codeWatch interface {
	// generation returns a number that changes whenever the code changed
	// since the last call.
	generation() uint64
	close()
}

// newCodeWatch watches dir, with inotify where it can.
func newCodeWatch(dir string) codeWatch {
	if w, err := newInotifyWatch(dir); err == nil {
		return w
	}
	return &walkWatch{dir: dir}
}

// walkWatch fingerprints the directory per call. A walk that takes over
// 2 ms (a very large directory) is reused for 50 times its cost, so that
// walking takes at most 2% of the time.
type walkWatch struct {
	dir string

	mu   sync.Mutex
	code uint64           // last fingerprint computed
	at   time.Time        // when
	cost time.Duration    // how long it took
	now  func() time.Time // the clock; nil is time.Now (tests stop it so every call walks)
}

func (w *walkWatch) generation() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now
	if now == nil {
		now = time.Now
	}
	if w.cost > 2*time.Millisecond && now().Sub(w.at) < 50*w.cost {
		return w.code
	}
	start := now()
	w.code = fingerprint(w.dir)
	w.at = now()
	w.cost = w.at.Sub(start)
	return w.code
}

func (w *walkWatch) close() {}
