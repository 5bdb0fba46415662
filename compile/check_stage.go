package compile

import (
	"regexp"
	"slices"
	"strings"

	"github.com/wsgw/wsgw/template"
)

var (
	// stageNamePattern is what API Gateway accepts as a stage name besides $default.
	stageNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
	// stageVarValueChar is one character AWS allows in a stage variable value
	// (the CreateStage API reference: [A-Za-z0-9-._~:/?#&=,]+).
	stageVarValueChar = regexp.MustCompile(`^[A-Za-z0-9\-._~:/?#&=,]$`)
	// requestIDVar is $context.requestId or $context.extendedRequestId (either
	// satisfies API Gateway), not followed by more of a name.
	requestIDVar = regexp.MustCompile(`\$context\.(requestId|extendedRequestId)\b`)
)

func (c *checker) checkStage(s *stageInfo) {
	if s == nil {
		return // a Stage of an HTTP API
	}
	rs := s.res
	if n := rs.Prop("StageName"); n != nil && s.name != "$default" && !stageNamePattern.MatchString(s.name) {
		fix := ""
		if strings.EqualFold(s.name, "default") || strings.EqualFold(s.name, "$default") {
			fix = "did you mean $default?"
		}
		c.report(RuleStageName, n.Range, fix, "StageName of %s is %q; it must be $default or 1 to 128 letters, digits, hyphens and underscores", rs.LogicalID, s.name)
	}
	if s.api != nil && s.name != "" {
		for _, other := range s.api.stages {
			if other == s {
				break
			}
			if other.name == s.name {
				c.report(RuleStageNameUnique, rs.Prop("StageName").Range, "", "stage %s of %s is already defined by %s (line %d)",
					s.name, s.api.res.LogicalID, other.res.LogicalID, other.res.Prop("StageName").Range.Line)
				break
			}
		}
	}
	if n := rs.Prop("DeploymentId"); n != nil {
		d, at, ok := c.ref(n, "DeploymentId", rs.LogicalID, template.TypeDeployment, RuleStageDeployment)
		if ok && s.api != nil {
			dapi, known := c.deployApi[d.LogicalID]
			if !known || dapi != nil && dapi != s.api {
				owner := "another Api"
				if dapi != nil {
					owner = dapi.res.LogicalID
				}
				c.report(RuleDeploymentSameApi, at, "", "DeploymentId of %s names %s, a Deployment of %s; the stage belongs to %s", rs.LogicalID, d.LogicalID, owner, s.api.res.LogicalID)
			}
		}
	}
	if vars := rs.Prop("StageVariables"); vars != nil && vars.Kind == template.Map {
		for _, f := range vars.Fields {
			if !IsStageVariableName(f.Key) {
				c.report(RuleStageVarName, f.KeyRange, suggestVarName(f.Key), "stage variable name %q may contain only letters, digits and underscores", f.Key)
			}
			v := f.Value
			if !v.IsScalar() || v.Kind == template.Null {
				c.report(RuleStageVarValue, v.Range, "", "stage variable %s must be a string, not a %s", f.Key, v.Kind)
				continue
			}
			if v.Value == "" {
				c.report(RuleStageVarValue, v.Range, "", "stage variable %s is empty; values need at least one character", f.Key)
				continue
			}
			for _, r := range v.Value {
				if !stageVarValueChar.MatchString(string(r)) {
					c.report(RuleStageVarValue, v.Range, "", "stage variable %s contains %q; values may contain only letters, digits and - . _ ~ : / ? # & = ,", f.Key, r)
					break
				}
			}
		}
	}
	if rsNode := rs.Prop("RouteSettings"); rsNode != nil && rsNode.Kind == template.Map && s.api != nil {
		keys := s.api.routeKeys()
		for _, f := range rsNode.Fields {
			if !slices.Contains(keys, f.Key) {
				c.report(RuleRouteSettingsKey, f.KeyRange, template.DidYouMean(f.Key, keys), "RouteSettings of %s names route key %s, which %s has no route for", rs.LogicalID, f.Key, s.api.res.LogicalID)
			}
		}
	}
	if n := rs.Prop("AccessLogSettings").Get("Format"); n != nil && !requestIDVar.MatchString(str(n)) {
		c.report(RuleAccessLogFormat, n.Range, "add $context.requestId to the format", "AccessLogSettings Format of %s must contain $context.requestId or $context.extendedRequestId", rs.LogicalID)
	}
}

// suggestVarName proposes a valid stage variable name: the name with every
// other character turned into an underscore.
func suggestVarName(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !isBarePathChar(c) || c == '.' || c == '[' {
			b[i] = '_'
		}
	}
	if s := string(b); IsStageVariableName(s) {
		return "did you mean " + s + "?"
	}
	return ""
}

// stageVars returns the names a Stage defines in StageVariables.
func stageVars(rs *template.Resource) map[string]bool {
	out := map[string]bool{}
	if vars := rs.Prop("StageVariables"); vars != nil && vars.Kind == template.Map {
		for _, f := range vars.Fields {
			out[f.Key] = true
		}
	}
	return out
}

// checkStageVarUse reports stage variables that integrations of a read but
// some stage of a does not define: in an IntegrationUri (WSGW5012) or in a
// mapping source (WSGW5011). Integrations no route uses are left to WSGW6001.
func (c *checker) checkStageVarUse(a *apiInfo) {
	type use struct {
		name string
		at   template.Range
		what string
		rule template.Rule
	}
	for _, in := range a.integs {
		if len(in.usedBy) == 0 {
			continue
		}
		var uses []use
		if n := in.res.Prop("IntegrationUri"); n != nil {
			for _, ref := range StageVariableRefs(str(n)) {
				if IsStageVariableName(ref.Name) {
					uses = append(uses, use{ref.Name, n.Range, "IntegrationUri of " + in.res.LogicalID, RuleStageVarURI})
				}
			}
		}
		for _, p := range in.params {
			if p.scalar && p.srcErr == nil && p.src.Kind == SourceStageVariable {
				uses = append(uses, use{p.src.Name, p.field.Value.Range, p.field.Key + " of " + in.res.LogicalID, RuleUndefinedStageVar})
			}
		}
		for _, u := range uses {
			if len(a.stages) == 0 {
				c.report(u.rule, u.at, "add an AWS::ApiGatewayV2::Stage with StageVariables", "%s reads stage variable %s, but %s has no Stage to define it", u.what, u.name, a.res.LogicalID)
				continue
			}
			for _, s := range a.stages {
				if !stageVars(s.res)[u.name] {
					c.report(u.rule, u.at, template.DidYouMean(u.name, mapKeysBool(stageVars(s.res))), "%s reads stage variable %s, which stage %s (%s) does not define", u.what, u.name, s.name, s.res.LogicalID)
				}
			}
		}
	}
}

func mapKeysBool(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
