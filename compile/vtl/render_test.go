package vtl_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/wsgw/wsgw/compile/vtl"
)

func render(t *testing.T, src string, vars vtl.Vars) string {
	t.Helper()
	tpl, err := vtl.Parse("t", src)
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	out, err := tpl.RenderString(vars)
	if err != nil {
		t.Fatalf("Render(%q): %v", src, err)
	}
	return out
}

// No template can hang or exhaust memory: every unbounded construct stops
// at a limit with an error, and nothing is written.
func TestRenderLimits(t *testing.T) {
	small := vtl.Limits{MaxOutput: 1 << 16, MaxSteps: 200_000, MaxAlloc: 1 << 20, MaxDepth: 20}
	tests := []struct {
		name, src string
		lim       vtl.Limits
		want      error
	}{
		{"nested loops", "#foreach($i in [1..1000])#foreach($j in [1..1000])#foreach($k in [1..1000])#end#end#end", small, vtl.ErrStepLimit},
		{"default limits", "#foreach($i in [1..100000])#foreach($j in [1..100000])#end#end", vtl.DefaultLimits, vtl.ErrStepLimit},
		{"output", "#foreach($i in [1..100000])0123456789#end", small, vtl.ErrOutputLimit},
		{"string doubling", `#set($s = "0123456789")#foreach($i in [1..40])#set($s = "$s$s")#end`, small, vtl.ErrAllocLimit},
		{"concat doubling", `#set($s = "0123456789")#foreach($i in [1..40])#set($s = $s + $s)#end`, small, vtl.ErrAllocLimit},
		{"list growth", `#set($l = [1])#foreach($i in [1..40])#set($x = $l.addAll($l))#end`, small, vtl.ErrAllocLimit},
		{"huge range", "#set($r = [1..2000000000])", small, vtl.ErrAllocLimit},
		{"recursive macro", "#macro(r)#r()#end#r()", small, vtl.ErrDepthLimit},
		{"recursive define", "#define($d)$d#end$d", small, vtl.ErrDepthLimit},
		{"shared sublists", "#set($a = [])#foreach($i in [1..40])#set($a = [$a, $a])#end$a", small, vtl.ErrOutputLimit},
		{"exponential equality", "#set($a = [])#set($b = [])#foreach($i in [1..60])#set($a = [$a, $a])#set($b = [$b, $b])#end#if($a == $b)eq#end", small, vtl.ErrStepLimit},
		{"time", "#foreach($i in [1..100000])x#end", vtl.Limits{Timeout: 1}, vtl.ErrTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl, err := vtl.Parse("t", tt.src)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			err = tpl.RenderLimits(&out, nil, tt.lim)
			if !errors.Is(err, tt.want) {
				t.Fatalf("RenderLimits = %v, want %v", err, tt.want)
			}
			var ve *vtl.Error
			if !errors.As(err, &ve) || ve.Line != 1 || ve.Col < 1 {
				t.Errorf("error %v has no position", err)
			}
			if out.Len() != 0 {
				t.Errorf("%d bytes written on failure", out.Len())
			}
		})
	}
}

// A method that fails in Java fails the render, with the position of the call.
func TestRenderErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"line one\n  $s.substring(5)", "t:2:5: substring(5, 3): index out of range for a string of length 3"},
		{"$s.charAt(3)", "t:1:3: charAt(3): index out of range for a string of length 3"},
		{"$l.get(5)", "t:1:3: get(5): index out of range for a list of 1"},
		{"$s.replaceAll($re, 'x')", `t:1:3: replaceAll: unsupported or invalid regular expression "(?<=a)"`},
		{"$s.replaceAll('a', '$2')", "t:1:3: replaceAll: no group 2"},
		{"#set($g.a = 1)", "t:1:8: cannot modify g.a: it is read-only"},
		{"$g.put('a', 1)", "t:1:3: put(): the list or map is read-only"},
		{"$gl.add(1)", "t:1:4: add(): the list or map is read-only"},
		{"$util.urlDecode('%zz')", `t:1:6: urlDecode(): illegal hex characters in escape (%) pattern "%zz"`},
		{"$util.parseJson('{')", "t:1:6: parseJson(): invalid JSON at offset 1: expected a string key"},
	}
	vars := vtl.Vars{"s": "abc", "l": vtl.NewList(1), "re": "(?<=a)", "g": map[string]any{"a": 1}, "gl": []any{1}, "util": vtl.Util()}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			tpl, err := vtl.Parse("t", tt.src)
			if err != nil {
				t.Fatal(err)
			}
			_, err = tpl.RenderString(vars)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("got %v, want %s", err, tt.want)
			}
		})
	}
}

// Go values passed by the caller are readable; only *Map and *List change.
func TestRenderGoValues(t *testing.T) {
	vars := vtl.Vars{
		"context": map[string]any{
			"connectionId": "abc=",
			"identity":     map[string]string{"sourceIp": "192.0.2.1"},
			"n":            7, "f": float32(1.5), "ok": true,
			"tags":  []string{"a", "b"},
			"ints":  []int{3, 4},
			"typed": map[string]int{"x": 1},
		},
		"m": vtl.ValueOf(map[string]any{"b": 2, "a": []any{1}}),
	}
	src := `$context.connectionId $context.identity.sourceIp $context.n $context.f $context.ok $context.tags $context.tags.size() $context.ints[1] $context.typed.x ` +
		`#foreach($k in $context.identity.keySet())$k#end $m #set($x = $m.put("c", 3))#set($m.a[0] = 9)$m`
	want := `abc= 192.0.2.1 7 1.5 true [a, b] 2 4 1 sourceIp {a=[1], b=2} {a=[9], b=2, c=3}`
	if got := render(t, src, vars); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

type counter struct{ n int }

func (c *counter) Property(name string) (any, bool) {
	if name == "n" {
		return c.n, true
	}
	return nil, false
}

func (c *counter) Call(name string, args []any) (any, error) {
	switch name {
	case "inc":
		c.n++
		return c.n, nil
	case "fail":
		return nil, errors.New("boom")
	}
	return nil, vtl.ErrNoMethod
}

func TestRenderObject(t *testing.T) {
	c := &counter{}
	got := render(t, "$c.inc() $c.inc() $c.n [$c.nope()] [$c.nope]", vtl.Vars{"c": c})
	if got != "1 2 2 [] []" {
		t.Errorf("got %q", got)
	}
	tpl, _ := vtl.Parse("t", "$c.fail()")
	if _, err := tpl.RenderString(vtl.Vars{"c": c}); err == nil || err.Error() != "t:1:3: fail(): boom" {
		t.Errorf("got %v", err)
	}
}

func TestRenderStopAndBreak(t *testing.T) {
	for src, want := range map[string]string{
		"a#stop b": "a",
		"#foreach($i in [1..5])$i#if($i == 3)#stop#end#end after": "123",
		"x#break y": "x",
		"#foreach($i in [1..3])#foreach($j in [1..3])$j#break#end$i#end": "111213",
	} {
		if got := render(t, src, nil); got != want {
			t.Errorf("%q: got %q, want %q", src, got, want)
		}
	}
}

// A parsed template is shared by concurrent renders (go test -race).
func TestRenderConcurrent(t *testing.T) {
	tpl, err := vtl.Parse("t", `#set($acc = [])#foreach($x in $input.path('$.items'))#set($ok = $acc.add("${x}-$id"))#end$acc $input.json('$.items')`)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				body := fmt.Sprintf(`{"items": [%d, %d]}`, g, i)
				out, err := tpl.RenderString(vtl.Vars{"id": g, "input": vtl.NewInput([]byte(body), vtl.Params{})})
				want := fmt.Sprintf("[%d-%d, %d-%d] [%d,%d]", g, g, i, g, g, i)
				if err != nil || out != want {
					t.Errorf("got %q, %v; want %q", out, err, want)
					return
				}
			}
		}(g)
	}
	wg.Wait()
}

// Numbers print and compute as Java's do.
func TestRenderNumbers(t *testing.T) {
	for src, want := range map[string]string{
		"#set($a = 7 / 2)$a":                   "3",
		"#set($a = -7 / 2)$a":                  "-3",
		"#set($a = -7 % 3)$a":                  "-1",
		"#set($a = 7.0 / 2)$a":                 "3.5",
		"#set($a = 1 / 0)[$a]":                 "[]",
		"#set($a = 9223372036854775807 + 1)$a": "9.223372036854776E18",
		"#set($a = 0.001)$a #set($b = 0.0001)$b #set($c = 10000000.0)$c #set($d = 1234567.5)$d": "0.001 1.0E-4 1.0E7 1234567.5",
		"#if(1 == 1.0)eq#end #if(2 > 1.5)gt#end":                                                "eq gt",
	} {
		if got := render(t, src, nil); got != want {
			t.Errorf("%q: got %q, want %q", src, got, want)
		}
	}
}

// Java strings index UTF-16 code units.
func TestRenderUTF16(t *testing.T) {
	got := render(t, `$s.length() $s.indexOf("b") $s.substring(1, 3) $s.charAt(0) $s.lastIndexOf("😀") $s.indexOf("b", -5) $s.lastIndexOf("b", -1)`, vtl.Vars{"s": "é😀b😀"})
	if want := "6 3 😀 é 4 3 -1"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
