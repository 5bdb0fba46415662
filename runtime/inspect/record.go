package inspect

import (
	"bufio"
	"encoding/json"
	"io"
	"sync"
	"sync/atomic"

	"github.com/wsgw/wsgw/runtime"
)

// Recorder is an Observer that writes every event, bodies whole, as one
// JSON line each (SPEC ), in the order the gateway reports them.
type Recorder struct {
	mu  sync.Mutex
	w   *bufio.Writer
	err error
	seq atomic.Uint64
}

var _ runtime.Observer = (*Recorder)(nil)

// NewRecorder writes to w. Close flushes it.
func NewRecorder(w io.Writer) *Recorder {
	return &Recorder{w: bufio.NewWriterSize(w, 64<<10)}
}

// Observe writes ev as a JSON line; a disconnect flushes what is buffered.
func (r *Recorder) Observe(ev runtime.Event) {
	j := toJSON(r.seq.Add(1), &ev, len(ev.Body))
	b, err := json.Marshal(j)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return
	}
	if err != nil {
		r.err = err
		return
	}
	b = append(b, '\n')
	if _, err := r.w.Write(b); err != nil {
		r.err = err
		return
	}
	if ev.Kind == runtime.KindDisconnect || ev.Kind == runtime.KindConnected {
		r.err = r.w.Flush()
	}
}

// Close flushes the events written and returns the first write error.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = r.w.Flush()
	}
	return r.err
}
