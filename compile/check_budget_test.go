package compile

import (
	"fmt"
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
