package template

import "testing"

// TestPosAt places positions inside string scalars (VTL syntax errors use it):
// exactly where the way the scalar is written allows, else at the scalar.
func TestPosAt(t *testing.T) {
	yamlSrc := "Resources:\n" +
		"  R:\n" +
		"    Type: X::Y\n" +
		"    Properties:\n" +
		"      Literal: |\n" +
		"        line one\n" +
		"\n" +
		"          line three\n" +
		"      Plain: abc def\n" +
		"      Single: 'abc'\n" +
		"      Escaped: 'it''s'\n" +
		"      Double: \"a\\tb\"\n" +
		"      Folded: >\n" +
		"        folded text\n" +
		"      Sub: !Sub 'x ${AWS::Region}'\n" +
		"      Indicator: |2\n" +
		"          two\n"
	jsonSrc := `{"Resources": {"R": {"Type": "X::Y", "Properties": {"Plain": "abc", "Escaped": "a\"b"}}}}`
	tests := []struct {
		name, src, prop string
		line, col       int
		want            string // LINE:COL
	}{
		{"literal line 1", yamlSrc, "Literal", 1, 3, "6:11"},
		{"literal line 3", yamlSrc, "Literal", 3, 5, "8:13"},
		{"plain", yamlSrc, "Plain", 1, 5, "9:18"},
		{"single quoted", yamlSrc, "Single", 1, 2, "10:17"},
		{"escaped single quotes", yamlSrc, "Escaped", 1, 4, "11:16"},
		{"escaped double quotes", yamlSrc, "Double", 1, 3, "12:15"},
		{"folded", yamlSrc, "Folded", 1, 3, "13:15"},
		{"computed", yamlSrc, "Sub", 1, 2, "15:12"},
		{"indentation indicator", yamlSrc, "Indicator", 1, 1, "16:18"},
		{"plain line 2", yamlSrc, "Plain", 2, 1, "9:14"},
		{"json", jsonSrc, "Plain", 1, 2, "1:64"},
		{"json escaped", jsonSrc, "Escaped", 1, 2, "1:80"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, ds := Load("t", []byte(tc.src), Options{})
			if ds.HasErrors() {
				t.Fatal(ds)
			}
			n := st.Resource("R").Prop(tc.prop)
			r := n.PosAt(tc.line, tc.col)
			if got := r.String(); got != "t:"+tc.want {
				t.Errorf("PosAt(%d, %d) of %s (at %s) = %s, want t:%s", tc.line, tc.col, tc.prop, n.Range, got, tc.want)
			}
		})
	}
}
