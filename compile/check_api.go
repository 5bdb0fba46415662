package compile

import (
	"regexp"
	"slices"
	"strings"

	"github.com/wsgw/wsgw/template"
)

// httpOnlyApiProps are the Api properties the CloudFormation reference marks
// "Supported only for HTTP APIs" (quick create and OpenAPI import).
var httpOnlyApiProps = []string{"BasePath", "Body", "BodyS3Location", "CorsConfiguration", "CredentialsArn", "RouteKey", "Target"}

// apiKeySelections are the two values API Gateway documents for ApiKeySelectionExpression.
var apiKeySelections = []string{"$request.header.x-api-key", "$context.authorizer.usageIdentifierKey"}

func (c *checker) checkApi(a *apiInfo) {
	rs := a.res
	pt := rs.Prop("ProtocolType")
	if pt != nil && !a.websocket {
		c.checkEnum(rs, "ProtocolType", []string{"WEBSOCKET", "HTTP"}, RuleProtocolType)
	}
	if !a.websocket {
		return // an HTTP API (or an OpenAPI import): not wsgw's business
	}
	for _, f := range rs.Properties.Fields {
		if slices.Contains(httpOnlyApiProps, f.Key) {
			c.report(RuleHTTPOnlyApiProp, f.KeyRange, "", "%s is supported only for HTTP APIs, and %s is a WebSocket API", f.Key, rs.LogicalID)
		}
	}
	rse := rs.Prop("RouteSelectionExpression")
	if rse == nil {
		c.report(RuleSelectionRequired, rs.Range, "add RouteSelectionExpression: $request.body.action",
			"WebSocket API %s needs a RouteSelectionExpression", rs.LogicalID)
	} else if err := a.selErr; err != nil {
		fix := exprFix(err)
		if s := fixBodyVar(str(rse)); s != "" {
			fix = "did you mean " + s + "?"
		}
		c.report(RuleSelectionSyntax, rse.Range, fix, "RouteSelectionExpression of %s: %v", rs.LogicalID, err)
	}
	if n := rs.Prop("ApiKeySelectionExpression"); n != nil && !slices.Contains(apiKeySelections, str(n)) {
		c.report(RuleApiKeySelection, n.Range, template.DidYouMean(str(n), apiKeySelections),
			"ApiKeySelectionExpression of %s is %q; it must be %s", rs.LogicalID, str(n), orList(apiKeySelections))
	}
	if len(a.routes) == 0 {
		c.report(RuleApiWithoutRoutes, rs.Range, "", "WebSocket API %s has no routes; add an AWS::ApiGatewayV2::Route with ApiId: !Ref %s", rs.LogicalID, rs.LogicalID)
	}
}

// bodyVarTypo finds a misspelled request.body in a selection expression:
// $request.bdy.action, ${requests.body.action}.
var bodyVarTypo = regexp.MustCompile(`\$(\{?)([A-Za-z]+\.[A-Za-z]+)\.`)

// fixBodyVar returns expr with a misspelled $request.body corrected, or "".
func fixBodyVar(expr string) string {
	fixed, changed := expr, false
	for _, m := range bodyVarTypo.FindAllStringSubmatchIndex(expr, -1) {
		v := expr[m[4]:m[5]]
		if v != "request.body" && template.Suggest(v, []string{"request.body"}) != "" {
			fixed = strings.Replace(fixed, v+".", "request.body.", 1)
			changed = true
		}
	}
	if changed {
		return fixed
	}
	return ""
}

// exprFix returns the suggestion an expression error carries, if any.
func exprFix(err error) string {
	if e, ok := err.(*exprError); ok {
		return e.Fix
	}
	return ""
}
