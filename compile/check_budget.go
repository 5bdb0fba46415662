package compile

import (
	"strings"

	"github.com/wsgw/wsgw/template"
)

// The plan holds each route once per stage of its Api, with the integration's
// URL made for that stage (stage variables substituted): a template of a few
// thousand routes and a few thousand stages, or a long URL full of
// ${stageVariables.x} with a long value, would compile into gigabytes. So a
// plan, like the template's evaluation (template.MaxEvalBytes), has a budget
// (our choice, issue 12): at most maxPlanRoutes routes over all stages of all
// Apis (API Gateway's own quotas, 300 routes and 10 stages per Api, make
// 3,000), and at most maxPlanURLBytes of integration and authorizer URLs
// over them. Check
// reports a template over it (RulePlanBudget), so validate refuses what serve
// could not compile.
const (
	maxPlanRoutes   = 50_000
	maxPlanURLBytes = template.MaxEvalBytes
)

// RulePlanBudget reports a template whose plan would be over the budget.
var RulePlanBudget = template.Rule{ID: "WSGW1015", Severity: template.Error, Summary: "the compiled plan must stay within wsgw's budget: at most 50,000 routes over all stages, at most 32 MB of integration and authorizer URLs with stage variables substituted"}

// checkPlanSize reports the Api at which the plan goes over its budget. URL
// sizes are bounded from above (each ${stageVariables.x} counts as the
// stage's longest value), so the check costs one pass over routes and stages.
func (c *checker) checkPlanSize() {
	pairs, bytes := 0, 0
	refs := map[*integInfo]int{}
	for _, a := range c.apiList {
		if !a.websocket {
			continue
		}
		stages := max(1, len(a.stages))
		pairs += len(a.routes) * stages
		if pairs > maxPlanRoutes {
			c.report(RulePlanBudget, a.res.Range, "", "%s has %d routes and %d stages: with the Apis before it, the plan would hold %d routes over all stages, more than wsgw's budget of %d", a.res.LogicalID, len(a.routes), stages, pairs, maxPlanRoutes)
			return
		}
		longest := make([]int, stages)
		for i, s := range a.stages {
			if vars := s.res.Prop("StageVariables"); vars != nil {
				for _, f := range vars.Fields {
					longest[i] = max(longest[i], len(f.Value.Str()))
				}
			}
		}
		// Authorizers are compiled once per stage (for the $connect route).
		for _, au := range a.authorizers {
			rs := au.res
			uri := rs.Prop("AuthorizerUri")
			if uri == nil {
				continue
			}
			n := strings.Count(uri.Str(), "${stageVariables.")
			for _, l := range longest {
				bytes += len(uri.Str()) + n*l
			}
			if bytes > maxPlanURLBytes {
				c.report(RulePlanBudget, uri.Range, "", "AuthorizerUri of %s, with each stage's variables substituted, makes the plan's URLs over wsgw's budget of %d MB", rs.LogicalID, maxPlanURLBytes>>20)
				return
			}
		}
		for _, r := range a.routes {
			if r.integ == nil {
				continue
			}
			uri := r.integ.res.Prop("IntegrationUri")
			if uri == nil {
				continue
			}
			n, ok := refs[r.integ]
			if !ok {
				n = strings.Count(uri.Str(), "${stageVariables.")
				refs[r.integ] = n
			}
			for _, l := range longest {
				bytes += len(uri.Str()) + n*l
			}
			if bytes > maxPlanURLBytes {
				c.report(RulePlanBudget, uri.Range, "", "IntegrationUri of %s, with each stage's variables substituted for each route, makes the plan's URLs over wsgw's budget of %d MB", r.integ.res.LogicalID, maxPlanURLBytes>>20)
				return
			}
		}
	}
}
