package compile

import (
	"reflect"
	"strings"
	"testing"
)

func text(s string) SelectionPart        { return SelectionPart{Text: s} }
func path(p ...string) SelectionPart     { return SelectionPart{Path: p} }
func parts(p ...SelectionPart) Selection { return Selection{Parts: p} }

// SPEC: route selection expressions compile into text and body-path parts.
func TestParseSelection(t *testing.T) {
	tests := []struct {
		name string
		expr string
		want Selection
	}{
		{"whole path", "$request.body.action", parts(path("action"))},
		{"nested path", "$request.body.a.b.c", parts(path("a", "b", "c"))},
		{"braced path", "${request.body.action}", parts(path("action"))},
		{"braced nested", "${request.body.meta.type}", parts(path("meta", "type"))},
		{"index", "$request.body.items[0].kind", parts(path("items", "0", "kind"))},
		{"index at end", "${request.body.items[12]}", parts(path("items", "12"))},
		{"consecutive indexes", "$request.body.m[1][2]", parts(path("m", "1", "2"))},
		{"quoted name", "${request.body['a.b'].c}", parts(path("a.b", "c"))},
		{"double-quoted name", `${request.body["x y"]}`, parts(path("x y"))},
		{"combination", "${request.body.service}/${request.body.action}",
			parts(path("service"), text("/"), path("action"))},
		{"bare combination", "$request.body.service/$request.body.action",
			parts(path("service"), text("/"), path("action"))},
		{"text around", "v1-${request.body.version}-beta", parts(text("v1-"), path("version"), text("-beta"))},
		{"bare path stops at a hyphen", "$request.body.version-beta", parts(path("version"), text("-beta"))},
		{"bare path leaves a trailing dot", "$request.body.a.", parts(path("a"), text("."))},
		{"static", "chat", parts(text("chat"))},
		{"escaped dollar", `\$default`, parts(text("$default"))},
		{"escaped dollar in text", `a\$b`, parts(text("a$b"))},
		{"backslash elsewhere stays", `a\b`, parts(text(`a\b`))},
		{"escape next to a path", `\$${request.body.x}`, parts(text("$"), path("x"))},
		{"adjacent paths", "${request.body.a}${request.body.b}", parts(path("a"), path("b"))},
		{"underscore and digits", "$request.body.my_key2", parts(path("my_key2"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSelection(tt.expr)
			if err != nil {
				t.Fatalf("parseSelection(%q): %v", tt.expr, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseSelection(%q) = %+v, want %+v", tt.expr, got, tt.want)
			}
			// The rendered form compiles back to the same parts.
			again, err := parseSelection(got.String())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("round trip through %q = %+v, %v", got.String(), again, err)
			}
		})
	}
}

func TestParseSelectionErrors(t *testing.T) {
	tests := []struct {
		name   string
		expr   string
		msg    string // substring of the error
		offset int
	}{
		{"empty", "", "is empty", 0},
		{"header variable", "$request.header.x", "$request.header.x is not something", 0},
		{"context variable", "a/$context.routeKey", "$context.routeKey", 2},
		{"braced header", "${request.header.x}", "${request.header.x} is not something", 2},
		{"unclosed brace", "${request.body.action", "has no closing }", 0},
		{"body without path", "${request.body}", "needs the path", 2},
		{"body with dot only", "${request.body.}", "needs the path", 2},
		{"bare body without path", "$request.body.", "needs the path", 1},
		{"lone dollar", "a$", "must be written \\$", 1},
		{"unescaped default", "$default", "$default is not something", 0},
		{"bare wildcard", "$request.body.*", "needs the path", 1},
		{"braced wildcard", "${request.body.items.*}", "wildcards", 21},
		{"recursive descent", "${request.body..a}", "empty name", 15},
		{"filter", "${request.body.a[?(@.x)]}", "wildcards, slices and filters", 16},
		{"unclosed bracket", "$request.body.a[0", "has no closing ]", 15},
		{"trailing dot in braces", "${request.body.a.}", "ends with a dot", 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSelection(tt.expr)
			if err == nil {
				t.Fatalf("parseSelection(%q) = %+v, want an error", tt.expr, got)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("parseSelection(%q) error %q, want it to contain %q", tt.expr, err, tt.msg)
			}
			if e := err.(*exprError); e.Offset != tt.offset {
				t.Errorf("parseSelection(%q) error at offset %d, want %d", tt.expr, e.Offset, tt.offset)
			}
		})
	}
}

func FuzzParseSelection(f *testing.F) {
	for _, s := range []string{"$request.body.action", "${request.body.a}/${request.body.b[0]}", `\$default`, "${", "$request.body.a[", "x$"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		sel, err := parseSelection(expr)
		if err != nil {
			return
		}
		for _, p := range sel.Parts {
			if p.Path == nil && p.Text == "" {
				t.Fatalf("parseSelection(%q) has an empty part", expr)
			}
		}
	})
}
