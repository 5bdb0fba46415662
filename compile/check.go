package compile

import (
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
	_, ds := check(st)
	return ds
}

// check binds st and checks the bound model, which it returns for the
// compiler to lower (nil for a nil stack).
func check(st *template.Stack) (*bound, template.Diagnostics) {
	if st == nil {
		return nil, nil
	}
	c := newChecker(st)
	c.bind()
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
		case template.TypeStage:
			c.checkStage(c.stages[rs.LogicalID])
		case template.TypeRouteResponse:
			c.checkRouteResponse(rs)
		case template.TypeModel:
			c.checkModel(c.models[rs.LogicalID])
		case template.TypeLambdaFunction, template.TypeSAMFunction:
			c.checkHandler(rs)
		}
	}
	for _, ir := range c.integResponses {
		c.checkIntegrationResponse(ir)
	}
	for _, au := range c.authorizers {
		c.checkAuthorizer(au)
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
	ds := c.Diagnostics()
	ds.Sort()
	return c.bound, ds
}

// checker reports what the rules find in the bound model.
type checker struct {
	*bound
	template.Collector
}

func newChecker(st *template.Stack) *checker {
	return &checker{bound: &bound{st: st, apis: map[string]*apiInfo{}, routes: map[string]*routeInfo{},
		integs: map[string]*integInfo{}, stages: map[string]*stageInfo{}, deployApi: map[string]*apiInfo{},
		owners: map[string]owner{}, routeResponses: map[string]*refInfo{}, responses: map[string][]*template.Resource{},
		models: map[string]*modelInfo{}, code: map[string]*functionCode{}}}
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

// ref is resolveRef that reports a problem with rule; ok is false then.
func (c *checker) ref(n *template.Node, prop, owner, typ string, rule template.Rule) (res *template.Resource, at template.Range, ok bool) {
	return c.reported(c.resolve(n, prop, owner, typ), rule)
}

// reported reports the problem of a resolved reference with rule; ok is
// false when there is one.
func (c *checker) reported(r refInfo, rule template.Rule) (res *template.Resource, at template.Range, ok bool) {
	if p := r.problem; p != nil {
		c.report(rule, p.at, p.fix, "%s", p.msg)
		return nil, r.at, false
	}
	return r.res, r.at, true
}

// report adds a diagnostic once.
func (c *checker) report(rule template.Rule, at template.Range, fix, format string, args ...any) {
	c.Report(rule, at, fix, format, args...)
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
