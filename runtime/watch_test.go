package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgw/wsgw/compile"
	"github.com/wsgw/wsgw/template"
)

// tmplRoute is a two-way route of a test template, with its own HTTP_PROXY
// integration <Name>Integ posting to url.
type tmplRoute struct{ key, url string }

// resourceName turns a route key into a logical ID part: "chat/join" → "ChatJoin".
func resourceName(key string) string {
	var b strings.Builder
	up := true
	for _, r := range key {
		switch {
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9':
			if up && r >= 'a' && r <= 'z' {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			up = false
		default:
			up = true
		}
	}
	return b.String()
}

// apiYAML is the resources of a WebSocket Api apiID (selection
// $request.body.action) with one stage and the routes.
func apiYAML(apiID, stage string, routes ...tmplRoute) string {
	var b strings.Builder
	fmt.Fprintf(&b, `  %[1]s:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: %[1]s
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: $request.body.action
  %[1]sStage:
    Type: AWS::ApiGatewayV2::Stage
    Properties:
      ApiId: !Ref %[1]s
      StageName: %[2]s
`, apiID, stage)
	for _, r := range routes {
		n := apiID + resourceName(r.key)
		fmt.Fprintf(&b, `  %[1]sInteg:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref %[4]s
      IntegrationType: HTTP_PROXY
      IntegrationMethod: POST
      IntegrationUri: %[3]s
  %[1]sRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref %[4]s
      RouteKey: %[2]s
      RouteResponseSelectionExpression: $default
      Target: !Sub integrations/${%[1]sInteg}
  %[1]sResponse:
    Type: AWS::ApiGatewayV2::RouteResponse
    Properties:
      ApiId: !Ref %[4]s
      RouteId: !Ref %[1]sRoute
      RouteResponseKey: $default
`, n, strconv.Quote(r.key), r.url, apiID)
	}
	return b.String()
}

// nestedSub is a Fn::Sub nested levels deep, each level inserting the one
// below fan times (JSON, which YAML reads too): 100*fan^levels bytes.
func nestedSub(levels, fan int) string {
	v := `"` + strings.Repeat("x", 100) + `"`
	for range levels {
		v = fmt.Sprintf(`{"Fn::Sub": ["%s", {"V": %s}]}`, strings.Repeat("${V}", fan), v)
	}
	return v
}

// chatYAML is a template with the Api "Chat", stage dev, and the routes.
func chatYAML(routes ...tmplRoute) string {
	return "Resources:\n" + apiYAML("Chat", "dev", routes...)
}

// diagError is what the tests' BuildFunc returns with diagnostics.
type diagError struct{ ds template.Diagnostics }

func (e *diagError) Error() string { return fmt.Sprint(e.ds) }

// buildFunc compiles as `wsgw serve` does, for file.
func buildFunc(file string) BuildFunc {
	return func(src []byte) (*compile.Plan, error) {
		p, ds := compile.Build(file, src, template.Options{RequireParams: true}, compile.Options{})
		if len(ds) > 0 {
			return p, &diagError{ds}
		}
		return p, nil
	}
}

// reloadHarness is a gateway serving a template file in a temporary
// directory, with a Reloader watching it.
type reloadHarness struct {
	t       *testing.T
	g       *Gateway
	rl      *Reloader
	dir     string
	file    string
	reloads chan Reload
}

// startReloader writes src to a new template file, serves it, and runs a
// Reloader (watching, unless opt says otherwise) until the test ends.
func startReloader(t *testing.T, src string, opt func(*ReloadOptions)) *reloadHarness {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "stack")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "template.yaml")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := buildFunc(file)([]byte(src))
	if p == nil {
		t.Fatalf("initial template: %v", err)
	}
	h := &reloadHarness{t: t, g: startGateway(t, p, nil), dir: dir, file: file, reloads: make(chan Reload, 1000)}
	build := func(src []byte) (*compile.Plan, error) {
		if bytes.HasPrefix(src, []byte("# PANIC\n")) {
			panic("injected panic")
		}
		return buildFunc(file)(src)
	}
	o := ReloadOptions{File: file, Initial: []byte(src), Build: build, Watch: true,
		Report: func(r Reload) { h.reloads <- r }}
	if opt != nil {
		opt(&o)
	}
	h.rl, err = NewReloader(h.g, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.rl.Run(ctx)
	}()
	// Registered after startGateway's: runs first.
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return h
}

// next returns the next reload, failing after 5 s.
func (h *reloadHarness) next() Reload {
	h.t.Helper()
	select {
	case r := <-h.reloads:
		return r
	case <-time.After(5 * time.Second):
		h.t.Fatal("no reload")
		return Reload{}
	}
}

// none checks that no reload comes for d.
func (h *reloadHarness) none(d time.Duration) {
	h.t.Helper()
	select {
	case r := <-h.reloads:
		h.t.Fatalf("unexpected reload: %+v", r)
	case <-time.After(d):
	}
}

// changes is a reload's change list as printed.
func changes(r Reload) string {
	var s []string
	for _, c := range r.Changes {
		s = append(s, c.String())
	}
	return strings.Join(s, ", ")
}

// The ways editors save a file.
var saves = []struct {
	name string
	save func(t *testing.T, file, src string)
}{
	// VS Code, `cat > file`: truncate and write in place.
	{"truncate and write", func(t *testing.T, file, src string) {
		if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}},
	// JetBrains "safe write", atomic writers: a new file renamed over the template.
	{"write temporary and rename over", func(t *testing.T, file, src string) {
		tmp := file + ".tmp~"
		if err := os.WriteFile(tmp, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, file); err != nil {
			t.Fatal(err)
		}
	}},
	// vim (backupcopy=no): the template renamed to a backup, a new file
	// written, the backup removed.
	{"rename to backup and write new", func(t *testing.T, file, src string) {
		if err := os.Rename(file, file+"~"); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(file + "~"); err != nil {
			t.Fatal(err)
		}
	}},
}

// truncate saves by truncate and write.
func truncate(t *testing.T, file, src string) { saves[0].save(t, file, src) }

// taggedBackend answers every request with tag and the body.
func taggedBackend(t *testing.T, tag string) *backend {
	return newBackend(t, func(w http.ResponseWriter, _ *http.Request, body []byte) {
		_, _ = w.Write([]byte(tag + " " + string(body)))
	})
}

// forbidden matches the frame of a message no route takes (SPEC ).
var forbidden = `\{"message": "Forbidden", "connectionId":"[A-Za-z0-9]{15}=", "requestId":"[A-Za-z0-9]{15}="\}`

// SPEC: routes added, retargeted and removed while a
// connection stays open; its next message uses the new plan.
func TestReloadRoutes(t *testing.T) {
	a, b := taggedBackend(t, "a"), taggedBackend(t, "b")
	h := startReloader(t, chatYAML(tmplRoute{"send", a.URL}), nil)
	ws := dial(t, h.g, "/dev")
	send(t, ws, `{"action":"send"}`)
	if got := recv(t, ws); got != `a {"action":"send"}` {
		t.Fatalf("before any reload: %q", got)
	}

	steps := []struct {
		name   string
		routes []tmplRoute
		change string
		// msg is sent after the reload; want is the answer (a regexp).
		msg, want string
	}{
		{"route added", []tmplRoute{{"send", a.URL}, {"chat/join", a.URL}}, "+route chat/join",
			`{"action":"chat/join"}`, `a \{"action":"chat/join"\}`},
		{"route retargeted", []tmplRoute{{"send", b.URL}, {"chat/join", a.URL}},
			"~integration ChatSendInteg " + a.URL + " -> " + b.URL,
			`{"action":"send"}`, `b \{"action":"send"\}`},
		{"route removed", []tmplRoute{{"send", b.URL}}, "-route chat/join",
			`{"action":"chat/join"}`, forbidden},
		{"$default added", []tmplRoute{{"send", b.URL}, {"$default", a.URL}}, "+route $default",
			`{"action":"chat/join"}`, `a \{"action":"chat/join"\}`},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			truncate(t, h.file, chatYAML(st.routes...))
			r := h.next()
			if r.Err != nil {
				t.Fatalf("reload failed: %v", r.Err)
			}
			if got := changes(r); got != st.change {
				t.Errorf("changes %q, want %q", got, st.change)
			}
			if r.Closed != 0 || r.Requested || r.Recovered {
				t.Errorf("reload %+v", r)
			}
			send(t, ws, st.msg)
			if got := recv(t, ws); !regexpMatch(st.want, got) {
				t.Errorf("after the reload %s got %q, want %s", st.msg, got, st.want)
			}
		})
	}
	// All along the same connection, never closed.
	send(t, ws, `{"action":"send"}`)
	if got := recv(t, ws); got != `b {"action":"send"}` {
		t.Errorf("at the end: %q", got)
	}
}

// SPEC: each way editors save is seen, and gives one reload.
func TestReloadSaveStyles(t *testing.T) {
	for _, sv := range saves {
		t.Run(sv.name, func(t *testing.T) {
			a, b := taggedBackend(t, "a"), taggedBackend(t, "b")
			deb := newManualDebounce()
			h := startReloader(t, chatYAML(tmplRoute{"send", a.URL}), func(o *ReloadOptions) { o.debounce = deb })
			ws := dial(t, h.g, "/dev")
			deb.reset(t) // watching
			sv.save(t, h.file, chatYAML(tmplRoute{"send", b.URL}))
			deb.reset(t) // the save was seen
			deb.fire()
			if r := h.next(); r.Err != nil || changes(r) != "~integration ChatSendInteg "+a.URL+" -> "+b.URL {
				t.Fatalf("reload %+v (%s)", r, changes(r))
			}
			send(t, ws, `{"action":"send"}`)
			if got := recv(t, ws); got != `b {"action":"send"}` {
				t.Errorf("got %q", got)
			}
			h.quiet(deb) // one save, one reload
		})
	}
}

// SPEC: a template with errors leaves the last good plan serving; the
// next good save recovers.
func TestReloadBrokenTemplate(t *testing.T) {
	tests := []struct {
		name string
		src  func(url string) string
		rule string
	}{
		{"YAML syntax error", func(url string) string {
			return strings.Replace(chatYAML(tmplRoute{"send", url}), "ProtocolType: WEBSOCKET", "ProtocolType: [WEBSOCKET", 1)
		}, "WSGW1001"},
		{"target to a missing integration", func(url string) string {
			return strings.Replace(chatYAML(tmplRoute{"send", url}), "${ChatSendInteg}", "${ChatSendInteq}", 1)
		}, "WSGW1006"},
		{"no Api left", func(string) string {
			return "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
		}, ""},
		// Issue 12: a few lines that ask evaluation for a gigabyte.
		{"amplification", func(url string) string {
			return strings.Replace(chatYAML(tmplRoute{"send", url}), "ProtocolType: WEBSOCKET", "ProtocolType: WEBSOCKET\n      Description: "+nestedSub(7, 10), 1)
		}, "WSGW1014"},
		// A panic while building (startReloader's Build panics on this
		// marker: a bug anywhere in loading or compiling) is a failed reload.
		{"panic while building", func(url string) string {
			return "# PANIC\n" + chatYAML(tmplRoute{"send", url})
		}, "panic"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := taggedBackend(t, "a"), taggedBackend(t, "b")
			deb := newManualDebounce()
			h := startReloader(t, chatYAML(tmplRoute{"send", a.URL}), func(o *ReloadOptions) { o.debounce = deb })
			ws := dial(t, h.g, "/dev")
			deb.reset(t) // watching
			truncate(t, h.file, tc.src(b.URL))
			deb.reset(t)
			deb.fire()
			r := h.next()
			if r.Err == nil {
				t.Fatalf("a broken template reloaded: %s", changes(r))
			}
			var de *diagError
			switch tc.rule {
			case "panic":
				if !strings.Contains(r.Err.Error(), "reloading failed: injected panic") {
					t.Errorf("err %v", r.Err)
				}
			case "":
				if !errors.Is(r.Err, errNoApi) {
					t.Errorf("err %v", r.Err)
				}
			default:
				if !errors.As(r.Err, &de) || !slices.ContainsFunc(de.ds, func(d template.Diagnostic) bool {
					return d.Rule == tc.rule && d.Range.File == h.file && d.Range.Line > 0
				}) {
					t.Errorf("want a %s diagnostic in %s, got %v", tc.rule, h.file, r.Err)
				}
			}
			send(t, ws, `{"action":"send"}`)
			if got := recv(t, ws); got != `a {"action":"send"}` {
				t.Errorf("the previous plan does not serve: %q", got)
			}
			// The same broken bytes again: nothing.
			truncate(t, h.file, tc.src(b.URL))
			deb.reset(t)
			h.quiet(deb)

			truncate(t, h.file, chatYAML(tmplRoute{"send", b.URL}))
			deb.reset(t)
			deb.fire()
			r = h.next()
			if r.Err != nil || !r.Recovered {
				t.Fatalf("good save after a broken one: %+v", r)
			}
			send(t, ws, `{"action":"send"}`)
			if got := recv(t, ws); got != `b {"action":"send"}` {
				t.Errorf("after recovering: %q", got)
			}
		})
	}
}

// SPEC: identical bytes are not reloaded; a requested reload of them
// says so.
func TestReloadIdentical(t *testing.T) {
	a := taggedBackend(t, "a")
	src := chatYAML(tmplRoute{"send", a.URL})
	deb := newManualDebounce()
	h := startReloader(t, src, func(o *ReloadOptions) { o.debounce = deb })
	deb.reset(t) // watching
	for _, sv := range saves {
		sv.save(t, h.file, src)
	}
	deb.reset(t) // the saves were seen
	// The reload the debounce gives finds the same bytes and reports
	// nothing; a requested one says they are unchanged.
	h.quiet(deb)
}

// manualDebounce is a debounce trigger the test fires (ReloadOptions.debounce):
// nothing reloads on a change until fire, however long it takes. A value
// in resets means it was armed since the last fire (or Stop).
type manualDebounce struct {
	c      chan time.Time
	resets chan time.Duration // every Reset since the last fire, with its duration
	mu     sync.Mutex
	armed  bool
}

func newManualDebounce() *manualDebounce {
	return &manualDebounce{c: make(chan time.Time), resets: make(chan time.Duration, 1<<12)}
}

func (m *manualDebounce) Reset(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.armed = true
	select {
	case m.resets <- d:
	default:
	}
}

func (m *manualDebounce) Stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.disarm()
}

// disarm clears the trigger and the resets that armed it; m.mu is held.
func (m *manualDebounce) disarm() {
	m.armed = false
	for {
		select {
		case <-m.resets:
		default:
			return
		}
	}
}

func (m *manualDebounce) C() <-chan time.Time { return m.c }

// fire lets the quiet time pass: the trigger, armed, fires once, as a
// timer would, and returns once Run took it (Run handles what comes after
// it, a Reload say, after that reload). It reports whether it was armed.
func (m *manualDebounce) fire() bool {
	m.mu.Lock()
	armed := m.armed
	if armed {
		m.disarm()
	}
	m.mu.Unlock()
	if armed {
		m.c <- time.Now() // outside the lock: Run may be in Reset, and is in its select after
	}
	return armed
}

// reset waits until the trigger was armed since the last fire, and returns
// the duration it was armed for.
func (m *manualDebounce) reset(t *testing.T) time.Duration {
	t.Helper()
	select {
	case d := <-m.resets:
		return d
	case <-time.After(5 * time.Second):
		t.Fatal("the debounce was never armed")
		return 0
	}
}

// quiet checks that no reload reports anything more: the trigger fires if
// armed (a reload of bytes already built says nothing), then a requested
// reload must be the next report.
func (h *reloadHarness) quiet(deb *manualDebounce) {
	h.t.Helper()
	deb.fire()
	h.rl.Reload()
	if r := h.next(); !r.Requested || !r.Unchanged || r.Err != nil {
		h.t.Errorf("a reload reported %+v, want none before the requested one", r)
	}
}

// SPEC: a burst of saves gives one reload, of the last content: a
// change only arms the debounce, and the reload comes once it fires (the
// test fires it: no clock is involved).
func TestReloadBurst(t *testing.T) {
	a, b := taggedBackend(t, "a"), taggedBackend(t, "b")
	deb := newManualDebounce()
	h := startReloader(t, chatYAML(tmplRoute{"send", a.URL}), func(o *ReloadOptions) { o.debounce = deb })
	ws := dial(t, h.g, "/dev")
	// Armed once the directory is watched (a save between the first read
	// and the watch is seen too).
	if d := deb.reset(t); d != DefaultDebounce {
		t.Errorf("armed for %v, want DefaultDebounce %v", d, DefaultDebounce)
	}
	for i := range 50 {
		url := a.URL
		if i == 49 {
			url = b.URL
		}
		truncate(t, h.file, fmt.Sprintf("# save %d\n%s", i, chatYAML(tmplRoute{"send", url})))
	}
	deb.reset(t) // the saves' events re-armed it
	select {
	case r := <-h.reloads:
		t.Fatalf("a reload before the debounce fired: %+v", r)
	default:
	}
	deb.fire()
	if r := h.next(); r.Err != nil || r.Requested || changes(r) != "~integration ChatSendInteg "+a.URL+" -> "+b.URL {
		t.Fatalf("reload %+v (%s)", r, changes(r))
	}
	// Events of the burst still arriving re-arm it; firing again finds the
	// same bytes and reports nothing.
	h.quiet(deb)
	send(t, ws, `{"action":"send"}`)
	if got := recv(t, ws); got != `b {"action":"send"}` {
		t.Errorf("got %q", got)
	}
}

// SPEC: no message in flight during a swap is lost or routed twice. A
// client sends numbered messages without pause while the route's target
// moves between two backends, reload after reload; every message is
// answered once, in order, and each backend saw each number at most once.
func TestReloadInFlight(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]string{} // message → backend
	var dup []string
	server := func(tag string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			if prev, ok := seen[string(body)]; ok {
				dup = append(dup, string(body)+" at "+prev+" and "+tag)
			}
			seen[string(body)] = tag
			mu.Unlock()
			_, _ = w.Write([]byte(tag + " " + string(body)))
		}))
		t.Cleanup(s.Close)
		return s
	}
	a, b := server("a"), server("b")
	h := startReloader(t, chatYAML(tmplRoute{"send", a.URL}), func(o *ReloadOptions) { o.Debounce = 10 * time.Millisecond })
	ws := dial(t, h.g, "/dev")

	st := startStream(t, ws)
	const swaps = 8
	urls := []string{a.URL, b.URL}
	st.untilAnswerBy('a')
	for i := 1; i <= swaps; i++ {
		truncate(t, h.file, chatYAML(tmplRoute{"send", urls[i%2]}))
		if r := h.next(); r.Err != nil || len(r.Changes) != 1 {
			t.Fatalf("reload %d: %+v", i, r)
		}
		st.untilAnswerBy("ab"[i%2])
	}
	n, answers := st.stop()
	if len(answers) != n {
		t.Fatalf("%d answers to %d messages", len(answers), n)
	}
	tags := map[byte]int{}
	for i, got := range answers {
		want := `{"action":"send","seq":` + strconv.Itoa(i) + `}`
		if len(got) < 2 || got[2:] != want {
			t.Fatalf("answer %d is %q, want the answer to %s", i, got, want)
		}
		tags[got[0]]++
	}
	mu.Lock()
	defer mu.Unlock()
	if len(dup) > 0 {
		t.Errorf("messages routed twice: %v", dup)
	}
	if len(seen) != n {
		t.Errorf("the backends saw %d messages, the client sent %d", len(seen), n)
	}
	if tags['a'] == 0 || tags['b'] == 0 {
		t.Errorf("answers by backend %v: want both", tags)
	}
	t.Logf("%d messages through %d reloads: %d answered by a, %d by b", n, swaps, tags['a'], tags['b'])
}

// stream sends numbered messages on ws without pause, and reads the
// answers in order, all within 10 s.
type stream struct {
	t        *testing.T
	halt     chan struct{}
	sent     chan int
	answered chan string
	answers  []string
	timeout  <-chan time.Time
}

func startStream(t *testing.T, ws *websocket.Conn) *stream {
	st := &stream{t: t, halt: make(chan struct{}), sent: make(chan int, 1), answered: make(chan string, 1<<16),
		timeout: time.After(10 * time.Second)}
	go func() {
		n := 0
		defer func() { st.sent <- n }()
		for {
			select {
			case <-st.halt:
				return
			default:
			}
			if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"action":"send","seq":`+strconv.Itoa(n)+`}`)); err != nil {
				return
			}
			n++
			if n%20 == 0 {
				time.Sleep(time.Millisecond) // pace the sender: let the reader and the gateway run
			}
		}
	}()
	go func() {
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				close(st.answered)
				return
			}
			st.answered <- string(data)
		}
	}()
	return st
}

// read reads the next answer.
func (st *stream) read() string {
	st.t.Helper()
	select {
	case got, ok := <-st.answered:
		if !ok {
			st.t.Fatalf("connection ended after %d answers", len(st.answers))
		}
		st.answers = append(st.answers, got)
		return got
	case <-st.timeout:
		st.t.Fatalf("no answer after %d", len(st.answers))
		return ""
	}
}

// untilAnswerBy reads answers until one comes from the backend tagged tag:
// messages flow through the plan swapped in.
func (st *stream) untilAnswerBy(tag byte) {
	st.t.Helper()
	for st.read()[0] != tag {
	}
}

// stop stops sending and returns how many messages were sent and their
// answers, checking that no answer more comes.
func (st *stream) stop() (int, []string) {
	st.t.Helper()
	close(st.halt)
	n := <-st.sent
	for len(st.answers) < n {
		st.read()
	}
	select {
	case got, ok := <-st.answered:
		if ok {
			st.t.Fatalf("an answer more than messages sent: %q", got)
		}
	case <-time.After(100 * time.Millisecond):
	}
	return n, st.answers
}

// apisYAML is a template with the Apis named, each with stage dev and a
// route send to url.
func apisYAML(url string, apis ...string) string {
	s := "Resources:\n"
	for _, a := range apis {
		s += apiYAML(a, "dev", tmplRoute{"send", url})
	}
	return s
}

// SPEC: an Api the template adds is served on a port of its
// own; connections to an Api it removes are closed with 1001 and its port
// answers 403 until the Api comes back, on the same port.
func TestReloadApis(t *testing.T) {
	a := taggedBackend(t, "a")
	h := startReloader(t, apisYAML(a.URL, "Chat"), nil)
	chatURL := "ws://" + h.g.Addrs()[0] + "/dev"
	chat := dial(t, h.g, "/dev")

	truncate(t, h.file, apisYAML(a.URL, "Chat", "Other"))
	r := h.next()
	if r.Err != nil || changes(r) != "+api Other" || len(r.Served) != 1 || r.Served[0].Api != "Other" || r.Served[0].Stage != "dev" {
		t.Fatalf("adding an Api: %+v", r)
	}
	if got := h.g.Addrs(); len(got) != 2 || "ws://"+got[1]+"/dev" != r.Served[0].WebSocketURL {
		t.Errorf("Addrs %v, served %+v", got, r.Served)
	}
	other, _, err := websocket.DefaultDialer.Dial(r.Served[0].WebSocketURL, nil)
	if err != nil {
		t.Fatalf("dial the new Api: %v", err)
	}
	defer other.Close()
	send(t, other, `{"action":"send"}`)
	if got := recv(t, other); got != `a {"action":"send"}` {
		t.Errorf("new Api answered %q", got)
	}
	send(t, chat, `{"action":"send"}`)
	if got := recv(t, chat); got != `a {"action":"send"}` {
		t.Errorf("first Api answered %q", got)
	}

	truncate(t, h.file, apisYAML(a.URL, "Other"))
	r = h.next()
	if r.Err != nil || changes(r) != "-api Chat" || r.Closed != 1 {
		t.Fatalf("removing an Api: %+v (%s)", r, changes(r))
	}
	if ce := recvClose(t, chat); ce.Code != 1001 {
		t.Errorf("connection to the removed Api closed with %d", ce.Code)
	}
	send(t, other, `{"action":"send"}`)
	if got := recv(t, other); got != `a {"action":"send"}` {
		t.Errorf("the other Api answered %q", got)
	}
	if _, resp, err := websocket.DefaultDialer.Dial(chatURL, nil); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("handshake to the removed Api: %v %v", resp, err)
	}

	truncate(t, h.file, apisYAML(a.URL, "Chat", "Other"))
	r = h.next()
	if r.Err != nil || changes(r) != "+api Chat" || len(r.Served) != 1 || r.Served[0].WebSocketURL != chatURL {
		t.Fatalf("bringing the Api back: %+v", r)
	}
	back, _, err := websocket.DefaultDialer.Dial(chatURL, nil)
	if err != nil {
		t.Fatalf("dial the Api back on its port: %v", err)
	}
	defer back.Close()
	send(t, back, `{"action":"send"}`)
	if got := recv(t, back); got != `a {"action":"send"}` {
		t.Errorf("Api back answered %q", got)
	}
}

// SPEC: a connection whose stage is gone is closed with 1001.
func TestReloadStageRenamed(t *testing.T) {
	a := taggedBackend(t, "a")
	h := startReloader(t, chatYAML(tmplRoute{"send", a.URL}), nil)
	ws := dial(t, h.g, "/dev")
	truncate(t, h.file, strings.Replace(chatYAML(tmplRoute{"send", a.URL}), "StageName: dev", "StageName: prod", 1))
	r := h.next()
	if r.Err != nil || changes(r) != "-stage dev, +stage prod" || r.Closed != 1 || len(r.Served) != 1 || r.Served[0].Stage != "prod" {
		t.Fatalf("reload %+v (%s)", r, changes(r))
	}
	if ce := recvClose(t, ws); ce.Code != 1001 {
		t.Errorf("close %d", ce.Code)
	}
	prod := dial(t, h.g, "/prod")
	send(t, prod, `{"action":"send"}`)
	if got := recv(t, prod); got != `a {"action":"send"}` {
		t.Errorf("new stage answered %q", got)
	}
}

// SPEC: when the template's directory is removed or renamed and comes
// back, the Reloader watches it again and picks up the template there.
func TestReloadDirectoryLost(t *testing.T) {
	tests := []struct {
		name string
		lose func(dir string) error
	}{
		{"renamed away", func(dir string) error { return os.Rename(dir, dir+".old") }},
		{"removed", os.RemoveAll},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := taggedBackend(t, "a"), taggedBackend(t, "b")
			h := startReloader(t, chatYAML(tmplRoute{"send", a.URL}), nil)
			ws := dial(t, h.g, "/dev")
			dw := watchOf(t, h.rl)
			if err := tc.lose(h.dir); err != nil {
				t.Fatal(err)
			}
			// The loss is seen before the directory comes back.
			for deadline := time.Now().Add(5 * time.Second); dw.Watching(); time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the loss of the directory was never seen")
				}
			}
			// The directory comes back whole, as a checkout would bring it.
			if err := os.Mkdir(h.dir+".new", 0o755); err != nil {
				t.Fatal(err)
			}
			truncate(t, filepath.Join(h.dir+".new", "template.yaml"), chatYAML(tmplRoute{"send", b.URL}))
			if err := os.Rename(h.dir+".new", h.dir); err != nil {
				t.Fatal(err)
			}
			// While the directory is gone, a reload may find no template
			// (and says so); the plan keeps serving.
			r := h.next()
			for i := 0; i < 3 && errors.Is(r.Err, os.ErrNotExist); i++ {
				r = h.next()
			}
			if r.Err != nil || changes(r) != "~integration ChatSendInteg "+a.URL+" -> "+b.URL {
				t.Fatalf("reload %+v (%s)", r, changes(r))
			}
			send(t, ws, `{"action":"send"}`)
			if got := recv(t, ws); got != `b {"action":"send"}` {
				t.Errorf("got %q", got)
			}
			// And it is watched again.
			truncate(t, h.file, chatYAML(tmplRoute{"send", a.URL}))
			if r := h.next(); r.Err != nil || len(r.Changes) != 1 {
				t.Fatalf("reload after the watch came back: %+v", r)
			}
		})
	}
}

// Without watching (serve --no-watch), a change does nothing until Reload
// (SIGHUP) asks.
func TestReloadNoWatch(t *testing.T) {
	a, b := taggedBackend(t, "a"), taggedBackend(t, "b")
	h := startReloader(t, chatYAML(tmplRoute{"send", a.URL}), func(o *ReloadOptions) { o.Watch = false })
	ws := dial(t, h.g, "/dev")
	truncate(t, h.file, chatYAML(tmplRoute{"send", b.URL}))
	h.none(4 * DefaultDebounce)
	send(t, ws, `{"action":"send"}`)
	if got := recv(t, ws); got != `a {"action":"send"}` {
		t.Errorf("before Reload: %q", got)
	}
	h.rl.Reload()
	if r := h.next(); r.Err != nil || !r.Requested || len(r.Changes) != 1 {
		t.Fatalf("reload %+v", r)
	}
	send(t, ws, `{"action":"send"}`)
	if got := recv(t, ws); got != `b {"action":"send"}` {
		t.Errorf("after Reload: %q", got)
	}
}

// SPEC: an Api a swap adds listens on the next free port after the
// highest one the gateway uses.
func TestSwapAddsApiOnNextFreePort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if base > 65000 {
		t.Skip("no room above the free port")
	}
	// The port right after the gateway's is taken by someone else.
	busy, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(base+1))
	if err != nil {
		t.Skipf("port %d: %v", base+1, err)
	}
	defer busy.Close()
	b := newEchoServer()
	defer b.Close()
	p := testPlan(actionSel, twoWay(route("$default", httpInteg("D", b.URL))))
	g := startGateway(t, p, func(o *Options) { o.Addr = "127.0.0.1:" + strconv.Itoa(base) })
	p2 := testPlan(actionSel, twoWay(route("$default", httpInteg("D", b.URL))))
	second := *p2.Apis[0]
	second.LogicalID = "SecondApi"
	p2.Apis = append(p2.Apis, &second)
	res := g.SwapPlan(p2)
	if res.Err != nil || res.Old != p {
		t.Fatalf("swap %+v", res)
	}
	addrs := g.Addrs()
	if len(addrs) != 2 {
		t.Fatalf("Addrs %v", addrs)
	}
	_, port, _ := net.SplitHostPort(addrs[1])
	if n, _ := strconv.Atoi(port); n <= base+1 {
		t.Errorf("second Api on %s, want a port after %d", addrs[1], base+1)
	}
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+addrs[1]+"/dev", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	send(t, ws, "hi")
	if got := recv(t, ws); got != "hi" {
		t.Errorf("got %q", got)
	}
}

// BenchmarkReload measures what a user waits for: the time from a save of
// the template (truncate and write) to the first message answered by the
// route's new target, through the debounce (DefaultDebounce), the build, the
// swap and one message. Each iteration moves the route to the other backend;
// the client sends a message, waits for its answer, and sends again until
// the answer comes from the new backend. It reports the median and the
// maximum over b.N saves, and the median time of the reload itself (read,
// build, swap: what the reload line prints):
//
//	go test ./runtime -run XXX -bench Reload -benchtime 20x
func BenchmarkReload(b *testing.B) {
	tagged := func(tag string) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			_, _ = w.Write([]byte(tag + string(body)))
		}))
	}
	backends := []*httptest.Server{tagged("a"), tagged("b")}
	defer backends[0].Close()
	defer backends[1].Close()
	file := filepath.Join(b.TempDir(), "template.yaml")
	src := chatYAML(tmplRoute{"send", backends[0].URL})
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		b.Fatal(err)
	}
	p, err := buildFunc(file)([]byte(src))
	if p == nil {
		b.Fatal(err)
	}
	g, err := New(p, testOptions())
	if err != nil {
		b.Fatal(err)
	}
	if err := g.Start(); err != nil {
		b.Fatal(err)
	}
	defer g.Shutdown(context.Background())
	var mu sync.Mutex
	var took []time.Duration // read, build and swap, as the reload line prints it
	rl, err := NewReloader(g, ReloadOptions{File: file, Initial: []byte(src), Build: buildFunc(file), Watch: true,
		Report: func(r Reload) {
			mu.Lock()
			took = append(took, r.Took)
			mu.Unlock()
		}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		rl.Run(ctx)
	}()
	defer func() {
		cancel()
		<-done
	}()
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+g.Addrs()[0]+"/dev", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.Close()
	watchOf(b, rl) // the first save is seen (a save's event resets the first look's debounce)

	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		to := (i + 1) % 2
		t0 := time.Now()
		if err := os.WriteFile(file, []byte(chatYAML(tmplRoute{"send", backends[to].URL})), 0o644); err != nil {
			b.Fatal(err)
		}
		for tries := 0; ; tries++ {
			if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"action":"send"}`)); err != nil {
				b.Fatal(err)
			}
			_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, data, err := ws.ReadMessage()
			if err != nil {
				b.Fatal(err)
			}
			if data[0] == "ab"[to] {
				break
			}
			if time.Since(t0) > 5*time.Second {
				b.Fatalf("save %d not served after 5 s", i)
			}
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lat[len(lat)/2]), "ms-median")
	b.ReportMetric(ms(lat[len(lat)-1]), "ms-max")
	mu.Lock()
	slices.Sort(took)
	if len(took) > 0 {
		b.ReportMetric(ms(took[len(took)/2]), "ms-reload-median")
	}
	mu.Unlock()
	b.ReportMetric(0, "ns/op")
}

// Issue 12: another program writing a file next to the template (a log)
// costs the gateway nothing: on Linux the kernel delivers no event for it,
// so no wakeup, read or build happens; a save of the template after it is
// still one reload.
func TestReloadIgnoresOtherFiles(t *testing.T) {
	if goruntime.GOOS != "linux" {
		t.Skip("the kernel filters events only with inotify (Linux); elsewhere fsnotify delivers every event of the directory and wsgw filters them")
	}
	a, b := taggedBackend(t, "a"), taggedBackend(t, "b")
	h := startReloader(t, chatYAML(tmplRoute{"send", a.URL}), nil)
	dw := watchOf(t, h.rl)
	log, err := os.Create(filepath.Join(h.dir, "app.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	const writes = 5000
	for i := range writes {
		if _, err := fmt.Fprintf(log, "line %d\n", i); err != nil {
			t.Fatal(err)
		}
	}
	before := dw.Delivered()
	truncate(t, h.file, chatYAML(tmplRoute{"send", b.URL}))
	if r := h.next(); r.Err != nil || len(r.Changes) != 1 {
		t.Fatalf("reload %+v", r)
	}
	h.none(3 * DefaultDebounce)
	// The log's creation is one event; its writes none; the template's save
	// a few (its write and close).
	t.Logf("events delivered: %d before the template's save, %d in all", before, dw.Delivered())
	if n := dw.Delivered(); n > 10 {
		t.Errorf("%d events delivered for %d writes to another file and one save", n, writes)
	}
}

// watchOf returns rl's directory watch once it watches, failing after 5 s.
func watchOf(tb testing.TB, rl *Reloader) dirWatch {
	tb.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if p := rl.watch.Load(); p != nil && (*p).Watching() {
			return *p
		}
		if time.Now().After(deadline) {
			tb.Fatal("the Reloader never watched the template's directory")
		}
	}
}
