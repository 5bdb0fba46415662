package compile

import (
	"fmt"
	"slices"

	"github.com/wsgw/wsgw/template"
)

// bound is a stack resolved once (STYLE "One model, derived once"): every Api
// with the resources that belong to it, the links between them (a Route's
// Target, a $connect route's authorizer, an integration's responses, a
// route's responses, an integration's or authorizer's function), and their
// selection expressions, mapping templates, mapping steps and models parsed.
// bind builds it, reporting what a link names wrongly; the checks read it and
// report the rest, and the compiler lowers it into a plan without re-deriving
// a link or re-parsing an expression.
type bound struct {
	st *template.Stack

	apis    map[string]*apiInfo
	apiList []*apiInfo
	routes  map[string]*routeInfo
	integs  map[string]*integInfo
	stages  map[string]*stageInfo
	// deployApi maps a Deployment's logical ID to its Api (nil when unknown).
	deployApi map[string]*apiInfo
	// owners holds the Api that the ApiId of each RouteResponse,
	// IntegrationResponse, Authorizer and Model names.
	owners map[string]owner
	// authorizers lists every Authorizer of the template, in template order.
	authorizers []*authorizerInfo
	// routeResponses maps a RouteResponse's logical ID to what its RouteId names.
	routeResponses map[string]*refInfo
	// responses maps a Route's logical ID to the RouteResponses that name it.
	responses map[string][]*template.Resource
	// integResponses lists every IntegrationResponse, in template order.
	integResponses []*integResponseInfo
	models         map[string]*modelInfo
	// code holds the code of each function a check or the compiler looked at.
	code map[string]*functionCode
}

// owner is the Api that a resource's ApiId names: api is nil when ApiId
// names none (reported), ok false when the Api is not a WebSocket API, so
// that no rule looks at the resource.
type owner struct {
	api *apiInfo
	ok  bool
}

type apiInfo struct {
	res       *template.Resource
	websocket bool
	routes    []*routeInfo
	// firstRoute maps each route key to the first route that has it.
	firstRoute map[string]*routeInfo
	integs     []*integInfo
	stages     []*stageInfo
	// authorizers and models are the Authorizers and Models whose ApiId names the Api.
	authorizers []*authorizerInfo
	models      []*modelInfo
	// selection is RouteSelectionExpression parsed (selErr why not); rse
	// is its node, nil when absent.
	rse       *template.Node
	selection Selection
	selErr    error
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
	// authorizer is what AuthorizerId names (reported by checkRoute where
	// it matters, as a CUSTOM authorizer of the $connect route); nil when
	// the route has no AuthorizerId.
	authorizer *refInfo
	// modelSelection is ModelSelectionExpression parsed, nil when absent.
	modelSelection *parsedSelection
}

// refInfo is a property that references a resource, resolved: the resource
// and the range of the reference, or the problem with it.
type refInfo struct {
	node    *template.Node
	res     *template.Resource
	at      template.Range
	problem *refProblem
}

type integInfo struct {
	res *template.Resource
	api *apiInfo
	typ string
	// usedBy lists the routes whose Target names the integration.
	usedBy []*routeInfo
	// lambdaService says that the IntegrationUri of an AWS integration
	// names the Lambda service (arn:aws:apigateway:REGION:lambda:...).
	lambdaService bool
	// functions are the Lambda functions whose Arn the IntegrationUri is
	// built from; vpcLink the VpcLink ConnectionId references.
	functions []*template.Resource
	vpcLink   *template.Resource
	// params are the RequestParameters parsed, in template order.
	params []mappingParam
	// selection and templates are TemplateSelectionExpression and
	// RequestTemplates parsed (non-proxy integrations only; nil otherwise).
	selection *parsedSelection
	templates *parsedTemplates
}

// mappingParam is one entry of an Integration's RequestParameters parsed:
// its target (targetErr when it is not one) and its source (srcErr when the
// value is not one; scalar is false when the value is not a string at all).
type mappingParam struct {
	field        *template.Field
	target, name string
	targetErr    error
	scalar       bool
	src          Source
	srcErr       error
}

type stageInfo struct {
	res  *template.Resource
	api  *apiInfo
	name string
}

type authorizerInfo struct {
	res *template.Resource
	owner
	// functions are the Lambda functions whose Arn the AuthorizerUri is built from.
	functions []*template.Resource
	sources   []identitySource
	// connect says that the CUSTOM $connect route of a WebSocket Api names
	// the authorizer, so that the compiler reads it whatever its ApiId.
	connect bool
}

type integResponseInfo struct {
	res *template.Resource
	owner
	// integ is what IntegrationId names.
	integ refInfo
	// keyErr is why IntegrationResponseKey does not compile (nil: it does;
	// the runtime compiles it again, ResponseKeyPattern).
	keyErr    error
	selection *parsedSelection
	templates parsedTemplates
}

type modelInfo struct {
	res *template.Resource
	owner
	// model is the Model compiled (err why its Schema does not compile).
	model *Model
	err   error
}

// parsedSelection is a template or model selection expression parsed.
type parsedSelection struct {
	node *template.Node
	sel  *TemplateSelection
	err  error
}

// parsedTemplates is a RequestTemplates or ResponseTemplates mapping parsed:
// the templates that parse, as text (the runtime parses them again when it
// provisions the plan), and what is wrong with the others (the zero value:
// none).
type parsedTemplates struct {
	src      map[string]string
	problems []templateProblem
}

// bind resolves the stack: it reads the Apis and ties every Route,
// Integration, Stage, Deployment, RouteResponse, IntegrationResponse,
// Authorizer and Model to its Api, reporting ApiIds that name no Api and
// Targets that name no integration; then it parses what the checks and the
// compiler read.
func (c *checker) bind() {
	b := c.bound
	for _, rs := range b.st.OfType(template.TypeApi) {
		a := &apiInfo{res: rs, websocket: str(rs.Prop("ProtocolType")) == "WEBSOCKET"}
		b.apis[rs.LogicalID] = a
		b.apiList = append(b.apiList, a)
		if a.websocket {
			if a.rse = rs.Prop("RouteSelectionExpression"); a.rse != nil {
				a.selection, a.selErr = parseSelection(str(a.rse))
			}
		}
	}
	for _, rs := range b.st.OfType(template.TypeIntegration) {
		api, ok := c.apiOf(rs, RuleIntegrationApiID)
		if !ok {
			continue
		}
		in := b.bindIntegration(rs, api)
		b.integs[rs.LogicalID] = in
		if api != nil {
			api.integs = append(api.integs, in)
		}
	}
	for _, rs := range b.st.OfType(template.TypeRoute) {
		if api, ok := c.apiOf(rs, RuleRouteApiID); ok {
			c.bindRoute(rs, api)
		}
	}
	for _, rs := range b.st.OfType(template.TypeDeployment) {
		if api, ok := c.apiOf(rs, RuleDeploymentApiID); ok {
			b.deployApi[rs.LogicalID] = api
		}
	}
	for _, rs := range b.st.OfType(template.TypeStage) {
		api, ok := c.apiOf(rs, RuleStageApiID)
		if !ok {
			continue
		}
		s := &stageInfo{res: rs, api: api, name: str(rs.Prop("StageName"))}
		b.stages[rs.LogicalID] = s
		if api != nil {
			api.stages = append(api.stages, s)
		}
	}
	c.bindResponses()
	c.bindAuthorizers()
	for _, rs := range b.st.OfType(template.TypeModel) {
		m := &modelInfo{res: rs, owner: c.ownerOf(rs)}
		b.models[rs.LogicalID] = m
		if m.ok && m.api != nil {
			m.api.models = append(m.api.models, m)
		}
		if m.ok {
			m.model, m.err = compileModel(rs)
		}
	}
}

// bindRoute reads a Route of api: its Target, AuthorizerId and model selection.
func (c *checker) bindRoute(rs *template.Resource, api *apiInfo) {
	r := &routeInfo{res: rs, api: api, key: str(rs.Prop("RouteKey"))}
	c.routes[rs.LogicalID] = r
	if api != nil {
		api.routes = append(api.routes, r)
		if api.firstRoute == nil {
			api.firstRoute = map[string]*routeInfo{}
		}
		if _, ok := api.firstRoute[r.key]; !ok {
			api.firstRoute[r.key] = r
		}
	}
	r.integ = c.target(r)
	if r.integ != nil {
		r.integ.usedBy = append(r.integ.usedBy, r)
	}
	if n := rs.Prop("AuthorizerId"); n != nil {
		ref := c.resolve(n, "AuthorizerId", rs.LogicalID, template.TypeAuthorizer)
		r.authorizer = &ref
	}
	if n := rs.Prop("ModelSelectionExpression"); n != nil {
		r.modelSelection = parseSelectionNode(n, selectModel)
	}
}

// bindAuthorizers reads the Authorizers: their Api, functions and identity
// sources, and whether a CUSTOM $connect route names them.
func (c *checker) bindAuthorizers() {
	for _, rs := range c.st.OfType(template.TypeAuthorizer) {
		au := &authorizerInfo{res: rs, owner: c.ownerOf(rs), functions: c.functionsOf(rs.Prop("AuthorizerUri")),
			sources: identitySources(rs.Prop("IdentitySource"))}
		c.authorizers = append(c.authorizers, au)
		if au.ok && au.api != nil {
			au.api.authorizers = append(au.api.authorizers, au)
		}
	}
	for _, r := range c.routes {
		if r.authorizer != nil && r.authorizer.problem == nil && r.key == "$connect" && str(r.res.Prop("AuthorizationType")) == "CUSTOM" {
			c.authorizer(r.authorizer.res).connect = true
		}
	}
}

// bindIntegration reads an Integration: its links and what it parses.
func (b *bound) bindIntegration(rs *template.Resource, api *apiInfo) *integInfo {
	in := &integInfo{res: rs, api: api, typ: str(rs.Prop("IntegrationType"))}
	uri := rs.Prop("IntegrationUri")
	in.lambdaService = in.typ == "AWS" && isLambdaServiceURI(str(uri))
	in.functions = b.functionsOf(uri)
	if cid := rs.Prop("ConnectionId"); cid != nil {
		in.vpcLink = b.linked(cid, template.TypeVpcLinkV1, template.TypeVpcLinkV2)
	}
	if params := rs.Prop("RequestParameters"); params != nil && params.Kind == template.Map {
		in.params = make([]mappingParam, len(params.Fields))
		for i, f := range params.Fields {
			p := mappingParam{field: &params.Fields[i], scalar: f.Value.IsScalar() && f.Value.Kind != template.Null}
			p.target, p.name, p.targetErr = parseTarget(f.Key)
			if p.scalar {
				p.src, p.srcErr = parseSource(f.Value.Value)
			}
			in.params[i] = p
		}
	}
	if isNonProxy(in.typ) {
		if n := rs.Prop("TemplateSelectionExpression"); n != nil {
			in.selection = parseSelectionNode(n, selectIntegration)
		}
		t := parseTemplatesOf(rs, "RequestTemplates")
		in.templates = &t
	}
	return in
}

// bindResponses ties RouteResponses to their Routes and IntegrationResponses
// to their Integrations, parsing the latter's keys and templates.
func (c *checker) bindResponses() {
	b := c.bound
	for _, rs := range b.st.OfType(template.TypeRouteResponse) {
		c.ownerOf(rs)
		n := rs.Prop("RouteId")
		if n == nil {
			continue
		}
		ref := b.resolve(n, "RouteId", rs.LogicalID, template.TypeRoute)
		b.routeResponses[rs.LogicalID] = &ref
		if ref.problem == nil {
			b.responses[ref.res.LogicalID] = append(b.responses[ref.res.LogicalID], rs)
		}
	}
	for _, rs := range b.st.OfType(template.TypeIntegrationResponse) {
		ir := &integResponseInfo{res: rs, owner: c.ownerOf(rs)}
		b.integResponses = append(b.integResponses, ir)
		if n := rs.Prop("IntegrationId"); n != nil {
			ir.integ = b.resolve(n, "IntegrationId", rs.LogicalID, template.TypeIntegration)
		}
		_, ir.keyErr = parseResponseKey(rs.Prop("IntegrationResponseKey").Str())
		if n := rs.Prop("TemplateSelectionExpression"); n != nil {
			ir.selection = parseSelectionNode(n, selectResponse)
		}
		ir.templates = parseTemplatesOf(rs, "ResponseTemplates")
	}
}

// ownerOf returns the Api that the ApiId of a RouteResponse,
// IntegrationResponse, Authorizer or Model names, reporting an ApiId that
// names none (WSGW2007) the first time.
func (c *checker) ownerOf(rs *template.Resource) owner {
	if o, ok := c.owners[rs.LogicalID]; ok {
		return o
	}
	api, ok := c.apiOf(rs, RuleOtherApiID)
	o := owner{api: api, ok: ok}
	c.owners[rs.LogicalID] = o
	return o
}

// apiOf returns the Api that rs's ApiId names. ok is false when the resource
// belongs to an Api that is not a WebSocket API, so that no rule looks at it;
// the Api is nil (and ok true) when ApiId names no Api, which is reported.
func (c *checker) apiOf(rs *template.Resource, rule template.Rule) (api *apiInfo, ok bool) {
	n := rs.Prop("ApiId")
	if n == nil {
		return nil, true // WSGW1012 reported it
	}
	target, _, ok := c.ref(n, "ApiId", rs.LogicalID, template.TypeApi, rule)
	if !ok || target == nil {
		return nil, true
	}
	api = c.apis[target.LogicalID]
	if api == nil || !api.websocket {
		return nil, false
	}
	return api, true
}

// refProblem is why a property value does not reference what it must.
type refProblem struct {
	at  template.Range
	msg string
	fix string
}

// resolveRef resolves a property value that must reference a resource of type
// typ (ApiId, DeploymentId, ConnectionId, ...): through the Links a Ref or
// GetAtt left on it, or else by the physical ID it holds. Messages name the
// property "prop of owner". A resolved resource comes back with the range of
// its Ref or GetAtt (or of the value); anything else comes back as a problem.
func (b *bound) resolveRef(n *template.Node, prop, owner, typ string) (*template.Resource, template.Range, *refProblem) {
	short := shortType(typ)
	what := func() string { return prop + " of " + owner }
	for _, l := range n.Links {
		rs := b.st.Resource(l.LogicalID)
		if rs == nil {
			continue
		}
		if rs.Type != typ {
			return nil, l.Range, &refProblem{at: l.Range, msg: fmt.Sprintf("%s refers to %s, which is %s %s, not %s %s", what(), l.LogicalID, article(rs.Type), rs.Type, article(short), short)}
		}
		if l.Attr != "" && l.Attr != short+"Id" {
			return nil, l.Range, &refProblem{at: l.Range, fix: "write !Ref " + l.LogicalID, msg: fmt.Sprintf("%s must be the ID of %s, not its %s attribute", what(), l.LogicalID, l.Attr)}
		}
		return rs, l.Range, nil
	}
	v := str(n)
	if rs := b.st.ByPhysicalID(typ, v); rs != nil && v != "" {
		return rs, n.Range, nil
	}
	ids := b.st.LogicalIDs(typ)
	p := &refProblem{at: n.Range}
	switch {
	case !n.IsScalar() || v == "":
		p.msg = fmt.Sprintf("%s must reference %s %s of this template", what(), article(short), short)
	case slices.Contains(ids, v):
		p.msg = fmt.Sprintf("%s is the logical ID %s, not the ID of %s %s", what(), v, article(short), short)
		p.fix = "write !Ref " + v
	default:
		p.msg = fmt.Sprintf("%s is %q, which is not %s %s of this template", what(), v, article(short), short)
		if s := template.Suggest(v, ids); s != "" {
			p.fix = "did you mean !Ref " + s + "?"
		} else if len(ids) == 1 {
			p.fix = "write !Ref " + ids[0]
		}
	}
	return nil, n.Range, p
}

// resolve resolves property prop of owner, which must reference a resource of type typ.
func (b *bound) resolve(n *template.Node, prop, owner, typ string) refInfo {
	res, at, p := b.resolveRef(n, prop, owner, typ)
	return refInfo{node: n, res: res, at: at, problem: p}
}

// linked returns the resource of one of types that n was derived from (a Ref
// or GetAtt), else the one whose physical ID is n's value.
func (b *bound) linked(n *template.Node, types ...string) *template.Resource {
	if n == nil {
		return nil
	}
	for _, l := range n.Links {
		if r := b.st.Resource(l.LogicalID); r != nil && slices.Contains(types, r.Type) {
			return r
		}
	}
	for _, t := range types {
		if r := b.st.ByPhysicalID(t, n.Str()); r != nil {
			return r
		}
	}
	return nil
}

// functionsOf returns the Lambda functions whose Arn a URI is built from.
func (b *bound) functionsOf(uri *template.Node) []*template.Resource {
	if uri == nil {
		return nil
	}
	var out []*template.Resource
	for _, l := range uri.Links {
		if f := b.st.Resource(l.LogicalID); f != nil && l.Attr == "Arn" && isFunction(f) {
			out = append(out, f)
		}
	}
	return out
}

// codeOf returns the code of function rs, found once.
func (b *bound) codeOf(rs *template.Resource) *functionCode {
	if fc, ok := b.code[rs.LogicalID]; ok {
		return fc
	}
	fc := codeOf(b.st, rs)
	b.code[rs.LogicalID] = &fc
	return &fc
}

// authorizer returns what b knows of the Authorizer rs.
func (b *bound) authorizer(rs *template.Resource) *authorizerInfo {
	for _, au := range b.authorizers {
		if au.res == rs {
			return au
		}
	}
	return nil
}

// parseSelectionNode parses the template or model selection expression n.
func parseSelectionNode(n *template.Node, kind selectionKind) *parsedSelection {
	p := &parsedSelection{node: n}
	if n.IsScalar() && n.Kind != template.Null {
		p.sel, p.err = parseTemplateSelection(n.Value, kind)
	}
	return p
}

// parseTemplatesOf parses the templates of rs's property prop.
func parseTemplatesOf(rs *template.Resource, prop string) parsedTemplates {
	src, problems := parseTemplates(prop, rs.LogicalID, rs.Prop(prop))
	return parsedTemplates{src: src, problems: problems}
}

// selection returns the parsed expression, nil when there is none.
func (p *parsedSelection) selection() *TemplateSelection {
	if p == nil {
		return nil
	}
	return p.sel
}
