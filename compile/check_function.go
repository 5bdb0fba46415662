package compile

import (
	"github.com/wsgw/wsgw/template"
)

// Function and code rules (WSGW9xxx): what keeps a function an integration
// or authorizer invokes from running locally (SPEC ). Warnings: a
// --lambda-endpoint or --integration can still run it.
var (
	RuleCodeUnreachable = template.Rule{ID: "WSGW9002", Severity: template.Warning, Summary: "a function an integration or authorizer invokes should have its code on disk (a local CodeUri or Code, InlineCode or ZipFile): wsgw does not download code from S3 or run container images"}
	RuleNeedsBuild      = template.Rule{ID: "WSGW9003", Severity: template.Warning, Summary: "a function whose source needs building (Metadata BuildMethod, TypeScript) runs only after `sam build`: serve .aws-sam/build/template.yaml"}
)

var functionRules = []template.Rule{RuleHandlerOutside, RuleCodeUnreachable, RuleNeedsBuild}

// checkFunctions checks the code of every function an integration or an
// authorizer of a WebSocket Api invokes through its Arn.
func (c *checker) checkFunctions() {
	done := map[string]bool{}
	check := func(fns []*template.Resource) {
		for _, rs := range fns {
			if !done[rs.LogicalID] {
				done[rs.LogicalID] = true
				c.checkFunctionCode(rs)
			}
		}
	}
	for _, a := range c.apiList {
		if !a.websocket {
			continue
		}
		for _, in := range a.integs {
			check(in.functions)
		}
	}
	for _, au := range c.authorizers {
		check(au.functions)
	}
}

func (c *checker) checkFunctionCode(rs *template.Resource) {
	fc := c.codeOf(rs)
	switch {
	case fc.unreachable != "":
		at := rs.Range
		if fc.at != nil {
			at = fc.at.Range
		}
		fix := "give `wsgw serve --lambda-endpoint URL` (sam local start-lambda runs images) or --integration ID=URL"
		if fc.inline != "" {
			fix = "use a nodejs or python runtime, or point CodeUri at a local directory"
		} else if rs.Prop("ImageUri") == nil && rs.Prop("Code").Get("ImageUri") == nil && rs.Prop("PackageType").Str() != "Image" {
			fix = "point it at the function's local directory (the template before `sam package`), or give `wsgw serve --lambda-endpoint URL`"
		}
		c.report(RuleCodeUnreachable, at, fix, "function %s cannot run locally: %s", rs.LogicalID, fc.unreachable)
	case fc.needsBuild != "":
		at := rs.PropRange("Handler")
		if n := rs.Node.Get("Metadata").Get("BuildMethod"); n != nil {
			at = n.Range
		}
		c.report(RuleNeedsBuild, at, samBuildHint, "function %s needs building: %s", rs.LogicalID, fc.needsBuild)
	}
}
