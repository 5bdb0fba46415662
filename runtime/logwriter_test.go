package runtime

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// stuckWriter blocks every Write until release is closed, reporting on
// entered each Write that began; then it keeps what it is given.
type stuckWriter struct {
	release chan struct{}
	entered chan struct{}
	mu      sync.Mutex
	buf     strings.Builder
}

func newStuckWriter() *stuckWriter {
	return &stuckWriter{release: make(chan struct{}), entered: make(chan struct{}, 10000)}
}

func (w *stuckWriter) Write(p []byte) (int, error) {
	w.entered <- struct{}{}
	<-w.release
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *stuckWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// The log writer never blocks its callers: past its queue, lines are dropped
// and counted; close writes out the rest in order.
func TestLogWriterDropsWhenFull(t *testing.T) {
	out := newStuckWriter()
	l := newLogWriter(out, 2)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = l.Write([]byte("1\n"))
		<-out.entered // the goroutine holds line 1 and is stuck in the output
		for i := 2; i <= 5; i++ {
			_, _ = l.Write([]byte(strconv.Itoa(i) + "\n"))
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Write blocked on a stuck output")
	}
	if got := l.dropped.Load(); got != 2 {
		t.Errorf("dropped %d, want 2 (lines 4 and 5)", got)
	}
	close(out.release)
	if err := l.close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "1\n2\n3\n" {
		t.Errorf("output %q", got)
	}
	_, _ = l.Write([]byte("late\n"))
	if got := l.dropped.Load(); got != 3 {
		t.Errorf("a line after close: dropped %d, want 3", got)
	}
}

// close gives up on an output that never returns.
func TestLogWriterCloseStuck(t *testing.T) {
	out := newStuckWriter()
	defer close(out.release)
	l := newLogWriter(out, 4)
	_, _ = l.Write([]byte("x\n"))
	<-out.entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := l.close(ctx); err == nil {
		t.Error("close returned nil with the output stuck")
	}
}

// An event log and access log output that stops reading (a stdout pipe
// nobody drains) holds up no connection: messages still flow, the lines that
// do not fit are dropped, and Shutdown reports them in one warning line.
func TestStuckLogOutput(t *testing.T) {
	b := newBackend(t, echo)
	disc := newBackend(t, nil)
	p := testPlan(actionSel, twoWay(route("$default", httpInteg("D", b.URL))), route("$disconnect", httpInteg("Disc", disc.URL)))
	p.Apis[0].Stages[0].AccessLogFormat = "$context.requestId $context.routeKey"
	events, access := newStuckWriter(), newStuckWriter()
	o := testOptions()
	o.LogOutput, o.AccessLog, o.LogQueue = events, access, 4
	g, err := New(p, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	ws := dial(t, g, "/dev")
	for i := range 20 {
		msg := "m" + strconv.Itoa(i)
		send(t, ws, msg)
		if got := recv(t, ws); got != msg {
			t.Fatalf("got %q, want %q", got, msg)
		}
	}
	_ = ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""))
	recvClose(t, ws)
	disc.next(t) // $disconnect ran, whose log lines are dropped too
	close(events.release)
	close(access.release)
	if err := g.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Each log had 22 lines (connect, 20 messages, disconnect). Before the
	// release the writer holds at most 5 (1 stuck in the output, 4 queued)
	// and drops the rest. What is guaranteed to be logged before the release
	// is 20 lines: the connect line is written before the reader starts and
	// message i's line before message i+1 is handled (one handler, in
	// order), but the last message's line is written by the handler after
	// its reply was queued, and the disconnect's after its backend answered,
	// so both may come after the release and be written. Hence at least
	// 20-5 = 15 dropped, and every line either written or dropped.
	m := regexp.MustCompile(`(?m)^.*level=WARN msg="log lines dropped: the log output did not keep up" access_log=(\d+) event_log=(\d+)\n`).
		FindAllStringSubmatch(events.String(), -1)
	if len(m) != 1 {
		t.Fatalf("want one warning line about dropped lines, got %d:\n%s", len(m), events.String())
	}
	accessDropped, _ := strconv.Atoi(m[0][1])
	eventDropped, _ := strconv.Atoi(m[0][2])
	accessLines := len(regexp.MustCompile(`(?m)^[A-Za-z0-9]{15}= `).FindAllString(access.String(), -1))
	eventLines := strings.Count(events.String(), "\n") - 1
	if accessDropped < 15 || accessLines+accessDropped != 22 {
		t.Errorf("access log: %d lines written, %d dropped; want 22 in all, at least 15 dropped:\n%s", accessLines, accessDropped, access.String())
	}
	if eventDropped < 15 || eventLines+eventDropped != 22 {
		t.Errorf("event log: %d lines written, %d dropped; want 22 in all, at least 15 dropped:\n%s", eventLines, eventDropped, events.String())
	}
}
