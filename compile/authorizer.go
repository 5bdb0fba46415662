package compile

import (
	"errors"
	"fmt"
	"strings"

	"github.com/wsgw/wsgw/template"
)

// identitySourceForms are the identity sources of a WebSocket REQUEST authorizer.
var identitySourceForms = []string{"route.request.header.<name>", "route.request.querystring.<name>", "stageVariables.<name>", "context.<var>"}

// identitySource is one entry of an authorizer's IdentitySource: the node it
// is written in, and the source it names or why it names none.
type identitySource struct {
	at  *template.Node
	src Source
	err error
}

// errNotIdentityString reports an IdentitySource entry that is not a string.
var errNotIdentityString = errors.New("entries must be strings such as route.request.header.Auth")

// identitySources splits IdentitySource (a list, or one comma-separated
// string, which AWS also takes) into its sources.
func identitySources(n *template.Node) []identitySource {
	if n == nil {
		return nil
	}
	items := []*template.Node{n}
	if n.Kind == template.List {
		items = n.Items
	}
	var out []identitySource
	for _, it := range items {
		if !it.IsScalar() {
			out = append(out, identitySource{at: it, err: errNotIdentityString})
			continue
		}
		for _, expr := range strings.Split(it.Str(), ",") {
			expr = strings.TrimSpace(expr)
			if expr == "" {
				continue
			}
			src, err := parseSource(expr)
			if err == nil {
				switch src.Kind {
				case SourceHeader, SourceQueryString, SourceStageVariable, SourceContext:
				default:
					err = fmt.Errorf("%s is not an identity source of WebSocket APIs", expr)
				}
			}
			out = append(out, identitySource{at: it, src: src, err: err})
		}
	}
	return out
}

// authorizer compiles the CUSTOM authorizer of a $connect route for one
// stage. Check has made sure it is a REQUEST authorizer with identity
// sources and an AuthorizerUri (WSGW3017, WSGW3018); what only the stage can
// tell (its variables substituted into the URI) is reported here.
func (c *compiler) authorizer(a *apiSrc, au *authorizerInfo, s *stageSrc) *Authorizer {
	rs := au.res
	out := &Authorizer{LogicalID: rs.LogicalID, ID: rs.PhysicalID, Name: rs.Prop("Name").Str(),
		Type:      rs.Prop("AuthorizerType").Str(),
		MethodArn: fmt.Sprintf("arn:aws:execute-api:%s:%s:%s/%s/$connect", c.st.Region, c.st.AccountID, a.api.ID, s.name),
	}
	for _, id := range au.sources {
		if id.err == nil {
			out.IdentitySources = append(out.IdentitySources, id.src)
		}
	}
	uri := rs.Prop("AuthorizerUri")
	if o, ok := c.opts.Integrations[rs.LogicalID]; ok {
		// --integration ID=URL (SPEC ): the event is POSTed to the URL;
		// the function AuthorizerUri names, if any, is only reported.
		u, missing := substituteStageVars(o, s.vars)
		for _, name := range missing {
			c.errorf(RuleIntegrationOption, c.fileRange(), "--integration %s=%s uses ${stageVariables.%s}, which stage %s does not define", rs.LogicalID, o, name, s.name)
		}
		out.URI, out.Overridden = u, true
		if uri != nil {
			if tu, missing := substituteStageVars(uri.Str(), s.vars); len(missing) == 0 {
				if t := c.lambdaTarget(au.functions, tu); t.fn != nil {
					out.Function = t.fn.LogicalID
				}
			}
		}
		return out
	}
	u, missing := substituteStageVars(uri.Str(), s.vars)
	for _, name := range missing {
		c.errorf(RulePlan, uri.Range, "AuthorizerUri of %s uses ${stageVariables.%s}, which stage %s does not define", rs.LogicalID, name, s.name)
	}
	out.URI = u
	t := c.lambdaTarget(au.functions, u)
	if t.name == "" && t.fn == nil {
		c.errorf(RulePlan, uri.Range, "AuthorizerUri of %s is %q; it must be arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations", rs.LogicalID, u)
		return out
	}
	if t.fn != nil {
		out.Function = t.fn.LogicalID
	}
	out.FunctionName, out.FunctionQualifier = t.name, t.qualifier
	out.NotRunnable = c.runnable(t, false, "--integration "+rs.LogicalID+"=URL")
	return out
}
