package compile

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/wsgw/wsgw/template"
)

// Rules for non-proxy integrations (SPEC ): mapping templates, template
// and model selection expressions, integration responses and models. They
// report what bind parsed (bind.go), and the compiler lowers the same parses,
// so a template that validates is one that compiles.

// exprRange returns the position of an expression error inside the scalar n
// holding the expression, where the scalar's style allows.
func exprRange(n *template.Node, err error) template.Range {
	var e *exprError
	if errors.As(err, &e) && e.Offset <= len(n.Value) {
		return n.PosAt(1, utf8.RuneCountInString(n.Value[:e.Offset])+1)
	}
	return n.Range
}

// checkSelection reports a template or model selection expression (of
// property prop) that does not compile.
func (c *checker) checkSelection(rs *template.Resource, prop string, p *parsedSelection, rule template.Rule) {
	if p == nil {
		return
	}
	n := p.node
	if !n.IsScalar() || n.Kind == template.Null {
		c.report(rule, n.Range, "", "%s of %s must be a string, not a %s", prop, rs.LogicalID, n.Kind)
		return
	}
	if err := p.err; err != nil {
		c.report(rule, exprRange(n, err), exprFix(err), "%s of %s: %v", prop, rs.LogicalID, err)
	}
}

// checkTemplates reports the values of a RequestTemplates or
// ResponseTemplates mapping that are not valid VTL templates.
func (c *checker) checkTemplates(t parsedTemplates) {
	for _, p := range t.problems {
		c.report(RuleTemplateSyntax, p.at, p.fix, "%s", p.msg)
	}
}

// checkIntegrationTemplates checks the TemplateSelectionExpression and
// RequestTemplates of a non-proxy integration (proxies get WSGW4015).
func (c *checker) checkIntegrationTemplates(in *integInfo) {
	if in == nil || !isNonProxy(in.typ) {
		return
	}
	c.checkSelection(in.res, "TemplateSelectionExpression", in.selection, RuleTemplateSelection)
	c.checkTemplates(*in.templates)
}

// checkIntegrationResponse checks an AWS::ApiGatewayV2::IntegrationResponse:
// its integration, key, template selection expression and templates.
func (c *checker) checkIntegrationResponse(ir *integResponseInfo) {
	rs := ir.res
	if !ir.ok {
		// It belongs to an HTTP API. When its IntegrationId names an
		// integration of a WebSocket API all the same, the compiler attaches
		// it there: what it parses must parse.
		if ir.integ.problem == nil && ir.integ.res != nil && c.integs[ir.integ.res.LogicalID] != nil {
			c.checkResponseParses(ir)
		}
		return
	}
	api := ir.api
	if ir.integ.node != nil {
		if integ, at, ok := c.reported(ir.integ, RuleResponseIntegID); ok && integ != nil {
			in := c.integs[integ.LogicalID]
			switch {
			case in == nil:
			case api != nil && in.api != nil && in.api != api:
				c.report(RuleResponseIntegID, at, "", "IntegrationId of %s names %s, an integration of %s, but %s belongs to %s", rs.LogicalID, integ.LogicalID, in.api.res.LogicalID, rs.LogicalID, api.res.LogicalID)
			case in.typ == "AWS_PROXY" || in.typ == "HTTP_PROXY":
				c.report(RuleResponseOnProxy, at, "", "%s belongs to %s, a %s integration, which passes responses through unchanged; the IntegrationResponse is never used", rs.LogicalID, integ.LogicalID, in.typ)
			}
		}
	}
	c.checkResponseParses(ir)
	c.checkEnum(rs, "ContentHandlingStrategy", contentHandlings, RuleContentHandling)
}

// checkResponseParses checks the key, template selection expression and
// templates of an IntegrationResponse.
func (c *checker) checkResponseParses(ir *integResponseInfo) {
	rs := ir.res
	if k := rs.Prop("IntegrationResponseKey"); k != nil {
		if err := ir.keyErr; err != nil {
			fix := "write /" + k.Str() + "/"
			if strings.EqualFold(strings.TrimPrefix(k.Str(), "$"), "default") {
				fix = "write $default"
			} else if strings.HasPrefix(k.Str(), "/") && strings.HasSuffix(k.Str(), "/") {
				fix = ""
			}
			c.report(RuleResponseKey, k.Range, fix, "IntegrationResponseKey of %s is %s: %v", rs.LogicalID, k.Str(), err)
		}
	}
	c.checkSelection(rs, "TemplateSelectionExpression", ir.selection, RuleTemplateSelection)
	c.checkTemplates(ir.templates)
}

// checkModel checks that a Model's Schema compiles, and that its $schema,
// if any, names draft 4.
func (c *checker) checkModel(m *modelInfo) {
	if m == nil || !m.ok {
		return
	}
	rs := m.res
	if m.err != nil {
		c.report(RuleModelSchema, rs.PropRange("Schema"), "", "Schema of %s: %v", rs.LogicalID, m.err)
	}
	n := rs.Prop("Schema")
	src, err := modelSchema(n)
	if err != nil {
		return
	}
	if s, ok := otherDraft(src); ok {
		at := n.Range // a Schema written as a JSON string
		if v := n.Get("$schema"); v != nil {
			at = v.Range
		}
		c.report(RuleModelDraft, at, "write $schema: http://json-schema.org/draft-04/schema#, or leave it out",
			"$schema of %s is %s, but API Gateway supports only JSON Schema draft 4; wsgw checks the schema as draft 4", rs.LogicalID, s)
	}
}

// checkRouteModels checks a route's ModelSelectionExpression and
// RequestModels: each model key names a Model of the route's Api by Name.
func (c *checker) checkRouteModels(r *routeInfo) {
	if r == nil {
		return
	}
	rs := r.res
	c.checkSelection(rs, "ModelSelectionExpression", r.modelSelection, RuleModelSelection)
	_, hasMSE := rs.Properties.Field("ModelSelectionExpression")
	rm := rs.Prop("RequestModels")
	switch {
	case rm == nil && hasMSE:
		c.report(RuleModelsUnused, keyRange(rs, "ModelSelectionExpression"), "add RequestModels with a $default model",
			"%s has a ModelSelectionExpression but no RequestModels, so API Gateway rejects every message with Invalid request body", rs.LogicalID)
		return
	case rm == nil:
		return
	case rm.Kind != template.Map:
		c.report(RuleRequestModels, rm.Range, "", "RequestModels of %s must be a mapping of model keys to model names, not a %s", rs.LogicalID, rm.Kind)
		return
	case !hasMSE:
		c.report(RuleModelsUnused, keyRange(rs, "RequestModels"), "add ModelSelectionExpression: \\$default to validate every message against the $default model",
			"RequestModels of %s are never used: API Gateway validates messages only when the route has a ModelSelectionExpression", rs.LogicalID)
	}
	if r.api == nil {
		return
	}
	var names []string
	for _, m := range r.api.models {
		names = append(names, m.res.Prop("Name").Str())
	}
fields:
	for _, f := range rm.Fields {
		v := f.Value
		for _, l := range v.Links {
			if m := c.st.Resource(l.LogicalID); m != nil && m.Type == template.TypeModel {
				c.report(RuleRequestModels, l.Range, fmt.Sprintf("write %s", m.Prop("Name").Str()),
					"RequestModels %s of %s refers to %s by its ID; API Gateway reads model names here", f.Key, rs.LogicalID, l.LogicalID)
				continue fields
			}
		}
		if !v.IsScalar() || v.Kind == template.Null || v.Value == "" {
			c.report(RuleRequestModels, v.Range, "", "RequestModels %s of %s must be the Name of a Model", f.Key, rs.LogicalID)
		} else if !slices.Contains(names, v.Value) {
			list := "it has none"
			if len(names) > 0 {
				list = "its models: " + strings.Join(names, ", ")
			}
			c.report(RuleRequestModels, v.Range, template.DidYouMean(v.Value, names),
				"RequestModels %s of %s is %q, which is the Name of no Model of %s (%s)", f.Key, rs.LogicalID, v.Value, r.api.res.LogicalID, list)
		}
	}
}
