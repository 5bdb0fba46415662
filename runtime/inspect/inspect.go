package inspect

import (
	"sync"
	"sync/atomic"
	"time"

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

// item is an event as kept: its sequence number and the event, whose body is
// cut to Options.BodyBytes (Size keeps its length).
type item struct {
	seq  uint64
	ev   runtime.Event
	size int
}

// record is one connection's timeline: a ring of its latest events.
type record struct {
	id, api, stage string
	sourceIP       string
	userAgent      string
	connectedAt    time.Time

	mu       sync.Mutex
	ring     []item // grows to EventsPerConn, then wraps
	next     int    // where the next event goes once the ring is full
	total    int    // events seen
	closed   bool
	closedAt time.Time
	code     int
	reason   string
	by       string
	refused  bool // the handshake was refused
}

// events returns the kept events, oldest first.
func (r *record) events() []item {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]item, 0, len(r.ring))
	out = append(out, r.ring[r.next:]...)
	out = append(out, r.ring[:r.next]...)
	return out
}

// Inspector keeps the recent events of a gateway's connections and serves
// them (SPEC R-11): it is the gateway's runtime.Observer (Options.Observer)
// and, once Attach gave it the gateway, an http.Handler. Its memory is
// bounded: EventsPerConn events of each open connection, bodies cut to
// BodyBytes, and the ClosedConns connections closed last.
type Inspector struct {
	opts Options
	g    atomic.Pointer[runtime.Gateway]
	seq  atomic.Uint64

	// live counts the connections not yet closed.
	live atomic.Int64

	// conns maps a connection id to its record, open or closed and kept:
	// read without a lock on every event (each event would otherwise take
	// a shared read lock, whose counter the cores pass between them); mu
	// orders the changes of conns and closed.
	conns  sync.Map // string -> *record
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
	return &Inspector{opts: opts.withDefaults(), subs: map[*subscriber]struct{}{}}
}

// Attach gives the inspector the gateway its actions and listings use.
func (in *Inspector) Attach(g *runtime.Gateway) { in.g.Store(g) }

// Observe keeps ev in its connection's timeline and hands it to the live
// streams. It never blocks: a stream that does not keep up loses events.
func (in *Inspector) Observe(ev runtime.Event) {
	it := item{seq: in.seq.Add(1), ev: ev, size: len(ev.Body)}
	if len(ev.Body) > in.opts.BodyBytes {
		// Keep a copy of the start, so the large body can be freed.
		it.ev.Body = append([]byte(nil), ev.Body[:in.opts.BodyBytes]...)
	}
	in.keep(&it)
	if in.nsubs.Load() > 0 {
		in.publish(&it)
	}
}

// keep adds it to its connection's timeline.
func (in *Inspector) keep(it *item) {
	ev := &it.ev
	r := in.lookup(ev.ConnectionID)
	if r == nil {
		if ev.Kind != runtime.KindConnect {
			return // a connection the inspector never saw open (or forgot)
		}
		r = &record{id: ev.ConnectionID, api: ev.Api, stage: ev.Stage, sourceIP: ev.SourceIP, userAgent: ev.UserAgent, connectedAt: ev.Time}
		in.mu.Lock()
		in.conns.Store(ev.ConnectionID, r)
		in.mu.Unlock()
		in.live.Add(1)
	}
	limit := in.opts.EventsPerConn
	if n := in.live.Load(); n*int64(limit) > int64(in.opts.TotalEvents) {
		limit = max(minEventsPerConn, in.opts.TotalEvents/int(n))
	}
	r.mu.Lock()
	// Grow only while the ring never wrapped, so that it stays in order.
	if len(r.ring) < limit && r.next == 0 {
		r.ring = append(r.ring, *it)
	} else {
		r.ring[r.next] = *it
		r.next = (r.next + 1) % len(r.ring)
	}
	r.total++
	closing := false
	switch {
	case ev.Kind == runtime.KindConnected && ev.Status != 101:
		r.refused, r.closed, r.closedAt, r.code, r.reason = true, true, ev.Time, ev.Status, ev.Error
		closing = true
	case ev.Kind == runtime.KindDisconnect && !r.closed:
		r.closed, r.closedAt, r.code, r.reason, r.by = true, ev.Time, ev.Code, ev.Reason, ev.By
		closing = true
	}
	r.mu.Unlock()
	if closing {
		in.live.Add(-1)
		in.retire(r)
	}
}

// retire moves a closed connection to the closed ring, forgetting the one it
// replaces.
func (in *Inspector) retire(r *record) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.opts.ClosedConns == 0 {
		in.conns.CompareAndDelete(r.id, r)
		return
	}
	if len(in.closed) < in.opts.ClosedConns {
		in.closed = append(in.closed, r)
		return
	}
	old := in.closed[in.cnext]
	in.conns.CompareAndDelete(old.id, old)
	in.closed[in.cnext] = r
	in.cnext = (in.cnext + 1) % len(in.closed)
}

// lookup returns the record of connection id, open or closed, or nil.
func (in *Inspector) lookup(id string) *record {
	r, _ := in.conns.Load(id)
	rec, _ := r.(*record)
	return rec
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

// publish hands it to every live stream that follows its connection,
// dropping it for those that are full.
func (in *Inspector) publish(it *item) {
	in.smu.RLock()
	defer in.smu.RUnlock()
	for s := range in.subs {
		if s.conn != "" && s.conn != it.ev.ConnectionID {
			continue
		}
		select {
		case s.ch <- *it:
		default:
			s.dropped.Add(1)
		}
	}
}
