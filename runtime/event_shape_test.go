package runtime

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/wsgw/wsgw/compile"
)

// SPEC, issue 13: the CONNECT, MESSAGE and DISCONNECT proxy events
// carry the keys, and only the keys, of the events captured from API Gateway
// (testdata/events), each with the same JSON type: null where AWS sends
// null (messageId, disconnectStatusCode and disconnectReason on CONNECT).
// Header maps hold what the client sent, so there the captured names must be
// among wsgw's, and the values must be strings (lists of strings).
func TestProxyEventShapes(t *testing.T) {
	connected := time.Date(2026, 12, 5, 10, 17, 47, 0, time.UTC)
	conn := &connMeta{id: "Xa1bBc2VNjMCFIA=", apiID: "abcde12345", domainName: "127.0.0.1:3001",
		connectedAt: connected, sourceIP: "127.0.0.1", userAgent: "client/1.0"}
	st := &stageState{stage: &compile.Stage{Name: "dev"}}
	for _, tc := range []struct {
		file string
		ev   *event
	}{
		{"connect.json", &event{typ: eventConnect, conn: conn, stage: st, routeKey: "$connect", requestID: "Xa1bCdEfghIJKLm=",
			time: connected, host: "127.0.0.1:3001", header: http.Header{
				"Connection": {"Upgrade"}, "Upgrade": {"websocket"}, "User-Agent": {"client/1.0"},
				"Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}, "Sec-Websocket-Version": {"13"},
			}}},
		{"message.json", &event{typ: eventMessage, conn: conn, stage: st, routeKey: "$default", requestID: "Xa1cPH17NjMFftw=",
			messageID: "Xa1cPc2ntjMCFIA=", time: connected.Add(3 * time.Second), body: []byte(`{"a": 1}`), isJSON: true}},
		{"disconnect.json", &event{typ: eventDisconnect, conn: conn, stage: st, routeKey: "$disconnect", requestID: "Xa1doeHsUtjMFbR=",
			time: connected.Add(20 * time.Second), disconnectCode: 1001}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "events", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			var want, got any
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			b, err := tc.ev.proxyEventJSON()
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			for _, p := range compareShape("", got, want, tc.ev.typ == eventConnect) {
				t.Error(p)
			}
		})
	}
}

// compareShape lists where got's keys or JSON types differ from want's. In
// clientHeaders mode the header maps may hold more names than want's.
func compareShape(path string, got, want any, clientHeaders bool) []string {
	if kind(got) != kind(want) {
		return []string{fmt.Sprintf("%s is %s (%v), captured event has %s (%v)", path, kind(got), got, kind(want), want)}
	}
	var probs []string
	switch w := want.(type) {
	case map[string]any:
		g := got.(map[string]any)
		headers := clientHeaders && (path == ".headers" || path == ".multiValueHeaders")
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				probs = append(probs, fmt.Sprintf("%s lacks %q", path, k))
				continue
			}
			probs = append(probs, compareShape(path+"."+k, gv, wv, clientHeaders)...)
		}
		for k, gv := range g {
			if _, ok := w[k]; ok {
				continue
			}
			if !headers {
				probs = append(probs, fmt.Sprintf("%s has %q, which the captured event has not", path, k))
			} else if kind(gv) != kind(firstValue(w)) {
				probs = append(probs, fmt.Sprintf("%s.%s is %s", path, k, kind(gv)))
			}
		}
	case []any:
		g := got.([]any)
		for i := range min(len(g), len(w)) {
			probs = append(probs, compareShape(fmt.Sprintf("%s[%d]", path, i), g[i], w[i], clientHeaders)...)
		}
	}
	return probs
}

func firstValue(m map[string]any) any {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		return m[k]
	}
	return nil
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
