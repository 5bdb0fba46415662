package runtime

import "sync"

// outFrame is a frame waiting in a connection's send queue.
type outFrame struct {
	typ    int // websocket.TextMessage, BinaryMessage or CloseMessage
	data   []byte
	code   int        // CloseMessage only
	reason string     // CloseMessage only
	done   chan error // nil when nobody waits
}

// pushResult says what the caller of sendQueue.push does next.
type pushResult int

const (
	pushQueued pushResult = iota // queued behind a writer that runs
	pushStart                    // queued: the caller starts a writer goroutine
	pushFull                     // over the bounds: the client does not read
	pushSealed                   // the connection is closing: nothing is taken
)

// sendQueue is a connection's frames to write, in order, with one writer at
// a time (gorilla allows one concurrent writer). The writer is whoever
// tryWrite, push or seal named: a sender that finds the queue empty and
// nobody writing writes its frame at once itself (no goroutine is woken),
// and a writer goroutine runs only while frames wait behind a write. The queue is
// bounded: past maxFrames frames or maxBytes bytes (0: no bound), a frame is
// refused with pushFull; an empty queue takes any frame.
type sendQueue struct {
	maxFrames, maxBytes int

	mu      sync.Mutex
	frames  []outFrame
	bytes   int  // data bytes in frames
	writing bool // someone holds the writer role
	ready   bool // the socket is there (the upgrade is done): frames may be written
	sealed  bool // the close frame is queued, or the connection ended: nothing more is taken
}

// tryWrite takes the writer role for a sender whose frame may go out at
// once: nothing is queued, nobody writes, the socket is there and the queue
// is not sealed. The sender writes, then calls more.
func (q *sendQueue) tryWrite() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.sealed || !q.ready || q.writing || len(q.frames) > 0 {
		return false
	}
	q.writing = true
	return true
}

// push queues f.
func (q *sendQueue) push(f outFrame) pushResult {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.sealed:
		return pushSealed
	case len(q.frames) > 0 && (q.maxFrames > 0 && len(q.frames) >= q.maxFrames ||
		q.maxBytes > 0 && q.bytes+len(f.data) > q.maxBytes):
		return pushFull
	}
	q.frames = append(q.frames, f)
	q.bytes += len(f.data)
	return q.claim()
}

// claim takes the writer role for a goroutine when frames wait and nobody
// writes. q.mu is held.
func (q *sendQueue) claim() pushResult {
	if q.ready && !q.writing && len(q.frames) > 0 {
		q.writing = true
		return pushStart
	}
	return pushQueued
}

// next gives the writer its next frame; false when the queue is empty, and
// then the writer role is released.
func (q *sendQueue) next() (outFrame, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.frames) == 0 {
		q.writing = false
		q.frames = nil
		return outFrame{}, false
	}
	f := q.frames[0]
	q.frames[0] = outFrame{}
	q.frames = q.frames[1:]
	q.bytes -= len(f.data)
	return f, true
}

// more reports, after a direct write, whether frames queued meanwhile: the
// writer role is kept for a writer goroutine (true) or released.
func (q *sendQueue) more() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.frames) == 0 {
		q.writing = false
		q.frames = nil
		return false
	}
	return true
}

// setReady says the socket is there; true when the caller starts a writer
// for frames queued before.
func (q *sendQueue) setReady() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.ready = true
	return q.claim() == pushStart
}

// seal queues last (nil: none) behind the frames waiting (or, with discard,
// in their place: the dropped frames are returned, for their waiters) and
// takes nothing after it. start says the caller starts a writer. A sealed
// queue takes no second last frame.
func (q *sendQueue) seal(last *outFrame, discard bool) (dropped []outFrame, start bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.sealed {
		return nil, false
	}
	q.sealed = true
	if discard {
		dropped, q.frames, q.bytes = q.frames, nil, 0
	}
	if last != nil {
		q.frames = append(q.frames, *last)
		q.bytes += len(last.data)
	}
	return dropped, q.claim() == pushStart
}

// drop empties and seals the queue (the connection ended) and returns the
// frames dropped, for their waiters.
func (q *sendQueue) drop() []outFrame {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.sealed = true
	dropped := q.frames
	q.frames, q.bytes = nil, 0
	return dropped
}

// queuedBytes is the data waiting.
func (q *sendQueue) queuedBytes() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.bytes
}

func failFrames(fs []outFrame) {
	for _, f := range fs {
		if f.done != nil {
			f.done <- ErrGone
		}
	}
}
