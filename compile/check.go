package compile

import (
	"fmt"
	"slices"
	"strings"

	"github.com/wsgw/wsgw/template"
)

// Rules lists every rule wsgw reports, template, API and plan rules alike, in ID order.
func Rules() []template.Rule {
	rules := append(append(append(template.Rules(), apiRules...), functionRules...), planRules...)
	slices.SortFunc(rules, func(a, b template.Rule) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return rules
}

// Check runs the WebSocket API rules of SPEC §3 on a stack loaded without
// errors and returns what it finds, sorted by position. Apis whose
// ProtocolType is not WEBSOCKET (HTTP APIs) and the resources that belong to
// them are skipped.
func Check(st *template.Stack) template.Diagnostics {
	if st == nil {
		return nil
	}
	c := newChecker(st)
	c.index()
	for _, rs := range st.Resources {
		switch rs.Type {
		case template.TypeApi:
			c.checkApi(c.apis[rs.LogicalID])
		case template.TypeRoute:
			c.checkRoute(c.routes[rs.LogicalID])
			c.checkRouteModels(c.routes[rs.LogicalID])
		case template.TypeIntegration:
			c.checkIntegration(c.integs[rs.LogicalID])
			c.checkIntegrationTemplates(c.integs[rs.LogicalID])
		case template.TypeIntegrationResponse:
			c.checkIntegrationResponse(rs)
		case template.TypeModel:
			c.checkModel(rs)
		case template.TypeStage:
			c.checkStage(c.stages[rs.LogicalID])
		case template.TypeRouteResponse:
			c.checkRouteResponse(rs)
		case template.TypeAuthorizer:
			c.checkAuthorizer(rs)
		case template.TypeLambdaFunction, template.TypeSAMFunction:
			c.checkHandler(rs)
		}
	}
	c.checkFunctions()
	for _, a := range c.apiList {
		if a.websocket {
			c.checkStageVarUse(a)
			c.checkPlaceholders(a)
			c.checkUnused(a)
			c.checkLimits(a)
		}
	}
	c.checkPlanSize()
	c.ds.Sort()
	return c.ds
}

// checker holds what Check learns about the template: every Api with the
// resources that belong to it.
type checker struct {
	st   *template.Stack
	ds   template.Diagnostics
	seen map[string]bool

	apis    map[string]*apiInfo
	apiList []*apiInfo
	routes  map[string]*routeInfo
	integs  map[string]*integInfo
	stages  map[string]*stageInfo
	// deployApi maps a Deployment's logical ID to its Api (nil when unknown).
	deployApi map[string]*apiInfo
	// responses maps a Route's logical ID to the RouteResponses that name it.
	responses map[string][]*template.Resource
}

type apiInfo struct {
	res       *template.Resource
	websocket bool
	routes    []*routeInfo
	integs    []*integInfo
	stages    []*stageInfo
}

// routeKeys returns the route keys of the Api in template order.
func (a *apiInfo) routeKeys() []string {
	var keys []string
	for _, r := range a.routes {
		if r.key != "" && !slices.Contains(keys, r.key) {
			keys = append(keys, r.key)
		}
	}
	return keys
}

type routeInfo struct {
	res *template.Resource
	// api is the Route's Api, nil when ApiId names none.
	api *apiInfo
	key string
	// integ is the Integration the Target names, nil when it names none.
	integ *integInfo
}

type integInfo struct {
	res *template.Resource
	api *apiInfo
	typ string
	// usedBy lists the routes whose Target names the integration.
	usedBy []*routeInfo
}

type stageInfo struct {
	res  *template.Resource
	api  *apiInfo
	name string
}

func newChecker(st *template.Stack) *checker {
	return &checker{st: st, seen: map[string]bool{}, apis: map[string]*apiInfo{}, routes: map[string]*routeInfo{},
		integs: map[string]*integInfo{}, stages: map[string]*stageInfo{}, deployApi: map[string]*apiInfo{},
		responses: map[string][]*template.Resource{}}
}

// index reads the Apis and ties every Route, Integration, Stage and
// Deployment to its Api, reporting ApiIds that name no Api.
func (c *checker) index() {
	for _, rs := range c.st.OfType(template.TypeApi) {
		a := &apiInfo{res: rs, websocket: str(rs.Prop("ProtocolType")) == "WEBSOCKET"}
		c.apis[rs.LogicalID] = a
		c.apiList = append(c.apiList, a)
	}
	for _, rs := range c.st.OfType(template.TypeIntegration) {
		api, ok := c.apiOf(rs, RuleIntegrationApiID)
		if !ok {
			continue
		}
		in := &integInfo{res: rs, api: api, typ: str(rs.Prop("IntegrationType"))}
		c.integs[rs.LogicalID] = in
		if api != nil {
			api.integs = append(api.integs, in)
		}
	}
	for _, rs := range c.st.OfType(template.TypeRoute) {
		api, ok := c.apiOf(rs, RuleRouteApiID)
		if !ok {
			continue
		}
		r := &routeInfo{res: rs, api: api, key: str(rs.Prop("RouteKey"))}
		c.routes[rs.LogicalID] = r
		if api != nil {
			api.routes = append(api.routes, r)
		}
		r.integ = c.target(r)
		if r.integ != nil {
			r.integ.usedBy = append(r.integ.usedBy, r)
		}
	}
	for _, rs := range c.st.OfType(template.TypeDeployment) {
		if api, ok := c.apiOf(rs, RuleDeploymentApiID); ok {
			c.deployApi[rs.LogicalID] = api
		}
	}
	for _, rs := range c.st.OfType(template.TypeStage) {
		api, ok := c.apiOf(rs, RuleStageApiID)
		if !ok {
			continue
		}
		s := &stageInfo{res: rs, api: api, name: str(rs.Prop("StageName"))}
		c.stages[rs.LogicalID] = s
		if api != nil {
			api.stages = append(api.stages, s)
		}
	}
	c.indexResponses()
	for _, t := range []string{template.TypeRouteResponse, template.TypeIntegrationResponse, template.TypeAuthorizer, template.TypeModel} {
		for _, rs := range c.st.OfType(t) {
			c.apiOf(rs, RuleOtherApiID)
		}
	}
}

// apiOf returns the Api that rs's ApiId names. ok is false when the resource
// belongs to an Api that is not a WebSocket API, so that no rule looks at it;
// the Api is nil (and ok true) when ApiId names no Api, which is reported.
func (c *checker) apiOf(rs *template.Resource, rule template.Rule) (api *apiInfo, ok bool) {
	n := rs.Prop("ApiId")
	if n == nil {
		return nil, true // WSGW1012 reported it
	}
	target, _, ok := c.ref(n, "ApiId of "+rs.LogicalID, template.TypeApi, rule)
	if !ok || target == nil {
		return nil, true
	}
	api = c.apis[target.LogicalID]
	if api == nil || !api.websocket {
		return nil, false
	}
	return api, true
}

// shortType names a resource type in messages: "Integration" for AWS::ApiGatewayV2::Integration.
func shortType(t string) string {
	if i := strings.LastIndex(t, "::"); i >= 0 {
		return t[i+2:]
	}
	return t
}

// article returns "an" before a vowel, else "a".
func article(word string) string {
	if word != "" && strings.ContainsRune("AEIOUaeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}

// refProblem is why a property value does not reference what it must.
type refProblem struct {
	at  template.Range
	msg string
	fix string
}

// resolveRef resolves a property value that must reference a resource of type
// typ (ApiId, DeploymentId, ConnectionId, ...): through the Links a Ref or
// GetAtt left on it, or else by the physical ID it holds. what names the
// property in messages. A resolved resource comes back with the range of its
// Ref or GetAtt (or of the value); anything else comes back as a problem.
func (c *checker) resolveRef(n *template.Node, what, typ string) (*template.Resource, template.Range, *refProblem) {
	short := shortType(typ)
	for _, l := range n.Links {
		rs := c.st.Resource(l.LogicalID)
		if rs == nil {
			continue
		}
		if rs.Type != typ {
			return nil, l.Range, &refProblem{at: l.Range, msg: fmt.Sprintf("%s refers to %s, which is %s %s, not %s %s", what, l.LogicalID, article(rs.Type), rs.Type, article(short), short)}
		}
		if l.Attr != "" && l.Attr != short+"Id" {
			return nil, l.Range, &refProblem{at: l.Range, fix: "write !Ref " + l.LogicalID, msg: fmt.Sprintf("%s must be the ID of %s, not its %s attribute", what, l.LogicalID, l.Attr)}
		}
		return rs, l.Range, nil
	}
	v := str(n)
	if rs := c.st.ByPhysicalID(typ, v); rs != nil && v != "" {
		return rs, n.Range, nil
	}
	ids := c.st.LogicalIDs(typ)
	p := &refProblem{at: n.Range}
	switch {
	case !n.IsScalar() || v == "":
		p.msg = fmt.Sprintf("%s must reference %s %s of this template", what, article(short), short)
	case slices.Contains(ids, v):
		p.msg = fmt.Sprintf("%s is the logical ID %s, not the ID of %s %s", what, v, article(short), short)
		p.fix = "write !Ref " + v
	default:
		p.msg = fmt.Sprintf("%s is %q, which is not %s %s of this template", what, v, article(short), short)
		if s := template.Suggest(v, ids); s != "" {
			p.fix = "did you mean !Ref " + s + "?"
		} else if len(ids) == 1 {
			p.fix = "write !Ref " + ids[0]
		}
	}
	return nil, n.Range, p
}

// ref is resolveRef that reports a problem with rule; ok is false then.
func (c *checker) ref(n *template.Node, what, typ string, rule template.Rule) (res *template.Resource, at template.Range, ok bool) {
	res, at, p := c.resolveRef(n, what, typ)
	if p != nil {
		c.report(rule, p.at, p.fix, "%s", p.msg)
		return nil, at, false
	}
	return res, at, true
}

// report adds a diagnostic once.
func (c *checker) report(rule template.Rule, at template.Range, fix, format string, args ...any) {
	d := rule.Diag(at, format, args...)
	d.Fix = fix
	key := d.Rule + "\x00" + d.Range.String() + "\x00" + d.Message
	if c.seen[key] {
		return
	}
	c.seen[key] = true
	c.ds = append(c.ds, d)
}

// str returns the text of a scalar node, or "" for anything else (nil included).
func str(n *template.Node) string {
	if n == nil || n.Kind == template.Null {
		return ""
	}
	return n.Str()
}

// keyRange returns the position of property name's key, or of the resource.
func keyRange(rs *template.Resource, name string) template.Range {
	if f, ok := rs.Properties.Field(name); ok {
		return f.KeyRange
	}
	return rs.Range
}

// checkEnum reports a scalar property whose value is not one of allowed,
// suggesting the closest. It returns the value and whether it is allowed (or absent).
func (c *checker) checkEnum(rs *template.Resource, prop string, allowed []string, rule template.Rule) (string, bool) {
	n := rs.Prop(prop)
	if n == nil {
		return "", true
	}
	v := str(n)
	if slices.Contains(allowed, v) {
		return v, true
	}
	c.report(rule, n.Range, template.DidYouMean(v, allowed), "%s of %s is %q; it must be %s", prop, rs.LogicalID, v, orList(allowed))
	return v, false
}

// orList renders "A, B or C".
func orList(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}
