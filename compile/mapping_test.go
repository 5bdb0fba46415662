package compile

import (
	"reflect"
	"strings"
	"testing"
)

// SPEC: mapping sources compile into kinds, names and paths.
func TestParseSource(t *testing.T) {
	tests := []struct {
		name string
		expr string
		want Source
	}{
		{"context", "context.connectionId", Source{Kind: SourceContext, Name: "connectionId"}},
		{"context nested", "context.identity.sourceIp", Source{Kind: SourceContext, Name: "identity.sourceIp"}},
		{"context authorizer key", "context.authorizer.tenant", Source{Kind: SourceContext, Name: "authorizer.tenant"}},
		{"context principal", "context.authorizer.principalId", Source{Kind: SourceContext, Name: "authorizer.principalId"}},
		{"stage variable", "stageVariables.backend_host", Source{Kind: SourceStageVariable, Name: "backend_host"}},
		{"body", "route.request.body.action", Source{Kind: SourceBody, Path: []string{"action"}}},
		{"body nested", "route.request.body.a.b", Source{Kind: SourceBody, Path: []string{"a", "b"}}},
		{"body with $.", "route.request.body.$.a.b", Source{Kind: SourceBody, Path: []string{"a", "b"}}},
		{"body with $[", "route.request.body.$['a.b'][0]", Source{Kind: SourceBody, Path: []string{"a.b", "0"}}},
		{"body quoted name", "route.request.body['a.b'].c", Source{Kind: SourceBody, Path: []string{"a.b", "c"}}},
		{"body index", "route.request.body.items[2].id", Source{Kind: SourceBody, Path: []string{"items", "2", "id"}}},
		{"header", "route.request.header.Origin", Source{Kind: SourceHeader, Name: "Origin"}},
		{"header with dash", "route.request.header.X-Api-Key", Source{Kind: SourceHeader, Name: "X-Api-Key"}},
		{"querystring", "route.request.querystring.token", Source{Kind: SourceQueryString, Name: "token"}},
		{"multivalue header", "route.request.multivalueheader.Accept", Source{Kind: SourceMultiValueHeader, Name: "Accept"}},
		{"multivalue querystring", "route.request.multivaluequerystring.tag", Source{Kind: SourceMultiValueQueryStr, Name: "tag"}},
		{"literal", "'static-value'", Source{Kind: SourceLiteral, Literal: "static-value"}},
		{"empty literal", "''", Source{Kind: SourceLiteral}},
		{"literal with dots", "'context.connectionId'", Source{Kind: SourceLiteral, Literal: "context.connectionId"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSource(tt.expr)
			if err != nil {
				t.Fatalf("parseSource(%q): %v", tt.expr, err)
			}
			tt.want.Expr = tt.expr
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseSource(%q) = %+v, want %+v", tt.expr, got, tt.want)
			}
		})
	}
}

func TestParseSourceErrors(t *testing.T) {
	tests := []struct {
		name, expr, msg, fix string
	}{
		{"unknown context variable", "context.conectionId", "context.conectionId is not a context variable", "did you mean context.connectionId?"},
		{"context without name", "context.", "is not a context variable", ""},
		{"authorizer without key", "context.authorizer.", "is not a context variable", ""},
		{"bad stage variable name", "stageVariables.a-b", `"a-b" is not a stage variable name`, ""},
		{"body without path", "route.request.body.", "the path is empty", ""},
		{"body $ alone", "route.request.body.$", "needs the path", ""},
		{"body wildcard", "route.request.body.items.*", "wildcards", ""},
		{"whole body", "route.request.body", "is not a mapping source", ""},
		{"header without name", "route.request.header.", "is not a request parameter name", ""},
		{"header with space", "route.request.header.X Y", "is not a request parameter name", ""},
		{"misspelled kind", "route.request.headers.Origin", "is not a mapping source", "did you mean route.request.header?"},
		{"method request", "method.request.header.x", "is not a mapping source", ""},
		{"unclosed literal", "'abc", "has no closing quote", ""},
		{"empty", "", "is not a mapping source", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSource(tt.expr)
			if err == nil {
				t.Fatalf("parseSource(%q) = %+v, want an error", tt.expr, got)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("parseSource(%q) error %q, want it to contain %q", tt.expr, err, tt.msg)
			}
			if fix := err.(*exprError).Fix; fix != tt.fix {
				t.Errorf("parseSource(%q) fix %q, want %q", tt.expr, fix, tt.fix)
			}
		})
	}
}

// SPEC: targets are integration.request.header.<name> and .querystring.<name>.
func TestParseTarget(t *testing.T) {
	tests := []struct {
		key, target, name, err string
	}{
		{key: "integration.request.header.ConnectionId", target: "header", name: "ConnectionId"},
		{key: "integration.request.header.X-Request-Id", target: "header", name: "X-Request-Id"},
		{key: "integration.request.querystring.room", target: "querystring", name: "room"},
		{key: "integration.request.path.id", err: "is not a mapping target"},
		{key: "integration.request.headers.x", err: "is not a mapping target"},
		{key: "integration.request.header.", err: "is not a valid header name"},
		{key: "integration.request.querystring.a b", err: "is not a valid querystring name"},
		{key: "header.x", err: "is not a mapping target"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			target, name, err := parseTarget(tt.key)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("parseTarget(%q) = %q, %q, %v; want error containing %q", tt.key, target, name, err, tt.err)
				}
				return
			}
			if err != nil || target != tt.target || name != tt.name {
				t.Errorf("parseTarget(%q) = %q, %q, %v; want %q, %q", tt.key, target, name, err, tt.target, tt.name)
			}
		})
	}
}

func TestSortSteps(t *testing.T) {
	steps := []Step{
		{Target: "querystring", Name: "a"},
		{Target: "header", Name: "b"},
		{Target: "header", Name: "A"},
		{Target: "querystring", Name: "B"},
	}
	sortSteps(steps)
	var got []string
	for _, s := range steps {
		got = append(got, s.Target+"."+s.Name)
	}
	want := []string{"header.A", "header.b", "querystring.B", "querystring.a"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sortSteps order = %v, want %v", got, want)
	}
}

func FuzzParseSource(f *testing.F) {
	for _, s := range []string{"context.connectionId", "route.request.body.$.a[0]", "'x'", "stageVariables.v", "route.request.body.a[", "'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		src, err := parseSource(expr)
		if err == nil && src.Kind == "" {
			t.Fatalf("parseSource(%q) returned no kind", expr)
		}
	})
}
