package vtl_test

import (
	"errors"
	"testing"
	"time"

	"github.com/wsgw/wsgw/compile/vtl"
)

// FuzzParse: no input makes Parse panic or hang; a parse error is an
// *Error with a position inside the template. Seeds: testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add("#if($a)$b.c('d', [1..3], {\"e\": $f})#elseif(!$g)#{else}#end")
	f.Fuzz(func(t *testing.T, src string) {
		tpl, err := vtl.Parse("fuzz", src)
		if err != nil {
			var pe *vtl.Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse error %v is not a *vtl.Error", err)
			}
			if pe.Line < 1 || pe.Col < 1 || pe.Offset < 0 || pe.Offset > len(src) {
				t.Fatalf("error %v points outside the template (offset %d of %d)", err, pe.Offset, len(src))
			}
			return
		}
		if tpl.Source() != src {
			t.Fatal("Source() differs from the input")
		}
	})
}

var fuzzLimits = vtl.Limits{MaxOutput: 64 << 10, MaxSteps: 50_000, MaxAlloc: 1 << 20, MaxDepth: 16, Timeout: 10 * time.Second}

func fuzzVars(body string) vtl.Vars {
	ctx, _ := vtl.ParseJSON([]byte(genContext))
	vars := vtl.Vars{
		"input":          vtl.NewInput([]byte(body), vtl.Params{QueryString: map[string]string{"q": "1"}, Header: map[string]string{"H": "v"}}),
		"util":           vtl.Util(),
		"context":        map[string]any{"connectionId": "c=", "identity": map[string]string{"sourceIp": "192.0.2.1"}},
		"stageVariables": map[string]string{"v": "1"},
	}
	m := ctx.(*vtl.Map)
	for _, k := range m.Keys() {
		vars[k], _ = m.Get(k)
	}
	return vars
}

// FuzzRender: no template and payload make Render panic, hang or exceed
// its limits, and rendering is deterministic. Seeds: testdata/fuzz/FuzzRender.
func FuzzRender(f *testing.F) {
	f.Add(`#set($r = $input.path('$'))#foreach($x in $r.items)$x.id#end`, `{"items": [{"id": 1}]}`)
	f.Fuzz(func(t *testing.T, src, body string) {
		tpl, err := vtl.Parse("fuzz", src)
		if err != nil {
			return
		}
		var out1, out2 []byte
		w1 := writerFunc(func(p []byte) (int, error) { out1 = append(out1, p...); return len(p), nil })
		w2 := writerFunc(func(p []byte) (int, error) { out2 = append(out2, p...); return len(p), nil })
		err1 := tpl.RenderLimits(w1, fuzzVars(body), fuzzLimits)
		err2 := tpl.RenderLimits(w2, fuzzVars(body), fuzzLimits)
		if len(out1) > fuzzLimits.MaxOutput {
			t.Fatalf("output of %d bytes exceeds the limit", len(out1))
		}
		if errors.Is(err1, vtl.ErrTimeout) || errors.Is(err2, vtl.ErrTimeout) {
			return // wall clock: the only limit that is not deterministic
		}
		if string(out1) != string(out2) || (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) {
			t.Fatalf("two renders differ:\n%q %v\n%q %v", out1, err1, out2, err2)
		}
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
