package vtl_test

import (
	"strings"
	"testing"

	"github.com/wsgw/wsgw/compile/vtl"
)

// $input as the API Gateway mapping template reference describes it
// (SPEC ): body, json(path), path(path), params(), params(name).
func TestInput(t *testing.T) {
	const doc = `{"a": {"b": [10, 20, {"c": "x/y"}], "s": "it's"}, "list": [{"id": 1, "n": "p"}, {"id": 2}], "price": 2.50, "e": null, "u": "\u00e9\u2028"}`
	params := vtl.Params{
		Path:        map[string]string{"id": "from-path"},
		QueryString: map[string]string{"id": "from-query", "q": "1"},
		Header:      map[string]string{"Content-Type": "application/json", "id": "from-header"},
	}
	tests := []struct {
		name, body, src, want string
	}{
		{"body", `{"k": 1}`, `$input.body`, `{"k": 1}`},
		{"empty body reads as {}", ``, `$input.body|$input.json('$')|$input.path('$').size()|$input.json('$.x')`, `{}|{}|0|null`},
		{"json root compacts", doc, `$input.json('$')`, `{"a":{"b":[10,20,{"c":"x/y"}],"s":"it's"},"list":[{"id":1,"n":"p"},{"id":2}],"price":2.5,"e":null,"u":"é\u2028"}`},
		{"json child", doc, `$input.json('$.a.s')|$input.json('$.a.b[2]')|$input.json('$.price')`, `"it's"|{"c":"x/y"}|2.5`},
		{"json missing is null", doc, `$input.json('$.nope')|$input.json('$.a.b[9]')|$input.json('$.e')`, `null|null|null`},
		{"path values", doc, `$input.path('$.a.b[1]') $input.path('$.a').s $input.path('$.list')[1].id $input.path('$.price')`, `20 it's 2 2.5`},
		{"path missing renders nothing", doc, `[$input.path('$.nope')][$input.path('$.e')][$input.path('$.a.nope.deeper')]`, `[][][]`},
		{"path object prints as a Java map", doc, `$input.path('$.a')`, `{b=[10,20,{"c":"x/y"}], s=it's}`},
		{"path array prints as JSON", doc, `$input.path('$.list')`, `[{"id":1,"n":"p"},{"id":2}]`},
		{"path is usable in VTL", doc, `#foreach($x in $input.path('$.list'))$x.id#if($foreach.hasNext),#end#end $input.path('$.a.b').size()`, `1,2 3`},
		{"bracket names", doc, `$input.json("$['a']['s']")|$input.json('$["list"][0]["n"]')`, `"it's"|"p"`},
		{"wildcards", doc, `$input.json('$.list[*].id')|$input.json('$.a.b[*]')|$input.json('$.a.*')`, `[1,2]|[10,20,{"c":"x/y"}]|[[10,20,{"c":"x/y"}],"it's"]`},
		{"deep scan", doc, `$input.json('$..id')|$input.json('$..c')`, `[1,2]|["x/y"]`},
		{"index forms", doc, `$input.json('$.a.b[-1]')|$input.json('$.a.b[0,1]')|$input.json('$.a.b[1:]')|$input.json('$.a.b[:2]')`, `{"c":"x/y"}|[10,20]|[20,{"c":"x/y"}]|[10,20]`},
		{"several names", doc, `$input.json("$.a['s','nope']")`, `["it's"]`},
		{"path without $", doc, `$input.json('a.s')`, `"it's"`},
		{"default path", doc, `$input.path().size()`, `5`},
		{"params by name", "", `$input.params('id')|$input.params('q')|$input.params('content-type')|[$input.params('nope')]`, `from-path|1|application/json|[]`},
		{"params map", "", `#foreach($k in $input.params().keySet())$k=$input.params().get($k).size();#end`, `path=1;querystring=2;header=2;`},
		{"escape the json", doc, `$util.escapeJavaScript($input.json('$.a.s'))`, `\"it\'s\"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(t, tt.src, vtl.Vars{"input": vtl.NewInput([]byte(tt.body), params), "util": vtl.Util()})
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestInputErrors(t *testing.T) {
	tests := []struct{ body, src, want string }{
		{`not json`, `$input.json('$')`, "json(): the body is not JSON: invalid JSON at offset 0"},
		{`{"a": 1} x`, `$input.path('$.a')`, "path(): the body is not JSON: invalid JSON at offset 9"},
		{`{"a": [1]}`, `$input.json('$.a[?(@ > 0)]')`, `json(): JSONPath "$.a[?(@ > 0)]": filters and script expressions are not supported`},
		{`{}`, `$input.json('$.a[')`, `json(): JSONPath "$.a[": missing ]`},
		{`{}`, `$input.json(1)`, "json(): the JSONPath must be a string"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			tpl, err := vtl.Parse("t", tt.src)
			if err != nil {
				t.Fatal(err)
			}
			_, err = tpl.RenderString(vtl.Vars{"input": vtl.NewInput([]byte(tt.body), vtl.Params{})})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %s", err, tt.want)
			}
		})
	}
	// A template that only reads the body works whatever the payload.
	if got := render(t, "$input.body", vtl.Vars{"input": vtl.NewInput([]byte("plain text"), vtl.Params{})}); got != "plain text" {
		t.Errorf("body: got %q", got)
	}
}

// JSON decoding keeps what Java's json-smart keeps: order, integers, doubles.
func TestParseJSON(t *testing.T) {
	for in, want := range map[string]string{
		`{"b": 1, "a": [1.5, -0, 1e2, 12345678901234567890], "c": "\ud83d\ude00\u0041", "d": {}}`: `{b=1, a=[1.5,0,100.0,1.2345678901234567E19], c=😀A, d={}}`,
		`[true, false, null, "x"]`:      `[true,false,null,"x"]`,
		`"s"`:                           `s`,
		`{"k": 1, "k": 2}`:              `{k=2}`,
		`{"ctl": "\u0001\u007f\u2000"}`: "{ctl=\u0001\u007f\u2000}",
	} {
		v, err := vtl.ParseJSON([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := render(t, "$v", vtl.Vars{"v": v}); got != want {
			t.Errorf("%s: got %s, want %s", in, got, want)
		}
	}
	for _, bad := range []string{``, `{`, `[1,]`, `{"a" 1}`, `01`, `1.`, `"\x"`, `tru`, `{"a":1}}`, "\"\x01\"", strings.Repeat("[", 1100) + strings.Repeat("]", 1100)} {
		if _, err := vtl.ParseJSON([]byte(bad)); err == nil {
			t.Errorf("ParseJSON(%q) accepted invalid JSON", bad)
		}
	}
}
