package template

import (
	"fmt"
	"testing"
)

// SPEC, issue 13: a YAML syntax error is reported at the line and
// column of the problem, not at the 0-based context line go.yaml.in/yaml/v3
// writes in its message (one line early, often more).
func TestYAMLErrorPosition(t *testing.T) {
	const head = "Resources:\n  Api:\n    Type: AWS::ApiGatewayV2::Api\n"
	tests := []struct {
		name, src string
		line, col int
		msg       string
	}{
		{"flow sequence left open", head + "    Properties: [oops\n  Other:\n    Type: Custom::X\n", 4, 18,
			"invalid YAML: did not find expected ',' or ']'"},
		{"key indented less than its siblings", head + "    Properties:\n      Name: chat\n   Bad: 1\n", 6, 4,
			"invalid YAML: did not find expected key"},
		{"key indented between two levels", head + "    Properties:\n      Name: chat\n     Bad: 1\n", 6, 6,
			"invalid YAML: did not find expected key"},
		{"flow mapping left open", "Resources:\n  Api:\n    Type: {a: 1\n  X: 1\n", 3, 15,
			"invalid YAML: did not find expected ',' or '}'"},
		{"second colon", head + "    Properties: a: b\n", 4, 18,
			"invalid YAML: mapping values are not allowed in this context"},
		{"quoted string left open", head + "    Properties:\n      Name: 'chat\n", 5, 13,
			"invalid YAML: found unexpected end of stream"},
		{"key where a list entry belongs", "Resources:\n  - a\n  b: 1\n", 3, 3,
			"invalid YAML: did not find expected '-' indicator"},
		{"stray closing bracket", head + "    Properties: [a, b]]\n", 4, 23,
			"invalid YAML: did not find expected key"},
		{"key without colon", head + "    Properties\n      Name: y\n", 4, 5,
			"invalid YAML: could not find expected ':'"},
		{"unknown alias", "Resources:\n  Api: *nope\n", 2, 12,
			"invalid YAML: unknown anchor 'nope' referenced"},
		{"in a second document", head + "---\nfoo: [\n", 5, 6,
			"invalid YAML: did not find expected node content"},
		{"after non-ASCII text", "Resources:\n  Api:\n    Type: x\n  é: ab: c\n", 4, 8,
			"invalid YAML: mapping values are not allowed in this context"},
		{"CRLF line ends", "Resources:\r\n  Api:\r\n    Type: x\r\n    Properties:\r\n      Name: x\r\n   Bad: 1\r\n", 6, 4,
			"invalid YAML: did not find expected key"},
		{"tab indentation", "Resources:\n  Api:\n\tType: x\n", 3, 1,
			"tab used for indentation; YAML allows only spaces"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ds := Parse("t.yaml", []byte(tc.src))
			if len(ds) != 1 {
				t.Fatalf("diagnostics %v, want one", ds)
			}
			d := ds[0]
			got := fmt.Sprintf("%d:%d %s %s", d.Range.Line, d.Range.Col, d.Rule, d.Message)
			want := fmt.Sprintf("%d:%d WSGW1001 %s", tc.line, tc.col, tc.msg)
			if got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}
