package runtime

import (
	"strings"
	"testing"
)

// The oracle: the encoding/json path route selection, template selection and
// mapping used before the scanner (decode the whole message into any, then
// walk the path). The scanner must give the same answer for every input.

// lookup walks the path through objects (by key) and arrays (by index). ok
// is false when a step is missing.
func (path jsonPath) lookup(v any) (any, bool) {
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[p.key]; !ok {
				return nil, false
			}
		case []any:
			if p.index < 0 || p.index >= len(x) {
				return nil, false
			}
			v = x[p.index]
		default:
			return nil, false
		}
	}
	return v, true
}

// decodedBodyValue is bodyValue on the decoded document.
func decodedBodyValue(doc any, path jsonPath) (string, bool) {
	v, ok := path.lookup(doc)
	if !ok || v == nil {
		return "", false
	}
	if s, ok := v.(string); ok {
		return s, true
	}
	var sb strings.Builder
	writeValue(&sb, v)
	return sb.String(), true
}

// checkScanner compares the scanner with the encoding/json oracle on msg and
// path.
func checkScanner(t *testing.T, msg []byte, path jsonPath) {
	t.Helper()
	doc, want := parseBody(msg)
	if got := jsonValid(msg); got != want {
		t.Fatalf("jsonValid(%q) = %v, encoding/json says %v", msg, got, want)
	}
	if !want {
		return
	}
	wv, wok := decodedBodyValue(doc, path)
	gv, gok := bodyValue(msg, path)
	if gv != wv || gok != wok {
		t.Fatalf("bodyValue(%q, %v) = %q, %v; encoding/json path gives %q, %v", msg, path, gv, gok, wv, wok)
	}
}

// SPEC: the scanner that route selection, template selection and
// mapping use reads the same values as decoding the message with
// encoding/json would.
func TestJSONScanner(t *testing.T) {
	deep := func(n int, inner string) string {
		return strings.Repeat("[", n) + inner + strings.Repeat("]", n)
	}
	tests := []struct {
		name string
		msg  string
		path []string
		want string // "<none>": no value; "<invalid>": not JSON
	}{
		{"string", `{"action":"send"}`, []string{"action"}, "send"},
		{"space around", " \t\r\n{ \"action\" : \"send\" } \n", []string{"action"}, "send"},
		{"nested", `{"a":{"x":[1,{"b":2}],"b":{"c":"deep"}}}`, []string{"a", "b", "c"}, "deep"},
		{"array index", `{"items":[{"name":"x"},{"name":"y"}]}`, []string{"items", "1", "name"}, "y"},
		{"bracket index", `{"items":["a","b"]}`, []string{"items", "[1]"}, "b"},
		{"index past the end", `{"items":["a"]}`, []string{"items", "1"}, "<none>"},
		{"index into an empty array", `{"items":[]}`, []string{"items", "0"}, "<none>"},
		{"key on an array", `{"items":["a"]}`, []string{"items", "name"}, "<none>"},
		{"key on a string", `{"a":"text"}`, []string{"a", "b"}, "<none>"},
		{"top-level array", `[{"a":1}]`, []string{"0", "a"}, "1"},
		{"top-level scalar", `"send"`, []string{"action"}, "<none>"},
		{"empty object", `{}`, []string{"action"}, "<none>"},
		{"unicode escape in a key", `{"act\u0069on":"send"}`, []string{"action"}, "send"},
		{"escaped quote in a key", `{"a\"b":1,"a":2}`, []string{"a\"b"}, "1"},
		{"non-ASCII key", `{"héllo":"x"}`, []string{"héllo"}, "x"},
		{"duplicate keys: the last wins", `{"action":"a","action":"b"}`, []string{"action"}, "b"},
		{"duplicate keys: the last wins, even null", `{"action":"a","action":null}`, []string{"action"}, "<none>"},
		{"duplicate keys nested", `{"a":{"x":1},"a":{"y":2}}`, []string{"a", "x"}, "<none>"},
		{"number text", `{"n":1.0e3}`, []string{"n"}, "1.0e3"},
		{"negative number", `{"n":-0.5E-2}`, []string{"n"}, "-0.5E-2"},
		{"big number", `{"n":123456789012345678901234567890}`, []string{"n"}, "123456789012345678901234567890"},
		{"booleans", `{"t":true,"f":false}`, []string{"f"}, "false"},
		{"null", `{"a":null}`, []string{"a"}, "<none>"},
		{"string escapes", `{"s":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00"}`, []string{"s"}, "a\"b\\c/d\b\f\n\r\té😀"},
		{"lone surrogate", `{"s":"\ud800x"}`, []string{"s"}, "\ufffdx"},
		{"invalid UTF-8 in a value", "{\"s\":\"a\xffb\"}", []string{"s"}, "a\ufffdb"},
		{"invalid UTF-8 in a key", "{\"k\xff\":1}", []string{"k\ufffd"}, "1"},
		{"array value", `{"a":["x",1,true,null,["y"]]}`, []string{"a"}, "[x, 1, true, null, [y]]"},
		{"object value", `{"a":{"b":2,"a":"x","b":3}}`, []string{"a"}, "{a=x, b=3}"},
		{"braces inside strings", `{"s":"}]{[","a":"ok"}`, []string{"a"}, "ok"},
		{"deep nesting at the limit", deep(maxJSONDepth, ""), []string{"0"}, deep(maxJSONDepth-1, "")},
		{"deep nesting past the limit", deep(maxJSONDepth+1, ""), nil, "<invalid>"},
		{"deep nesting past the limit with a value", deep(maxJSONDepth+1, "1"), nil, "<invalid>"},
		{"empty", ``, nil, "<invalid>"},
		{"only space", ` `, nil, "<invalid>"},
		{"two values", `{"a":1}{}`, nil, "<invalid>"},
		{"two numbers", `1 2`, nil, "<invalid>"},
		{"trailing comma", `{"a":1,}`, nil, "<invalid>"},
		{"trailing comma in an array", `[1,]`, nil, "<invalid>"},
		{"leading zero", `01`, nil, "<invalid>"},
		{"bare minus", `-`, nil, "<invalid>"},
		{"fraction without digits", `1.`, nil, "<invalid>"},
		{"exponent without digits", `1e+`, nil, "<invalid>"},
		{"control character in a string", "\"a\x01\"", nil, "<invalid>"},
		{"bad escape", `"\x"`, nil, "<invalid>"},
		{"short unicode escape", `"\u12"`, nil, "<invalid>"},
		{"unterminated string", `"abc`, nil, "<invalid>"},
		{"misspelt literal", `tru`, nil, "<invalid>"},
		{"literal with a tail", `nullx`, nil, "<invalid>"},
		{"single quotes", `{'a':1}`, nil, "<invalid>"},
		{"key not a string", `{a:1}`, nil, "<invalid>"},
		{"missing colon", `{"a" 1}`, nil, "<invalid>"},
		{"mismatched close", `[1}`, nil, "<invalid>"},
		{"plain text", `hello`, nil, "<invalid>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := []byte(tc.msg)
			path := compilePath(tc.path)
			checkScanner(t, msg, path)
			if !jsonValid(msg) {
				if tc.want != "<invalid>" {
					t.Fatalf("not JSON")
				}
				return
			}
			got, ok := bodyValue(msg, path)
			if !ok {
				got = "<none>"
			}
			if got != tc.want {
				t.Errorf("got %.80q, want %.80q", got, tc.want)
			}
		})
	}
}

// TestJSONScannerAllocations: route selection of a plain message allocates
// only the route key it returns.
func TestJSONScannerAllocations(t *testing.T) {
	msg := []byte(`{"action":"send","data":{"text":"hello","to":["a","b"]},"n":1.5}`)
	path := compilePath([]string{"action"})
	allocs := testing.AllocsPerRun(100, func() {
		if !jsonValid(msg) {
			t.Fatal("not JSON")
		}
		if _, ok := path.find(msg); !ok {
			t.Fatal("no action")
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per message, want 0", allocs)
	}
}

// FuzzJSONScanner compares the scanner with encoding/json on any message
// and path (segments separated by '.').
func FuzzJSONScanner(f *testing.F) {
	for _, seed := range []struct{ msg, path string }{
		{`{"action":"send"}`, "action"},
		{`{"a":{"b":[1,{"c":"x"}]}}`, "a.b.1.c"},
		{`{"a":[["x"],{"y":null}]}`, "a.[0].0"},
		{`{"k":1,"k":{"z":"\u00e9"}}`, "k.z"},
		{`{"act\u0069on":"a\"b"}`, "action"},
		{"{\"s\":\"\xff\\ud800\"}", "s"},
		{`[1.5e3, -0, true, false, null, "s", {}, []]`, "0"},
		{`{"a":1} x`, "a"},
		{`  {"a" : { } , "b" : [ ] }  `, "b"},
	} {
		f.Add([]byte(seed.msg), seed.path)
	}
	f.Fuzz(func(t *testing.T, msg []byte, path string) {
		var p []string
		if path != "" {
			p = strings.Split(path, ".")
		}
		checkScanner(t, msg, compilePath(p))
	})
}
