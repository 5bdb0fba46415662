package runtime

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/wsgw/wsgw/compile"
)

// The proxy event's appender writes exactly what json.Marshal writes for
// the same proxyEvent (SPEC ): every event type, with the strings that
// encoding/json escapes (quotes, control characters, < > &, U+2028, invalid
// UTF-8), binary bodies, stage variables, query strings, IAM identities and
// authorizer contexts.
func TestProxyEventJSONMatchesMarshal(t *testing.T) {
	tricky := "a\"b\\c\b\f\n\r\t\x00\x1f<script>&amp;\u2028\u2029é😀\xff\xc3(end"
	connected := time.Date(2026, 12, 5, 10, 17, 47, 0, time.UTC)
	conn := &connMeta{id: "Xa1bBc2VNjMCFIA=", apiID: "abcde12345", domainName: "127.0.0.1:3001",
		connectedAt: connected, sourceIP: "127.0.0.1", userAgent: tricky}
	iam := *conn
	iam.accessKey = "AKIDEXAMPLE"
	authed := *conn
	authed.auth = &authResult{principalID: "me", context: map[string]string{"name": tricky, "<k>": "v"}, latency: 12 * time.Millisecond}
	st := &stageState{stage: &compile.Stage{Name: "dev"}}
	vars := &stageState{stage: &compile.Stage{Name: "prod\u2028", Variables: map[string]string{"b": tricky, "a": "1", "": "empty"}}}
	connect := func(c *connMeta, s *stageState) *event {
		return &event{typ: eventConnect, conn: c, stage: s, routeKey: "$connect", requestID: "Xa1bCdEfghIJKLm=", time: connected,
			host: "127.0.0.1:3001", header: http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"},
				"X-Many": {"1", tricky, ""}, "X-Tricky\u2028": {tricky}},
			query: url.Values{"q": {"1", "2"}, tricky: {tricky}}, rawNames: map[string]string{"X-Many": "x-many"}}
	}
	message := func(body string, binary bool) *event {
		return &event{typ: eventMessage, conn: conn, stage: st, routeKey: "$default", requestID: "Xa1cPH17NjMFftw=",
			messageID: "Xa1cPc2ntjMCFIA=", time: connected.Add(3 * time.Second), body: []byte(body), binary: binary}
	}
	for _, tc := range []struct {
		name string
		ev   *proxyEvent
	}{
		{"connect", connect(conn, st).proxyEvent()},
		{"connect with stage variables", connect(conn, vars).proxyEvent()},
		{"connect through IAM", connect(&iam, st).proxyEvent()},
		{"connect with an authorizer", connect(&authed, st).proxyEvent()},
		{"message", message(`{"action":"send","data":"<hi> & bye"}`, false).proxyEvent()},
		{"tricky message", message(tricky, false).proxyEvent()},
		{"empty message", message("", false).proxyEvent()},
		{"binary message", message("\x00\x01\xfe\xff binary", true).proxyEvent()},
		{"disconnect", (&event{typ: eventDisconnect, conn: &authed, stage: vars, routeKey: "$disconnect", requestID: "Xa1doeHsUtjMFbR=",
			time: connected.Add(20 * time.Second), disconnectCode: 1001, disconnectReason: tricky}).proxyEvent()},
		{"nil slices and empty maps", &proxyEvent{Headers: map[string]string{}, MultiValueHeaders: map[string][]string{"a": nil, "b": {}},
			RequestContext: &proxyContext{}}},
		{"no requestContext", &proxyEvent{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := json.Marshal(tc.ev)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tc.ev.appendJSON(nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("appendJSON:\n%s\njson.Marshal:\n%s", got, want)
			}
		})
	}
}

// FuzzAppendJSONString holds appendJSONString to json.Marshal's string
// encoding, for strings and byte slices.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "a\"b\\c", "\b\f\n\r\t\x00\x1f\x7f", "<>&", "\u2028\u2029", "é😀", "\xff", "\xc3(", "\xed\xa0\x80", "x\xf0\x9f\x98"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendJSONString([]byte("x"), s); !bytes.Equal(got[1:], want) {
			t.Errorf("string %q: %s, json.Marshal %s", s, got[1:], want)
		}
		if got := appendJSONString(nil, []byte(s)); !bytes.Equal(got, want) {
			t.Errorf("bytes %q: %s, json.Marshal %s", s, got, want)
		}
	})
}

// BenchmarkProxyEventJSON compares the appender with json.Marshal on a
// MESSAGE event of 128 bytes.
//
//	go test -run '^$' -bench ProxyEventJSON ./runtime
func BenchmarkProxyEventJSON(b *testing.B) {
	connected := time.Date(2026, 12, 5, 10, 17, 47, 0, time.UTC)
	e := &event{typ: eventMessage, conn: &connMeta{id: "Xa1bBc2VNjMCFIA=", apiID: "abcde12345", domainName: "127.0.0.1:3001",
		connectedAt: connected, sourceIP: "127.0.0.1", userAgent: "Go-http-client/1.1"},
		stage: &stageState{stage: &compile.Stage{Name: "bench"}}, routeKey: "$default", requestID: "Xa1cPH17NjMFftw=",
		messageID: "Xa1cPc2ntjMCFIA=", time: connected, body: bytes.Repeat([]byte("x"), 128)}
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.proxyEventJSON(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(e.proxyEvent()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// FuzzParseSimpleResponse holds the Lambda response fast path to
// encoding/json: whatever it reads, json.Unmarshal reads the same way.
func FuzzParseSimpleResponse(f *testing.F) {
	for _, s := range []string{
		`{"statusCode":200,"body":"hello"}`, ` { "body" : "é😀 <b>" , "statusCode" : 201 } `, `{}`, `{"body":""}`,
		`{"isBase64Encoded":true,"body":"aGVsbG8="}`, `{"isBase64Encoded":true,"body":"!!"}`, `{"isBase64Encoded":false}`,
		`{"statusCode":-0}`, `{"statusCode":012}`, `{"statusCode":2e2}`, `{"statusCode":200.0}`, `{"statusCode":null}`,
		`{"statusCode":123456789012345}`, `{"statusCode":1234567890123456789012}`, `{"body":"a\"b"}`, `{"body":"a\nb"}`,
		`{"body":"\xff"}`, `{"body":null}`, `{"StatusCode":500}`, `{"body":"x","body":"y"}`, `{"body":"x",}`, `{"body":"x"}x`,
		`{"headers":{"a":"b"},"body":"x"}`, `{"body":"{\"a\":\"\\\\ \/ \b\f\n\r\t\u00e9\u0000\uFFFF\"}"}`,
		`{"body":"\ud83d\ude00"}`, `{"body":"\ud800"}`, `{"body":"\u12"}`, `{"body":"\x"}`, `{"body":"x\"}`, `{"bo\u0064y":"x"}`, `null`, `[]`, `"x"`, ``, `{"body":"x"`, `{"statusCode":200}}`, "\ufeff{}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		fast, ok := parseSimpleResponse(payload)
		if !ok {
			return
		}
		slow, err := unmarshalLambdaResponse(payload)
		if err != nil {
			t.Fatalf("%q: fast path read status %d body %q, json.Unmarshal failed: %v", payload, fast.status, fast.body, err)
		}
		if fast.status != slow.status || !bytes.Equal(fast.body, slow.body) || (fast.body == nil) != (slow.body == nil) || len(fast.header) != len(slow.header) {
			t.Fatalf("%q: fast path status %d body %q, json.Unmarshal status %d body %q", payload, fast.status, fast.body, slow.status, slow.body)
		}
	})
}

// The answers of the usual handlers take the fast path.
func TestParseSimpleResponseTakesCommonAnswers(t *testing.T) {
	for _, s := range []string{`{"statusCode":200,"body":"hello"}`, `{"body":"x","statusCode":404}`, `{"statusCode":200}`,
		`{"statusCode": 200, "isBase64Encoded": true, "body": "aGVsbG8="}`, `{"statusCode":200,"body":"{\"seq\":1,\"pad\":\"é\"}"}`} {
		if _, ok := parseSimpleResponse([]byte(s)); !ok {
			t.Errorf("%s: not read by the fast path", s)
		}
	}
}
