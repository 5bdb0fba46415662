package vtl_test

import (
	"testing"

	"github.com/wsgw/wsgw/compile/vtl"
)

// $util.escapeJavaScript is Apache Commons Lang's escapeJavaScript, which
// the mapping template reference describes: it turns ' into \' (not valid
// in JSON, hence the documented replaceAll("\\'", "'")).
func TestEscapeJavaScript(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:                 "plain",
		`it's`:                  `it\'s`,
		`say "hi"`:              `say \"hi\"`,
		`a\b`:                   `a\\b`,
		`</script>`:             `<\/script>`,
		"tab\tnl\ncr\rbs\bff\f": `tab\tnl\ncr\rbs\bff\f`,
		"\x00\x01\x1f\x7f":      `\u0000\u0001\u001F` + "\x7f",
		"é":                     `\u00E9`,
		"€☃":                    `\u20AC\u2603`,
		"😀":                     `\uD83D\uDE00`,
		"{\"k\": [1]}":          `{\"k\": [1]}`,
	} {
		if got := vtl.EscapeJavaScript(in); got != want {
			t.Errorf("EscapeJavaScript(%q) = %s, want %s", in, got, want)
		}
	}
}

// urlEncode and urlDecode are java.net.URLEncoder and URLDecoder in UTF-8.
func TestURLEncoding(t *testing.T) {
	for in, want := range map[string]string{
		"a b":             "a+b",
		"x=a+b&c":         "x%3Da%2Bb%26c",
		"AZaz09.-*_":      "AZaz09.-*_",
		"~!'()/?#[]@$,;:": "%7E%21%27%28%29%2F%3F%23%5B%5D%40%24%2C%3B%3A",
		"é😀":              "%C3%A9%F0%9F%98%80",
	} {
		if got := vtl.URLEncode(in); got != want {
			t.Errorf("URLEncode(%q) = %s, want %s", in, got, want)
		}
		if back, err := vtl.URLDecode(vtl.URLEncode(in)); err != nil || back != in {
			t.Errorf("URLDecode(URLEncode(%q)) = %q, %v", in, back, err)
		}
	}
	for in, want := range map[string]string{"x=a+b": "x=a b", "%41%2f": "A/", "100%25": "100%", "%C3%A9": "é", "%FF": "\uFFFD"} {
		if got, err := vtl.URLDecode(in); err != nil || got != want {
			t.Errorf("URLDecode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"%", "%4", "%zz", "a%g1"} {
		if _, err := vtl.URLDecode(bad); err == nil {
			t.Errorf("URLDecode(%q) accepted a malformed escape", bad)
		}
	}
}

func TestUtil(t *testing.T) {
	vars := vtl.Vars{"util": vtl.Util(), "n": 12, "m": vtl.ValueOf(map[string]any{"a": "b"})}
	for src, want := range map[string]string{
		`$util.base64Encode("hello world")`:                "aGVsbG8gd29ybGQ=",
		`$util.base64Decode("aGVsbG8gd29ybGQ=")`:           "hello world",
		`$util.base64Decode("aGVsbG8")`:                    "hello",
		`$util.base64Decode($util.base64Encode("é☃"))`:     "é☃",
		`$util.base64Encode($n)`:                           "MTI=",
		`$util.escapeJavaScript($m)`:                       "{a=b}",
		`[$util.escapeJavaScript($nope)]`:                  "[]",
		`$util.parseJson('[1, {"a": "x"}]')[1].a`:          "x",
		`$util.parseJson('{"k": [1, 2]}')`:                 "{k=[1,2]}",
		`$util.parseJson('"s"').length()`:                  "1",
		`[$util.nope("x")][$util.urlEncode()][$util.body]`: "[][][]",
	} {
		if got := render(t, src, vars); got != want {
			t.Errorf("%s: got %q, want %q", src, got, want)
		}
	}
	tpl, _ := vtl.Parse("t", `$util.base64Decode("!!")`)
	if _, err := tpl.RenderString(vars); err == nil {
		t.Error("base64Decode accepted invalid base64")
	}
}
