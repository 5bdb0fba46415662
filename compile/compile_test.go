package compile

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wsgw/wsgw/template"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// goldenCase is a template whose plan is compared with a golden file.
type goldenCase struct {
	name, src, golden string
}

// planCases walks testdata/plans for templates and adds the examples of the
// repository, read in place.
func planCases(t *testing.T) []goldenCase {
	t.Helper()
	var cases []goldenCase
	files, err := filepath.Glob("testdata/plans/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		base := strings.TrimSuffix(f, ".yaml")
		cases = append(cases, goldenCase{filepath.Base(base), f, base + ".golden.json"})
	}
	for _, ex := range []struct{ name, src string }{
		{"vpclink", "../examples/vpclink/template.yaml"},
		{"chat", "../examples/chat/template.yaml"},
		{"cdk", "../examples/cdk/template.json"},
		{"mock", "../examples/mock/template.yaml"},
		{"sam-chat", "../examples/sam-chat/template.yaml"},
	} {
		cases = append(cases, goldenCase{"examples/" + ex.name, ex.src, "testdata/plans/examples/" + ex.name + ".golden.json"})
	}
	return cases
}

// caseOptions reads Options from a first line "# options: {json}".
func caseOptions(t *testing.T, src []byte) Options {
	t.Helper()
	var opts Options
	line, _, _ := bytes.Cut(src, []byte("\n"))
	if js, ok := bytes.CutPrefix(line, []byte("# options:")); ok {
		var o struct {
			Stage          string            `json:"stage"`
			Integrations   map[string]string `json:"integrations"`
			LambdaEndpoint string            `json:"lambdaEndpoint"`
		}
		if err := json.Unmarshal(js, &o); err != nil {
			t.Fatalf("options line: %v", err)
		}
		opts = Options{Stage: o.Stage, Integrations: o.Integrations, LambdaEndpoint: o.LambdaEndpoint}
	}
	return opts
}

// compileCase loads and compiles the template of tc, failing the test when
// it does not give a plan; the diagnostics of both stages come back.
func compileCase(t *testing.T, tc goldenCase) (*Plan, template.Diagnostics) {
	t.Helper()
	src, err := os.ReadFile(tc.src)
	if err != nil {
		t.Fatal(err)
	}
	st, ds := template.Load(tc.src, src, template.Options{})
	if ds.HasErrors() {
		t.Fatalf("template does not load:\n%v", ds.Err())
	}
	plan, cds := Compile(st, caseOptions(t, src))
	ds = append(ds, cds...)
	if plan == nil {
		t.Fatalf("no plan:\n%s", diagText(ds))
	}
	return plan, ds
}

// TestPlanGolden compiles every template of testdata/plans and the examples and
// compares the JSON plan (SPEC) with NAME.golden.json, and the
// diagnostics, when there are any, with NAME.diags.golden. `go test ./compile
// -update` rewrites both.
func TestPlanGolden(t *testing.T) {
	for _, tc := range planCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			plan, ds := compileCase(t, tc)
			relativeCodeDirs(t, plan)
			var got bytes.Buffer
			if err := plan.WriteJSON(&got); err != nil {
				t.Fatal(err)
			}
			compareGolden(t, tc.golden, got.Bytes())
			diagsFile := strings.TrimSuffix(tc.golden, ".golden.json") + ".diags.golden"
			if len(ds) > 0 || *update {
				compareGolden(t, diagsFile, []byte(diagText(ds)))
			}
			if len(ds) == 0 {
				if _, err := os.Stat(diagsFile); err == nil {
					t.Errorf("%s exists but the template has no diagnostics; run go test -update", diagsFile)
				}
			}
		})
	}
}

// relativeCodeDirs rewrites the absolute CodeDir of the plan's functions
// relative to the package directory, so that goldens do not depend on where
// the repository is checked out.
func relativeCodeDirs(t *testing.T, p *Plan) {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range p.Functions {
		if f.CodeDir == "" {
			continue
		}
		if !filepath.IsAbs(f.CodeDir) {
			t.Errorf("function %s: CodeDir %q is not absolute", f.LogicalID, f.CodeDir)
			continue
		}
		rel, err := filepath.Rel(wd, f.CodeDir)
		if err != nil {
			t.Fatal(err)
		}
		f.CodeDir = filepath.ToSlash(rel)
	}
}

func diagText(ds template.Diagnostics) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.Text() + "\n")
	}
	return b.String()
}

func compareGolden(t *testing.T, file string, got []byte) {
	t.Helper()
	if *update {
		if len(got) == 0 {
			os.Remove(file)
			return
		}
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test ./compile -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test ./compile -update and read the diff):\n--- got\n%s", file, got)
	}
}

// TestPlanJSONStable checks that compiling the same template twice gives the
// same bytes: maps are sorted and slices keep template order.
func TestPlanJSONStable(t *testing.T) {
	for _, tc := range planCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			src, err := os.ReadFile(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			var outs [2]bytes.Buffer
			for i := range outs {
				st, _ := template.Load(tc.src, src, template.Options{})
				plan, _ := Compile(st, caseOptions(t, src))
				if plan == nil {
					t.Fatal("no plan")
				}
				if err := plan.WriteJSON(&outs[i]); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(outs[0].Bytes(), outs[1].Bytes()) {
				t.Error("two compilations of the same template differ")
			}
		})
	}
}

// load loads an inline template and fails the test when it has errors.
func load(t *testing.T, src string) *template.Stack {
	t.Helper()
	st, ds := template.Load("t.yaml", []byte(src), template.Options{})
	if ds.HasErrors() {
		t.Fatalf("template does not load:\n%v", ds.Err())
	}
	return st
}

// at returns the position of the first occurrence of needle in src, as
// "t.yaml:LINE:COL".
func at(t *testing.T, src, needle string) string {
	t.Helper()
	i := strings.Index(src, needle)
	if i < 0 {
		t.Fatalf("%q is not in the template", needle)
	}
	line := strings.Count(src[:i], "\n") + 1
	col := i - strings.LastIndex(src[:i], "\n")
	return fmt.Sprintf("t.yaml:%d:%d", line, col)
}

// findDiag returns the diagnostic of rule at pos, or fails.
func findDiag(t *testing.T, ds template.Diagnostics, rule, pos string) template.Diagnostic {
	t.Helper()
	for _, d := range ds {
		if d.Rule == rule && (pos == "" || d.Range.String() == pos) {
			return d
		}
	}
	t.Fatalf("no %s diagnostic at %s in:\n%s", rule, pos, diagText(ds))
	return template.Diagnostic{}
}

const stagedTemplate = `Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: staged
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: $request.body.action
  Route:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: $default
      Target: !Join [/, [integrations, !Ref Backend]]
  Backend:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: HTTP_PROXY
      IntegrationUri: http://${stageVariables.host}/ws
      RequestParameters:
        integration.request.header.X-Tier: stageVariables.tier
  Mock:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: MOCK
  MockRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: mock
      Target: !Join [/, [integrations, !Ref Mock]]
  Dev:
    Type: AWS::ApiGatewayV2::Stage
    Properties:
      ApiId: !Ref Api
      StageName: dev
      StageVariables:
        host: localhost:8080
        tier: gold
  Prod:
    Type: AWS::ApiGatewayV2::Stage
    Properties:
      ApiId: !Ref Api
      StageName: prod
      StageVariables:
        host: ':80'
`

// TestCompileDiagnostics covers the rules Compile adds to Check's: options that
// name nothing and values that only a given stage makes wrong.
func TestCompileDiagnostics(t *testing.T) {
	src := stagedTemplate
	tests := []struct {
		name string
		src  string // stagedTemplate when empty
		opts Options
		rule string
		pos  string // "" for any position
		msg  string
		fix  string
	}{
		{"unknown stage", "", Options{Stage: "prd"}, "WSGW8001", at(t, src, "dev\n"),
			"--stage prd: the template has no stage prd (its stages: dev, prod)", "did you mean prod?"},
		{"unknown integration", "", Options{Stage: "dev", Integrations: map[string]string{"Backnd": "http://127.0.0.1:1"}}, "WSGW8002", at(t, src, "Resources"),
			"--integration Backnd: the template has no integration or authorizer Backnd", "did you mean Backend?"},
		{"integration that is a route", "", Options{Stage: "dev", Integrations: map[string]string{"Route": "http://127.0.0.1:1"}}, "WSGW8002", "",
			"--integration Route: the template has no integration or authorizer Route", ""},
		{"override without scheme", "", Options{Stage: "dev", Integrations: map[string]string{"Backend": "localhost:8080"}}, "WSGW8002", "",
			"--integration Backend=localhost:8080: want an absolute http:// or https:// URL", ""},
		{"override of a mock", "", Options{Stage: "dev", Integrations: map[string]string{"Mock": "http://127.0.0.1:1"}}, "WSGW8002", at(t, src, "Mock:"),
			"--integration Mock: Mock is a MOCK integration, which calls no URL", ""},
		{"override reads a stage variable the stage lacks", "", Options{Stage: "dev", Integrations: map[string]string{"Backend": "http://127.0.0.1/${stageVariables.nope}"}}, "WSGW8002", at(t, src, "Resources"),
			"--integration Backend=http://127.0.0.1/${stageVariables.nope} uses ${stageVariables.nope}, which stage dev does not define", ""},
		{"url without host once substituted", "", Options{Stage: "prod"}, "WSGW8003", at(t, src, "http://${stageVariables.host}/ws"),
			`IntegrationUri of Backend is "http://:80/ws" on stage prod: the URL has no host`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.src
			if src == "" {
				src = stagedTemplate
			}
			plan, ds := Compile(load(t, src), tt.opts)
			if plan != nil {
				t.Errorf("got a plan despite errors")
			}
			d := findDiag(t, ds, tt.rule, tt.pos)
			if tt.msg != "" && d.Message != tt.msg {
				t.Errorf("message %q, want %q", d.Message, tt.msg)
			}
			if d.Fix != tt.fix {
				t.Errorf("fix %q, want %q", d.Fix, tt.fix)
			}
		})
	}
}

// SPEC: a stage missing a stage variable that a mapping reads
// compiles without that step (Check warns about it); the other stage keeps it.
func TestCompileStageVariables(t *testing.T) {
	// With host defined on both stages, only the mapping's tier is missing on prod.
	src := strings.Replace(stagedTemplate, "host: ':80'", "host: example.com", 1)
	st := load(t, src)
	plan, ds := Compile(st, Options{})
	if plan == nil {
		t.Fatalf("no plan:\n%s", diagText(ds))
	}
	if len(ds) != 1 || ds[0].Severity != template.Warning || ds[0].Range.String() != at(t, src, "stageVariables.tier") {
		t.Errorf("want one warning at the mapping source, got:\n%s", diagText(ds))
	}
	stages := plan.Apis[0].Stages
	if len(stages) != 2 {
		t.Fatalf("%d stages, want 2", len(stages))
	}
	dev, prod := stages[0].Routes["$default"].Integration, stages[1].Routes["$default"].Integration
	if dev.URL != "http://localhost:8080/ws" || prod.URL != "http://example.com/ws" {
		t.Errorf("URLs %q and %q", dev.URL, prod.URL)
	}
	want := Step{Target: "header", Name: "X-Tier", Source: Source{Kind: SourceLiteral, Name: "tier", Literal: "gold", Expr: "stageVariables.tier"}}
	if len(dev.Mapping) != 1 || fmt.Sprint(dev.Mapping[0]) != fmt.Sprint(want) {
		t.Errorf("dev mapping %+v, want [%+v]", dev.Mapping, want)
	}
	if len(prod.Mapping) != 0 {
		t.Errorf("prod mapping %+v, want none", prod.Mapping)
	}
}

// TestCompileStageFilter: --stage keeps only that stage, and the implicit
// "local" stage of an Api without stages can be named too.
func TestCompileStageFilter(t *testing.T) {
	plan, ds := Compile(load(t, stagedTemplate), Options{Stage: "dev"})
	if plan == nil {
		t.Fatalf("no plan:\n%s", diagText(ds))
	}
	if n := len(plan.Apis[0].Stages); n != 1 || plan.Apis[0].Stages[0].Name != "dev" {
		t.Errorf("stages %+v, want only dev", plan.Apis[0].Stages)
	}
	noStage := `Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: plain
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: $request.body.action
  Route:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: $default
      Target: !Join [/, [integrations, !Ref Backend]]
  Backend:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: HTTP_PROXY
      IntegrationUri: http://127.0.0.1:9000/
`
	plan, ds = Compile(load(t, noStage), Options{Stage: "local"})
	if plan == nil || len(plan.Apis) != 1 || plan.Apis[0].Stages[0].Path != "/local" {
		t.Fatalf("plan %+v, diagnostics:\n%s", plan, diagText(ds))
	}
	_, ds = Compile(load(t, noStage), Options{Stage: "dev"})
	d := findDiag(t, ds, "WSGW8001", "")
	if !strings.Contains(d.Message, "(its stages: local)") {
		t.Errorf("message %q", d.Message)
	}
}

// A template with an invalid selection expression has no plan, whether Check
// or the compiler reports it.
func TestCompileNoPlanOnErrors(t *testing.T) {
	src := strings.Replace(stagedTemplate, "$request.body.action", "$request.header.action", 1)
	plan, ds := Compile(load(t, src), Options{Stage: "dev"})
	if plan != nil || !ds.HasErrors() {
		t.Fatalf("plan %v, diagnostics:\n%s", plan, diagText(ds))
	}
	if d := ds[0]; d.Range.String() != at(t, src, "$request.header.action") {
		t.Errorf("first diagnostic %s, want it at the expression", d.Text())
	}
}

// TestCompilerFallbacks: what the compiler once reported again behind Check
// (RulePlan) Check reports on its own, at the same place, and no plan is
// built that would fail at message time (SPEC ). The compiler lowers the
// model Check bound and re-derives none of it (issue 16).
func TestCompilerFallbacks(t *testing.T) {
	tests := []struct {
		name, old, new string
		pos            string // needle for the position
		msg            string
	}{
		{"selection expression", "RouteSelectionExpression: $request.body.action", "RouteSelectionExpression: ${request.body.action",
			"${request.body.action", "RouteSelectionExpression of Api: ${request.body.action has no closing }"},
		{"mapping target", "integration.request.header.X-Tier", "integration.request.path.tier",
			"integration.request.path.tier", "RequestParameters of Backend: integration.request.path.tier is not a mapping target"},
		{"mapping source", "stageVariables.tier", "context.stag",
			"context.stag", "source of integration.request.header.X-Tier: context.stag is not a context variable of WebSocket APIs"},
		{"target form", "Target: !Join [/, [integrations, !Ref Backend]]", "Target: !Ref Backend",
			"!Ref Backend\n", "Target of Route must be integrations/<IntegrationId>"},
		{"target to nothing", "Target: !Join [/, [integrations, !Ref Backend]]", "Target: integrations/nope",
			"integrations/nope", "Target of Route names integration nope, which is not an integration of this template"},
		{"duplicate route key", "RouteKey: mock", "RouteKey: $default",
			"$default\n      Target: !Join [/, [integrations, !Ref Mock]]", "route key $default of MockRoute is already used by Route"},
		{"duplicate stage", "StageName: prod", "StageName: dev",
			"dev\n      StageVariables:\n        host: ':80'", "stage dev of Api is already defined by Dev"},
		{"missing selection expression", "      RouteSelectionExpression: $request.body.action\n", "",
			"Api:", "WebSocket Api Api needs a RouteSelectionExpression"},
		{"stage variable the stage lacks", "        host: localhost:8080\n", "",
			"http://${stageVariables.host}/ws", "IntegrationUri of Backend uses ${stageVariables.host}, which stage dev does not define"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(stagedTemplate, tt.old, tt.new, 1)
			if src == stagedTemplate {
				t.Fatalf("%q is not in the template", tt.old)
			}
			plan, ds := Compile(load(t, src), Options{Stage: "dev"})
			if plan != nil {
				t.Fatalf("a plan, diagnostics:\n%s", diagText(ds))
			}
			want := at(t, src, tt.pos)
			if !slices.ContainsFunc(ds, func(d template.Diagnostic) bool {
				return d.Severity == template.Error && d.Range.String() == want && d.Rule != RulePlan.ID
			}) {
				t.Errorf("no error of Check at %s (the compiler said %q); diagnostics:\n%s", want, tt.msg, diagText(ds))
			}
		})
	}
}

func TestCompileNil(t *testing.T) {
	if p, ds := Compile(nil, Options{}); p != nil || ds != nil {
		t.Errorf("Compile(nil) = %v, %v", p, ds)
	}
}

// BenchmarkCompile measures Check plus compiling the vpclink example (4 routes,
// 4 integrations with 12 mapping steps, one stage); loading is not counted.
func BenchmarkCompile(b *testing.B) {
	src, err := os.ReadFile("../examples/vpclink/template.yaml")
	if err != nil {
		b.Fatal(err)
	}
	st, ds := template.Load("template.yaml", src, template.Options{})
	if ds.HasErrors() {
		b.Fatal(ds.Err())
	}
	b.ReportAllocs()
	for b.Loop() {
		if p, _ := Compile(st, Options{}); p == nil {
			b.Fatal("no plan")
		}
	}
}

// TestBuild checks the whole way from text to plan: errors of either stage
// give no plan, warnings come back with one.
func TestBuild(t *testing.T) {
	good := "Resources:\n  Api: {Type: AWS::ApiGatewayV2::Api, Properties: {Name: a, ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action}}\n" +
		"  Integ: {Type: AWS::ApiGatewayV2::Integration, Properties: {ApiId: !Ref Api, IntegrationType: HTTP_PROXY, IntegrationUri: \"http://127.0.0.1:1/x\"}}\n" +
		"  Route: {Type: AWS::ApiGatewayV2::Route, Properties: {ApiId: !Ref Api, RouteKey: $default, Target: !Join [/, [integrations, !Ref Integ]]}}\n"
	tests := []struct {
		name, src string
		opts      Options
		plan      bool
		rule      string
	}{
		{"good", good, Options{}, true, ""},
		{"warning keeps the plan", good + "  Unused: {Type: AWS::ApiGatewayV2::Integration, Properties: {ApiId: !Ref Api, IntegrationType: MOCK}}\n", Options{}, true, "WSGW6001"},
		{"template error", "Resources: [\n", Options{}, false, "WSGW1001"},
		{"check error", strings.Replace(good, "$default", "$dflt", 1), Options{}, false, "WSGW3003"},
		{"plan error", good, Options{Stage: "prod"}, false, "WSGW8001"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, ds := Build("b.yaml", []byte(tc.src), template.Options{}, tc.opts)
			if (p != nil) != tc.plan {
				t.Fatalf("plan = %v, want %v; diagnostics: %v", p != nil, tc.plan, ds)
			}
			if tc.rule == "" && len(ds) > 0 || tc.rule != "" && !slices.ContainsFunc(ds, func(d template.Diagnostic) bool { return d.Rule == tc.rule }) {
				t.Errorf("diagnostics %v, want rule %q", ds, tc.rule)
			}
		})
	}
}

// A panic while compiling (here CanRun, the runtime's callback) is a
// diagnostic of Build, not a crash: serve's reload keeps the last good plan
// (issue 12).
func TestBuildRecoversPanic(t *testing.T) {
	src, err := os.ReadFile("testdata/plans/lambda.yaml")
	if err != nil {
		t.Fatal(err)
	}
	canRun := func(*Function) (bool, string) { panic("injected panic") }
	plan, ds := Build("lambda.yaml", src, template.Options{}, Options{CanRun: canRun})
	if plan != nil || !ds.HasErrors() {
		t.Fatalf("plan %v, diagnostics %v", plan, ds)
	}
	want := "lambda.yaml:1:1: error: wsgw failed on this template: injected panic (a bug in wsgw: please report it with the template) [WSGW8004]"
	if !slices.ContainsFunc(ds, func(d template.Diagnostic) bool { return d.Text() == want }) {
		t.Errorf("diagnostics %v, want %s", ds, want)
	}
}

// TestCheckCoversForeignResources: an IntegrationResponse or Authorizer whose
// ApiId is an HTTP API, but which a WebSocket API's integration or $connect
// route uses all the same, is compiled into the plan; Check reports what
// would not compile in it (the compiler once did, as WSGW8004), so validate
// and plan agree (issue 16).
func TestCheckCoversForeignResources(t *testing.T) {
	const apis = "Resources:\n" +
		"  Api: {Type: AWS::ApiGatewayV2::Api, Properties: {Name: a, ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action}}\n" +
		"  Http: {Type: AWS::ApiGatewayV2::Api, Properties: {Name: h, ProtocolType: HTTP}}\n"
	tests := []struct {
		name, src string
		want      map[string]string // rule -> needle for its position
	}{
		{"integration response", apis +
			"  Integ: {Type: AWS::ApiGatewayV2::Integration, Properties: {ApiId: !Ref Api, IntegrationType: MOCK}}\n" +
			"  Route: {Type: AWS::ApiGatewayV2::Route, Properties: {ApiId: !Ref Api, RouteKey: $default, Target: !Join [/, [integrations, !Ref Integ]]}}\n" +
			"  Resp: {Type: AWS::ApiGatewayV2::IntegrationResponse, Properties: {ApiId: !Ref Http, IntegrationId: !Ref Integ, IntegrationResponseKey: \"/5[/\", ResponseTemplates: {\"$default\": \"#if(\"}}}\n",
			map[string]string{RuleResponseKey.ID: `"/5[/"`, RuleTemplateSyntax.ID: `"}}}`}}, // the end of the template, where VTL finds the error
		{"authorizer", apis +
			"  Integ: {Type: AWS::ApiGatewayV2::Integration, Properties: {ApiId: !Ref Api, IntegrationType: MOCK}}\n" +
			"  Route: {Type: AWS::ApiGatewayV2::Route, Properties: {ApiId: !Ref Api, RouteKey: $connect, AuthorizationType: CUSTOM, AuthorizerId: !Ref Auth, Target: !Join [/, [integrations, !Ref Integ]]}}\n" +
			"  Auth: {Type: AWS::ApiGatewayV2::Authorizer, Properties: {ApiId: !Ref Http, AuthorizerType: JWT, Name: j}}\n",
			map[string]string{RuleAuthorizerType.ID: "JWT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := Check(load(t, tt.src))
			for rule, needle := range tt.want {
				findDiag(t, ds, rule, at(t, tt.src, needle))
			}
			if plan, ds := Compile(load(t, tt.src), Options{}); plan != nil || slices.ContainsFunc(ds, func(d template.Diagnostic) bool { return d.Rule == RulePlan.ID }) {
				t.Errorf("plan %v, diagnostics:\n%s", plan, diagText(ds))
			}
		})
	}
}
