package compile

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/wsgw/wsgw/template"
)

var (
	integrationTypes = []string{"AWS", "AWS_PROXY", "HTTP", "HTTP_PROXY", "MOCK"}
	connectionTypes  = []string{"INTERNET", "VPC_LINK"}
	passthroughs     = []string{"WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER"}
	contentHandlings = []string{"CONVERT_TO_BINARY", "CONVERT_TO_TEXT"}
	httpMethods      = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"}
	// httpOnlyIntegProps are the Integration properties the CloudFormation
	// reference marks "Supported only for HTTP APIs".
	httpOnlyIntegProps = []string{"IntegrationSubtype", "ResponseParameters", "TlsConfig"}
)

// Integration URIs of API Gateway's AWS integrations.
var (
	// awsServiceURI is arn:PARTITION:apigateway:REGION:SERVICE:path|action/...
	awsServiceURI = regexp.MustCompile(`^arn:aws[a-z-]*:apigateway:[a-z0-9-]+:([a-z0-9.-]+):(path|action)/.+$`)
	// lambdaInvocationURI is the Lambda service path that invokes a function.
	lambdaInvocationURI = regexp.MustCompile(`^arn:aws[a-z-]*:apigateway:[a-z0-9-]+:lambda:path/2015-03-31/functions/(.+)/invocations$`)
	// lambdaFunctionARN is a function's ARN, optionally with a version or alias.
	lambdaFunctionARN = regexp.MustCompile(`^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,140}(:[A-Za-z0-9_$-]{1,128})?$`)
)

// isLambdaServiceURI reports whether an AWS integration's URI names the
// Lambda service (arn:aws:apigateway:REGION:lambda:...): the integration
// invokes a function, and its URI must be an invocation ARN.
func isLambdaServiceURI(v string) bool {
	m := awsServiceURI.FindStringSubmatch(v)
	return m != nil && m[1] == "lambda"
}

func (c *checker) checkIntegration(in *integInfo) {
	if in == nil {
		return // an Integration of an HTTP API
	}
	rs := in.res
	typ, typeOK := c.checkEnum(rs, "IntegrationType", integrationTypes, RuleIntegrationType)
	for _, f := range rs.Properties.Fields {
		if slices.Contains(httpOnlyIntegProps, f.Key) {
			c.report(RuleHTTPOnlyIntegProp, f.KeyRange, "", "%s is supported only for HTTP APIs, and %s belongs to a WebSocket API", f.Key, rs.LogicalID)
		}
	}
	lambda := false
	if typeOK && typ != "" {
		uri := rs.Prop("IntegrationUri")
		switch {
		case uri == nil && typ != "MOCK":
			c.report(RuleIntegrationURI, rs.Range, "", "%s (IntegrationType %s) needs an IntegrationUri", rs.LogicalID, typ)
		case uri == nil:
		case typ == "HTTP" || typ == "HTTP_PROXY":
			c.checkHTTPURI(rs, uri)
		case typ == "AWS_PROXY":
			lambda = true
			c.checkLambdaURI(in, uri)
		case typ == "AWS":
			if in.lambdaService {
				lambda = true
				c.checkLambdaURI(in, uri)
			} else if !awsServiceURI.MatchString(str(uri)) {
				c.report(RuleAWSURI, uri.Range, "", "IntegrationUri of %s is %q; AWS integrations need arn:aws:apigateway:REGION:SERVICE:path|action/PATH", rs.LogicalID, str(uri))
			}
		}
	}
	if m := rs.Prop("IntegrationMethod"); m != nil {
		v := str(m)
		switch {
		case !slices.Contains(httpMethods, v):
			c.report(RuleIntegrationMethod, m.Range, template.DidYouMean(v, httpMethods), "IntegrationMethod of %s is %q; it must be %s", rs.LogicalID, v, orList(httpMethods))
		case lambda && v != "POST":
			c.report(RuleLambdaMethod, m.Range, "write IntegrationMethod: POST", "IntegrationMethod of %s is %s; Lambda functions are invoked with POST", rs.LogicalID, v)
		}
	}
	if ct, _ := c.checkEnum(rs, "ConnectionType", connectionTypes, RuleConnectionType); ct == "VPC_LINK" {
		c.checkVpcLink(rs)
	}
	if n := rs.Prop("TimeoutInMillis"); n != nil {
		if ms, err := strconv.Atoi(str(n)); err == nil && (ms < 50 || ms > 29000) {
			c.report(RuleTimeout, n.Range, "", "TimeoutInMillis of %s is %d; WebSocket APIs allow 50 to 29000", rs.LogicalID, ms)
		}
	}
	if typ == "AWS_PROXY" || typ == "HTTP_PROXY" {
		for _, p := range []string{"TemplateSelectionExpression", "RequestTemplates"} {
			if _, ok := rs.Properties.Field(p); ok {
				c.report(RuleTemplatesOnProxy, keyRange(rs, p), "", "%s applies only to AWS, HTTP and MOCK integrations; %s is %s, which passes messages through unchanged", p, rs.LogicalID, typ)
			}
		}
	}
	c.checkEnum(rs, "PassthroughBehavior", passthroughs, RulePassthrough)
	c.checkEnum(rs, "ContentHandlingStrategy", contentHandlings, RuleContentHandling)
	c.checkMapping(in)
}

// stageVarPlaceholder replaces ${stageVariables.x} in URIs so that the rest can be parsed.
const stageVarPlaceholder = "stagevar"

// checkURIStageVars reports ${stageVariables.x} references with invalid names;
// it returns false when there is one.
func (c *checker) checkURIStageVars(rs *template.Resource, n *template.Node, rule template.Rule) bool {
	for _, ref := range StageVariableRefs(str(n)) {
		if !IsStageVariableName(ref.Name) {
			c.report(rule, n.Range, "", "IntegrationUri of %s uses ${stageVariables.%s}; stage variable names contain only letters, digits and underscores", rs.LogicalID, ref.Name)
			return false
		}
	}
	return true
}

func (c *checker) checkHTTPURI(rs *template.Resource, n *template.Node) {
	v := str(n)
	if !c.checkURIStageVars(rs, n, RuleHTTPURI) {
		return
	}
	if refs := StageVariableRefs(v); len(refs) > 0 && refs[0].Offset < max(strings.Index(v, "://"), 1) {
		return // the scheme (or the whole URL) comes from a stage variable
	}
	u := stageVarRef.ReplaceAllString(v, stageVarPlaceholder)
	if err := checkHTTPURL(u); err != nil {
		fix := ""
		switch {
		case strings.HasPrefix(v, "ws://") || strings.HasPrefix(v, "wss://"):
			fix = "API Gateway calls integrations over HTTP: use http:// or https://"
		case !strings.Contains(v, "://") && v != "" && !strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "arn:"):
			fix = "did you mean https://" + v + "?"
		case strings.HasPrefix(v, "arn:"):
			fix = "an ARN needs IntegrationType AWS_PROXY (Lambda) or AWS"
		}
		c.report(RuleHTTPURI, n.Range, fix, "IntegrationUri of %s is %q: %v", rs.LogicalID, v, err)
	}
}

func (c *checker) checkLambdaURI(in *integInfo, n *template.Node) {
	rs, v := in.res, str(n)
	if !c.checkURIStageVars(rs, n, RuleLambdaURI) {
		return
	}
	m := lambdaInvocationURI.FindStringSubmatch(v)
	switch {
	case m != nil && (lambdaFunctionARN.MatchString(m[1]) || strings.Contains(m[1], "${stageVariables.")):
		return
	case m != nil:
		c.report(RuleLambdaURI, n.Range, "", "IntegrationUri of %s invokes %q, which is not a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)", rs.LogicalID, m[1])
	case lambdaFunctionARN.MatchString(v):
		fn := "FUNCTION"
		for _, l := range n.Links {
			if r := c.st.Resource(l.LogicalID); r != nil && (r.Type == template.TypeLambdaFunction || r.Type == template.TypeSAMFunction) {
				fn = l.LogicalID
			}
		}
		c.report(RuleLambdaURI, n.Range, fmt.Sprintf("write !Sub arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${%s.Arn}/invocations", fn),
			"IntegrationUri of %s is a function ARN; WebSocket APIs need the function's invocation ARN", rs.LogicalID)
	default:
		c.report(RuleLambdaURI, n.Range, "", "IntegrationUri of %s is %q; Lambda integrations need arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations", rs.LogicalID, v)
	}
}

// checkVpcLink checks the ConnectionId of a VPC_LINK integration: it must be
// set, and when it references a resource of the template, that resource must
// be a (REST-style) AWS::ApiGateway::VpcLink. An ID from a parameter or an
// import is accepted.
func (c *checker) checkVpcLink(rs *template.Resource) {
	n := rs.Prop("ConnectionId")
	if n == nil {
		c.report(RuleVpcLink, rs.Prop("ConnectionType").Range, "", "ConnectionType VPC_LINK of %s needs a ConnectionId naming an AWS::ApiGateway::VpcLink", rs.LogicalID)
		return
	}
	for _, l := range n.Links {
		r := c.st.Resource(l.LogicalID)
		if r == nil || r.Type == template.TypeVpcLinkV1 {
			continue
		}
		fix := ""
		if r.Type == template.TypeVpcLinkV2 {
			fix = "WebSocket APIs use AWS::ApiGateway::VpcLink (with TargetArns to a Network Load Balancer); AWS::ApiGatewayV2::VpcLink is for HTTP APIs"
		}
		c.report(RuleVpcLink, l.Range, fix, "ConnectionId of %s refers to %s, which is %s %s, not an AWS::ApiGateway::VpcLink", rs.LogicalID, l.LogicalID, article(r.Type), r.Type)
		return
	}
	if len(n.Links) == 0 {
		if r := c.st.ByPhysicalID(template.TypeVpcLinkV2, str(n)); r != nil {
			c.report(RuleVpcLink, n.Range, "", "ConnectionId of %s is the ID of %s, an AWS::ApiGatewayV2::VpcLink, which only HTTP APIs can use", rs.LogicalID, r.LogicalID)
		}
	}
}

// checkMapping checks an Integration's RequestParameters (SPEC §6).
func (c *checker) checkMapping(in *integInfo) {
	rs := in.res
	for _, p := range in.params {
		f := p.field
		if err := p.targetErr; err != nil {
			c.report(RuleMappingTarget, f.KeyRange, cmp.Or(targetFix(f.Key), exprFix(err)), "RequestParameters of %s: %v", rs.LogicalID, err)
		}
		v := f.Value
		if !p.scalar {
			c.report(RuleMappingSource, v.Range, "", "the source of %s must be a string, not a %s", f.Key, v.Kind)
			continue
		}
		src, err := p.src, p.srcErr
		if err != nil {
			rule := RuleMappingSource
			if strings.HasPrefix(v.Value, "context.") {
				rule = RuleContextVariable
			}
			c.report(rule, v.Range, cmp.Or(sourceFix(v.Value), exprFix(err)), "%s: %v", f.Key, err)
			continue
		}
		if !connectOnly(src.Kind) {
			continue
		}
		for _, r := range in.usedBy {
			if r.key != "$connect" {
				c.report(RuleConnectOnlySource, v.Range, "", "%s is available only on $connect, but route %s (%s) uses %s", v.Value, r.key, r.res.LogicalID, rs.LogicalID)
				break
			}
		}
		for _, r := range in.usedBy {
			if r.key == "$connect" && !declaredParam(r.res, src) {
				decl := "route.request.querystring." + src.Name
				if src.Kind == SourceHeader || src.Kind == SourceMultiValueHeader {
					decl = "route.request.header." + src.Name
				}
				c.report(RuleUndeclaredParam, v.Range, fmt.Sprintf("add %s: {Required: false} to the RequestParameters of %s", decl, r.res.LogicalID),
					"%s reads %s, which route %s does not declare in its RequestParameters", f.Key, decl, r.res.LogicalID)
			}
		}
	}
}

// targetFix proposes a valid mapping target for a misspelled one:
// integration.request.headers.X-Id becomes integration.request.header.X-Id.
func targetFix(key string) string {
	valid := []string{"integration.request.header", "integration.request.querystring"}
	parts := strings.SplitN(key, ".", 4)
	if len(parts) < 4 {
		return ""
	}
	if s := template.Suggest(strings.Join(parts[:3], "."), valid); s != "" {
		if _, _, err := parseTarget(s + "." + parts[3]); err == nil {
			return "did you mean " + s + "." + parts[3] + "?"
		}
	}
	return ""
}

// sourceForms are the prefixes of mapping sources, for suggestions.
var sourceFixForms = []string{"context", "stageVariables", "route.request.body", "route.request.header",
	"route.request.querystring", "route.request.multivalueheader", "route.request.multivaluequerystring"}

// sourceFix proposes a valid mapping source for an invalid one: without a
// leading $, with the missing route. prefix, with a misspelled prefix
// corrected, or a bare word quoted as a static value.
func sourceFix(v string) string {
	var candidates []string
	t := strings.TrimPrefix(v, "$")
	candidates = append(candidates, t)
	if strings.HasPrefix(t, "request.") {
		candidates = append(candidates, "route."+t)
	}
	for i := len(t) - 1; i > 0; i-- {
		if t[i] == '.' {
			if s := template.Suggest(t[:i], sourceFixForms); s != "" {
				candidates = append(candidates, s+t[i:])
			}
		}
	}
	if t != "" && !strings.ContainsAny(t, ".'") {
		return "write '" + t + "' for a static value"
	}
	for _, cand := range candidates {
		if cand != v {
			if _, err := parseSource(cand); err == nil {
				return "did you mean " + cand + "?"
			}
		}
	}
	return ""
}
