package compile

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"

	"github.com/wsgw/wsgw/compile/vtl"
	"github.com/wsgw/wsgw/template"
)

// Non-proxy integrations (SPEC ): template and model selection
// expressions, mapping templates, integration responses and request models.
// The plan keeps what the template says (expressions compiled into parts,
// template sources, response keys, schemas), as plain data; the gateway
// builds what runs from it once per plan (ParseTemplate,
// ResponseKeyPattern, Model.Compile), so nothing is parsed while a message
// is handled.

// Passthrough behaviours of an integration (PassthroughBehavior).
const (
	PassthroughWhenNoMatch     = "WHEN_NO_MATCH"
	PassthroughWhenNoTemplates = "WHEN_NO_TEMPLATES"
	PassthroughNever           = "NEVER"
)

// DefaultTemplateKey is the key of the template (or integration response, or
// model) used when the selection expression selects nothing that exists.
const DefaultTemplateKey = "$default"

// TemplateSelection is a compiled template or model selection expression: its
// value is the concatenation of its parts.
type TemplateSelection struct {
	Parts []TemplatePart `json:"parts"`
}

// TemplatePart is literal Text, or what Var reads: "body" the JSON value at
// Path in the message body (as route selection reads it, SPEC );
// "statuscode" the integration response's status code; "header" and
// "multivalueheader" the integration response's header Name (the first
// value, or all values joined with commas).
type TemplatePart struct {
	Text string   `json:"text,omitempty"`
	Var  string   `json:"var,omitempty"`
	Path []string `json:"path,omitempty"`
	Name string   `json:"name,omitempty"`
}

// The variables a TemplatePart reads.
const (
	TemplateVarBody             = "body"
	TemplateVarStatusCode       = "statuscode"
	TemplateVarHeader           = "header"
	TemplateVarMultiValueHeader = "multivalueheader"
)

// selectionKind says where a template selection expression is written, which
// decides what it may read.
type selectionKind int

const (
	selectIntegration selectionKind = iota // Integration.TemplateSelectionExpression
	selectResponse                         // IntegrationResponse.TemplateSelectionExpression
	selectModel                            // Route.ModelSelectionExpression
)

func (k selectionKind) reads() string {
	if k == selectResponse {
		return "${request.body.<path>}, ${integration.response.statuscode}, ${integration.response.header.<name>}, ${integration.response.multivalueheader.<name>} and static text"
	}
	return "${request.body.<path>} and static text"
}

// parseTemplateSelection compiles a template or model selection expression:
// `${request.body.<path>}` (or `$request.body.<path>`), on integration
// responses also `${integration.response.statuscode}`,
// `${integration.response.header.<name>}` and
// `${integration.response.multivalueheader.<name>}`, combined with static
// text; `\$` is a literal `$`. `$default` written without the backslash is
// the literal key $default (our choice: that is what it can only mean).
func parseTemplateSelection(expr string, kind selectionKind) (*TemplateSelection, error) {
	sel := &TemplateSelection{Parts: []TemplatePart{}}
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			sel.Parts = append(sel.Parts, TemplatePart{Text: text.String()})
			text.Reset()
		}
	}
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '\\' && i+1 < len(expr) && expr[i+1] == '$':
			text.WriteString("$")
			i += 2
		case c == '$' && strings.HasPrefix(expr[i:], DefaultTemplateKey) && !isVarChar(expr, i+len(DefaultTemplateKey)):
			text.WriteString(DefaultTemplateKey)
			i += len(DefaultTemplateKey)
		case c == '$':
			var name string
			var end, off int
			if strings.HasPrefix(expr[i+1:], "{") {
				k := strings.IndexByte(expr[i:], '}')
				if k < 0 {
					return nil, &exprError{Offset: i, Msg: fmt.Sprintf("%s has no closing }", expr[i:])}
				}
				name, end, off = expr[i+2:i+k], i+k+1, i+2
			} else {
				j := i + 1
				header := strings.HasPrefix(expr[j:], "integration.response.header.") || strings.HasPrefix(expr[j:], "integration.response.multivalueheader.")
				for j < len(expr) && (isBarePathChar(expr[j]) || header && expr[j] == '-') {
					if expr[j] == '[' {
						k := strings.IndexByte(expr[j:], ']')
						if k < 0 {
							return nil, &exprError{Offset: j, Msg: fmt.Sprintf("%s has no closing ]", expr[j:])}
						}
						j += k + 1
						continue
					}
					j++
				}
				if j > i+1 && expr[j-1] == '.' {
					j--
				}
				name, end, off = expr[i+1:j], j, i+1
			}
			p, err := templateVar(name, expr[i:end], off, kind)
			if err != nil {
				return nil, err
			}
			flush()
			sel.Parts = append(sel.Parts, p)
			i = end
		default:
			text.WriteByte(c)
			i++
		}
	}
	flush()
	return sel, nil
}

func isVarChar(s string, i int) bool {
	return i < len(s) && isBarePathChar(s[i]) && s[i] != '[' && s[i] != '.'
}

// templateVar compiles the variable of one ${...}; shown is how it was
// written, off the offset of name in the expression.
func templateVar(name, shown string, off int, kind selectionKind) (TemplatePart, error) {
	if rest, ok := strings.CutPrefix(name, bodyVar); ok && (rest == "" || rest[0] == '.' || rest[0] == '[') {
		if rest == "" || rest == "." {
			return TemplatePart{}, &exprError{Offset: off, Msg: fmt.Sprintf("%s needs the path of a field in the message body, as in ${request.body.type}", shown)}
		}
		if rest[0] == '.' {
			rest, off = rest[1:], off+1
		}
		path, err := parsePath(rest, off+len(bodyVar))
		if err != nil {
			return TemplatePart{}, err
		}
		return TemplatePart{Var: TemplateVarBody, Path: path}, nil
	}
	if kind == selectResponse {
		const resp = "integration.response."
		switch {
		case strings.EqualFold(name, resp+"statuscode"):
			return TemplatePart{Var: TemplateVarStatusCode}, nil
		case strings.HasPrefix(name, resp+"header.") && len(name) > len(resp+"header."):
			return TemplatePart{Var: TemplateVarHeader, Name: name[len(resp+"header."):]}, nil
		case strings.HasPrefix(name, resp+"multivalueheader.") && len(name) > len(resp+"multivalueheader."):
			return TemplatePart{Var: TemplateVarMultiValueHeader, Name: name[len(resp+"multivalueheader."):]}, nil
		}
	}
	msg := fmt.Sprintf("%s is not something this selection expression can read; it can read %s", shown, kind.reads())
	fix := ""
	if name == "" {
		msg, fix = "a lone $ in a selection expression must be written \\$", `write \$ for a literal $`
	} else if strings.HasPrefix(name, "request.body") || strings.HasPrefix(name, "body.") {
		fix = "write ${request.body.<path>}"
	}
	return TemplatePart{}, &exprError{Offset: off, Msg: msg, Fix: fix}
}

// parseTemplates parses the VTL templates of a RequestTemplates or
// ResponseTemplates mapping. It returns the text of those that parse and a
// problem for each value that is not a string or not a valid template,
// positioned inside the value where its style allows.
func parseTemplates(prop string, owner string, n *template.Node) (map[string]string, []templateProblem) {
	if n == nil {
		return nil, nil
	}
	if n.Kind != template.Map {
		return nil, []templateProblem{{at: n.Range, msg: fmt.Sprintf("%s of %s must be a mapping of template keys to templates, not a %s", prop, owner, n.Kind)}}
	}
	src := make(map[string]string, len(n.Fields))
	var problems []templateProblem
	for _, f := range n.Fields {
		v := f.Value
		if v.Kind == template.List || v.Kind == template.Map {
			problems = append(problems, templateProblem{at: v.Range, fix: "write the template as a string, for example in a | block",
				msg: fmt.Sprintf("template %s of %s %s must be a string, not a %s", f.Key, prop, owner, v.Kind)})
			continue
		}
		if _, err := ParseTemplate(prop, f.Key, v.Value); err != nil {
			p := templateProblem{at: v.Range, msg: fmt.Sprintf("template %s of %s %s: %v", f.Key, prop, owner, err)}
			if e, ok := err.(*vtl.Error); ok {
				p.at = v.PosAt(e.Line, e.Col)
				p.msg = fmt.Sprintf("template %s of %s %s, line %d column %d: %s", f.Key, prop, owner, e.Line, e.Col, e.Msg)
			}
			problems = append(problems, p)
			continue
		}
		src[f.Key] = v.Value
	}
	return src, problems
}

// ParseTemplate parses the template of key in a RequestTemplates (prop
// "RequestTemplates") or ResponseTemplates ("ResponseTemplates") mapping;
// the name it gets (RequestTemplates.<key>) is what its render errors say.
// The compiler checks with it that every template parses, and the gateway
// parses a plan's templates with it once per plan.
func ParseTemplate(prop, key, src string) (*vtl.Template, error) {
	return vtl.Parse(prop+"."+key, src)
}

type templateProblem struct {
	at  template.Range
	msg string
	fix string
}

// ResponseKeyPattern compiles the Key of an IntegrationResponse of a plan
// into the pattern the gateway selects responses with, once per plan: nil
// for $default, else a regular expression that matches the whole status
// code (or a Lambda function's error message). See parseResponseKey.
func ResponseKeyPattern(key string) (*regexp.Regexp, error) { return parseResponseKey(key) }

// parseResponseKey compiles an IntegrationResponseKey: $default, or a
// regular expression between slashes that must match the whole status code
// (as API Gateway's selection patterns do: /2\d\d/ selects 200 to 299). A key
// of digits alone (200) selects that status code (our choice).
func parseResponseKey(key string) (*regexp.Regexp, error) {
	if key == DefaultTemplateKey {
		return nil, nil
	}
	pat := key
	switch {
	case len(key) >= 2 && key[0] == '/' && key[len(key)-1] == '/':
		pat = key[1 : len(key)-1]
	case key == "" || strings.Trim(key, "0123456789") != "":
		return nil, fmt.Errorf("it must be $default or a regular expression between slashes, such as /2\\d\\d/")
	}
	if pat == "" {
		return nil, fmt.Errorf("the pattern is empty")
	}
	if _, err := regexp.Compile(pat); err != nil {
		msg := err.Error()
		var e *syntax.Error
		if errors.As(err, &e) {
			msg = e.Code.String() + ": " + e.Expr
		}
		return nil, fmt.Errorf("not a regular expression Go's RE2 accepts (%s)", msg)
	}
	return regexp.MustCompile(`^(?:` + pat + `)$`), nil
}

// IntegrationResponse is an AWS::ApiGatewayV2::IntegrationResponse of a
// non-proxy integration: what a two-way route sends back is its
// ResponseTemplates rendered (SPEC ).
type IntegrationResponse struct {
	LogicalID string `json:"logicalId"`
	// Key is IntegrationResponseKey: $default, or /regex/ on the status code.
	Key                         string             `json:"key"`
	TemplateSelectionExpression string             `json:"templateSelectionExpression,omitempty"`
	TemplateSelection           *TemplateSelection `json:"templateSelection,omitempty"`
	ResponseTemplates           map[string]string  `json:"responseTemplates,omitempty"`
	ContentHandlingStrategy     string             `json:"contentHandlingStrategy,omitempty"`
}

// nonProxySrc is what the compiler keeps about integrations' templates and
// responses and routes' models, compiled once and shared by every stage.
type nonProxySrc struct {
	responses map[string][]*IntegrationResponse // by integration logical ID
}

// isNonProxy reports whether an integration type transforms messages with templates.
func isNonProxy(typ string) bool { return typ == "HTTP" || typ == "MOCK" || typ == "AWS" }

// nonProxy compiles the templates, passthrough behaviour and integration
// responses of a non-proxy integration into b, from what bind parsed (Check
// has reported every problem with it).
func (c *compiler) nonProxy(info *integInfo, b *Integration) {
	if !isNonProxy(b.Type) {
		return
	}
	rs := info.res
	b.PassthroughBehavior = rs.Prop("PassthroughBehavior").Str()
	if b.PassthroughBehavior == "" {
		b.PassthroughBehavior = PassthroughWhenNoMatch
	}
	b.ContentHandlingStrategy = rs.Prop("ContentHandlingStrategy").Str()
	b.TemplateSelection = info.selection.selection()
	b.Responses = c.integrationResponses(rs)
}

// integrationResponses compiles the IntegrationResponses whose IntegrationId
// names rs, in template order.
func (c *compiler) integrationResponses(rs *template.Resource) []*IntegrationResponse {
	if c.np.responses == nil {
		c.np.responses = map[string][]*IntegrationResponse{}
		for _, ir := range c.b.integResponses {
			if in := ir.integ.res; ir.integ.problem == nil && in != nil {
				c.np.responses[in.LogicalID] = append(c.np.responses[in.LogicalID], c.integrationResponse(ir))
			}
		}
	}
	return c.np.responses[rs.LogicalID]
}

func (c *compiler) integrationResponse(info *integResponseInfo) *IntegrationResponse {
	ir := info.res
	r := &IntegrationResponse{LogicalID: ir.LogicalID, Key: ir.Prop("IntegrationResponseKey").Str(),
		TemplateSelectionExpression: ir.Prop("TemplateSelectionExpression").Str(),
		ContentHandlingStrategy:     ir.Prop("ContentHandlingStrategy").Str()}
	r.TemplateSelection = info.selection.selection()
	if len(info.templates.src) > 0 {
		r.ResponseTemplates = info.templates.src
	}
	return r
}

// routeModels compiles a route's ModelSelectionExpression and RequestModels
// into r (SPEC: request validation).
func (c *compiler) routeModels(info *routeInfo, r *Route) {
	if info.modelSelection == nil {
		return
	}
	r.ModelSelectionExpression = info.modelSelection.node.Str()
	r.ModelSelection = info.modelSelection.selection()
	rm := info.res.Prop("RequestModels")
	if rm == nil || rm.Kind != template.Map {
		return
	}
	for _, f := range rm.Fields {
		// Check has made sure each names a Model of the route's Api (WSGW3015).
		if m := findModel(info.api, f.Value); m != nil {
			if r.RequestModels == nil {
				r.RequestModels = map[string]*Model{}
			}
			r.RequestModels[f.Key] = m.model
		}
	}
}

// findModel returns the Model of api that a RequestModels value names, by
// its Name (as API Gateway reads RequestModels), or nil.
func findModel(api *apiInfo, v *template.Node) *modelInfo {
	if api == nil {
		return nil
	}
	for _, m := range api.models {
		if m.res.Prop("Name").Str() == v.Str() {
			return m
		}
	}
	return nil
}
