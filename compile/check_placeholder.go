package compile

import (
	"fmt"

	"github.com/wsgw/wsgw/template"
)

// RulePlaceholder is reported where a value wsgw made up for a resource it
// does not run reaches something the gateway uses (SPEC ). Its ID sits
// with the template's rules, whose values it is about.
var RulePlaceholder = template.Rule{ID: "WSGW1016", Severity: template.Warning, Summary: "a Ref or GetAtt of a resource wsgw does not run (a load balancer, a queue, a role) is a made-up value; where an integration or authorizer URI, a stage variable or a mapping uses it, set it with --param Name=VALUE or --param Name.Attribute=VALUE"}

// checkPlaceholders reports the made-up values (SPEC) that reach what
// the gateway uses at run time: the URIs of the integrations it calls and of
// the authorizers, the request parameters and request templates of
// integrations, and stage variables.
func (c *checker) checkPlaceholders(a *apiInfo) {
	for _, in := range a.integs {
		rs := in.res
		typ := in.typ
		if typ == "AWS" && !in.lambdaService {
			continue // AWS service integrations do not run (yet): nothing uses their values
		}
		c.placeholdersIn(rs.Prop("IntegrationUri"), "IntegrationUri of "+rs.LogicalID)
		if rp := rs.Prop("RequestParameters"); rp != nil && rp.Kind == template.Map {
			for _, f := range rp.Fields {
				c.placeholdersIn(f.Value, fmt.Sprintf("%s (RequestParameters of %s)", f.Key, rs.LogicalID))
			}
		}
		if rt := rs.Prop("RequestTemplates"); rt != nil && rt.Kind == template.Map {
			for _, f := range rt.Fields {
				c.placeholdersIn(f.Value, fmt.Sprintf("request template %s of %s", f.Key, rs.LogicalID))
			}
		}
	}
	for _, au := range a.authorizers {
		c.placeholdersIn(au.res.Prop("AuthorizerUri"), "AuthorizerUri of "+au.res.LogicalID)
	}
	for _, s := range a.stages {
		if vars := s.res.Prop("StageVariables"); vars != nil && vars.Kind == template.Map {
			for _, f := range vars.Fields {
				c.placeholdersIn(f.Value, fmt.Sprintf("stage variable %s of %s", f.Key, s.res.LogicalID))
			}
		}
	}
}

// placeholdersIn warns at every Ref, GetAtt or ${...} in n whose value wsgw
// made up; what names n in messages.
func (c *checker) placeholdersIn(n *template.Node, what string) {
	if n == nil {
		return
	}
	for _, l := range n.Links {
		if l.Placeholder == "" {
			continue
		}
		kind := ""
		if rs := c.st.Resource(l.LogicalID); rs != nil {
			kind = " (" + rs.Type + ")"
		}
		c.report(RulePlaceholder, l.Range, "set it with --param "+l.Name()+"=VALUE",
			"%s uses %s, which wsgw makes up as %q because it does not run %s%s", what, l.Name(), l.Placeholder, l.LogicalID, kind)
	}
}
