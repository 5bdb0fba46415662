package inspect

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/wsgw/wsgw/runtime"
)

// heapMiB is the heap in use after a collection (liveHeap), in MiB.
func heapMiB() float64 { return float64(liveHeap()) / (1 << 20) }

// A live stream that stops reading holds its 512 events, not the records
// (and rings) of the connections they came from: the ClosedConns bound holds
// while it is stalled (SPEC ).
func TestStalledStreamKeepsNoRecord(t *testing.T) {
	in := New(Options{EventsPerConn: 100, ClosedConns: 1, BodyBytes: 1024})
	s := in.subscribe("") // never read
	before := heapMiB()
	body := bytes.Repeat([]byte("x"), 1024)
	ids := make([]string, 512)
	for i := range ids {
		// The stream's 512 events: one of each connection.
		ids[i] = fmt.Sprintf("conn-%04d", i)
		in.Observe(runtime.Event{Kind: runtime.KindConnect, ConnectionID: ids[i], Time: time.Now()})
	}
	for _, id := range ids {
		for range 100 {
			in.Observe(runtime.Event{Kind: runtime.KindMessage, ConnectionID: id, Body: body, Time: time.Now()})
		}
		in.Observe(runtime.Event{Kind: runtime.KindDisconnect, ConnectionID: id, Code: 1000, Time: time.Now()})
	}
	// Kept: one closed connection's 100 events and the stream's 512 (about
	// 0.7 MiB); 512 records with full rings would be about 57 MiB.
	if grew := heapMiB() - before; grew > 8 {
		t.Errorf("heap grew %.1f MiB with a stalled stream, want under 8", grew)
	}
	goruntime.KeepAlive(s)
}

// However early a connection's ring grew, it keeps no more than the limit
// once more connections are open (TotalEvents / open, at least 10): idle
// connections' rings are cut each time the limit halves (so they keep at
// most about twice TotalEvents), and each ring is cut to the limit on its
// next event.
func TestRingsShrinkWithTheLimit(t *testing.T) {
	const total, per, n = 10000, 200, 1000
	in := New(Options{EventsPerConn: per, TotalEvents: total})
	kept := func() int {
		k := 0
		for i := range n {
			k += len(in.lookup(fmt.Sprintf("c%d", i)).events())
		}
		return k
	}
	for i := range n {
		id := fmt.Sprintf("c%d", i)
		in.Observe(runtime.Event{Kind: runtime.KindConnect, ConnectionID: id})
		for range per {
			in.Observe(runtime.Event{Kind: runtime.KindMessage, ConnectionID: id, Body: []byte("m")})
		}
	}
	bound := max(total, n*minEventsPerConn)
	if k := kept(); k > 2*bound {
		t.Errorf("%d idle connections keep %d events, want at most %d", n, k, 2*bound)
	}
	for i := range n { // one more event each
		in.Observe(runtime.Event{Kind: runtime.KindMessage, ConnectionID: fmt.Sprintf("c%d", i), Body: []byte("m")})
	}
	if k := kept(); k > bound+bound/4 {
		t.Errorf("%d open connections keep %d events, want about %d at most", n, k, bound)
	}
	// A closed connection keeps its timeline when the rings are cut.
	in = New(Options{EventsPerConn: per, TotalEvents: 1000})
	in.Observe(runtime.Event{Kind: runtime.KindConnect, ConnectionID: "closed"})
	for range 100 {
		in.Observe(runtime.Event{Kind: runtime.KindMessage, ConnectionID: "closed", Body: []byte("m")})
	}
	in.Observe(runtime.Event{Kind: runtime.KindDisconnect, ConnectionID: "closed", Code: 1000})
	in.Observe(runtime.Event{Kind: runtime.KindConnect, ConnectionID: "open"})
	for range 100 {
		in.Observe(runtime.Event{Kind: runtime.KindMessage, ConnectionID: "open", Body: []byte("m")})
	}
	before := len(in.lookup("closed").events())
	for i := range 200 {
		in.Observe(runtime.Event{Kind: runtime.KindConnect, ConnectionID: fmt.Sprintf("o%d", i)})
	}
	if got := len(in.lookup("open").events()); got > 2*minEventsPerConn {
		t.Errorf("an idle open connection keeps %d events with 201 open and TotalEvents 1000", got)
	}
	if after := len(in.lookup("closed").events()); after != before {
		t.Errorf("a closed connection's timeline went from %d to %d events", before, after)
	}
}

// A route key, a URL, header values, an error or a reason are cut to
// BodyBytes as bodies are, and header names to keptNameBytes, whatever
// length the client chose; the gateway's header map is left as it was.
func TestLongTextsCut(t *testing.T) {
	in := New(Options{BodyBytes: 64})
	long := strings.Repeat("k", 100<<10)
	h := http.Header{"X-Big": {long}, "X-Small": {"s"}, "X-" + long: {"v"}}
	in.Observe(runtime.Event{Kind: runtime.KindConnect, ConnectionID: "c", URL: "/dev?q=" + long, Header: h})
	in.Observe(runtime.Event{Kind: runtime.KindRoute, ConnectionID: "c", Key: long, Expr: "$request.body.action", Route: "$default", Why: runtime.WhyNoSuch})
	in.Observe(runtime.Event{Kind: runtime.KindError, ConnectionID: "c", Error: "é" + long, Status: 500})
	in.Observe(runtime.Event{Kind: runtime.KindDisconnect, ConnectionID: "c", Reason: long, Code: 1000})
	n := 0
	for _, k := range in.lookup("c").events() {
		n += len(k)
	}
	if n > 1<<10+keptNameBytes {
		t.Errorf("kept %d bytes for 4 events with BodyBytes 64 (one header name of %d)", n, keptNameBytes)
	}
	if len(h["X-Big"][0]) != len(long) {
		t.Error("the gateway's header was changed")
	}
	r := in.lookup("c")
	for _, k := range r.events() {
		_, ev, _ := decode(k, &r.base, &in.dict)
		for _, s := range []string{ev.URL, ev.Key, ev.Error, ev.Reason, ev.Header.Get("X-Big")} {
			if len(s) > 64+len("…") || (s != "" && !strings.HasSuffix(s, "…")) {
				t.Errorf("%s: %q (%d bytes), want at most 64 bytes and …", ev.Kind, s[:min(len(s), 80)], len(s))
			}
		}
		if ev.Kind == runtime.KindConnect {
			if ev.Header.Get("X-Small") != "s" {
				t.Errorf("short header %q, want it whole", ev.Header.Get("X-Small"))
			}
			for k := range ev.Header {
				if len(k) > keptNameBytes+len("…") {
					t.Errorf("header name of %d bytes kept", len(k))
				}
			}
		}
		if ev.Kind == runtime.KindError && !strings.HasPrefix(ev.Error, "é") {
			t.Errorf("error %q: cut inside a character", ev.Error[:4])
		}
	}
}

// The page shows an event whose time falls on a whole second (its JSON
// time has no fraction).
func TestPageWholeSecond(t *testing.T) {
	f := newFixture(t, Options{})
	at := time.Date(2026, 12, 5, 17, 0, 0, 0, time.UTC)
	f.in.Observe(runtime.Event{Kind: runtime.KindConnect, ConnectionID: "zz", Time: at})
	resp, err := http.Get(f.srv.URL + "/?connection=zz")
	if err != nil {
		t.Fatalf("GET /: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte("17:00:00.000")) {
		t.Errorf("status %d, page without the event's time:\n%.300s", resp.StatusCode, b)
	}
}

// A connection closes once in the inspector's count, whatever ends it
// again after.
func TestRetiredOnce(t *testing.T) {
	in := New(Options{ClosedConns: 5})
	in.Observe(runtime.Event{Kind: runtime.KindConnect, ConnectionID: "c"})
	in.Observe(runtime.Event{Kind: runtime.KindDisconnect, ConnectionID: "c", Code: 1006})
	in.Observe(runtime.Event{Kind: runtime.KindConnected, ConnectionID: "c", Status: 400})
	if in.live.Load() != 0 || len(in.closedRecords()) != 1 {
		t.Errorf("live %d, closed %d; want 0 and 1", in.live.Load(), len(in.closedRecords()))
	}
}
