package vtl_test

import (
	"testing"

	"github.com/wsgw/wsgw/compile/vtl"
)

// Java's String.split and replaceAll semantics, which templates rely on.
func TestJavaStringMethods(t *testing.T) {
	vars := vtl.Vars{"csv": "a,b,,c,,", "lead": ",a,b", "t": "Hello World", "e": ""}
	for src, want := range map[string]string{
		`$csv.split(",")`:                           "[a, b, , c]",
		`$csv.split(",", -1)`:                       "[a, b, , c, , ]",
		`$csv.split(",", 2)`:                        "[a, b,,c,,]",
		`$lead.split(",")`:                          "[, a, b]",
		`$t.split("")`:                              "[H, e, l, l, o,  , W, o, r, l, d]",
		`$e.split(",")`:                             "[]",
		`$e.split(",").size()`:                      "1",
		`$t.split("\s+")`:                           "[Hello, World]",
		`$t.replaceAll("(\w+) (\w+)", '$2, $1')`:    "World, Hello",
		`$t.replaceAll("\\w+", "x")`:                "Hello World",
		`$t.replaceAll("o", '\$')`:                  "Hell$ W$rld",
		`$t.replaceAll("(?<first>H)", '${first}h')`: "Hhello World",
		`$t.replaceFirst("[lo]+", "_")`:             "He_ World",
		`$t.matches("Hello.*")`:                     "true",
		`$t.matches("Hello")`:                       "false",
		`$t.replace(".", "!")`:                      "Hello World",
		`$t.indexOf("o", 100)`:                      "-1",
		`$t.lastIndexOf("o", 5)`:                    "4",
		`$t.lastIndexOf("o", 100)`:                  "7",
		`[$t.substring(1.5)][$t.size()][$t.foo()]`:  "[][][]",
	} {
		if got := render(t, src, vars); got != want {
			t.Errorf("%s: got %q, want %q", src, got, want)
		}
	}
}

func TestEquality(t *testing.T) {
	vars := vtl.Vars{"l": vtl.NewList(int64(1), "a"), "gl": []any{1, "a"}, "m": vtl.ValueOf(map[string]any{"k": 1}), "gm": map[string]any{"k": 1}}
	for src, want := range map[string]string{
		`#if($l == $gl)y#{else}n#end`:                           "y",
		`#if($m == $gm)y#{else}n#end`:                           "y",
		`#if($l == "[1, a]")y#{else}n#end`:                      "y",
		`#if(1 == 1.0 && 2 != 2.5)y#{else}n#end`:                "y",
		`#if($nope == $nope2)y#{else}n#end`:                     "y",
		`#if($nope == "")y#{else}n#end`:                         "n",
		`#if($l.contains("a") && !$l.contains(2))y#{else}n#end`: "y",
		`$l.equals($gl) $m.equals($gm) $l.equals($m)`:           "true true false",
	} {
		if got := render(t, src, vars); got != want {
			t.Errorf("%s: got %q, want %q", src, got, want)
		}
	}
}
