package compile

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/wsgw/wsgw/template"
)

// The -update flag (var update) is declared in compile_test.go; it rewrites the
// goldens of testdata/rules too.

// validate does what `wsgw validate` does with one file: Load, then Check
// when the template has no errors.
func validate(t testing.TB, path string) template.Diagnostics {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, ds := template.Load(filepath.ToSlash(path), src, template.Options{})
	if !ds.HasErrors() {
		ds = append(ds, Check(st)...)
	}
	ds.Sort()
	return ds
}

func render(ds template.Diagnostics) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.Text())
		b.WriteByte('\n')
	}
	return b.String()
}

// ruleTemplates returns the templates of testdata/rules: one or more per rule,
// named RULEID-what.yaml or RULEID-what.json, each with a RULEID-what.golden.
func ruleTemplates(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"*.yaml", "*.json"} {
		m, err := filepath.Glob(filepath.Join("testdata", "rules", pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	slices.Sort(files)
	if len(files) == 0 {
		t.Fatal("no templates in testdata/rules")
	}
	return files
}

func goldenOf(path string) string { return strings.TrimSuffix(path, filepath.Ext(path)) + ".golden" }

// TestRules runs each broken template of testdata/rules through Load and
// Check and compares the diagnostics, as `wsgw validate` prints them, with
// its golden file. `go test ./compile -run TestRules -update` rewrites them.
func TestRules(t *testing.T) {
	for _, path := range ruleTemplates(t) {
		name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		t.Run(name, func(t *testing.T) {
			got := render(validate(t, path))
			golden := goldenOf(path)
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./compile -run TestRules -update)", err)
			}
			if got != string(want) {
				t.Errorf("diagnostics differ from %s (run with -update and review the diff)\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
			// The file is named after the rule it demonstrates, which must fire.
			id, _, _ := strings.Cut(name, "-")
			if !strings.Contains(got, "["+id+"]") {
				t.Errorf("%s does not report %s", path, id)
			}
		})
	}
}

var ruleRef = regexp.MustCompile(`\[(WSGW\d{4})\]$`)

// TestEveryRuleHasGolden makes a rule without a golden fail: every rule of
// Rules() must appear in the golden of some template of testdata/rules.
func TestEveryRuleHasGolden(t *testing.T) {
	seen := map[string]bool{}
	for _, path := range ruleTemplates(t) {
		b, err := os.ReadFile(goldenOf(path))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if m := ruleRef.FindStringSubmatch(line); m != nil {
				seen[m[1]] = true
			}
		}
	}
	for _, r := range planRules {
		seen[r.ID] = true // reported only by Compile: TestCompileDiagnostics covers them
	}
	for _, r := range Rules() {
		if !seen[r.ID] {
			t.Errorf("rule %s (%s) appears in no golden file of testdata/rules", r.ID, r.Summary)
		}
	}
}

// TestRulesList checks what `wsgw validate --list-rules` prints: unique IDs
// in the WSGW + 4 digits scheme, sorted, each with a one-line summary.
func TestRulesList(t *testing.T) {
	rules := Rules()
	id := regexp.MustCompile(`^WSGW[1-9]\d{3}$`)
	for i, r := range rules {
		if !id.MatchString(r.ID) {
			t.Errorf("rule ID %q does not follow WSGW + 4 digits", r.ID)
		}
		if i > 0 && rules[i-1].ID >= r.ID {
			t.Errorf("rules not sorted or duplicated: %s before %s", rules[i-1].ID, r.ID)
		}
		if r.Summary == "" || strings.Contains(r.Summary, "\n") || strings.HasSuffix(r.Summary, ".") {
			t.Errorf("rule %s: summary must be one line without a trailing period: %q", r.ID, r.Summary)
		}
	}
}

// TestGoodTemplates checks that correct templates, the examples included,
// get no diagnostic at all, warnings included.
func TestGoodTemplates(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "good", "*"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../examples/chat/template.yaml", "../examples/vpclink/template.yaml", "../examples/cdk/template.json")
	for _, path := range files {
		t.Run(path, func(t *testing.T) {
			if _, err := os.Stat(path); err != nil {
				t.Fatal(err) // a listed example that went missing is a failure, not a skip
			}
			if ds := validate(t, path); len(ds) > 0 {
				t.Errorf("want no diagnostics, got:\n%s", render(ds))
			}
		})
	}
}

// TestCheckHTTPApi checks that an HTTP API, whose routes and integrations
// break every WebSocket rule, is skipped without a diagnostic.
func TestCheckHTTPApi(t *testing.T) {
	src := `
Resources:
  Http:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: http
      ProtocolType: HTTP
      CorsConfiguration:
        AllowOrigins: ['*']
  Pets:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Http
      RouteKey: GET /pets
      AuthorizationType: JWT
      Target: !Sub integrations/${PetsInteg}
  PetsInteg:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Http
      IntegrationType: AWS_PROXY
      IntegrationUri: arn:aws:lambda:us-east-1:123456789012:function:pets
      PayloadFormatVersion: '2.0'
      TlsConfig:
        ServerNameToVerify: example.com
  Unused:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Http
      IntegrationType: HTTP_PROXY
      IntegrationMethod: GET
      IntegrationUri: https://example.com
  Default:
    Type: AWS::ApiGatewayV2::Stage
    Properties:
      ApiId: !Ref Http
      StageName: $default
      AutoDeploy: true
`
	st, ds := template.Load("http.yaml", []byte(src), template.Options{})
	if ds.HasErrors() {
		t.Fatalf("load: %v", ds.Err())
	}
	if got := Check(st); len(got) > 0 {
		t.Errorf("want no diagnostics for an HTTP API, got:\n%s", render(got))
	}
}

func TestCheckNil(t *testing.T) {
	if ds := Check(nil); ds != nil {
		t.Errorf("Check(nil) = %v", ds)
	}
}

func TestStageVariableRefs(t *testing.T) {
	tests := []struct {
		name, in string
		want     []StageVarRef
		expanded string
	}{
		{"none", "http://example.com/a", nil, "http://example.com/a"},
		{"one", "http://${stageVariables.host}/a", []StageVarRef{{Name: "host", Offset: 7, End: 29}}, "http://h.example/a"},
		{"two", "${stageVariables.scheme}://${stageVariables.host}", []StageVarRef{{Name: "scheme", Offset: 0, End: 24}, {Name: "host", Offset: 27, End: 49}}, "https://h.example"},
		{"undefined", "http://x/${stageVariables.nope}", []StageVarRef{{Name: "nope", Offset: 9, End: 31}}, "http://x/"},
		{"invalid name", "${stageVariables.a-b}", []StageVarRef{{Name: "a-b", Offset: 0, End: 21}}, ""},
		{"not a reference", "$stageVariables.host ${stageVariable.host}", nil, "$stageVariables.host ${stageVariable.host}"},
	}
	vars := map[string]string{"host": "h.example", "scheme": "https"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := StageVariableRefs(tt.in)
			if !slices.Equal(got, tt.want) {
				t.Errorf("StageVariableRefs(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			for _, r := range got {
				if tt.in[r.Offset:r.End] != "${stageVariables."+r.Name+"}" {
					t.Errorf("offsets %d..%d of %q do not delimit the reference", r.Offset, r.End, tt.in)
				}
			}
			if e := ExpandStageVariables(tt.in, vars); e != tt.expanded {
				t.Errorf("ExpandStageVariables(%q) = %q, want %q", tt.in, e, tt.expanded)
			}
		})
	}
}

func TestIsStageVariableName(t *testing.T) {
	for name, want := range map[string]bool{"url": true, "backend_URL2": true, "": false, "a-b": false, "a.b": false, "é": false} {
		if got := IsStageVariableName(name); got != want {
			t.Errorf("IsStageVariableName(%q) = %v, want %v", name, got, want)
		}
	}
}

// FuzzCheck loads arbitrary templates and checks them: no input may make
// Load or Check panic. Seeds are the rule templates.
func FuzzCheck(f *testing.F) {
	for _, pat := range []string{"testdata/rules/*", "testdata/good/*"} {
		files, _ := filepath.Glob(pat)
		for _, file := range files {
			if strings.HasSuffix(file, ".golden") {
				continue
			}
			if b, err := os.ReadFile(file); err == nil && len(b) < 20000 {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		st, ds := template.Load("fuzz.yaml", src, template.Options{})
		if st != nil && !ds.HasErrors() {
			Check(st)
		}
	})
}

// BenchmarkCheck measures Check alone on the template with 301 routes and
// 301 integrations, and on the full example of testdata/good.
func BenchmarkCheck(b *testing.B) {
	for _, path := range []string{"testdata/rules/WSGW7001-routes-integrations-limit.yaml", "testdata/good/full.yaml"} {
		src, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		st, ds := template.Load(path, src, template.Options{})
		if ds.HasErrors() {
			b.Fatal(ds.Err())
		}
		b.Run(filepath.Base(path), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Check(st)
			}
		})
	}
}
