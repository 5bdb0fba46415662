package compile

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// SPEC: template and model selection expressions compile into parts;
// integration responses may also read the integration response.
func TestParseTemplateSelection(t *testing.T) {
	tests := []struct {
		name, expr string
		kind       selectionKind
		want       string // the parts as JSON, or "error: ..." (a part of the message)
	}{
		{"escaped default", `\$default`, selectIntegration, `[{"text":"$default"}]`},
		{"bare default", `$default`, selectIntegration, `[{"text":"$default"}]`},
		{"static", `v1`, selectIntegration, `[{"text":"v1"}]`},
		{"braced body", `${request.body.kind}`, selectIntegration, `[{"var":"body","path":["kind"]}]`},
		{"bare body", `$request.body.a.b[0]-x`, selectModel, `[{"var":"body","path":["a","b","0"]},{"text":"-x"}]`},
		{"bare body trailing dot", `$request.body.kind.`, selectModel, `[{"var":"body","path":["kind"]},{"text":"."}]`},
		{"status", `${integration.response.statuscode}`, selectResponse, `[{"var":"statuscode"}]`},
		{"header", `$integration.response.header.X-Kind:${integration.response.multivalueheader.Set-Cookie}`, selectResponse,
			`[{"var":"header","name":"X-Kind"},{"text":":"},{"var":"multivalueheader","name":"Set-Cookie"}]`},
		{"status on request", `${integration.response.statuscode}`, selectIntegration, "error: can read ${request.body.<path>} and static text"},
		{"header source", `${request.header.x}`, selectModel, "error: is not something this selection expression can read"},
		{"lone dollar", `a$`, selectIntegration, "error: a lone $"},
		{"unclosed", `${request.body.kind`, selectIntegration, "error: has no closing }"},
		{"empty path", `${request.body}`, selectIntegration, "error: needs the path of a field"},
		{"wildcard", `${request.body.items[*]}`, selectIntegration, "error: wildcards, slices and filters are not supported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sel, err := parseTemplateSelection(tc.expr, tc.kind)
			if want, ok := strings.CutPrefix(tc.want, "error: "); ok {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("err = %v, want one containing %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(sel.Parts)
			if string(got) != tc.want {
				t.Errorf("parts = %s, want %s", got, tc.want)
			}
		})
	}
}

// SPEC: IntegrationResponseKey is $default or /regex/ matched against
// the whole status code; digits alone are that status code.
func TestParseResponseKey(t *testing.T) {
	tests := []struct {
		key     string
		matches []int
		misses  []int
		err     string
	}{
		{key: "$default"},
		{key: `/2\d\d/`, matches: []int{200, 204, 299}, misses: []int{199, 300, 1200}},
		{key: `/4\d\d|5\d\d/`, matches: []int{404, 503}, misses: []int{200}},
		{key: `/5/`, misses: []int{500}},
		{key: "200", matches: []int{200}, misses: []int{201}},
		{key: `/(/`, err: "missing closing )"},
		{key: "//", err: "empty"},
		{key: "default", err: "must be $default"},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			re, err := ResponseKeyPattern(tc.key)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			matches := func(status int) bool { return re != nil && re.MatchString(strconv.Itoa(status)) }
			for _, s := range tc.matches {
				if !matches(s) {
					t.Errorf("%s does not match %d", tc.key, s)
				}
			}
			for _, s := range tc.misses {
				if matches(s) {
					t.Errorf("%s matches %d", tc.key, s)
				}
			}
		})
	}
}
