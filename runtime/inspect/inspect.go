package inspect

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/wsgw/wsgw/runtime"
)

// Defaults of Options (SPEC ).
const (
	DefaultEventsPerConn = 200
	DefaultClosedConns   = 100
	DefaultBodyBytes     = 4 << 10
	DefaultTotalEvents   = 100_000
	// minEventsPerConn is the fewest events a connection keeps however
	// many are open.
	minEventsPerConn = 10
)

// Options bounds what an Inspector keeps.
type Options struct {
	// EventsPerConn is how many events of each connection are kept, the
	// latest ones (0: DefaultEventsPerConn).
	EventsPerConn int
	// ClosedConns is how many closed connections are kept with their
	// timelines, the latest ones (0: DefaultClosedConns; -1: none).
	ClosedConns int
	// BodyBytes is how much of each body is kept (0: DefaultBodyBytes).
	BodyBytes int
	// TotalEvents bounds the events kept for the open connections in all
	// (0: DefaultTotalEvents): with more than TotalEvents/EventsPerConn
	// connections open, each keeps TotalEvents/open, but at least 10.
	TotalEvents int
	// AllowRemote lets the handler answer any Host (it answers loopback
	// names only otherwise).
	AllowRemote bool
}

func (o Options) withDefaults() Options {
	if o.EventsPerConn <= 0 {
		o.EventsPerConn = DefaultEventsPerConn
	}
	if o.ClosedConns == 0 {
		o.ClosedConns = DefaultClosedConns
	} else if o.ClosedConns < 0 {
		o.ClosedConns = 0
	}
	if o.BodyBytes <= 0 {
		o.BodyBytes = DefaultBodyBytes
	}
	if o.TotalEvents <= 0 {
		o.TotalEvents = DefaultTotalEvents
	}
	return o
}

// record is one connection's timeline: a ring of its latest events, each in
// its kept form (compact.go), which leaves out what base holds.
type record struct {
	base // set when the record is made, never changed

	mu    sync.Mutex
	ring  [][]byte // grows to the connection's limit, then wraps
	total int      // events seen
	end   *ending  // nil while the connection is open
	next  int32    // where the next event goes once the ring is full
	// forgotten is set when the record leaves conns: the recent cache
	// must not find it then.
	forgotten atomic.Bool
}

// ending is how a connection ended.
type ending struct {
	closedAt time.Time
	code     int
	reason   string
	by       string
	refused  bool // the handshake was refused
}

// firstRing is the ring's first length: an idle connection's four events
// (connect, integration request and response, connected) fit.
const firstRing = 4

// events returns copies of the kept events, oldest first.
func (r *record) events() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, b := range r.ring {
		n += len(b)
	}
	buf := make([]byte, 0, n)
	out := make([][]byte, 0, len(r.ring))
	for i := range r.ring {
		b := r.ring[(int(r.next)+i)%len(r.ring)]
		start := len(buf)
		buf = append(buf, b...)
		out = append(out, buf[start:len(buf):len(buf)])
	}
	return out
}

// put stores an event's kept form in the ring, reusing the buffer of the
// event it replaces where it fits. The ring grows, while it never wrapped
// (so that it stays in order), up to in's limit.
func (r *record) put(kept []byte, in *Inspector) {
	l := in.limit()
	if n := len(r.ring); r.next == 0 && n < in.opts.EventsPerConn {
		if n < l {
			if n == cap(r.ring) {
				grown := make([][]byte, n, min(l, max(firstRing, 2*n)))
				copy(grown, r.ring)
				r.ring = grown
			}
			r.ring = append(r.ring, clone(nil, kept))
			return
		}
	}
	if n := len(r.ring); n > l+l/4 {
		// The limit fell (more connections open): keep the latest l-1
		// events and this one (SPEC, TotalEvents).
		r.cut(l - 1)
		r.ring = append(r.ring, clone(nil, kept))
		return
	}
	r.ring[r.next] = clone(r.ring[r.next], kept)
	r.next = (r.next + 1) % int32(len(r.ring))
}

// cut keeps the latest l events of the ring (fewer than it holds), in
// order, in a ring of capacity l+1.
func (r *record) cut(l int) {
	n := len(r.ring)
	ring := make([][]byte, 0, l+1)
	for i := n - l; i < n; i++ {
		ring = append(ring, r.ring[(int(r.next)+i)%n])
	}
	r.ring, r.next = ring, 0
}

// shrink cuts the ring of an open connection to the latest l events when
// it holds more (a closed one keeps its timeline).
func (r *record) shrink(l int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.end == nil && len(r.ring) > l {
		r.cut(l)
	}
}

// clone copies b into old's buffer when it fits without keeping much more
// than it needs, else into a new one.
func clone(old, b []byte) []byte {
	if cap(old) >= len(b) && cap(old) <= 2*len(b)+64 {
		return append(old[:0], b...)
	}
	return append(make([]byte, 0, len(b)), b...)
}

// Inspector keeps the recent events of a gateway's connections and serves
// them (SPEC R-11): it is the gateway's runtime.Observer (Options.Observer)
// and, once Attach gave it the gateway, an http.Handler. Its memory is
// bounded: EventsPerConn events of each open connection, bodies cut to
// BodyBytes, and the ClosedConns connections closed last.
type Inspector struct {
	opts Options
	g    atomic.Pointer[runtime.Gateway]
	// seq has a cache line of its own: every event writes it, and opts,
	// which every event reads, would otherwise move between the cores
	// with it.
	_   [64]byte
	seq atomic.Uint64
	_   [56]byte

	// live counts the connections not yet closed.
	live atomic.Int64
	// cutAt is the limit at which shrinkRings last cut the rings (0: never).
	cutAt atomic.Int64

	// conns maps a connection id to its record, open or closed and kept;
	// mu orders the changes of conns and closed. Events find their record
	// through recent, without a lock, and conns when it misses (a shared
	// read lock on every event would pass its counter between the cores).
	conns connMap
	// names are the Api and stage names of the records, shared (mu).
	names map[names]*names
	// dict holds strings from the template that events repeat.
	dict dict
	// recent caches records of conns for Observe (find).
	recent [recentSlots]atomic.Pointer[record]
	mu     sync.RWMutex
	closed []*record // ring of the closed connections kept, ClosedConns long
	cnext  int

	// subs are the live streams; nsubs their count, read without the lock.
	smu   sync.RWMutex
	subs  map[*subscriber]struct{}
	nsubs atomic.Int32
}

var _ runtime.Observer = (*Inspector)(nil)

// New returns an inspector that keeps what opts says.
func New(opts Options) *Inspector {
	in := &Inspector{opts: opts.withDefaults(), subs: map[*subscriber]struct{}{}, names: map[names]*names{}}
	in.conns.init()
	return in
}

// Attach gives the inspector the gateway its actions and listings use.
func (in *Inspector) Attach(g *runtime.Gateway) { in.g.Store(g) }

// Observe keeps ev in its connection's timeline and hands it to the live
// streams. It never blocks: a stream that does not keep up loses events.
func (in *Inspector) Observe(ev runtime.Event) {
	seq := in.seq.Add(1)
	cutTexts(&ev, in.opts.BodyBytes)
	r := in.find(ev.ConnectionID)
	if r == nil {
		if ev.Kind != runtime.KindConnect {
			// A connection the inspector never saw open (or forgot): only
			// the live streams have it.
			if in.nsubs.Load() > 0 {
				in.publish(item{kept: appendEvent(nil, seq, &ev, nil, &in.dict, in.opts.BodyBytes), b: noBase, conn: ev.ConnectionID})
			}
			return
		}
		r = in.open(&ev)
	}
	// Most events fit the scratch buffer, which stays on the stack.
	var scratch [512]byte
	kept := appendEvent(scratch[:0], seq, &ev, &r.base, &in.dict, in.opts.BodyBytes)
	in.keep(r, &ev, kept)
	if in.nsubs.Load() > 0 {
		in.publish(item{kept: clone(nil, kept), b: r.base, conn: ev.ConnectionID})
	}
}

// open makes the record of the connection whose handshake ev is.
func (in *Inspector) open(ev *runtime.Event) *record {
	in.mu.Lock()
	n := in.names[names{ev.Api, ev.Stage}]
	if n == nil {
		n = &names{ev.Api, ev.Stage}
		in.names[*n] = n
	}
	r := &record{base: newBase(ev, n)}
	in.conns.Store(ev.ConnectionID, r)
	in.mu.Unlock()
	in.live.Add(1)
	in.shrinkRings()
	return r
}

// shrinkRings cuts every connection's ring to the limit once the limit has
// fallen to half of what it was when they were last cut (SPEC,
// TotalEvents): a ring shrinks on its connection's next event too, but an
// idle connection may have none. Cutting them all is linear in the
// connections open, and happens each time their number doubles.
func (in *Inspector) shrinkRings() {
	l := int64(in.limit())
	for {
		cut := in.cutAt.Load()
		switch {
		case cut == 0 || l > cut:
			if in.cutAt.CompareAndSwap(cut, l) {
				return // the limit rose: the next halving counts from here
			}
		case 2*l <= cut:
			if in.cutAt.CompareAndSwap(cut, l) {
				in.conns.each(func(r *record) { r.shrink(int(l)) })
				return
			}
		default:
			return
		}
	}
}

// keep adds ev, an event of r's connection whose kept form is kept, to r's
// timeline.
func (in *Inspector) keep(r *record, ev *runtime.Event, kept []byte) {
	r.mu.Lock()
	r.put(kept, in)
	r.total++
	closing := false
	switch {
	case ev.Kind == runtime.KindConnected && ev.Status != 101 && r.end == nil:
		r.end = &ending{refused: true, closedAt: ev.Time, code: ev.Status, reason: ev.Error}
		closing = true
	case ev.Kind == runtime.KindDisconnect && r.end == nil:
		r.end = &ending{closedAt: ev.Time, code: ev.Code, reason: ev.Reason, by: ev.By}
		closing = true
	}
	r.mu.Unlock()
	if closing {
		in.live.Add(-1)
		in.retire(r)
	}
}

// limit is how many events a connection keeps now: EventsPerConn, fewer
// when so many are open that they would keep more than TotalEvents.
func (in *Inspector) limit() int {
	limit := in.opts.EventsPerConn
	if n := in.live.Load(); n*int64(limit) > int64(in.opts.TotalEvents) {
		limit = max(minEventsPerConn, in.opts.TotalEvents/int(n))
	}
	return limit
}

// retire moves a closed connection to the closed ring, forgetting the one it
// replaces.
func (in *Inspector) retire(r *record) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.opts.ClosedConns == 0 {
		in.forget(r)
		return
	}
	if len(in.closed) < in.opts.ClosedConns {
		in.closed = append(in.closed, r)
		return
	}
	old := in.closed[in.cnext]
	in.forget(old)
	in.closed[in.cnext] = r
	in.cnext = (in.cnext + 1) % len(in.closed)
}

// lookup returns the record of connection id, open or closed, or nil.
func (in *Inspector) lookup(id string) *record {
	return in.conns.Load(id)
}

// recentSlots is how many records the recent cache holds.
const recentSlots = 256

// recentSlot returns the slot of the recent cache for id: by the address of
// its bytes, which the gateway shares between a connection's events.
func (in *Inspector) recentSlot(id string) *atomic.Pointer[record] {
	return &in.recent[(uintptr(unsafe.Pointer(unsafe.StringData(id)))>>4)%recentSlots]
}

// find is lookup for Observe: one probe of the recent cache, which does
// not hash the id (conns does), then conns.
func (in *Inspector) find(id string) *record {
	slot := in.recentSlot(id)
	// The same bytes are the same id: the record holds its id, so its
	// bytes cannot be reused for another while it is cached.
	if r := slot.Load(); r != nil && len(r.id) == len(id) && unsafe.StringData(r.id) == unsafe.StringData(id) && !r.forgotten.Load() {
		return r
	}
	r := in.lookup(id)
	if r != nil && unsafe.StringData(r.id) == unsafe.StringData(id) {
		// Only in the slot of its own id, which forget clears; and not
		// when forget ran meanwhile.
		slot.Store(r)
		if r.forgotten.Load() {
			slot.CompareAndSwap(r, nil)
		}
	}
	return r
}

// forget drops r from conns (in.mu held).
func (in *Inspector) forget(r *record) {
	if in.conns.CompareAndDelete(r.id, r) {
		r.forgotten.Store(true)
		// The cache must not keep what the bounds let go.
		in.recentSlot(r.id).CompareAndSwap(r, nil)
	}
}

// closedRecords returns the closed connections kept, the latest first.
func (in *Inspector) closedRecords() []*record {
	in.mu.RLock()
	defer in.mu.RUnlock()
	out := make([]*record, 0, len(in.closed))
	for i := range in.closed {
		j := (in.cnext - 1 - i + 2*len(in.closed)) % len(in.closed)
		out = append(out, in.closed[j])
	}
	return out
}

// subscriber is one live stream: a buffered channel the gateway never waits
// for, and the connection it follows ("" for all).
type subscriber struct {
	conn    string
	ch      chan item
	dropped atomic.Int64
}

// subBuffer is how many events a live stream holds before it loses some.
const subBuffer = 512

func (in *Inspector) subscribe(conn string) *subscriber {
	s := &subscriber{conn: conn, ch: make(chan item, subBuffer)}
	in.smu.Lock()
	in.subs[s] = struct{}{}
	in.nsubs.Store(int32(len(in.subs)))
	in.smu.Unlock()
	return s
}

func (in *Inspector) unsubscribe(s *subscriber) {
	in.smu.Lock()
	delete(in.subs, s)
	in.nsubs.Store(int32(len(in.subs)))
	in.smu.Unlock()
}

// item is an event as a live stream gets it: its kept form and the record
// it leaves fields out for.
type item struct {
	kept []byte
	b    base // a copy: a pointer into the record would keep its ring (and a forgotten record) alive
	conn string
}

// json is the event as the stream writes it.
func (in *Inspector) json(it *item) []byte {
	seq, ev, size := decode(it.kept, &it.b, &in.dict)
	b, _ := json.Marshal(toJSON(seq, &ev, size))
	return b
}

// publish hands it to every live stream that follows its connection,
// dropping it for those that are full.
func (in *Inspector) publish(it item) {
	in.smu.RLock()
	defer in.smu.RUnlock()
	for s := range in.subs {
		if s.conn != "" && s.conn != it.conn {
			continue
		}
		select {
		case s.ch <- it:
		default:
			s.dropped.Add(1)
		}
	}
}

// cutTexts cuts what a client or a backend chooses the length of, besides
// bodies, to max bytes as bodies are (SPEC ): the route key (a value of
// the message), the URL, the user agent, an error and a close reason. Whole,
// a 128 KB route key would be kept in every one of its events. A cut text
// ends with "…". Header names and values are cut as they are kept
// (appendEvent), so that the gateway's header map is not copied.
func cutTexts(ev *runtime.Event, max int) {
	ev.Key, ev.URL = cutText(ev.Key, max), cutText(ev.URL, max)
	ev.Error, ev.Reason = cutText(ev.Error, max), cutText(ev.Reason, max)
	ev.UserAgent = cutText(ev.UserAgent, max)
}

// cutText is s cut to max bytes, at the start of a character, and "…".
func cutText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	n := max
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
