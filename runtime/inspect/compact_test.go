package inspect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wsgw/wsgw/runtime"
)

// wantJSON is an event as the inspector served it before events were kept
// compact: the event itself, its body cut to bodyMax bytes, and the body's
// full size.
func wantJSON(t *testing.T, seq uint64, ev runtime.Event, bodyMax int) []byte {
	t.Helper()
	size := len(ev.Body)
	if len(ev.Body) > bodyMax {
		ev.Body = ev.Body[:bodyMax]
	}
	if ev.Header != nil {
		// Header values are kept cut as bodies are, names at keptNameBytes.
		h := make(http.Header, len(ev.Header))
		for k, vs := range ev.Header {
			var cut []string
			if vs != nil {
				cut = make([]string, len(vs))
			}
			for i, v := range vs {
				cut[i] = cutText(v, bodyMax)
			}
			h[cutText(k, keptNameBytes)] = cut
		}
		ev.Header = h
	}
	b, err := json.Marshal(toJSON(seq, &ev, size))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// keptJSON is the same event kept compact and read back.
func keptJSON(t *testing.T, seq uint64, ev runtime.Event, b *base, d *dict, bodyMax int) []byte {
	t.Helper()
	kept := appendEvent(nil, seq, &ev, b, d, bodyMax)
	if got := seqOf(kept); got != seq {
		t.Errorf("seqOf = %d, want %d", got, seq)
	}
	s, back, size := decode(kept, b, d)
	out, err := json.Marshal(toJSON(s, &back, size))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// trickyEvents are events whose kept form could lose something: headers
// with several values, nil and empty values, names in odd case, empty and
// nil bodies, binary and cut bodies, text cut inside a rune, zero and early
// times, kinds and strings of every sort (SPEC ).
func trickyEvents(at time.Time) []runtime.Event {
	long := strings.Repeat("é", 40) // 80 bytes: a cut at 33 falls inside a rune
	return []runtime.Event{
		{Kind: runtime.KindConnect, Time: at, ConnectionID: "c", Api: "Api", Stage: "dev", RequestID: "r1", Route: "$connect",
			Method: "GET", URL: "/dev?a=1&a=2", SourceIP: "127.0.0.1", UserAgent: "Go-http-client/1.1",
			Header: http.Header{"Sec-Websocket-Key": {"k=="}, "Upgrade": {"websocket"}, "X-Multi": {"a", "b", "", "a"},
				"x-lower-case": {"v"}, "X-Nil": nil, "X-Empty": {}, "Cookie": {"a=1; b=2"}, "": {""}}},
		{Kind: runtime.KindIntegrationRequest, Time: at.Add(time.Millisecond), ConnectionID: "c", Api: "Api", Stage: "dev", RequestID: "r1",
			Route: "$connect", Integration: "I", Method: "POST", URL: "http://127.0.0.1:9/connect", Header: http.Header{}},
		{Kind: runtime.KindIntegrationRequest, Time: at, ConnectionID: "c", Integration: "I", Method: "POST", URL: "http://127.0.0.1:9/connect",
			Header: http.Header{"X-Connection-Id": {"c", "d", "c"}}},
		{Kind: runtime.KindIntegrationRequest, Time: at, ConnectionID: "c", Integration: "I", Method: "POST", URL: "http://127.0.0.1:9/other"},
		{Kind: runtime.KindIntegrationRequest, Time: at, ConnectionID: "c", Integration: "J", Method: "Invoke", URL: ""},
		{Kind: runtime.KindIntegrationRequest, Time: at, ConnectionID: "c", Integration: "J", Method: "Invoke", URL: "fn"},
		{Kind: runtime.KindIntegrationRequest, Time: at, ConnectionID: "c", Integration: "", URL: "http://127.0.0.1:9/connect"},
		{Kind: runtime.KindIntegrationResponse, Time: at.Add(2 * time.Millisecond), ConnectionID: "c", Api: "Api", Stage: "dev",
			RequestID: "r1", Route: "$connect", Integration: "I", Status: 200, Latency: 832 * time.Microsecond,
			Header: http.Header{"Content-Length": {"0"}, "Date": {"Sat, 05 Dec 2026 17:51:03 GMT"}}},
		{Kind: runtime.KindIntegrationResponse, Time: at, ConnectionID: "c", Status: 204, Body: []byte{}},
		{Kind: runtime.KindIntegrationResponse, Time: at, ConnectionID: "c", Status: 502, Body: nil, Latency: -time.Second},
		{Kind: runtime.KindConnected, Time: at.Add(3 * time.Millisecond), ConnectionID: "c", Api: "Api", Stage: "dev", RequestID: "r1",
			Route: "$connect", Integration: "I", Status: 101, Latency: 3 * time.Millisecond},
		{Kind: runtime.KindMessage, Time: at, ConnectionID: "c", Api: "Api", Stage: "dev", RequestID: "r2", Route: "-", Body: []byte(`{"action":"echo"}`)},
		{Kind: runtime.KindMessage, Time: at, ConnectionID: "c", Route: "-", Body: []byte{}},
		{Kind: runtime.KindMessage, Time: at, ConnectionID: "c", Route: "-", Body: nil},
		{Kind: runtime.KindMessage, Time: at, ConnectionID: "c", Body: []byte(long)},
		{Kind: runtime.KindMessage, Time: at, ConnectionID: "c", Body: []byte{0xff, 0, 1, 2}, Binary: true},
		{Kind: runtime.KindFrame, Time: at, ConnectionID: "c", Api: "Other", Stage: "", Body: bytes.Repeat([]byte{0, 0xfe}, 100), Binary: true},
		{Kind: runtime.KindFrame, Time: at, ConnectionID: "c", Body: []byte("\xff not valid"), Binary: false},
		{Kind: runtime.KindRoute, Time: at, ConnectionID: "c", Key: "echo", Expr: "$request.body.action", Route: "echo", Why: runtime.WhyMatched},
		{Kind: runtime.KindRoute, Time: at, ConnectionID: "c", Key: "", Expr: "$request.body.action", Route: "-", Why: runtime.WhyNoSuch},
		{Kind: runtime.KindRoute, Time: at, ConnectionID: "c", Route: "$default", Why: runtime.WhyNotJSON},
		{Kind: runtime.KindManagement, Time: at, ConnectionID: "c", Api: "Api", Stage: "dev", Method: "POST", URL: "/dev/@connections/c",
			Status: 200, Body: []byte("hi")},
		{Kind: runtime.KindError, Time: at, ConnectionID: "c", Status: 500, Error: "backend down: \x00 \"quoted\"", Latency: time.Hour},
		{Kind: runtime.KindDisconnect, Time: at, ConnectionID: "c", Code: 1001, Reason: "going away", By: "client"},
		{Kind: runtime.KindDisconnect, ConnectionID: "c", Code: -1, By: "gateway"}, // zero time
		{Kind: "custom.kind", Time: at.AddDate(-300, 0, 0), ConnectionID: "c", SourceIP: "10.0.0.1", UserAgent: "other"},
		{Kind: "", Time: time.Date(2600, 1, 1, 0, 0, 0, 1, time.UTC), ConnectionID: "other", RequestID: "r1"},
		{Kind: runtime.KindConnected, Time: at, ConnectionID: "c", Status: 403, Error: "refused"},
	}
}

// testBase is the record of connection "c" of Api "Api", stage "dev",
// whose handshake's request is "r1".
func testBase(at time.Time, sourceIP, userAgent string) *base {
	b := newBase(&runtime.Event{ConnectionID: "c", RequestID: "r1", SourceIP: sourceIP, UserAgent: userAgent, Time: at}, &names{"Api", "dev"})
	return &b
}

// TestKeptFormRoundTrip: an event kept compact gives the JSON it gave kept
// whole, byte for byte, with and without a record to leave fields out for.
func TestKeptFormRoundTrip(t *testing.T) {
	at := time.Now() // with a monotonic reading, as the gateway's times have
	b := testBase(at, "127.0.0.1", "Go-http-client/1.1")
	var d dict
	for _, bodyMax := range []int{1, 16, 33, 4096} {
		for i, ev := range trickyEvents(at) {
			want := wantJSON(t, uint64(i+1), ev, bodyMax)
			for _, rec := range []*base{nil, b, {names: &names{}}} {
				if got := keptJSON(t, uint64(i+1), ev, rec, &d, bodyMax); !bytes.Equal(got, want) {
					t.Errorf("event %d (%s), body cut at %d, record %v:\n got %s\nwant %s", i, ev.Kind, bodyMax, rec != nil, got, want)
				}
			}
		}
	}
	// Every common string, as a header name, a value and a field.
	for i, s := range common {
		ev := runtime.Event{Kind: runtime.KindIntegrationRequest, Time: at, ConnectionID: "c", Method: s, Route: s,
			Header: http.Header{s: {s, s + "x"}}}
		if got, want := keptJSON(t, 7, ev, b, &d, 16), wantJSON(t, 7, ev, 16); !bytes.Equal(got, want) {
			t.Errorf("common[%d] %q:\n got %s\nwant %s", i, s, got, want)
		}
	}
}

// TestKeptFormRandom: random events round trip too.
func TestKeptFormRandom(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	at := time.Date(2026, 12, 5, 17, 0, 0, 123456789, time.UTC)
	b := testBase(at, "1.2.3.4", "ua")
	var d dict
	pick := func() string {
		switch rnd.IntN(5) {
		case 0:
			return ""
		case 1:
			return common[rnd.IntN(len(common))]
		case 2:
			return []string{"c", "Api", "dev", "r1", "1.2.3.4", "ua"}[rnd.IntN(6)]
		}
		buf := make([]byte, rnd.IntN(70))
		for i := range buf {
			buf[i] = byte(rnd.IntN(256))
		}
		return string(buf)
	}
	kinds := append(kinds[1:], "x", "")
	for i := range 3000 {
		ev := runtime.Event{Kind: kinds[rnd.IntN(len(kinds))], ConnectionID: pick(), Api: pick(), Stage: pick(), RequestID: pick(),
			Route: pick(), Integration: pick(), Key: pick(), Expr: pick(), Why: pick(), Method: pick(), URL: pick(),
			Reason: pick(), By: pick(), Error: pick(), SourceIP: pick(), UserAgent: pick(),
			Status: rnd.IntN(700) - 100, Code: rnd.IntN(5000), Latency: time.Duration(rnd.Int64() - rnd.Int64()), Binary: rnd.IntN(2) == 0}
		if rnd.IntN(10) > 0 {
			ev.Time = at.Add(time.Duration(rnd.Int64N(int64(1000*time.Hour))) - 500*time.Hour)
		}
		if rnd.IntN(3) > 0 {
			ev.Header = http.Header{}
			for range rnd.IntN(6) {
				var vs []string
				if rnd.IntN(8) > 0 {
					vs = []string{}
					for range rnd.IntN(4) {
						vs = append(vs, pick())
					}
				}
				ev.Header[pick()] = vs
			}
		}
		if rnd.IntN(3) > 0 {
			ev.Body = []byte(pick() + pick() + pick())
		}
		bodyMax := 1 + rnd.IntN(100)
		want := wantJSON(t, uint64(i), ev, bodyMax)
		for _, rec := range []*base{nil, b} {
			if got := keptJSON(t, uint64(i), ev, rec, &d, bodyMax); !bytes.Equal(got, want) {
				t.Fatalf("event %d, record %v:\n got %s\nwant %s", i, rec != nil, got, want)
			}
		}
	}
}

// TestServedEventsUnchanged: the timeline the API serves, the live stream
// and a replay's lookup read the kept events back as they were: the JSON
// of each is the event's own, byte for byte (SPEC ).
func TestServedEventsUnchanged(t *testing.T) {
	in := New(Options{BodyBytes: 33, EventsPerConn: 12})
	s := in.subscribe("c")
	defer in.unsubscribe(s)
	at := time.Now()
	var want [][]byte
	seq := uint64(0)
	for _, ev := range trickyEvents(at) {
		if ev.ConnectionID != "c" {
			ev.ConnectionID = "c"
		}
		if ev.Kind == runtime.KindDisconnect || (ev.Kind == runtime.KindConnected && ev.Status != 101) {
			continue // keep the connection open: its record is the one made by the first event
		}
		seq++
		in.Observe(ev)
		want = append(want, wantJSON(t, seq, ev, 33))
	}
	want = want[len(want)-12:] // the ring keeps the last 12
	req := httptest.NewRequest("GET", "/api/connections/c/events", nil)
	req.Host = "127.0.0.1"
	rec := httptest.NewRecorder()
	in.Handler().ServeHTTP(rec, req)
	var got []json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("%d %s: %v", rec.Code, rec.Body, err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d events served, want %d", len(got), len(want))
	}
	wantAll, _ := json.Marshal(want2raw(want))
	if gotAll, _ := json.Marshal(got); !bytes.Equal(gotAll, wantAll) {
		t.Errorf("served:\n got %s\nwant %s", gotAll, wantAll)
	}
	// The stream had every event, kept whole as the API serves them.
	n := 0
	for len(s.ch) > 0 {
		it := <-s.ch
		n++
		if int(seq)-n < len(want) {
			if got, w := in.json(&it), want[len(want)-(int(seq)-n)-1]; !bytes.Equal(got, w) {
				t.Errorf("stream event %d:\n got %s\nwant %s", n, got, w)
			}
		}
	}
	if n != int(seq) {
		t.Errorf("stream had %d events, want %d", n, seq)
	}
}

func want2raw(bs [][]byte) []json.RawMessage {
	out := make([]json.RawMessage, len(bs))
	for i, b := range bs {
		out[i] = b
	}
	return out
}

// TestRingReuse: once a connection's ring is full, a new event reuses the
// buffer of the one it replaces when that fits, and a small event does not
// keep a large event's buffer (SPEC: what is kept stays bounded).
func TestRingReuse(t *testing.T) {
	in := New(Options{EventsPerConn: 10})
	in.Observe(runtime.Event{Kind: runtime.KindConnect, ConnectionID: "c"})
	big := bytes.Repeat([]byte("x"), 3000)
	for i := range 24 {
		body := []byte(fmt.Sprintf(`{"i":%d}`, i))
		if i%7 == 3 {
			body = big
		}
		in.Observe(runtime.Event{Kind: runtime.KindMessage, ConnectionID: "c", Body: body})
	}
	r := in.lookup("c")
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ring) != 10 || cap(r.ring) != 10 {
		t.Fatalf("ring len %d cap %d, want 10 and 10", len(r.ring), cap(r.ring))
	}
	for i, b := range r.ring {
		if cap(b) > 2*len(b)+64 {
			t.Errorf("slot %d keeps %d bytes for %d", i, cap(b), len(b))
		}
	}
}

// TestObserveAllocs: once a connection's ring is full, keeping an event of
// the usual size allocates nothing, whatever it holds (SPEC: a busy
// gateway does not slow down because nobody watches).
func TestObserveAllocs(t *testing.T) {
	in := New(Options{EventsPerConn: 10})
	in.Observe(runtime.Event{Kind: runtime.KindConnect, ConnectionID: "c", Time: time.Now()})
	h := http.Header{"Content-Type": {"application/json"}, "X-Connection-Id": {"c"}}
	body := []byte(`{"action":"echo","n":12345,"text":"hello, world"}`)
	evs := []runtime.Event{
		{Kind: runtime.KindMessage, ConnectionID: "c", Route: "-", Body: body},
		{Kind: runtime.KindRoute, ConnectionID: "c", Key: "echo", Expr: "$request.body.action", Route: "echo", Why: runtime.WhyMatched},
		{Kind: runtime.KindIntegrationRequest, ConnectionID: "c", Method: "POST", URL: "http://127.0.0.1:1/echo", Header: h, Body: body},
		{Kind: runtime.KindIntegrationResponse, ConnectionID: "c", Status: 200, Header: h, Body: body, Latency: time.Millisecond},
		{Kind: runtime.KindFrame, ConnectionID: "c", Body: body},
	}
	for range 4 {
		for _, ev := range evs {
			ev.Time = time.Now()
			in.Observe(ev)
		}
	}
	if n := testing.AllocsPerRun(50, func() {
		for _, ev := range evs {
			in.Observe(ev)
		}
	}); n != 0 {
		t.Errorf("%v allocations per message", n)
	}
}

// TestCommonIndex: every common string is found in one probe, and other
// strings are not.
func TestCommonIndex(t *testing.T) {
	for i, s := range common {
		if got := commonIndex(s); got != i {
			t.Errorf("commonIndex(%q) = %d, want %d", s, got, i)
		}
		if got := commonIndex(s + "x"); got != -1 {
			t.Errorf("commonIndex(%q) = %d, want -1", s+"x", got)
		}
	}
	if commonIndex("") != -1 {
		t.Error(`commonIndex("") found`)
	}
}

// TestForgottenConnection: a closed connection the inspector forgot keeps
// no more events, though Observe found its record a moment before through
// its cache (SPEC: ClosedConns bounds what is kept).
func TestForgottenConnection(t *testing.T) {
	in := New(Options{ClosedConns: 1})
	for _, id := range []string{"a", "b"} {
		in.Observe(runtime.Event{Kind: runtime.KindConnect, ConnectionID: id})
		in.Observe(runtime.Event{Kind: runtime.KindMessage, ConnectionID: id, Body: []byte("x")})
	}
	a := in.lookup("a")
	in.Observe(runtime.Event{Kind: runtime.KindDisconnect, ConnectionID: "a", Code: 1000})
	in.Observe(runtime.Event{Kind: runtime.KindDisconnect, ConnectionID: "b", Code: 1000}) // a is forgotten
	s := in.subscribe("")
	defer in.unsubscribe(s)
	late := runtime.Event{Kind: runtime.KindMessage, ConnectionID: "a", Body: []byte("late"), Time: time.Now()}
	in.Observe(late)
	if in.lookup("a") != nil || in.find("a") != nil {
		t.Error("the forgotten connection is still found")
	}
	for i := range in.recent {
		if in.recent[i].Load() == a {
			t.Errorf("the cache still holds the forgotten connection (slot %d)", i)
		}
	}
	// The live stream has it all the same.
	if len(s.ch) != 1 {
		t.Fatalf("the stream has %d events, want 1", len(s.ch))
	}
	it := <-s.ch
	if got, want := in.json(&it), wantJSON(t, 7, late, DefaultBodyBytes); !bytes.Equal(got, want) {
		t.Errorf("streamed:\n got %s\nwant %s", got, want)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.total != 3 {
		t.Errorf("the forgotten connection saw %d events, want 3", a.total)
	}
	if b := in.find("b"); b == nil || b.end == nil {
		t.Errorf("the last closed connection is not kept: %v", b)
	}
}

// TestKindCode: every kind is coded as its index in kinds.
func TestKindCode(t *testing.T) {
	for i, k := range kinds {
		if got := kindCode(k); int(got) != i {
			t.Errorf("kindCode(%q) = %d, want %d", k, got, i)
		}
	}
	if kindCode("connectx") != 0 {
		t.Error("an unknown kind has a code")
	}
}

// TestDict: strings from the template are kept once, in the dict, with the
// first URL an integration is called at; past dictMax entries events keep
// them whole, and every event reads back as it was.
func TestDict(t *testing.T) {
	at := time.Now()
	b := testBase(at, "", "")
	var d dict
	var kept [][]byte
	var want [][]byte
	for i := range dictMax + 10 {
		name := fmt.Sprintf("Integ%d", i)
		for _, ev := range []runtime.Event{
			{Kind: runtime.KindConnected, Time: at, ConnectionID: "c", Integration: name, Status: 101},
			{Kind: runtime.KindIntegrationRequest, Time: at, ConnectionID: "c", Integration: name, Method: "POST", URL: "http://h/" + name},
			{Kind: runtime.KindIntegrationRequest, Time: at, ConnectionID: "c", Integration: name, Method: "POST", URL: "http://h/" + name},
			{Kind: runtime.KindRoute, Time: at, ConnectionID: "c", Expr: "$request.body." + name, Key: "k", Route: "-", Why: runtime.WhyNoSuch},
		} {
			kept = append(kept, appendEvent(nil, 1, &ev, b, &d, 100))
			want = append(want, wantJSON(t, 1, ev, 100))
		}
	}
	if n := len(d.table.Load().list); n != dictMax {
		t.Errorf("dict holds %d entries, want %d", n, dictMax)
	}
	if e := d.entry(0); e.s != "Integ0" || e.url != "http://h/Integ0" {
		t.Errorf("entry 0: %+v, want Integ0 and the URL of its first call", e)
	}
	if len(kept[1]) >= len("http://h/Integ0") || len(kept[2]) != len(kept[1]) {
		t.Errorf("the calls keep their URL: %d and %d bytes", len(kept[1]), len(kept[2]))
	}
	for i := range kept {
		s, ev, size := decode(kept[i], b, &d)
		got, _ := json.Marshal(toJSON(s, &ev, size))
		if !bytes.Equal(got, want[i]) {
			t.Fatalf("event %d:\n got %s\nwant %s", i, got, want[i])
		}
	}
}

// TestHTTPDate: a header value that is an HTTP date is kept as its seconds
// only when formatting them gives it back byte for byte.
func TestHTTPDate(t *testing.T) {
	for _, tc := range []struct {
		v    string
		date bool
	}{
		{"Sat, 05 Dec 2026 17:51:03 GMT", true},
		{"Thu, 01 Jan 1970 00:00:00 GMT", true},
		{"Mon, 01 Jan 0001 00:00:00 GMT", true},
		{"Fri, 31 Dec 9999 23:59:59 GMT", true},
		{"Wed, 29 Feb 2028 12:00:00 GMT", false}, // 2028-02-29 is a Tuesday
		{"Tue, 29 Feb 2028 12:00:00 GMT", true},
		{"Sat, 31 Feb 2026 17:51:03 GMT", false},
		{"sat, 05 Dec 2026 17:51:03 GMT", false},
		{"Sat, 05 dec 2026 17:51:03 GMT", false},
		{"Sat, 5 Dec 2026 17:51:03 GMT ", false},
		{"Sat, 05 Dec 2026 24:00:00 GMT", false},
		{"Sat, 05 Dec 2026 17:60:03 GMT", false},
		{"Sat, 05 Dec 2026 17:51:03 UTC", false},
		{"Sat, 05 Dec 2026 17:51:0x GMT", false},
		{"Saturday, 05-Dec-26 17:51:03 GMT", false},
		{"Sat, 00 Dec 2026 17:51:03 GMT", false},
	} {
		_, ok := parseHTTPDate(tc.v)
		if ok != tc.date {
			t.Errorf("parseHTTPDate(%q) = %v, want %v", tc.v, ok, tc.date)
		}
		ev := runtime.Event{Kind: runtime.KindIntegrationResponse, ConnectionID: "c", Status: 200, Header: http.Header{"Date": {tc.v, tc.v}}}
		if got, want := keptJSON(t, 1, ev, nil, &dict{}, 10), wantJSON(t, 1, ev, 10); !bytes.Equal(got, want) {
			t.Errorf("%q:\n got %s\nwant %s", tc.v, got, want)
		}
	}
}

// TestDictFindAllocs: once learnt, a string is found without allocating,
// whether its slot of the hit cache is its own or another string's.
func TestDictFindAllocs(t *testing.T) {
	var d dict
	names := make([]string, 200) // more than the hit cache's slots: some share one
	for i := range names {
		names[i] = fmt.Sprintf("Integ%d", i)
		d.find(names[i], "http://h/"+names[i])
	}
	if n := testing.AllocsPerRun(20, func() {
		for _, s := range names {
			if i, e := d.find(s, ""); i < 0 || e.s != s {
				t.Fatalf("find(%q) = %d %+v", s, i, e)
			}
		}
	}); n != 0 {
		t.Errorf("%v allocations per round", n)
	}
}
