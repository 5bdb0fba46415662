package compile

import (
	"fmt"
	"slices"
	"strings"

	"github.com/wsgw/wsgw/template"
)

// reservedRouteKeys are the route keys API Gateway gives a meaning; no other key may start with $.
var reservedRouteKeys = []string{"$connect", "$disconnect", "$default"}

const targetPrefix = "integrations/"

// target resolves a Route's Target to its Integration, reporting a Target
// that is malformed (WSGW3004), names no Integration (WSGW3005) or an
// Integration of another Api (WSGW3006).
func (c *checker) target(r *routeInfo) *integInfo {
	n := r.res.Prop("Target")
	if n == nil {
		return nil
	}
	v := str(n)
	rest, ok := strings.CutPrefix(v, targetPrefix)
	if !ok {
		fix := ""
		if rs := c.st.ByPhysicalID(template.TypeIntegration, v); rs != nil && v != "" {
			fix = fmt.Sprintf("write !Sub integrations/${%s}", rs.LogicalID)
		} else if head, tail, found := strings.Cut(v, "/"); found && template.Suggest(head+"/", []string{targetPrefix}) != "" {
			fix = "did you mean " + targetPrefix + tail + "?"
		}
		c.report(RuleTargetForm, n.Range, fix, "Target of %s is %q; it must be integrations/<IntegrationId>", r.res.LogicalID, v)
		return nil
	}
	if rest == "" || strings.Contains(rest, "/") {
		c.report(RuleTargetForm, n.Range, "", "Target of %s is %q; it must be integrations/<IntegrationId>", r.res.LogicalID, v)
		return nil
	}
	// The Integration: from the Ref inside the Target, else by its ID.
	id := &template.Node{Kind: template.String, Value: rest, Range: n.Range, Links: n.Links}
	rs, at, p := c.resolveRef(id, "the integration ID in Target", r.res.LogicalID, template.TypeIntegration)
	if p != nil {
		if len(n.Links) == 0 {
			// The fixes of resolveRef speak of !Ref, which does not fit inside a Target.
			ids := c.st.LogicalIDs(template.TypeIntegration)
			p.fix = ""
			if slices.Contains(ids, rest) {
				p.fix = fmt.Sprintf("write !Sub integrations/${%s}", rest)
			} else if s := template.Suggest(rest, ids); s != "" {
				p.fix = fmt.Sprintf("did you mean !Sub integrations/${%s}?", s)
			}
		}
		c.report(RuleTargetIntegration, p.at, p.fix, "%s", p.msg)
		return nil
	}
	in := c.integs[rs.LogicalID]
	switch {
	case r.api == nil:
		// The Route's ApiId is wrong (reported); the Api cannot be compared.
		return in
	case in == nil:
		c.report(RuleTargetSameApi, at, "", "Target of %s names %s, which belongs to another Api than %s", r.res.LogicalID, rs.LogicalID, r.api.res.LogicalID)
		return nil
	case in.api != nil && in.api != r.api:
		c.report(RuleTargetSameApi, at, "", "Target of %s names %s, an Integration of %s; the route belongs to %s", r.res.LogicalID, rs.LogicalID, in.api.res.LogicalID, r.api.res.LogicalID)
		return in
	}
	return in
}

func (c *checker) checkRoute(r *routeInfo) {
	if r == nil {
		return // a Route of an HTTP API
	}
	rs := r.res
	keyNode := rs.Prop("RouteKey")
	if keyNode.IsScalar() && keyNode.Kind != template.Null && r.key == "" {
		// API Gateway refuses an empty route key; a message whose selection
		// expression gives nothing goes to $default, not to such a route.
		c.report(RuleRouteKeyDollar, keyNode.Range, "name the route's action, or use $default",
			"route key of %s is empty", rs.LogicalID)
	}
	if strings.HasPrefix(r.key, "$") && !slices.Contains(reservedRouteKeys, r.key) {
		c.report(RuleRouteKeyDollar, keyNode.Range, template.DidYouMean(r.key, reservedRouteKeys),
			"route key %s starts with $, which only $connect, $disconnect and $default may", r.key)
	}
	if r.api != nil && r.key != "" {
		if other := r.api.firstRoute[r.key]; other != r {
			c.report(RuleRouteKeyUnique, keyNode.Range, "", "route key %s is already used by %s (line %d) in %s",
				r.key, other.res.LogicalID, other.res.Prop("RouteKey").Range.Line, r.api.res.LogicalID)
		}
	}
	connect := r.key == "$connect"

	c.checkRouteAuth(r)

	// RouteResponseSelectionExpression (WSGW3010).
	if n := rs.Prop("RouteResponseSelectionExpression"); n != nil && str(n) != "$default" {
		fix := ""
		if v := str(n); v == "default" || v == `\$default` || strings.EqualFold(v, "$default") {
			fix = "did you mean $default?"
		}
		c.report(RuleRouteResponseExpr, n.Range, fix, "RouteResponseSelectionExpression of %s is %q; WebSocket APIs support only $default", rs.LogicalID, str(n))
	}

	// RequestParameters (WSGW3011, WSGW3012).
	if f, ok := rs.Properties.Field("RequestParameters"); ok {
		if !connect && r.key != "" {
			c.report(RuleRouteParamsConnect, f.KeyRange, "", "RequestParameters on route %s: only the $connect route has request parameters", r.key)
		}
		c.checkRouteParams(rs, f.Value)
	}
}

// checkRouteAuth checks a route's authorization (WSGW3007-3009, WSGW6004).
func (c *checker) checkRouteAuth(r *routeInfo) {
	rs, connect := r.res, r.key == "$connect"
	authNode := rs.Prop("AuthorizationType")
	auth, authOK := str(authNode), false
	if auth == "JWT" {
		c.report(RuleAuthorizationType, authNode.Range, "", "AuthorizationType of %s is JWT, which only HTTP APIs support; it must be NONE, AWS_IAM or CUSTOM", rs.LogicalID)
	} else {
		auth, authOK = c.checkEnum(rs, "AuthorizationType", []string{"NONE", "AWS_IAM", "CUSTOM"}, RuleAuthorizationType)
	}
	authzNode := rs.Prop("AuthorizerId")
	if !connect && r.key != "" {
		if authNode != nil && auth != "NONE" && authOK {
			c.report(RuleAuthOnlyConnect, authNode.Range, "", "AuthorizationType %s on route %s: WebSocket APIs authorize only the $connect route", auth, r.key)
		}
		if authzNode != nil {
			c.report(RuleAuthOnlyConnect, authzNode.Range, "", "AuthorizerId on route %s: WebSocket APIs authorize only the $connect route", r.key)
		}
	}
	if auth == "CUSTOM" && (connect || r.key == "") {
		if authzNode == nil {
			c.report(RuleCustomAuthorizer, authNode.Range, "", "AuthorizationType CUSTOM on %s needs an AuthorizerId", rs.LogicalID)
		} else if a, at, ok := c.reported(*r.authorizer, RuleCustomAuthorizer); ok && r.api != nil {
			if o := c.ownerOf(a); o.ok && o.api != nil && o.api != r.api {
				c.report(RuleCustomAuthorizer, at, "", "AuthorizerId of %s names %s, an Authorizer of %s; the route belongs to %s", rs.LogicalID, a.LogicalID, o.api.res.LogicalID, r.api.res.LogicalID)
			}
		}
	}
	if connect && authzNode != nil && auth != "CUSTOM" {
		how := "not set"
		if authNode != nil {
			how = auth
		}
		c.report(RuleUnusedAuthorizer, authzNode.Range, "set AuthorizationType: CUSTOM to use it",
			"AuthorizerId of %s is ignored because its AuthorizationType is %s", rs.LogicalID, how)
	}
}

var routeParamPrefixes = []string{"route.request.header", "route.request.querystring"}

// checkRouteParams checks the keys and values of a Route's RequestParameters.
func (c *checker) checkRouteParams(rs *template.Resource, params *template.Node) {
	if params.Kind != template.Map {
		c.report(RuleRouteParamsForm, params.Range, "", "RequestParameters of %s must be a mapping of route.request.header.<name> or route.request.querystring.<name> to {Required: true|false}", rs.LogicalID)
		return
	}
	for _, f := range params.Fields {
		parts := strings.SplitN(f.Key, ".", 4)
		prefix := strings.Join(parts[:min(3, len(parts))], ".")
		if !slices.Contains(routeParamPrefixes, prefix) || len(parts) < 4 || parts[3] == "" {
			fix := ""
			if s := template.Suggest(prefix, routeParamPrefixes); s != "" && len(parts) == 4 {
				fix = "did you mean " + s + "." + parts[3] + "?"
			}
			c.report(RuleRouteParamsForm, f.KeyRange, fix, "%s is not a route request parameter; use route.request.header.<name> or route.request.querystring.<name>", f.Key)
			continue
		}
		v := f.Value
		if v.Kind != template.Map {
			c.report(RuleRouteParamsForm, v.Range, "", "%s must map to {Required: true|false}, not a %s", f.Key, v.Kind)
			continue
		}
		for _, g := range v.Fields {
			switch {
			case g.Key != "Required":
				c.report(RuleRouteParamsForm, g.KeyRange, template.DidYouMean(g.Key, []string{"Required"}), "%s has no setting %s; only Required", f.Key, g.Key)
			case str(g.Value) != "true" && str(g.Value) != "false":
				c.report(RuleRouteParamsForm, g.Value.Range, "", "Required of %s must be true or false", f.Key)
			}
		}
	}
}

// declaredParam reports whether the $connect route rs declares the route
// request parameter that a connect-only mapping source reads.
func declaredParam(rs *template.Resource, src Source) bool {
	params := rs.Prop("RequestParameters")
	if params == nil || params.Kind != template.Map {
		return false
	}
	want := "route.request.querystring." + src.Name
	header := src.Kind == SourceHeader || src.Kind == SourceMultiValueHeader
	if header {
		want = "route.request.header." + src.Name
	}
	for _, f := range params.Fields {
		if f.Key == want || header && strings.EqualFold(f.Key, want) {
			return true
		}
	}
	return false
}

// checkRouteResponse checks a RouteResponse: its Route (WSGW3013) and key (WSGW3014).
func (c *checker) checkRouteResponse(rs *template.Resource) {
	o := c.ownerOf(rs)
	if !o.ok {
		return
	}
	api := o.api
	if n := rs.Prop("RouteResponseKey"); n != nil && str(n) != "$default" {
		c.report(RuleRouteResponseKey, n.Range, template.DidYouMean(str(n), []string{"$default"}),
			"RouteResponseKey of %s is %q; WebSocket APIs support only $default", rs.LogicalID, str(n))
	}
	ref := c.routeResponses[rs.LogicalID]
	if ref == nil {
		return
	}
	route, at, ok := c.reported(*ref, RuleRouteResponseRoute)
	if !ok {
		return
	}
	r := c.routes[route.LogicalID]
	if r == nil || api != nil && r.api != nil && r.api != api {
		owner := "another Api"
		if r != nil && r.api != nil {
			owner = r.api.res.LogicalID
		}
		c.report(RuleRouteResponseRoute, at, "", "RouteId of %s names %s, a Route of %s; the RouteResponse belongs to %s", rs.LogicalID, route.LogicalID, owner, apiName(api))
	}
}

func apiName(a *apiInfo) string {
	if a == nil {
		return "no Api of this template"
	}
	return a.res.LogicalID
}
