package compile

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/wsgw/wsgw/template"
)

// routesStagesYAML is an Api with n MOCK routes and m stages: a plan of n*m routes.
func routesStagesYAML(n, m int) string {
	var b strings.Builder
	b.WriteString("Resources:\n  Api: {Type: AWS::ApiGatewayV2::Api, Properties: {Name: a, ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action}}\n")
	b.WriteString("  Integ: {Type: AWS::ApiGatewayV2::Integration, Properties: {ApiId: !Ref Api, IntegrationType: MOCK}}\n")
	for i := range n {
		fmt.Fprintf(&b, "  R%d: {Type: AWS::ApiGatewayV2::Route, Properties: {ApiId: !Ref Api, RouteKey: k%d, Target: !Sub 'integrations/${Integ}'}}\n", i, i)
	}
	for i := range m {
		fmt.Fprintf(&b, "  S%d: {Type: AWS::ApiGatewayV2::Stage, Properties: {ApiId: !Ref Api, StageName: s%d}}\n", i, i)
	}
	return b.String()
}

// Issue 12: a plan holds each route once per stage; a template of a few
// thousand of each would compile into gigabytes, so Check refuses a plan of
// more than maxPlanRoutes (WSGW1015) and Build never compiles it.
func TestPlanBudgetRoutesStages(t *testing.T) {
	tests := []struct {
		name       string
		routes     int
		stages     int
		overBudget bool
	}{
		{"AWS quotas", 300, 10, false},
		{"just under", 250, 200, false},
		{"just over", 250, 201, true},
		{"thousands of each", 3000, 3000, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plan, ds := Build("t.yaml", []byte(routesStagesYAML(tc.routes, tc.stages)), template.Options{}, Options{})
			var got []template.Diagnostic
			for _, d := range ds {
				if d.Rule == RulePlanBudget.ID {
					got = append(got, d)
				}
			}
			if !tc.overBudget {
				if len(got) > 0 || plan == nil {
					t.Fatalf("refused: %v", ds)
				}
				return
			}
			if len(got) != 1 || plan != nil {
				t.Fatalf("plan %v, diagnostics %v", plan != nil, got)
			}
			want := fmt.Sprintf("t.yaml:2:3: error: Api has %d routes and %d stages: with the Apis before it, the plan would hold %d routes over all stages, more than wsgw's budget of 50000 [WSGW1015]", tc.routes, tc.stages, tc.routes*tc.stages)
			if got[0].Text() != want {
				t.Errorf("got  %s\nwant %s", got[0].Text(), want)
			}
		})
	}
}

// An authorizer's URI is made once per stage: 200 ${stageVariables.v} of
// 20 KB over 10 stages would be 40 MB of URLs (WSGW1015); 100 of them over
// 10 stages, 20 MB, compile.
func TestPlanBudgetAuthorizerURI(t *testing.T) {
	for _, tc := range []struct {
		refs       int
		overBudget bool
	}{{100, false}, {200, true}} {
		t.Run(fmt.Sprint(tc.refs), func(t *testing.T) {
			var b strings.Builder
			fmt.Fprintf(&b, `Resources:
  Api: {Type: AWS::ApiGatewayV2::Api, Properties: {Name: a, ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action}}
  Integ: {Type: AWS::ApiGatewayV2::Integration, Properties: {ApiId: !Ref Api, IntegrationType: MOCK}}
  Connect: {Type: AWS::ApiGatewayV2::Route, Properties: {ApiId: !Ref Api, RouteKey: $connect, AuthorizationType: CUSTOM, AuthorizerId: !Ref Auth, Target: !Sub 'integrations/${Integ}'}}
  Auth:
    Type: AWS::ApiGatewayV2::Authorizer
    Properties:
      ApiId: !Ref Api
      Name: auth
      AuthorizerType: REQUEST
      AuthorizerUri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:f%s/invocations
`, strings.Repeat("${stageVariables.v}", tc.refs))
			for i := range 10 {
				fmt.Fprintf(&b, "  S%d: {Type: AWS::ApiGatewayV2::Stage, Properties: {ApiId: !Ref Api, StageName: s%d, StageVariables: {v: %s}}}\n", i, i, strings.Repeat("v", 20_000))
			}
			st, ds := template.Load("a.yaml", []byte(b.String()), template.Options{})
			if ds.HasErrors() {
				t.Fatal(ds)
			}
			got := slices.ContainsFunc(Check(st), func(d template.Diagnostic) bool {
				return d.Rule == RulePlanBudget.ID && d.Range.Line == 11 && strings.Contains(d.Message, "AuthorizerUri of Auth")
			})
			if got != tc.overBudget {
				t.Errorf("WSGW1015 at the AuthorizerUri: %v, want %v", got, tc.overBudget)
			}
		})
	}
}
