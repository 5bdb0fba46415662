package runtime

import (
	"testing"

	"github.com/wsgw/wsgw/compile"
)

// SPEC: route selection values.
func TestSelectRouteKey(t *testing.T) {
	tests := []struct {
		name string
		sel  []compile.SelectionPart
		msg  string
		want string
	}{
		{"string", actionSel, `{"action":"send"}`, "send"},
		{"integer", actionSel, `{"action":42}`, "42"},
		{"number keeps its text", actionSel, `{"action":1.0e3}`, "1.0e3"},
		{"big number", actionSel, `{"action":12345678901234567890}`, "12345678901234567890"},
		{"boolean", actionSel, `{"action":true}`, "true"},
		{"null", actionSel, `{"action":null}`, ""},
		{"missing", actionSel, `{"other":1}`, ""},
		{"array", actionSel, `{"action":["a",1,true,["b"]]}`, "[a, 1, true, [b]]"},
		{"object", actionSel, `{"action":{"b":2,"a":"x"}}`, "{a=x, b=2}"},
		{"not an object", actionSel, `[1,2]`, ""},
		{"nested", []compile.SelectionPart{bodyPath("a", "b", "c")}, `{"a":{"b":{"c":"deep"}}}`, "deep"},
		{"array index", []compile.SelectionPart{bodyPath("items", "1", "name")}, `{"items":[{"name":"x"},{"name":"y"}]}`, "y"},
		{"bracket index", []compile.SelectionPart{bodyPath("items", "[0]")}, `{"items":["first"]}`, "first"},
		{"index out of range", []compile.SelectionPart{bodyPath("items", "5")}, `{"items":["first"]}`, ""},
		{"combination", []compile.SelectionPart{bodyPath("service"), text("/"), bodyPath("action")}, `{"service":"chat","action":"send"}`, "chat/send"},
		{"combination with a missing part", []compile.SelectionPart{bodyPath("service"), text("/"), bodyPath("action")}, `{"action":"send"}`, "/send"},
		{"static", []compile.SelectionPart{text("$default")}, `{}`, "$default"},
		{"unicode", actionSel, `{"action":"h\u00e9llo"}`, "héllo"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !jsonValid([]byte(tc.msg)) {
				t.Fatalf("%s is JSON", tc.msg)
			}
			if got := selectRouteKey(newRouteSelection(compile.Selection{Parts: tc.sel}), []byte(tc.msg)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseBody(t *testing.T) {
	for msg, want := range map[string]bool{
		`{"a":1}`: true, ` "x" `: true, `12`: true, `{"a":1}{}`: false, `{"a":`: false, `hello`: false, ``: false, "{}\n": true,
	} {
		if _, ok := parseBody([]byte(msg)); ok != want {
			t.Errorf("parseBody(%q) = %v, want %v", msg, ok, want)
		}
	}
}

func TestAccessFormat(t *testing.T) {
	e := &event{typ: eventMessage, conn: &connMeta{id: "abcdefghijklmno="}, routeKey: "send", requestID: "r", status: 200}
	tests := []struct{ format, want string }{
		{`$context.requestId $context.routeKey`, "r send"},
		{`{"id":"$context.connectionId","s":$context.status}`, `{"id":"abcdefghijklmno=","s":200}`},
		{`$context.eventType.`, "MESSAGE."},
		{`$context.nope|$context.error.message|$context.`, "-|-|$context."},
		{`plain`, "plain"},
	}
	for _, tc := range tests {
		var sb stringsBuilder
		parseAccessFormat(tc.format).render(&sb.Builder, e)
		if got := sb.String(); got != tc.want+"\n" {
			t.Errorf("%s: got %q, want %q", tc.format, got, tc.want)
		}
	}
}
