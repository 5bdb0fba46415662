package compile

// API Gateway's quotas per WebSocket API (the "API Gateway quotas for
// configuring and running a WebSocket API" table); they cannot be raised.
const (
	maxRoutes       = 300
	maxIntegrations = 300
	maxStages       = 10
)

// checkUnused reports what a WebSocket Api defines but never uses (WSGW6xxx).
func (c *checker) checkUnused(a *apiInfo) {
	for _, in := range a.integs {
		if len(in.usedBy) == 0 {
			c.report(RuleUnusedIntegration, in.res.Range, "", "Integration %s is not the Target of any route of %s", in.res.LogicalID, a.res.LogicalID)
		}
	}
	for _, r := range a.routes {
		rs := r.res
		if rs.Prop("Target") == nil {
			c.report(RuleRouteNoTarget, rs.Range, "add Target: !Sub integrations/${IntegrationLogicalId}", "route %s (%s) has no Target", r.key, rs.LogicalID)
		}
		rrse := rs.Prop("RouteResponseSelectionExpression")
		twoWay := str(rrse) == "$default"
		responses := c.responses[rs.LogicalID]
		switch {
		case twoWay && len(responses) == 0:
			c.report(RuleHalfTwoWay, rrse.Range, "add an AWS::ApiGatewayV2::RouteResponse with RouteResponseKey: $default",
				"route %s has RouteResponseSelectionExpression $default but no RouteResponse, so it sends nothing back", r.key)
		case rrse == nil && len(responses) > 0:
			for _, resp := range responses {
				c.report(RuleHalfTwoWay, resp.Range, "add RouteResponseSelectionExpression: $default to "+rs.LogicalID,
					"RouteResponse %s is unused: route %s has no RouteResponseSelectionExpression, so it sends nothing back", resp.LogicalID, r.key)
			}
		}
	}
}

// checkLimits reports an Api over API Gateway's quotas (WSGW7xxx).
func (c *checker) checkLimits(a *apiInfo) {
	if n := len(a.routes); n > maxRoutes {
		c.report(RuleTooManyRoutes, a.routes[maxRoutes].res.Range, "", "%s has %d routes; API Gateway allows at most %d per API", a.res.LogicalID, n, maxRoutes)
	}
	if n := len(a.integs); n > maxIntegrations {
		c.report(RuleTooManyIntegrations, a.integs[maxIntegrations].res.Range, "", "%s has %d integrations; API Gateway allows at most %d per API", a.res.LogicalID, n, maxIntegrations)
	}
	if n := len(a.stages); n > maxStages {
		c.report(RuleTooManyStages, a.stages[maxStages].res.Range, "", "%s has %d stages; API Gateway allows at most %d per API", a.res.LogicalID, n, maxStages)
	}
}
