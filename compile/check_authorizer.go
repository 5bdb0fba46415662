package compile

import (
	"strings"

	"github.com/wsgw/wsgw/template"
)

// checkAuthorizer checks an Authorizer of a WebSocket Api: its type and
// AuthorizerUri (WSGW3017) and its identity sources (WSGW3018).
func (c *checker) checkAuthorizer(au *authorizerInfo) {
	if (!au.ok || au.api == nil) && !au.connect {
		return // an HTTP API's, or ApiId is wrong (reported)
	}
	rs := au.res
	if n := rs.Prop("AuthorizerType"); n != nil && str(n) != "REQUEST" {
		c.report(RuleAuthorizerType, n.Range, template.DidYouMean(str(n), []string{"REQUEST"}),
			"AuthorizerType of %s is %s; WebSocket APIs support only REQUEST (Lambda) authorizers", rs.LogicalID, str(n))
		return
	}
	if uri := rs.Prop("AuthorizerUri"); uri == nil {
		c.report(RuleAuthorizerType, rs.Range, "", "authorizer %s needs an AuthorizerUri naming the Lambda function to invoke", rs.LogicalID)
	} else if v := str(uri); !strings.Contains(v, "${stageVariables.") {
		if _, _, ok := invokedFunction(v); !ok {
			c.report(RuleAuthorizerType, uri.Range, "",
				"AuthorizerUri of %s is %q; it must be arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations", rs.LogicalID, v)
		}
	}
	for _, id := range au.sources {
		switch {
		case id.err == errNotIdentityString:
			c.report(RuleIdentitySource, id.at.Range, "", "IdentitySource of %s must list strings such as route.request.header.Auth", rs.LogicalID)
		case id.err != nil:
			fix := ""
			if e, ok := id.err.(*exprError); ok {
				fix = e.Fix
			}
			c.report(RuleIdentitySource, id.at.Range, fix, "IdentitySource of %s: %v; use %s", rs.LogicalID, id.err, orList(identitySourceForms))
		}
	}
}
