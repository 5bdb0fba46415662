package template

import (
	"regexp"
	"slices"
	"strings"
)

// TypeSAMWebSocketApi is SAM's WebSocket API, expanded before resolution (SPEC ).
const TypeSAMWebSocketApi = "AWS::Serverless::WebSocketApi"

// wsTagName is the tag SAM puts on the Api, Stage and DomainName it generates.
const wsTagName = "websocketapi:createdBy"

// wsProp is a property of AWS::Serverless::WebSocketApi and the kind of value
// SAM's translator accepts for it (intrinsic functions pass unchecked).
type wsProp struct {
	name, kind string // kind: "string", "mapping", "boolean", "string or mapping"
}

// wsProps lists the properties in the order SAM checks them (SamWebSocketApi.property_types).
var wsProps = []wsProp{
	{"ApiKeySelectionExpression", "string"}, {"AccessLogSettings", "mapping"}, {"Auth", "mapping"},
	{"DefaultRouteSettings", "mapping"}, {"Description", "string"}, {"DisableExecuteApiEndpoint", "boolean"},
	{"Domain", "mapping"}, {"DisableSchemaValidation", "boolean"}, {"FailOnWarnings", "boolean"},
	{"IpAddressType", "string"}, {"Name", "string"}, {"PropagateTags", "boolean"}, {"Routes", "mapping"},
	{"RouteSettings", "mapping"}, {"RouteSelectionExpression", "string"}, {"StageName", "string or mapping"},
	{"StageVariables", "mapping"}, {"Tags", "mapping"},
}

// wsGlobals lists what Globals.WebSocketApi may set (SAM's globals plugin).
var wsGlobals = []string{"AccessLogSettings", "ApiKeySelectionExpression", "DefaultRouteSettings",
	"DisableExecuteApiEndpoint", "DisableSchemaValidation", "Domain", "FailOnWarnings", "IpAddressType",
	"PropagateTags", "RouteSelectionExpression", "RouteSettings", "StageVariables", "Tags"}

var (
	wsRouteProps = []string{"ApiKeyRequired", "FunctionArn", "IntegrationTimeout", "ModelSelectionExpression", "OperationName", "RequestModels", "RequestParameters", "RouteResponseSelectionExpression"}
	// wsAuthProps: PayloadFormatVersion is documented by SAM and ignored by its translator
	// (WebSocket authorizers have no payload format version).
	wsAuthProps    = []string{"AuthArn", "AuthType", "IdentitySource", "InvokeRole", "Name", "PayloadFormatVersion"}
	wsDomainProps  = []string{"BasePath", "CertificateArn", "DomainName", "EndpointConfiguration", "MutualTlsAuthentication", "OwnershipVerificationCertificateArn", "Route53", "SecurityPolicy"}
	wsRoute53Props = []string{"EvaluateTargetHealth", "HostedZoneId", "HostedZoneName", "IpV6", "Region", "SetIdentifier"}
	wsSpecialKeys  = []string{"$connect", "$disconnect", "$default"}
	wsAuthTypes    = []string{"AWS_IAM", "CUSTOM", "NONE"}
	basePathBad    = regexp.MustCompile(`[^0-9a-zA-Z/\-_]+`)
	basePathStrip  = regexp.MustCompile(`[\-_/]+`)
)

// wsExpander expands the WebSocketApis of one template.
type wsExpander struct {
	r       *resolver
	globals *Node
	// refs maps "Api.Stage" and "Api.DomainName" to the logical IDs SAM generated
	// for them, for SAM's resource references.
	refs map[string]string
	// owner maps each generated logical ID to the WebSocketApi that generated it.
	owner map[string]string
	// template holds the logical IDs written in the template.
	template map[string]bool
}

// expandSAM returns res with every AWS::Serverless::WebSocketApi replaced by
// the resources SAM's translator generates for it, in SAM's order, and the
// references SAM resolves (Ref Api.Stage, ${Api.Stage}, Ref Api.DomainName)
// rewritten in the whole template. Generated nodes carry the range of the SAM
// node that produced them, so that every diagnostic about them points into the
// SAM resource. It runs before any resource is declared (SPEC ).
func (r *resolver) expandSAM(root, res *Node) *Node {
	if !slices.ContainsFunc(res.Fields, func(f Field) bool { return f.Value.Get("Type").Str() == TypeSAMWebSocketApi }) {
		return res
	}
	e := &wsExpander{r: r, refs: map[string]string{}, owner: map[string]string{}, template: map[string]bool{}}
	if g := root.Get("Globals"); g != nil && g.Kind == Map {
		e.globals = g.Get("WebSocketApi")
		if e.globals != nil && e.globals.Kind != Map {
			r.errorf(RuleSAMPropertyType, e.globals.Range, "Globals.WebSocketApi must be a mapping")
			e.globals = nil
		}
		if e.globals != nil {
			for _, f := range e.globals.Fields {
				if !slices.Contains(wsGlobals, f.Key) {
					r.errorFix(RuleSAMUnknownProp, f.KeyRange, DidYouMean(f.Key, wsGlobals), "Globals.WebSocketApi cannot set %s", f.Key)
				}
			}
		}
	}
	for _, f := range res.Fields {
		e.template[f.Key] = true
	}
	out := &Node{Kind: Map, Range: res.Range}
	at := map[string]int{} // index in out.Fields by logical ID
	for _, f := range res.Fields {
		if f.Value.Get("Type").Str() != TypeSAMWebSocketApi {
			at[f.Key] = len(out.Fields)
			out.Fields = append(out.Fields, f)
			continue
		}
		// Expanding happens before resolution, which charges the budget as it
		// goes; once withGlobals has spent it, nothing more is expanded.
		if r.over() {
			e.declareFailed(f)
			continue
		}
		gen := e.expand(f)
		if gen == nil {
			e.declareFailed(f)
		}
		for _, g := range gen {
			// A later resource of the same logical ID replaces an earlier one, as in SAM's
			// translator (Route53 record set groups of several APIs on one hosted zone).
			if i, ok := at[g.Key]; ok {
				out.Fields[i] = g
				continue
			}
			at[g.Key] = len(out.Fields)
			out.Fields = append(out.Fields, g)
		}
	}
	e.rewrite(out)
	e.rewrite(root.Get("Outputs"))
	r.st.Generated = e.owner
	return out
}

// declareFailed makes the logical IDs a WebSocketApi with errors would have
// generated known names, so that references to them report nothing more.
func (e *wsExpander) declareFailed(f Field) {
	props := f.Value.Get("Properties")
	e.r.implicit[f.Key] = TypeApi
	stage := stageID(f.Key, props.Get("StageName"))
	e.r.implicit[stage] = TypeStage
	e.refs[f.Key+".Stage"] = stage
	if name := props.Get("Domain").Get("DomainName"); name != nil {
		id := "ApiGatewayDomainNameV2" + samHash(name)
		e.r.implicit[id] = "AWS::ApiGatewayV2::DomainName"
		e.refs[f.Key+".DomainName"] = id
	}
	for _, rf := range props.Get("Routes").fieldsOrNil() {
		if clean, ok := sanitizeRouteKey(rf.Key); ok {
			e.r.implicit[f.Key+clean+"Route"] = TypeRoute
			e.r.implicit[f.Key+clean+"Integration"] = TypeIntegration
			e.r.implicit[f.Key+clean+"Permission"] = "AWS::Lambda::Permission"
		}
	}
}

func (n *Node) fieldsOrNil() []Field {
	if n == nil || n.Kind != Map {
		return nil
	}
	return n.Fields
}

// wsAPI holds one WebSocketApi while it is expanded.
type wsAPI struct {
	id    string
	key   Range // the logical ID's range
	node  *Node
	props *Node
	out   []Field
}

func (a *wsAPI) prop(name string) *Node { return a.props.Get(name) }

func (a *wsAPI) propRange(name string) Range {
	if f, ok := a.props.Field(name); ok {
		return f.KeyRange
	}
	return a.key
}

func (e *wsExpander) errorf(rule Rule, at Range, format string, args ...any) {
	e.r.errorf(rule, at, format, args...)
}

// expand returns the resources SAM generates for one WebSocketApi (WebSocketApiGenerator._to_cloudformation).
func (e *wsExpander) expand(f Field) []Field {
	a := &wsAPI{id: f.Key, key: f.KeyRange, node: f.Value}
	r := e.r
	e.checkAttrs(f)
	props := f.Value.Get("Properties")
	if props == nil {
		props = &Node{Kind: Map, Range: f.KeyRange}
	}
	if props.Kind != Map {
		r.errorf(RuleSAMPropertyType, props.Range, "Properties of %s must be a mapping", f.Key)
		return nil
	}
	ok := e.readProps(a, props)
	routes := a.prop("Routes")
	if _, _, intr := routes.Intrinsic(); intr || routes == nil || routes.Kind != Map {
		return nil // reported by checkProps
	}
	if len(routes.Fields) == 0 {
		f, _ := a.props.Field("Routes")
		e.errorf(RuleSAMNoRoutes, f.KeyRange, "%s has no routes; a WebSocket API must have at least one route", a.id)
		return nil
	}
	auth := a.prop("Auth")
	if !literalMap(auth) {
		auth = nil // reported by checkProps
	}
	if !e.checkAPI(a, routes, auth) {
		ok = false
	}

	api := e.api(a)
	a.out = append(a.out, api)
	var authorizer *Field
	var routeIDs []string
	seen := map[string]string{}
	for _, rf := range routes.Fields {
		out, au, good, stop := e.expandRoute(a, rf, seen)
		if stop {
			return nil
		}
		if !good {
			ok = false
		}
		if au != nil {
			authorizer = au
		}
		if len(out) > 0 {
			a.out = append(a.out, out...)
			routeIDs = append(routeIDs, out[0].Key)
		}
	}
	if d := a.prop("Domain"); literalMap(d) && e.domain(a, d) == nil {
		ok = false
	}
	if !ok {
		return nil
	}
	stage := e.stage(a, routeIDs)
	a.out = append(a.out, stage)
	if authorizer != nil {
		a.out = append(a.out, *authorizer)
		if p := e.authorizerPermission(a, auth); p != nil {
			a.out = append(a.out, *p)
		}
	}
	e.propagateTags(a, api)
	if !e.checkCollisions(a) {
		return nil
	}
	return a.out
}

// readProps sets a.props to props with Globals.WebSocketApi merged and
// checks them; then, as SAM does before it reads them, it resolves the
// parameters (their Default or --param value) in Auth, Domain and Routes.
// It returns false when the check found a problem.
func (e *wsExpander) readProps(a *wsAPI, props *Node) bool {
	// A copy: SAM's parameter resolution below must not change the template as parsed.
	a.props = e.withGlobals(a, props)
	a.props = &Node{Kind: Map, Range: a.props.Range, Fields: slices.Clone(a.props.Fields)}
	ok := e.checkProps(a)
	for _, name := range []string{"Auth", "Domain", "Routes"} {
		if i := slices.IndexFunc(a.props.Fields, func(f Field) bool { return f.Key == name }); i >= 0 {
			a.props.Fields[i].Value = e.resolveParams(a.props.Fields[i].Value)
		}
	}
	return ok
}

// checkAttrs reports the attributes of a WebSocketApi that are not resource
// attributes, and those SAM does not pass on (WSGW1116).
func (e *wsExpander) checkAttrs(f Field) {
	e.r.checkResourceAttrs(f.Key, f.Value, TypeSAMWebSocketApi)
	for _, attr := range f.Value.Fields {
		switch attr.Key {
		case "Condition":
			e.errorf(RuleSAMDropped, attr.KeyRange, "SAM does not pass Condition of a WebSocketApi on to the resources it generates: %s and its routes exist whatever the condition", f.Key)
		case "DeletionPolicy", "UpdateReplacePolicy":
			e.errorf(RuleSAMDropped, attr.KeyRange, "SAM does not pass %s of a WebSocketApi on to the resources it generates; they get CloudFormation's default", attr.Key)
		}
	}
}

// checkAPI checks what SAM's translator refuses in a WebSocketApi's
// properties besides its routes: IpAddressType, mutual TLS, Auth without
// $connect, a $default StageName. It returns false when it found any.
func (e *wsExpander) checkAPI(a *wsAPI, routes, auth *Node) bool {
	ok := true
	if ip := a.prop("IpAddressType"); ip != nil && ip.Kind == String && ip.Value != "ipv4" && ip.Value != "dualstack" {
		d := RuleSAMIpAddressType.Diag(ip.Range, "IpAddressType must be ipv4 or dualstack, not %q", ip.Value)
		d.Fix = DidYouMean(ip.Value, []string{"ipv4", "dualstack"})
		e.r.add(d)
		ok = false
	}
	if d := a.prop("Domain"); literalMap(d) && truthy(d.Get("MutualTlsAuthentication")) {
		f, _ := d.Field("MutualTlsAuthentication")
		e.errorf(RuleSAMDomain, f.KeyRange, "mutual TLS is not supported for WebSocket APIs; remove MutualTlsAuthentication")
		ok = false
	}
	if auth != nil && len(auth.Fields) > 0 && routes.Get("$connect") == nil {
		f, _ := a.props.Field("Auth")
		e.errorf(RuleSAMAuthConnect, f.KeyRange, "Auth is only available if there is a $connect route; %s has none", a.id)
		ok = false
	}
	if auth != nil && len(auth.Fields) > 0 && !e.checkAuth(a, auth) {
		ok = false
	}
	stageName := a.prop("StageName")
	if stageName != nil && stageName.Kind == String && stageName.Value == "$default" {
		e.errorf(RuleSAMStageName, stageName.Range, "a WebSocket API's stage cannot be named $default; leave StageName out for a stage named default")
		ok = false
	}
	return ok
}

// expandRoute generates the Route, Integration and Permission of one route
// rf of a WebSocketApi (out, the Route first; none when the route cannot
// make them) and the authorizer its Auth makes, if any. good is false when
// the route is wrong (reported), stop when the evaluation budget is gone. seen maps the logical ID prefixes of
// the routes before to their keys.
func (e *wsExpander) expandRoute(a *wsAPI, rf Field, seen map[string]string) (out []Field, authorizer *Field, good, stop bool) {
	r := e.r
	clean, valid := sanitizeRouteKey(rf.Key)
	if !valid {
		d := RuleSAMRouteKey.Diag(rf.KeyRange, "route key %q must be alphanumeric; of the keys starting with $ only $connect, $disconnect and $default are supported", rf.Key)
		d.Fix = DidYouMean(rf.Key, wsSpecialKeys)
		r.add(d)
		return nil, nil, false, false
	}
	base := a.id + clean
	if other, dup := seen[base]; dup {
		e.errorf(RuleSAMRouteKey, rf.KeyRange, "route keys %q and %q both become the logical IDs %sRoute, %sIntegration and %sPermission", other, rf.Key, base, base, base)
		return nil, nil, false, false
	}
	seen[base] = rf.Key
	spec := rf.Value
	if name, _, intr := spec.Intrinsic(); intr || spec.Kind != Map {
		what := spec.Kind.String()
		if intr {
			what = name
		}
		e.errorf(RuleSAMRouteFunction, spec.Range, "route %s must be a mapping with a FunctionArn, not a %s", rf.Key, what)
		return nil, nil, false, false
	}
	good = true
	for _, p := range spec.Fields {
		if !slices.Contains(wsRouteProps, p.Key) {
			r.errorFix(RuleSAMUnknownProp, p.KeyRange, DidYouMean(p.Key, wsRouteProps), "route %s of %s has no property %s", rf.Key, a.id, p.Key)
			good = false
		}
	}
	fn := spec.Get("FunctionArn")
	if fn == nil {
		e.errorf(RuleSAMRouteFunction, rf.KeyRange, "route %s of %s has no FunctionArn; every route needs the function it invokes", rf.Key, a.id)
		return nil, nil, false, false
	}
	if rp, has := spec.Field("RequestParameters"); has && rf.Key != "$connect" && truthy(rp.Value) {
		e.errorf(RuleSAMRouteParams, rp.KeyRange, "RequestParameters are only supported on the $connect route of a WebSocket API, not on %s", rf.Key)
		good = false
	}
	route := e.route(a, rf, base, spec)
	authorizer = e.routeAuth(a, rf, route)
	integ, perm := e.integration(a, rf, base, spec, fn), e.permission(a, rf, base, fn)
	// What SAM generates is charged to the evaluation budget as it is
	// made: a route of two lines becomes three resources, and a parameter
	// SAM resolves in Routes is placed at each reference.
	if !r.spend(r.weight(route.Value)+r.weight(integ.Value)+r.weight(perm.Value), rf.KeyRange) {
		return nil, nil, false, true
	}
	return []Field{route, integ, perm}, authorizer, good, false
}

// propagateTags copies the Api's Tags to the Stage and DomainName when
// PropagateTags is true, as SAM does.
func (e *wsExpander) propagateTags(a *wsAPI, api Field) {
	pt := a.prop("PropagateTags")
	if pt == nil || pt.Kind != Bool || pt.Value != "true" {
		return
	}
	if tags := a.prop("Tags"); tags != nil && tags.Kind == Map && len(tags.Fields) > 0 {
		all := api.Value.Get("Properties").Get("Tags")
		for _, g := range a.out {
			switch g.Value.Get("Type").Str() {
			case TypeStage, "AWS::ApiGatewayV2::DomainName":
				setField(g.Value.Get("Properties"), "Tags", all, all.Range)
			}
		}
	}
}

// checkCollisions reports a generated logical ID that the template or
// another WebSocketApi already has, and records the ones a generates.
func (e *wsExpander) checkCollisions(a *wsAPI) bool {
	for _, g := range a.out {
		if e.template[g.Key] && g.Key != a.id {
			e.errorf(RuleSAMCollision, g.Value.Range, "%s generates %s (%s), which is already a resource of this template", a.id, g.Key, g.Value.Get("Type").Str())
			return false
		}
		if o, dup := e.owner[g.Key]; dup && o != a.id && !strings.HasPrefix(g.Key, "RecordSetGroup") {
			e.errorf(RuleSAMCollision, g.Value.Range, "%s generates %s, which %s generates too", a.id, g.Key, o)
			return false
		}
		e.owner[g.Key] = a.id
	}
	return true
}

// withGlobals merges Globals.WebSocketApi into a resource's properties as
// SAM's globals plugin does, honouring the IgnoreGlobals attribute.
func (e *wsExpander) withGlobals(a *wsAPI, props *Node) *Node {
	g := e.r.ignoreGlobals(a.id, a.node.Get("IgnoreGlobals"), e.globals, "WebSocketApi")
	if g == nil {
		return props
	}
	// Globals are copied into every WebSocketApi before anything is resolved:
	// charge the copy to the evaluation budget, as a Ref to a big parameter
	// is (a 500 KB Globals section merged into 4,000 Apis is gigabytes).
	if !e.r.spend(e.r.weight(g), a.key) {
		return props
	}
	return samMerge(g, props)
}

// ignoreGlobals returns the Globals section g of a resource without what its
// IgnoreGlobals attribute ig names (keptGlobals), reporting entries that name
// nothing g sets and an attribute that is neither "*" nor a list.
func (r *resolver) ignoreGlobals(id string, ig, g *Node, section string) *Node {
	kept, unknown, ok := keptGlobals(ig, g)
	for _, it := range unknown {
		d := RuleSAMUnknownProp.Diag(it.Range, "IgnoreGlobals of %s names %s, which Globals.%s does not set", id, it.Str(), section)
		d.Fix = DidYouMean(it.Str(), g.Keys())
		r.add(d)
	}
	if !ok {
		r.errorf(RuleSAMPropertyType, ig.Range, "IgnoreGlobals must be \"*\" or a list of the Globals.%s properties to ignore", section)
	}
	return kept
}

// keptGlobals returns the Globals section g without what the IgnoreGlobals
// attribute ig names: nil for "*", g less the properties a list names. It
// returns the entries of the list that name nothing g sets, and ok false when
// ig is neither "*" nor a list (g is kept whole then).
func keptGlobals(ig, g *Node) (kept *Node, unknown []*Node, ok bool) {
	switch {
	case ig == nil || g == nil:
		return g, nil, true
	case ig.Kind == String && ig.Value == "*":
		return nil, nil, true
	case ig.Kind == List:
		drop := map[string]bool{}
		for _, it := range ig.Items {
			if it.Kind != String || g.Get(it.Value) == nil {
				unknown = append(unknown, it)
				continue
			}
			drop[it.Value] = true
		}
		kept := &Node{Kind: Map, Range: g.Range}
		for _, f := range g.Fields {
			if !drop[f.Key] {
				kept.Fields = append(kept.Fields, f)
			}
		}
		return kept, unknown, true
	}
	return g, nil, false
}

// samMerge merges a global value with a local one as SAM's GlobalProperties
// does: mappings key by key, lists concatenated (global first), anything else
// (intrinsic functions included) the local value.
func samMerge(global, local *Node) *Node {
	gk, lk := mergeKind(global), mergeKind(local)
	switch {
	case gk != lk || gk == "primitive":
		return local
	case gk == "list":
		out := &Node{Kind: List, Range: local.Range}
		out.Items = append(append(out.Items, global.Items...), local.Items...)
		return out
	}
	out := &Node{Kind: Map, Range: local.Range}
	out.Fields = append(out.Fields, global.Fields...)
	for _, f := range local.Fields {
		if i := slices.IndexFunc(out.Fields, func(o Field) bool { return o.Key == f.Key }); i >= 0 {
			out.Fields[i] = Field{Key: f.Key, KeyRange: f.KeyRange, Value: samMerge(out.Fields[i].Value, f.Value)}
			continue
		}
		out.Fields = append(out.Fields, f)
	}
	return out
}

func mergeKind(n *Node) string {
	switch {
	case n.Kind == List:
		return "list"
	case n.Kind == Map:
		if _, _, ok := n.Intrinsic(); ok {
			return "primitive"
		}
		return "map"
	}
	return "primitive"
}

// checkProps reports unknown properties, values of the wrong kind and missing
// required properties (SAM's validate_properties); false when one is wrong.
func (e *wsExpander) checkProps(a *wsAPI) bool {
	ok := true
	names := make([]string, len(wsProps))
	for i, p := range wsProps {
		names[i] = p.name
	}
	for _, f := range a.props.Fields {
		if !slices.Contains(names, f.Key) {
			e.r.errorFix(RuleSAMUnknownProp, f.KeyRange, DidYouMean(f.Key, names), "%s (%s) has no property %s", a.id, TypeSAMWebSocketApi, f.Key)
			ok = false
		}
	}
	for _, p := range wsProps {
		v := a.prop(p.name)
		if v == nil {
			if p.name == "Routes" || p.name == "RouteSelectionExpression" {
				e.errorf(RuleSAMRequired, a.key, "%s (%s) needs the property %s", a.id, TypeSAMWebSocketApi, p.name)
				ok = false
			}
			continue
		}
		if _, _, intr := v.Intrinsic(); intr && !slices.Contains([]string{"Auth", "Domain", "Routes", "Tags"}, p.name) {
			continue
		}
		good := false
		switch p.kind {
		case "string":
			good = v.Kind == String
		case "boolean":
			good = v.Kind == Bool
		case "mapping":
			_, _, intr := v.Intrinsic()
			good = v.Kind == Map && !intr
		case "string or mapping":
			good = v.Kind == String || v.Kind == Map
		}
		if name, _, intr := v.Intrinsic(); intr && !good {
			e.errorf(RuleSAMPropertyType, v.Range, "property %s of %s must be written out as a mapping, not computed with %s: SAM reads it before CloudFormation evaluates anything", p.name, a.id, name)
			ok = false
		} else if !good {
			e.errorf(RuleSAMPropertyType, v.Range, "property %s of %s should be a %s, not a %s", p.name, a.id, p.kind, describe(v))
			ok = false
		}
	}
	return ok
}

// checkAuth applies SAM's rules for Auth (_validate_auth).
func (e *wsExpander) checkAuth(a *wsAPI, auth *Node) bool {
	at, hasType := auth.Field("AuthType")
	authRange := a.propRange("Auth")
	switch {
	case !hasType || !truthy(at.Value):
		for _, f := range auth.Fields {
			if !slices.Contains(wsAuthProps, f.Key) {
				e.r.errorFix(RuleSAMUnknownProp, f.KeyRange, DidYouMean(f.Key, wsAuthProps), "Auth of %s has no property %s", a.id, f.Key)
			}
		}
		e.errorf(RuleSAMAuthType, authRange, "Auth of %s needs an AuthType (AWS_IAM, CUSTOM or NONE) for its other settings", a.id)
		return false
	case at.Value.Kind != String:
		e.errorf(RuleSAMAuthType, at.Value.Range, "AuthType must be AWS_IAM, CUSTOM or NONE, written as a string")
		return false
	}
	t := strings.ToUpper(at.Value.Value)
	switch t {
	case "CUSTOM":
		ok := true
		for _, f := range auth.Fields {
			if !slices.Contains(wsAuthProps, f.Key) {
				e.r.errorFix(RuleSAMUnknownProp, f.KeyRange, DidYouMean(f.Key, wsAuthProps), "Auth of %s has no property %s", a.id, f.Key)
				ok = false
			}
		}
		if !truthy(auth.Get("AuthArn")) {
			e.errorf(RuleSAMAuthArn, at.KeyRange, "AuthType CUSTOM needs AuthArn, the ARN of the authorizer function")
			return false
		}
		if at.Value.Value != "CUSTOM" {
			e.r.add(RuleSAMAuthCase.Diag(at.Value.Range, "SAM reads AuthType %s as CUSTOM when it checks Auth but not when it builds the $connect route, which gets AuthorizationType NONE and no authorizer; write CUSTOM", at.Value.Value))
		}
		return ok
	case "AWS_IAM", "NONE":
		ok := true
		for _, f := range auth.Fields {
			if f.Key != "AuthType" {
				e.errorf(RuleSAMAuthExtra, f.KeyRange, "AuthType %s takes no other settings; remove %s", t, f.Key)
				ok = false
			}
		}
		if ok && t == "AWS_IAM" && at.Value.Value != "AWS_IAM" {
			e.r.add(RuleSAMAuthCase.Diag(at.Value.Range, "SAM reads AuthType %s as AWS_IAM when it checks Auth but not when it builds the $connect route, which gets AuthorizationType NONE; write AWS_IAM", at.Value.Value))
		}
		return ok
	}
	d := RuleSAMAuthType.Diag(at.Value.Range, "AuthType %q is not one of AWS_IAM, CUSTOM or NONE", at.Value.Value)
	d.Fix = DidYouMean(at.Value.Value, wsAuthTypes)
	e.r.add(d)
	return false
}

func (e *wsExpander) api(a *wsAPI) Field {
	name := a.prop("Name")
	if name == nil {
		name = gstr(a.id, a.key)
	}
	tags := &Node{Kind: Map, Range: a.key}
	if t := a.prop("Tags"); t != nil && t.Kind == Map {
		tags.Range = t.Range
		tags.Fields = slices.Clone(t.Fields)
	}
	setField(tags, wsTagName, gstr("SAM", tags.Range), tags.Range)
	props := gmap(a.key,
		"ApiKeySelectionExpression", a.prop("ApiKeySelectionExpression"),
		"Description", a.prop("Description"),
		"DisableExecuteApiEndpoint", a.prop("DisableExecuteApiEndpoint"),
		"DisableSchemaValidation", a.prop("DisableSchemaValidation"),
		"IpAddressType", a.prop("IpAddressType"),
		"Name", name,
		"RouteSelectionExpression", a.prop("RouteSelectionExpression"),
		"Tags", tags,
		"ProtocolType", gstr("WEBSOCKET", a.key))
	var attrs []any
	if d := a.node.Get("DependsOn"); d != nil {
		attrs = append(attrs, "DependsOn", d)
	}
	return resource(a.id, TypeApi, a.key, props, attrs...)
}

func (e *wsExpander) route(a *wsAPI, rf Field, base string, spec *Node) Field {
	at := rf.KeyRange
	var params *Node
	if rp := spec.Get("RequestParameters"); truthy(rp) {
		params = rp
	}
	props := gmap(at,
		"RouteKey", gstr(rf.Key, at),
		"ApiId", gref(a.id, at),
		"ApiKeyRequired", spec.Get("ApiKeyRequired"),
		"ModelSelectionExpression", spec.Get("ModelSelectionExpression"),
		"OperationName", spec.Get("OperationName"),
		"RequestModels", spec.Get("RequestModels"),
		"RequestParameters", params,
		"RouteResponseSelectionExpression", spec.Get("RouteResponseSelectionExpression"),
		"Target", &Node{Kind: Map, Range: at, Fields: []Field{{Key: "Fn::Join", KeyRange: at, Value: &Node{Kind: List, Range: at,
			Items: []*Node{gstr("/", at), {Kind: List, Range: at, Items: []*Node{gstr("integrations", at), gref(base+"Integration", at)}}}}}}})
	return resource(base+"Route", TypeRoute, at, props)
}

// routeAuth sets the $connect route's authorization as SAM does
// (_set_auth_type_and_return_custom_authorizer) and returns the Authorizer
// for Auth CUSTOM. SAM compares AuthType case-sensitively here.
func (e *wsExpander) routeAuth(a *wsAPI, rf Field, route Field) *Field {
	auth := a.prop("Auth")
	if !literalMap(auth) || len(auth.Fields) == 0 || rf.Key != "$connect" {
		return nil
	}
	props := route.Value.Get("Properties")
	at := a.propRange("Auth")
	switch auth.Get("AuthType").Str() {
	case "CUSTOM":
		id := a.id + "ConnectAuthorizer"
		setField(props, "AuthorizationType", gstr("CUSTOM", at), at)
		setField(props, "AuthorizerId", gref(id, at), at)
		name := auth.Get("Name")
		if !truthy(name) {
			name = gstr(id, at)
		}
		var uri *Node
		if arn := auth.Get("AuthArn"); arn != nil {
			uri = gsub("arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${AuthArn}/invocations", arn.Range, "AuthArn", arn)
		}
		f := resource(id, TypeAuthorizer, at, gmap(at,
			"ApiId", gref(a.id, at),
			"AuthorizerCredentialsArn", auth.Get("InvokeRole"),
			"AuthorizerType", gstr("REQUEST", at),
			"AuthorizerUri", uri,
			"IdentitySource", auth.Get("IdentitySource"),
			"Name", name))
		return &f
	case "AWS_IAM":
		setField(props, "AuthorizationType", gstr("AWS_IAM", at), at)
	default:
		setField(props, "AuthorizationType", gstr("NONE", at), at)
	}
	return nil
}

func (e *wsExpander) authorizerPermission(a *wsAPI, auth *Node) *Field {
	if auth.Get("AuthType").Str() != "CUSTOM" || truthy(auth.Get("InvokeRole")) || !truthy(auth.Get("AuthArn")) {
		return nil
	}
	arn := auth.Get("AuthArn")
	at := a.propRange("Auth")
	f := resource(a.id+"AuthorizerPermission", "AWS::Lambda::Permission", at, gmap(at,
		"Action", gstr("lambda:InvokeFunction", at),
		"FunctionName", arn,
		"Principal", gstr("apigateway.amazonaws.com", at),
		"SourceArn", gsub("arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${__ApiId__}/authorizers/*", at, "__ApiId__", gref(a.id, at))))
	return &f
}

func (e *wsExpander) integration(a *wsAPI, rf Field, base string, spec, fn *Node) Field {
	at := rf.KeyRange
	return resource(base+"Integration", TypeIntegration, at, gmap(at,
		"ApiId", gref(a.id, at),
		"IntegrationType", gstr("AWS_PROXY", at),
		"IntegrationUri", gsub("arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${FunctionArn}/invocations", fn.Range, "FunctionArn", fn),
		"TimeoutInMillis", spec.Get("IntegrationTimeout")))
}

func (e *wsExpander) permission(a *wsAPI, rf Field, base string, fn *Node) Field {
	at := rf.KeyRange
	prefix := "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${" + a.id + ".ApiId}/"
	var source *Node
	if sn := a.prop("StageName"); sn == nil || sn.Kind == String {
		source = gsub(prefix+stageNameOf(sn)+"/"+rf.Key, at)
	} else {
		source = gsub(prefix+"${__StageName__}/"+rf.Key, at, "__StageName__", sn)
	}
	return resource(base+"Permission", "AWS::Lambda::Permission", at, gmap(at,
		"Action", gstr("lambda:InvokeFunction", at),
		"FunctionName", fn,
		"Principal", gstr("apigateway.amazonaws.com", at),
		"SourceArn", source))
}

func stageNameOf(sn *Node) string {
	if sn == nil {
		return "default"
	}
	return sn.Value
}

// stageID is the logical ID of the Stage SAM generates for an API.
func stageID(api string, sn *Node) string {
	switch {
	case sn == nil || sn.Kind == String && sn.Value == "default":
		return api + "DefaultStage"
	case sn.Kind == String:
		return api + sn.Value + "Stage"
	}
	return api + "Stage"
}

func (e *wsExpander) stage(a *wsAPI, routeIDs []string) Field {
	sn := a.prop("StageName")
	at := a.key
	if sn != nil {
		at = sn.Range
	}
	id := stageID(a.id, sn)
	e.refs[a.id+".Stage"] = id
	name := sn
	if name == nil {
		name = gstr("default", at)
	}
	var attrs []any
	if truthy(a.prop("RouteSettings")) && len(routeIDs) > 0 {
		deps := &Node{Kind: List, Range: a.propRange("RouteSettings")}
		for _, r := range routeIDs {
			deps.Items = append(deps.Items, gstr(r, deps.Range))
		}
		attrs = append(attrs, "DependsOn", deps)
	}
	return resource(id, TypeStage, at, gmap(at,
		"ApiId", gref(a.id, at),
		"StageName", name,
		"StageVariables", a.prop("StageVariables"),
		"AccessLogSettings", a.prop("AccessLogSettings"),
		"DefaultRouteSettings", a.prop("DefaultRouteSettings"),
		"Tags", gmap(at, wsTagName, gstr("SAM", at)),
		"AutoDeploy", &Node{Kind: Bool, Value: "true", Range: at},
		"RouteSettings", a.prop("RouteSettings")), attrs...)
}

// domain generates the DomainName, its ApiMappings and the Route53 record set
// group of Domain (ApiV2Generator._construct_api_domain), appending them to a.out.
func (e *wsExpander) domain(a *wsAPI, d *Node) *Field {
	at := a.propRange("Domain")
	ok := true
	for _, f := range d.Fields {
		if !slices.Contains(wsDomainProps, f.Key) {
			e.r.errorFix(RuleSAMUnknownProp, f.KeyRange, DidYouMean(f.Key, wsDomainProps), "Domain of %s has no property %s", a.id, f.Key)
			ok = false
		}
	}
	name, cert := d.Get("DomainName"), d.Get("CertificateArn")
	if name == nil || cert == nil {
		e.errorf(RuleSAMDomain, at, "a custom domain needs both DomainName and CertificateArn")
		return nil
	}
	id := "ApiGatewayDomainNameV2" + samHash(name)
	e.refs[a.id+".DomainName"] = id
	endpoint := d.Get("EndpointConfiguration")
	if endpoint == nil {
		endpoint = gstr("REGIONAL", at)
	} else if endpoint.Kind != String || endpoint.Value != "REGIONAL" {
		e.errorf(RuleSAMDomain, endpoint.Range, "EndpointConfiguration of a WebSocket API's custom domain must be REGIONAL")
		ok = false
	}
	conf := gmap(at, "CertificateArn", cert, "EndpointType", endpoint)
	if v := d.Get("OwnershipVerificationCertificateArn"); truthy(v) {
		setField(conf, "OwnershipVerificationCertificateArn", v, v.Range)
	}
	if v := d.Get("SecurityPolicy"); truthy(v) {
		setField(conf, "SecurityPolicy", v, v.Range)
	}
	domain := resource(id, "AWS::ApiGatewayV2::DomainName", at, gmap(at,
		"DomainName", name,
		"DomainNameConfigurations", &Node{Kind: List, Range: at, Items: []*Node{conf}},
		"Tags", gmap(at, wsTagName, gstr("SAM", at))))

	mappings, mapsOK := e.apiMappings(a, d, id, at)
	records, recordsOK := e.recordSets(a, d, id, name)
	ok = ok && mapsOK && recordsOK
	if !ok {
		return nil
	}
	a.out = append(a.out, domain)
	a.out = append(a.out, mappings...)
	if records != nil {
		a.out = append(a.out, *records)
	}
	return &domain
}

// apiMappings generates the ApiMappings of a custom domain (id): one per
// BasePath, or one without a key. ok is false when a BasePath is wrong.
func (e *wsExpander) apiMappings(a *wsAPI, d *Node, id string, at Range) ([]Field, bool) {
	ok := true
	var mappings []Field
	stage := gref(stageID(a.id, a.prop("StageName")), at)
	bp := d.Get("BasePath")
	var paths []*Node
	switch {
	case bp != nil && bp.Kind == String && bp.Value != "":
		paths = []*Node{bp}
	case bp != nil && bp.Kind == List && len(bp.Items) > 0:
		paths = bp.Items
	}
	if paths == nil {
		mappings = append(mappings, resource(a.id+"ApiMapping", "AWS::ApiGatewayV2::ApiMapping", at, gmap(at,
			"DomainName", gref(id, at), "ApiId", gref(a.id, at), "Stage", stage)))
	}
	for _, p := range paths {
		if p.Kind != String {
			e.errorf(RuleSAMDomain, p.Range, "each BasePath must be a string, not a %s", describe(p))
			ok = false
			continue
		}
		if basePathBad.MatchString(p.Value) {
			e.errorf(RuleSAMDomain, p.Range, "BasePath %q may contain only letters, digits, /, - and _", p.Value)
			ok = false
			continue
		}
		mid := a.id + basePathStrip.ReplaceAllString(p.Value, "") + "ApiMapping"
		mappings = append(mappings, resource(mid, "AWS::ApiGatewayV2::ApiMapping", p.Range, gmap(p.Range,
			"DomainName", gref(id, p.Range), "ApiId", gref(a.id, p.Range), "Stage", stage,
			"ApiMappingKey", gstr(strings.Trim(p.Value, "/"), p.Range))))
	}

	return mappings, ok
}

// recordSets generates the Route53 RecordSetGroup of a custom domain (id,
// named name) when Domain.Route53 asks for one. ok is false when Route53 is wrong.
func (e *wsExpander) recordSets(a *wsAPI, d *Node, id string, name *Node) (*Field, bool) {
	ok := true
	var records *Field
	if r53f, has := d.Field("Route53"); has {
		r53 := r53f.Value
		switch {
		case r53.Kind != Map:
			e.errorf(RuleSAMDomain, r53.Range, "Domain.Route53 of %s must be a mapping", a.id)
			ok = false
		case r53.Get("HostedZoneId") == nil && r53.Get("HostedZoneName") == nil:
			e.errorf(RuleSAMDomain, r53f.KeyRange, "Route53 needs HostedZoneId or HostedZoneName")
			ok = false
		default:
			for _, f := range r53.Fields {
				if !slices.Contains(wsRoute53Props, f.Key) {
					e.r.errorFix(RuleSAMUnknownProp, f.KeyRange, DidYouMean(f.Key, wsRoute53Props), "Route53 of %s has no property %s", a.id, f.Key)
					ok = false
				}
			}
			// As SAM: the logical ID hashes the first truthy of HostedZoneId and
			// HostedZoneName, the property is the first present (below).
			zone := r53.Get("HostedZoneId")
			if !truthy(zone) {
				zone = r53.Get("HostedZoneName")
			}
			rat := r53f.KeyRange
			set := func(typ string) *Node {
				alias := gmap(rat, "EvaluateTargetHealth", r53.Get("EvaluateTargetHealth"),
					"HostedZoneId", ggetatt(id, "RegionalHostedZoneId", rat),
					"DNSName", ggetatt(id, "RegionalDomainName", rat))
				return gmap(rat, "Name", name, "Type", gstr(typ, rat), "AliasTarget", alias,
					"Region", r53.Get("Region"), "SetIdentifier", r53.Get("SetIdentifier"))
			}
			sets := &Node{Kind: List, Range: rat, Items: []*Node{set("A")}}
			if v6 := r53.Get("IpV6"); v6 != nil && v6.Kind == Bool && v6.Value == "true" {
				sets.Items = append(sets.Items, set("AAAA"))
			}
			zoneKey, hz := "HostedZoneId", r53.Get("HostedZoneId")
			if hz == nil {
				zoneKey, hz = "HostedZoneName", r53.Get("HostedZoneName")
			}
			f := resource("RecordSetGroup"+samHash(zone), "AWS::Route53::RecordSetGroup", rat, gmap(rat, zoneKey, hz, "RecordSets", sets))
			records = &f
		}
	}
	return records, ok
}
