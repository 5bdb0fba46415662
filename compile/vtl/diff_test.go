package vtl_test

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/wsgw/wsgw/compile/vtl"
	"github.com/wsgw/wsgw/internal/testtool"
)

// corpusCase is one file of testdata/corpus: a txtar archive with
//
//	template.vtl   the template
//	context.json   optional: variables ($context, $stageVariables, anything)
//	body           optional: the payload; when present the case gets $input
//	params.json    optional: {"path":{}, "querystring":{}, "header":{}} for $input.params
//	expected.json  optional: the output as a JSON string, for cases where API
//	               Gateway and velocityjs are known to differ; the comment of
//	               the archive says how and why
type corpusCase struct {
	name     string
	comment  string
	template string
	context  json.RawMessage
	body     *string
	params   json.RawMessage
	expected *string
}

func loadCorpus(t *testing.T) []corpusCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "corpus", "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var cases []corpusCase
	for _, f := range files {
		a, err := txtar.ParseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c := corpusCase{name: strings.TrimSuffix(filepath.Base(f), ".txtar"), comment: string(a.Comment)}
		seen := false
		for _, file := range a.Files {
			data := string(file.Data)
			switch file.Name {
			case "template.vtl":
				c.template, seen = data, true
			case "context.json":
				c.context = json.RawMessage(data)
			case "body":
				c.body = &data
			case "params.json":
				c.params = json.RawMessage(data)
			case "expected.json":
				var s string
				if err := json.Unmarshal(file.Data, &s); err != nil {
					t.Fatalf("%s: expected.json: %v", f, err)
				}
				c.expected = &s
			default:
				t.Fatalf("%s: unknown section %q", f, file.Name)
			}
		}
		if !seen {
			t.Fatalf("%s: no template.vtl", f)
		}
		if c.expected != nil && !strings.Contains(c.comment, "API Gateway") {
			t.Fatalf("%s: expected.json without a comment saying how API Gateway differs from velocityjs", f)
		}
		cases = append(cases, c)
	}
	return cases
}

// Failed renders are written "ERROR <phase>: message": the phase says
// whether the template failed to parse or failed while rendering (or, for
// the Go engine, the case's own data was unusable), so that two failures
// compare equal only when they are the same kind of failure.
const (
	errParse  = "ERROR parse: "
	errRender = "ERROR render: "
	errSetup  = "ERROR setup: "
)

func isError(s string) bool { return strings.HasPrefix(s, "ERROR ") }

// errorClass is the "ERROR <phase>:" prefix of a failed render.
func errorClass(s string) string {
	if i := strings.Index(s, ": "); isError(s) && i > 0 {
		return s[:i+2]
	}
	return ""
}

// goRender renders a case with the Go engine; an error renders as
// "ERROR parse: ..." or "ERROR render: ...".
func goRender(c corpusCase) string {
	tpl, err := vtl.Parse(c.name, c.template)
	if err != nil {
		return errParse + err.Error()
	}
	vars := vtl.Vars{"util": vtl.Util()}
	if len(c.context) > 0 {
		ctx, err := vtl.ParseJSON(c.context)
		if err != nil {
			return errSetup + "context.json: " + err.Error()
		}
		m, ok := ctx.(*vtl.Map)
		if !ok {
			return errSetup + "context.json is not an object"
		}
		plain(m)
		for _, k := range m.Keys() {
			vars[k], _ = m.Get(k)
		}
	}
	if c.body != nil {
		var p struct {
			Path        map[string]string `json:"path"`
			QueryString map[string]string `json:"querystring"`
			Header      map[string]string `json:"header"`
		}
		if len(c.params) > 0 {
			if err := json.Unmarshal(c.params, &p); err != nil {
				return errSetup + "params.json: " + err.Error()
			}
		}
		vars["input"] = vtl.NewInput([]byte(*c.body), vtl.Params{Path: p.Path, QueryString: p.QueryString, Header: p.Header})
	}
	out, err := tpl.RenderString(vars)
	if err != nil {
		return errRender + err.Error()
	}
	return out
}

// plain makes the lists of v render as [a, b]: context.json stands for
// data like $context, not for JSON read by $input.path.
func plain(v any) {
	switch x := v.(type) {
	case *vtl.List:
		x.JSON = false
		for _, e := range x.Items {
			plain(e)
		}
	case *vtl.Map:
		for _, k := range x.Keys() {
			e, _ := x.Get(k)
			plain(e)
		}
	}
}

type jsCase struct {
	Template string          `json:"template"`
	Context  json.RawMessage `json:"context,omitempty"`
	Input    *jsInput        `json:"input,omitempty"`
}

type jsInput struct {
	Body   string          `json:"body"`
	Params json.RawMessage `json:"params,omitempty"`
}

type jsResult struct {
	Output *string `json:"output"`
	Error  string  `json:"error"`
	Phase  string  `json:"phase"` // "parse" or "render"
}

// nodeDir holds the velocityjs harness; `npm ci` there installs velocityjs.
var nodeDir = filepath.Join("testdata", "node")

// velocityjs renders cases with velocityjs under Node. Without Node or
// velocityjs it skips the test, naming what is missing (fails it in CI).
func velocityjs(t *testing.T, cases []jsCase) []string {
	t.Helper()
	node := testtool.NeedNodeModules(t, nodeDir, "velocityjs")
	in, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "render.mjs")
	cmd.Dir = nodeDir
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node render.mjs: %v\n%s", err, stderr.String())
	}
	var res []jsResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("node render.mjs printed %q: %v", out, err)
	}
	if len(res) != len(cases) {
		t.Fatalf("node render.mjs rendered %d cases of %d", len(res), len(cases))
	}
	outs := make([]string, len(res))
	for i, r := range res {
		switch {
		case r.Output != nil:
			outs[i] = *r.Output
		case r.Phase == "parse":
			outs[i] = errParse + r.Error
		case r.Phase == "render":
			outs[i] = errRender + r.Error
		default:
			t.Fatalf("node render.mjs: case %d has neither an output nor an error phase: %+v", i, r)
		}
	}
	return outs
}

func (c corpusCase) js() jsCase {
	j := jsCase{Template: c.template, Context: c.context}
	if c.body != nil {
		j.Input = &jsInput{Body: *c.body, Params: c.params}
	}
	return j
}

// sameResult compares two outputs. Two errors are the same result when
// they are the same kind of failure (both failed to parse, or both failed
// to render); their messages, which differ between engines, are not
// compared.
func sameResult(a, b string) bool {
	if isError(a) || isError(b) {
		return errorClass(a) != "" && errorClass(a) == errorClass(b)
	}
	return a == b
}

// TestCorpusExpected checks the cases where API Gateway and velocityjs
// differ against their expected output, without Node.
func TestCorpusExpected(t *testing.T) {
	for _, c := range loadCorpus(t) {
		if c.expected == nil {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			if got := goRender(c); got != *c.expected {
				t.Errorf("got\n%s\nwant (API Gateway)\n%s", got, *c.expected)
			}
		})
	}
}

// TestCorpusDifferential renders every corpus template with the Go engine
// and with velocityjs 2.1.7 and requires identical output, except where the
// case records that API Gateway differs from velocityjs: there the Go
// engine follows API Gateway (TestCorpusExpected) and velocityjs must still
// differ, so that a stale annotation fails. SPEC.
func TestCorpusDifferential(t *testing.T) {
	cases := loadCorpus(t)
	if len(cases) < 100 {
		t.Errorf("the corpus has %d cases, want at least 100", len(cases))
	}
	js := make([]jsCase, len(cases))
	for i, c := range cases {
		js[i] = c.js()
	}
	ref := velocityjs(t, js)
	identical, deliberate := 0, 0
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := goRender(c)
			if isError(got) && !isError(ref[i]) && c.expected == nil {
				t.Fatalf("Go failed where velocityjs rendered:\n%s\nvelocityjs:\n%q", got, ref[i])
			}
			if c.expected != nil {
				deliberate++
				if sameResult(ref[i], *c.expected) {
					t.Errorf("velocityjs now renders the API Gateway output %q; drop expected.json", ref[i])
				}
				return
			}
			if !sameResult(got, ref[i]) {
				t.Errorf("output differs\ngo:         %q\nvelocityjs: %q", got, ref[i])
				return
			}
			identical++
		})
	}
	t.Logf("%d cases: %d identical to velocityjs, %d deliberate differences (API Gateway behaviour)", len(cases), identical, deliberate)
}

// sameResult must tell failures apart by kind: a template one engine cannot
// parse and the other fails to render are two different results.
func TestSameResult(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"out", "out", true},
		{"out", "other", false},
		{errParse + "line 1", errParse + "Parse error on line 1", true},
		{errRender + "x is null", errRender + "Cannot read properties", true},
		{errParse + "line 1", errRender + "line 1", false},
		{errSetup + "context.json", errParse + "x", false},
		{errRender + "boom", "boom", false},
	} {
		if got := sameResult(tc.a, tc.b); got != tc.same {
			t.Errorf("sameResult(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.same)
		}
	}
}
