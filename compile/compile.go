package compile

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/wsgw/wsgw/template"
)

// Options controls Compile.
type Options struct {
	// Integrations maps integration and authorizer logical IDs to URLs that
	// replace their IntegrationUri or AuthorizerUri (--integration ID=URL,
	// SPEC ).
	Integrations map[string]string
	// Stage, when set, keeps only the stages of that name (--stage NAME); an
	// Api without such a stage is left out of the plan.
	Stage string
	// LambdaEndpoint is --lambda-endpoint: when set, every Lambda integration
	// and authorizer can run through the Lambda Invoke API (SPEC ).
	LambdaEndpoint string
	// CanRun reports whether the gateway can run a function of the template
	// as a local process, and why not (the runtime's Lambda runner passes its
	// own; cmd wires it). Nil: a function can run when its code is on disk.
	CanRun func(*Function) (ok bool, why string)
	// WriteInline writes a function's InlineCode to a private directory and
	// returns it (the runtime's Lambda runner passes its own; cmd wires it).
	// Nil: inline code is left in the plan and CodeDir empty.
	WriteInline func(*Function) (dir string, err error)
}

// The rules Compile reports on top of Check's (WSGW8xxx: the command-line
// options and the values of the stages actually compiled). Their IDs are stable.
var (
	RuleStageOption       = template.Rule{ID: "WSGW8001", Severity: template.Error, Summary: "--stage must name a stage of the template"}
	RuleIntegrationOption = template.Rule{ID: "WSGW8002", Severity: template.Error, Summary: "--integration must name an integration or authorizer of the template and give an absolute http(s) URL"}
	RuleStageURL          = template.Rule{ID: "WSGW8003", Severity: template.Error, Summary: "an HTTP or HTTP_PROXY integration's URL, with each stage's variables substituted, must be an absolute http(s) URL"}
	// RulePlan reports what Check should have caught; it keeps the compiler
	// from building a plan that would fail at message time (SPEC ).
	RulePlan = template.Rule{ID: "WSGW8004", Severity: template.Error, Summary: "selection expressions, route targets, stages, stage variables and mappings must compile into a plan"}
)

// planRules lists the rules Compile adds to Check's (reported by plan and
// serve, never by validate, which does not compile); TestCompileDiagnostics
// covers each of them.
var planRules = []template.Rule{RuleStageOption, RuleIntegrationOption, RuleStageURL, RulePlan}

// defaultTimeoutMillis is API Gateway's integration timeout when
// TimeoutInMillis is not set (SPEC ).
const defaultTimeoutMillis = 29000

// AWS's account-level throttling, used for the half of a throttle a stage or
// route does not set.
const (
	accountRateLimit  = 10000
	accountBurstLimit = 5000
)

// Build loads a template (src, the contents of file) and compiles it: the
// whole way from text to Plan that `wsgw plan` and `wsgw serve` take, and
// that a reload takes again. The diagnostics of both stages come back sorted;
// the plan is nil whenever one of them is an error.
//
// A panic while loading or compiling (a bug in wsgw) is a diagnostic too
// (RulePlan, at the top of the file), so that serve's reload keeps the last
// good plan serving and prints it like any other diagnostic.
func Build(file string, src []byte, load template.Options, opts Options) (plan *Plan, ds template.Diagnostics) {
	defer func() {
		if p := recover(); p != nil {
			plan = nil
			ds = append(ds, RulePlan.Diag(template.Range{File: file, Line: 1, Col: 1}, "wsgw failed on this template: %v (a bug in wsgw: please report it with the template)", p))
			ds.Sort()
		}
	}()
	st, ds := template.Load(file, src, load)
	if st == nil || ds.HasErrors() {
		return nil, ds
	}
	plan, cds := Compile(st, opts)
	ds = append(ds, cds...)
	ds.Sort()
	if ds.HasErrors() {
		return nil, ds
	}
	return plan, ds
}

// Compile checks st (Check) and, when it has no errors, lowers the bound
// model the checks read into a Plan. The plan is nil whenever the
// diagnostics hold an error; warnings come back with a plan.
func Compile(st *template.Stack, opts Options) (*Plan, template.Diagnostics) {
	if st == nil {
		return nil, nil
	}
	b, ds := check(st)
	ds = withoutOverridden(ds, st, opts.Integrations)
	if ds.HasErrors() {
		return nil, ds
	}
	c := &compiler{b: b, st: st, opts: opts, integs: map[string]*integSrc{}, functions: map[string]*Function{}}
	plan := c.plan()
	ds = append(ds, c.Diagnostics()...)
	ds.Sort()
	if ds.HasErrors() {
		return nil, ds
	}
	return plan, ds
}

// compiler lowers a bound model that has passed the checks into a plan. It
// reports (RulePlan) only what compiling finds: values per stage (stage
// variables substituted) and the command-line options.
type compiler struct {
	template.Collector
	b      *bound
	st     *template.Stack
	opts   Options
	integs map[string]*integSrc
	// functions holds the Lambda functions integrations and authorizers invoke.
	functions map[string]*Function
	// np holds integration responses and models, compiled once (templates.go).
	np nonProxySrc
}

func (c *compiler) errorf(rule template.Rule, at template.Range, format string, args ...any) {
	c.Add(rule.Diag(at, format, args...))
}

// fileRange is where diagnostics about command-line options point: the
// Resources section.
func (c *compiler) fileRange() template.Range {
	if f, ok := c.st.Root.Field("Resources"); ok {
		return f.KeyRange
	}
	return template.Range{File: c.st.File, Line: 1, Col: 1}
}

// apiSrc is a WebSocket Api with its routes and stages, before compiling per stage.
type apiSrc struct {
	api    *Api
	routes []*routeSrc
	stages []*stageSrc
}

type routeSrc struct {
	info   *routeInfo
	res    *template.Resource
	key    string
	twoWay bool
	integ  *integInfo
	// authorizer is the $connect route's CUSTOM authorizer, apiKey its
	// ApiKeyRequired, iam its AuthorizationType AWS_IAM.
	authorizer *authorizerInfo
	apiKey     bool
	iam        bool
}

type stageSrc struct {
	res      *template.Resource // nil for the implicit "local" stage
	name     string
	at       template.Range // StageName's position, or the Api's
	vars     map[string]string
	throttle *Throttle
	// routeThrottle holds RouteSettings throttling by route key.
	routeThrottle map[string]*Throttle
	accessLog     string
}

func (c *compiler) plan() *Plan {
	p := &Plan{Source: c.st.File, Apis: []*Api{}}
	var apis []*apiSrc
	for _, a := range c.b.apiList {
		if a.websocket {
			apis = append(apis, c.apiSrc(a))
		}
	}
	c.checkOptions(apis)
	for _, a := range apis {
		var stages []*stageSrc
		for _, s := range a.stages {
			if c.opts.Stage == "" || s.name == c.opts.Stage {
				stages = append(stages, s)
			}
		}
		if len(stages) == 0 {
			continue
		}
		for _, s := range stages {
			a.api.Stages = append(a.api.Stages, c.stage(a, s))
		}
		p.Apis = append(p.Apis, a.api)
	}
	if len(c.functions) > 0 {
		p.Functions = c.functions
	}
	return p
}

// checkOptions reports --stage and --integration values that name nothing.
func (c *compiler) checkOptions(apis []*apiSrc) {
	if c.opts.Stage != "" {
		var names []string
		at := c.fileRange()
		for _, a := range apis {
			for _, s := range a.stages {
				if !slices.Contains(names, s.name) {
					names = append(names, s.name)
				}
			}
		}
		if len(apis) > 0 && len(apis[0].stages) > 0 {
			at = apis[0].stages[0].at
		}
		if !slices.Contains(names, c.opts.Stage) {
			list := "it has none"
			if len(names) > 0 {
				list = "its stages: " + strings.Join(names, ", ")
			}
			d := RuleStageOption.Diag(at, "--stage %s: the template has no stage %s (%s)", c.opts.Stage, c.opts.Stage, list)
			d.Fix = template.DidYouMean(c.opts.Stage, names)
			c.Add(d)
		}
	}
	ids := make([]string, 0, len(c.opts.Integrations))
	for id := range c.opts.Integrations {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		u := c.opts.Integrations[id]
		if rs := c.st.Resource(id); rs == nil || rs.Type != template.TypeIntegration && rs.Type != template.TypeAuthorizer {
			d := RuleIntegrationOption.Diag(c.fileRange(), "--integration %s: the template has no integration or authorizer %s", id, id)
			d.Fix = template.DidYouMean(id, append(c.st.LogicalIDs(template.TypeIntegration), c.st.LogicalIDs(template.TypeAuthorizer)...))
			c.Add(d)
			continue
		} else if rs.Type == template.TypeIntegration && rs.Prop("IntegrationType").Str() == "MOCK" {
			c.errorf(RuleIntegrationOption, rs.Range, "--integration %s: %s is a MOCK integration, which calls no URL", id, id)
			continue
		}
		if err := checkHTTPURL(u); err != nil {
			c.errorf(RuleIntegrationOption, c.fileRange(), "--integration %s=%s: %v", id, u, err)
		}
	}
}

// checkHTTPURL reports why u is not an absolute http(s) URL, or nil.
func checkHTTPURL(u string) error {
	pu, err := url.Parse(u)
	switch {
	case err != nil:
		return fmt.Errorf("not a URL (%v)", strings.TrimPrefix(err.Error(), "parse "+strconv.Quote(u)+": "))
	case pu.Scheme != "http" && pu.Scheme != "https":
		return fmt.Errorf("want an absolute http:// or https:// URL")
	case pu.Hostname() == "":
		return fmt.Errorf("the URL has no host")
	}
	return nil
}

// apiSrc reads a WebSocket Api of the bound model with its routes and stages.
func (c *compiler) apiSrc(info *apiInfo) *apiSrc {
	rs := info.res
	a := &apiSrc{api: &Api{LogicalID: rs.LogicalID, ID: rs.PhysicalID, Name: rs.Prop("Name").Str(), Stages: []*Stage{},
		ApiKeySelectionExpression: rs.Prop("ApiKeySelectionExpression").Str(),
		RouteSelectionExpression:  info.rse.Str(), Selection: info.selection}}
	for _, r := range info.routes {
		a.routes = append(a.routes, c.routeSrc(r))
	}
	for _, s := range info.stages {
		a.stages = append(a.stages, c.stageSrc(s.res))
	}
	if len(a.stages) == 0 {
		// SPEC: a template without a Stage gets one stage named "local".
		a.stages = []*stageSrc{{name: "local", at: rs.Range}}
	}
	return a
}

func (c *compiler) routeSrc(info *routeInfo) *routeSrc {
	r := info.res
	rt := &routeSrc{info: info, res: r, key: info.key}
	// SPEC: two-way when RouteResponseSelectionExpression is $default and
	// a RouteResponse with key $default belongs to the route.
	if r.Prop("RouteResponseSelectionExpression").Str() == "$default" {
		for _, rr := range c.b.responses[r.LogicalID] {
			if rr.Prop("RouteResponseKey").Str() == "$default" {
				rt.twoWay = true
				break
			}
		}
	}
	rt.integ = info.integ
	if rt.key == "$connect" {
		rt.apiKey = r.Prop("ApiKeyRequired").Str() == "true"
		switch r.Prop("AuthorizationType").Str() {
		case "CUSTOM":
			if info.authorizer != nil && info.authorizer.res != nil {
				rt.authorizer = c.b.authorizer(info.authorizer.res)
			}
		case "AWS_IAM":
			rt.iam = true
		}
	}
	return rt
}

func (c *compiler) stageSrc(s *template.Resource) *stageSrc {
	ss := &stageSrc{res: s, name: s.Prop("StageName").Str(), at: s.PropRange("StageName")}
	if v := s.Prop("StageVariables"); v != nil && v.Kind == template.Map {
		ss.vars = make(map[string]string, len(v.Fields))
		for _, f := range v.Fields {
			ss.vars[f.Key] = f.Value.Str()
		}
	}
	ss.accessLog = s.Prop("AccessLogSettings").Get("Format").Str()
	ss.throttle = c.throttle(s.Prop("DefaultRouteSettings"), nil)
	if rsets := s.Prop("RouteSettings"); rsets != nil && rsets.Kind == template.Map {
		for _, f := range rsets.Fields {
			if t := c.throttle(f.Value, ss.throttle); t != nil {
				if ss.routeThrottle == nil {
					ss.routeThrottle = map[string]*Throttle{}
				}
				ss.routeThrottle[f.Key] = t
			}
		}
	}
	return ss
}

// throttle reads ThrottlingRateLimit and ThrottlingBurstLimit from a route
// settings node; a half it does not set comes from base, else from AWS's
// account-level limits. It returns nil when the node sets neither.
func (c *compiler) throttle(n *template.Node, base *Throttle) *Throttle {
	rate, burst := n.Get("ThrottlingRateLimit"), n.Get("ThrottlingBurstLimit")
	if rate == nil && burst == nil {
		return nil
	}
	t := &Throttle{Rate: accountRateLimit, Burst: accountBurstLimit}
	if base != nil {
		*t = *base
	}
	if rate != nil {
		f, err := strconv.ParseFloat(rate.Str(), 64)
		if err != nil || f < 0 {
			c.errorf(RulePlan, rate.Range, "ThrottlingRateLimit must be a number of requests per second, not %q", rate.Str())
		}
		t.Rate = f
	}
	if burst != nil {
		b, err := strconv.Atoi(burst.Str())
		if err != nil || b < 0 {
			c.errorf(RulePlan, burst.Range, "ThrottlingBurstLimit must be a whole number of requests, not %q", burst.Str())
		}
		t.Burst = b
	}
	return t
}

// stage compiles the routes of a for one stage.
func (c *compiler) stage(a *apiSrc, s *stageSrc) *Stage {
	out := &Stage{Name: s.name, Variables: s.vars, Path: "/" + s.name, AccessLogFormat: s.accessLog,
		Throttle: s.throttle, Routes: make(map[string]*Route, len(a.routes))}
	if s.res != nil {
		out.LogicalID = s.res.LogicalID
	}
	if s.name == "$default" {
		out.Path = "/"
	}
	for _, rt := range a.routes {
		r := &Route{Key: rt.key, LogicalID: rt.res.LogicalID, TwoWay: rt.twoWay, Throttle: s.routeThrottle[rt.key], ApiKeyRequired: rt.apiKey, IAM: rt.iam}
		c.routeModels(rt.info, r)
		if rt.integ != nil {
			r.Integration = c.integration(rt.integ, s)
		}
		if rt.authorizer != nil {
			r.Authorizer = c.authorizer(a, rt.authorizer, s)
		}
		out.Routes[rt.key] = r
	}
	return out
}

// integSrc is the part of an integration that is the same on every stage.
type integSrc struct {
	base *Integration
	// uri is the IntegrationUri node (nil when absent); url the URL before
	// stage variables (IntegrationUri or the --integration override).
	uri *template.Node
	url string
	// steps are the mapping steps; those reading a stage variable are resolved per stage.
	steps []Step
}

// notRunnable says why the runtime cannot run integrations of a type yet.
// AWS_PROXY integrations, and AWS integrations that invoke a Lambda function,
// run when a way to run their function exists (runnable).
var notRunnable = map[string]string{
	"AWS": "AWS service integrations other than Lambda functions are not supported",
}

// invokesLambda reports whether an AWS (non-proxy) integration invokes a
// Lambda function: its URI is a Lambda invocation ARN, or --integration
// sends it to a URL that stands for the function (SPEC ).
func invokesLambda(in Integration) bool {
	if in.Overridden {
		return true
	}
	_, _, ok := invokedFunction(in.URL)
	return ok
}

func (c *compiler) integSrc(info *integInfo) *integSrc {
	rs := info.res
	if is, ok := c.integs[rs.LogicalID]; ok {
		return is
	}
	typ := rs.Prop("IntegrationType").Str()
	b := &Integration{LogicalID: rs.LogicalID, ID: rs.PhysicalID, Type: typ,
		Method:                      rs.Prop("IntegrationMethod").Str(),
		ConnectionType:              rs.Prop("ConnectionType").Str(),
		TimeoutMillis:               defaultTimeoutMillis,
		NotRunnable:                 notRunnable[typ],
		TemplateSelectionExpression: rs.Prop("TemplateSelectionExpression").Str(),
	}
	isHTTP := typ == "HTTP" || typ == "HTTP_PROXY"
	if b.Method == "" && isHTTP {
		b.Method = "POST"
	}
	if cid := rs.Prop("ConnectionId"); cid != nil {
		if l := info.vpcLink; l != nil {
			b.VpcLink = l.LogicalID
		} else {
			b.VpcLink = cid.Str()
		}
	}
	if t := rs.Prop("TimeoutInMillis"); t != nil {
		// Check has made sure it is a whole number in range (WSGW1005, WSGW4009).
		if ms, err := strconv.Atoi(t.Str()); err == nil {
			b.TimeoutMillis = ms
		}
	}
	is := &integSrc{base: b, uri: rs.Prop("IntegrationUri")}
	is.url = is.uri.Str()
	if len(info.functions) > 0 {
		b.Function = info.functions[0].LogicalID
	}
	if u, ok := c.opts.Integrations[rs.LogicalID]; ok {
		is.url, b.Overridden = u, true
	}
	if info.templates != nil && len(info.templates.src) > 0 {
		b.RequestTemplates = info.templates.src // as bind read them
	}
	for _, p := range info.params {
		// Check has reported every target and source that does not parse.
		is.steps = append(is.steps, Step{Target: p.target, Name: p.name, Source: p.src})
	}
	c.nonProxy(info, b)
	c.integs[rs.LogicalID] = is
	return is
}

// integration compiles an integration for one stage.
func (c *compiler) integration(info *integInfo, s *stageSrc) *Integration {
	rs := info.res
	is := c.integSrc(info)
	in := *is.base
	at := rs.Range
	if is.uri != nil && !in.Overridden {
		at = is.uri.Range
	}
	if is.url != "" {
		u, missing := substituteStageVars(is.url, s.vars)
		for _, name := range missing {
			// Check reports these (WSGW5012) for the template; an override is
			// the command line's doing.
			if in.Overridden {
				c.errorf(RuleIntegrationOption, c.fileRange(), "--integration %s=%s uses ${stageVariables.%s}, which stage %s does not define", rs.LogicalID, is.url, name, s.name)
			} else {
				c.errorf(RulePlan, at, "IntegrationUri of %s uses ${stageVariables.%s}, which stage %s does not define", rs.LogicalID, name, s.name)
			}
		}
		if len(missing) == 0 && (in.Type == "HTTP" || in.Type == "HTTP_PROXY") && !in.Overridden {
			if err := checkHTTPURL(u); err != nil {
				c.errorf(RuleStageURL, at, "IntegrationUri of %s is %q on stage %s: %v", rs.LogicalID, u, s.name, err)
			}
		}
		in.URL = u
	}
	if in.Type == "AWS_PROXY" || in.Type == "AWS" && invokesLambda(in) {
		t := c.lambdaTarget(info.functions, in.URL)
		if t.fn != nil {
			in.Function = t.fn.LogicalID
		}
		if !in.Overridden {
			in.FunctionName, in.FunctionQualifier = t.name, t.qualifier
		}
		in.NotRunnable = c.runnable(t, in.Overridden, "--integration "+rs.LogicalID+"=URL")
	} else if in.Function != "" {
		// An AWS service integration whose URI names a function's Arn without
		// invoking it: the function is listed, the integration not run.
		c.function(c.st.Resource(in.Function))
	}
	for _, st := range is.steps {
		if st.Source.Kind == SourceStageVariable {
			// A stage without the variable leaves the target out (SPEC );
			// Check warns about it (WSGW5011).
			v, ok := s.vars[st.Source.Name]
			if !ok {
				continue
			}
			st.Source.Kind, st.Source.Literal = SourceLiteral, v
		}
		in.Mapping = append(in.Mapping, st)
	}
	sortSteps(in.Mapping)
	return &in
}

// substituteStageVars replaces ${stageVariables.name} in s with the stage's
// values and returns the names the stage does not define.
func substituteStageVars(s string, vars map[string]string) (string, []string) {
	var missing []string
	for _, ref := range StageVariableRefs(s) {
		if _, ok := vars[ref.Name]; !ok && !slices.Contains(missing, ref.Name) {
			missing = append(missing, ref.Name)
		}
	}
	return ExpandStageVariables(s, vars), missing
}

// withoutOverridden drops the warnings about made-up values (WSGW1016) in
// the URIs that --integration replaces: the gateway never uses them.
func withoutOverridden(ds template.Diagnostics, st *template.Stack, overrides map[string]string) template.Diagnostics {
	if len(overrides) == 0 {
		return ds
	}
	unused := map[template.Range]bool{}
	for id := range overrides {
		if rs := st.Resource(id); rs != nil {
			for _, prop := range []string{"IntegrationUri", "AuthorizerUri"} {
				if n := rs.Prop(prop); n != nil {
					for _, l := range n.Links {
						unused[l.Range] = true
					}
				}
			}
		}
	}
	return slices.DeleteFunc(ds, func(d template.Diagnostic) bool { return d.Rule == RulePlaceholder.ID && unused[d.Range] })
}
