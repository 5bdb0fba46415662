package runtime

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wsgw/wsgw/compile"
)

// BenchmarkMessagePath measures the per-message work a plan's compiled
// parts cost, without sockets or JSON parsing: route selection through an array index, four
// mapping steps (two $context variables, a body path, a query string) onto a
// request, and an access log line of six $context variables.
func BenchmarkMessagePath(b *testing.B) {
	sel := newRouteSelection(compile.Selection{Parts: []compile.SelectionPart{bodyPath("items", "1", "kind"), text("/"), bodyPath("action")}})
	steps := newMapping([]compile.Step{
		header("X-Id", ctxVar("connectionId")),
		header("X-Request", ctxVar("requestId")),
		header("X-Room", compile.Source{Kind: compile.SourceBody, Path: []string{"items", "[0]", "room"}}),
		query("token", compile.Source{Kind: compile.SourceQueryString, Name: "token"}),
	}, nil)
	access := parseAccessFormat(`$context.requestId $context.connectionId $context.eventType $context.routeKey $context.status $context.identity.sourceIp`)
	msg := []byte(`{"action":"send","items":[{"room":"lobby"},{"kind":"chat"}],"text":"hello"}`)
	st := &stageState{stage: &compile.Stage{Name: "dev"}}
	conn := &connMeta{id: "abcdefghijklmno=", apiID: "api", sourceIP: "127.0.0.1", connectedAt: time.Now()}
	q := url.Values{}
	h := http.Header{}
	var sb strings.Builder
	if !jsonValid(msg) { // checked once: what is measured is what the plan's parts cost
		b.Fatal("not JSON")
	}
	b.ReportAllocs()
	for b.Loop() {
		e := &event{typ: eventMessage, conn: conn, stage: st, requestID: "r", body: msg, query: url.Values{"token": {"t"}}}
		benchEvent = e // on the heap, as the gateway's events are
		e.isJSON = true
		e.routeKey = selectRouteKey(sel, e.body)
		clear(h)
		clear(q)
		steps.apply(e, h, q)
		e.status = 200
		sb.Reset()
		access.render(&sb, e)
		if e.routeKey != "chat/send" || h.Get("X-Room") != "lobby" || q.Get("token") != "t" {
			b.Fatalf("route %q, header %v, query %v", e.routeKey, h, q)
		}
	}
}

// benchEvent keeps BenchmarkMessagePath's events on the heap.
var benchEvent *event
