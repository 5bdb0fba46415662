package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsgw/wsgw/compile"
	"github.com/wsgw/wsgw/template"
)

// writeTemplate writes src to a file in a fresh directory and returns its path.
func writeTemplate(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "t.yaml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const planTemplate = `Parameters:
  Port:
    Type: Number
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: shop
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: ${request.body.service}/${request.body.items[0].kind}
  Connect:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: $connect
      Target: !Join [/, [integrations, !Ref Backend]]
  Order:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: shop/order
      RouteResponseSelectionExpression: $default
      Target: !Join [/, [integrations, !Ref Backend]]
  OrderResponse:
    Type: AWS::ApiGatewayV2::RouteResponse
    Properties:
      ApiId: !Ref Api
      RouteId: !Ref Order
      RouteResponseKey: $default
  Backend:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: HTTP_PROXY
      IntegrationUri: !Sub http://127.0.0.1:${Port}/${!stageVariables.version}/ws
      TimeoutInMillis: 2000
      RequestParameters:
        integration.request.header.X-Connection: context.connectionId
        integration.request.querystring.v: stageVariables.version
        integration.request.querystring.kind: route.request.body.$.items[0].kind
  Dev:
    Type: AWS::ApiGatewayV2::Stage
    Properties:
      ApiId: !Ref Api
      StageName: dev
      StageVariables:
        version: v2
      DefaultRouteSettings:
        ThrottlingRateLimit: 10
        ThrottlingBurstLimit: 20
      RouteSettings:
        shop/order:
          ThrottlingBurstLimit: 1
`

// SPEC: the text form shows, per Api and stage, the path, the selection
// expression and its parts, the route table and the mapping steps.
func TestPlanText(t *testing.T) {
	file := writeTemplate(t, planTemplate)
	out, errs, code := runWSGW("plan", "--param", "Port=8080", file)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	want := `api Api (shop, id nrxj3e58ce)
  route selection  ${request.body.service}/${request.body.items[0].kind}
                   = body.service + "/" + body.items[0].kind

  stage dev  /dev  (@connections /dev/@connections/{connectionId})
    variables   version=v2
    throttle    10 req/s, burst 20

    ROUTE       TWO-WAY  INTEGRATION  TYPE        TARGET                            TIMEOUT  MAPPINGS
    $connect    no       Backend      HTTP_PROXY  POST http://127.0.0.1:8080/v2/ws  2000ms   3
    shop/order  yes      Backend      HTTP_PROXY  POST http://127.0.0.1:8080/v2/ws  2000ms   3

    route shop/order throttle  10 req/s, burst 1

    mappings
      Backend
        header X-Connection  <- context.connectionId
        querystring kind     <- route.request.body.$.items[0].kind
        querystring v        <- stageVariables.version = "v2"
`
	if out != want {
		t.Errorf("wsgw plan printed:\n%s\nwant:\n%s", out, want)
	}
}

// SPEC: the JSON form is the Plan, as compile.Compile builds it.
func TestPlanJSON(t *testing.T) {
	file := writeTemplate(t, planTemplate)
	out, errs, code := runWSGW("plan", "--format", "json", "--param", "Port=8080", "--stage", "dev",
		"--integration", "Backend=https://backend.example.com/ws?a=1&b=2", file)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	st, ds := template.Load(file, []byte(planTemplate), template.Options{Params: map[string]string{"Port": "8080"}})
	plan, cds := compile.Compile(st, compile.Options{Stage: "dev", Integrations: map[string]string{"Backend": "https://backend.example.com/ws?a=1&b=2"}})
	if plan == nil {
		t.Fatalf("no plan: %v %v", ds, cds)
	}
	var want bytes.Buffer
	if err := plan.WriteJSON(&want); err != nil {
		t.Fatal(err)
	}
	if out != want.String() {
		t.Errorf("wsgw plan --format json printed:\n%s\nwant:\n%s", out, want.String())
	}
	if !strings.Contains(out, `"url": "https://backend.example.com/ws?a=1&b=2"`) {
		t.Errorf("the override is missing or HTML-escaped:\n%s", out)
	}
	var back compile.Plan
	if err := json.Unmarshal([]byte(out), &back); err != nil || len(back.Apis) != 1 {
		t.Errorf("the JSON does not read back as a plan: %v", err)
	}
}

func TestPlanFailures(t *testing.T) {
	good := writeTemplate(t, planTemplate)
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr []string // lines or fragments stderr must contain
	}{
		{"parameter without value", []string{"plan", good}, 1,
			[]string{filepath.ToSlash(good) + ":2:3: error: parameter Port has no Default; give it a value with --param Port=VALUE [WSGW1010]",
				"1 error, 0 warnings in " + good + ": no plan"}},
		{"unknown stage", []string{"plan", "--param", "Port=1", "--stage", "deb", good}, 1,
			[]string{"error: --stage deb: the template has no stage deb (its stages: dev) (did you mean dev?) [WSGW8001]"}},
		{"unknown integration", []string{"plan", "--param", "Port=1", "--integration", "Backen=http://127.0.0.1:1", good}, 1,
			[]string{"error: --integration Backen: the template has no integration or authorizer Backen (did you mean Backend?) [WSGW8002]"}},
		{"unreadable", []string{"plan", filepath.Join(t.TempDir(), "missing.yaml")}, 2, []string{"missing.yaml: cannot open"}},
		{"no template", []string{"plan"}, 2, []string{"plan needs exactly one TEMPLATE, got 0", "Run 'wsgw plan --help' for usage."}},
		{"two templates", []string{"plan", good, good}, 2, []string{"plan needs exactly one TEMPLATE, got 2"}},
		{"bad format", []string{"plan", "--format", "sarif", good}, 2, []string{`unknown --format "sarif" (want one of text, json, cloudformation)`}},
		{"bad integration flag", []string{"plan", "--integration", "Backend", good}, 2, []string{`--integration "Backend": want ID=URL`}},
		{"bad param flag", []string{"plan", "--param", "Port", good}, 2, []string{`--param "Port": want Name=Value`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := runWSGW(tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, errs)
			}
			if out != "" {
				t.Errorf("stdout should be empty, got:\n%s", out)
			}
			for _, s := range tt.stderr {
				if !strings.Contains(errs, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errs)
				}
			}
		})
	}
}

// Warnings go to stderr and the plan still prints.
func TestPlanWarnings(t *testing.T) {
	src := strings.Replace(planTemplate, "version: v2", "version: v2\n        unused: x", 1)
	src = strings.Replace(src, "integration.request.querystring.v: stageVariables.version", "integration.request.querystring.v: stageVariables.missing", 1)
	file := writeTemplate(t, src)
	out, errs, code := runWSGW("plan", "--param", "Port=1", file)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	if !strings.Contains(errs, ": warning: ") || !strings.Contains(errs, "missing") {
		t.Errorf("stderr lacks the warning:\n%s", errs)
	}
	if !strings.Contains(out, "MAPPINGS") || strings.Contains(out, "querystring v ") {
		t.Errorf("plan:\n%s", out)
	}
}

func TestPlanExamples(t *testing.T) {
	for _, ex := range []string{"../../examples/vpclink/template.yaml", "../../examples/chat/template.yaml", "../../examples/cdk/template.json"} {
		t.Run(filepath.Base(filepath.Dir(ex)), func(t *testing.T) {
			out, errs, code := runWSGW("plan", ex)
			if code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", code, errs)
			}
			if !strings.HasPrefix(out, "api ") || !strings.Contains(out, "ROUTE") {
				t.Errorf("plan:\n%s", out)
			}
		})
	}
}
