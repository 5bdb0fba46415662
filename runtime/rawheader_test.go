package runtime

import (
	"crypto/tls"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/wsgw/wsgw/compile"
)

// Issue 13, SPEC: the $connect event and the authorizer event give
// the header names as the client sent them (Go's server would canonicalise
// HeaderAuth1 to Headerauth1), and the same set in both; over ws:// and
// wss://, where X-Forwarded-Proto still says which.
func TestConnectHeaderNamesAsSent(t *testing.T) {
	ca := testCA(t)
	for _, scheme := range []string{"ws", "wss"} {
		t.Run(scheme, func(t *testing.T) {
			be := newBackend(t, nil)
			fake := newFakeLambda(func(fn *compile.Function, payload []byte) ([]byte, error) {
				if fn.LogicalID == "Auth" {
					return []byte(policy("Allow", testMethodArn, "")), nil
				}
				return echoEvent(fn, payload)
			})
			g := startGateway(t, authPlan(be.URL), func(o *Options) { o.Lambda = fake; o.CA = ca })
			// Set in the map, the names go out as written.
			h := http.Header{"User-Agent": {"ua"}, "auth": {"a"}, "HeaderAuth1": {"v1"}, "x-lower": {"l"},
				"X-UPPER": {"u1", "u2"}}
			d := &websocket.Dialer{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}
			ws, resp, err := d.Dial(scheme+"://"+g.Addrs()[0]+"/dev?token=t", h)
			if err != nil {
				t.Fatalf("dial: %v (%v)", err, resp)
			}
			defer ws.Close()
			events := map[string][]byte{}
			for _, c := range fake.snapshot() {
				if typ, _ := eventOf(c.payload); c.fn == "Auth" || typ == "CONNECT" {
					events[c.fn] = c.payload
				}
			}
			var sets [][]string
			for _, fn := range []string{"Auth", "Fn"} {
				var ev struct {
					Headers           map[string]string   `json:"headers"`
					MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
				}
				if err := json.Unmarshal(events[fn], &ev); err != nil {
					t.Fatalf("%s event: %v", fn, err)
				}
				for name, want := range map[string]string{"auth": "a", "HeaderAuth1": "v1", "x-lower": "l", "X-UPPER": "u2",
					"Sec-WebSocket-Key": "", "User-Agent": "ua"} {
					got, ok := ev.Headers[name]
					if !ok || want != "" && got != want {
						t.Errorf("%s event: headers[%q] = %q (present %v), want %q; names: %v", fn, name, got, ok, want,
							slices.Sorted(maps.Keys(ev.Headers)))
					}
				}
				if mv := ev.MultiValueHeaders["X-UPPER"]; !slices.Equal(mv, []string{"u1", "u2"}) {
					t.Errorf("%s event: multiValueHeaders[X-UPPER] = %v", fn, mv)
				}
				for _, canon := range []string{"Auth", "Headerauth1", "X-Lower", "X-Upper"} {
					if _, ok := ev.Headers[canon]; ok {
						t.Errorf("%s event has the canonical %q", fn, canon)
					}
				}
				proto := map[string]string{"ws": "http", "wss": "https"}[scheme]
				if got := ev.Headers["X-Forwarded-Proto"]; got != proto {
					t.Errorf("%s event: X-Forwarded-Proto %q, want %q", fn, got, proto)
				}
				names := slices.Sorted(maps.Keys(ev.Headers))
				if mnames := slices.Sorted(maps.Keys(ev.MultiValueHeaders)); !slices.Equal(names, mnames) {
					t.Errorf("%s event: headers %v, multiValueHeaders %v", fn, names, mnames)
				}
				sets = append(sets, names)
			}
			if !slices.Equal(sets[0], sets[1]) {
				t.Errorf("header names differ:\nauthorizer %v\n$connect   %v", sets[0], sets[1])
			}
		})
	}
}
