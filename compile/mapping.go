package compile

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/wsgw/wsgw/template"
)

// contextVars are the context variables a mapping can read (SPEC );
// authorizer.<key> is accepted for any key.
var contextVars = []string{"apiId", "authorizer.principalId", "connectedAt", "connectionId", "domainName",
	"error.message", "error.messageString", "eventType", "extendedRequestId", "identity.accessKey",
	"identity.sourceIp", "identity.userAgent", "messageId", "requestId", "requestTime", "requestTimeEpoch", "routeKey", "stage", "status"}

// paramName is what AWS accepts as a route request parameter name in a mapping
// (the data mapping page of the API Gateway developer guide).
var paramName = regexp.MustCompile(`^[a-zA-Z0-9._$-]+$`)

// stageVarName is what AWS accepts as a stage variable name.
var stageVarName = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// requestSources maps the prefixes of route request sources to their kinds.
var requestSources = []struct {
	prefix string
	kind   SourceKind
}{
	{"route.request.header.", SourceHeader},
	{"route.request.querystring.", SourceQueryString},
	{"route.request.multivalueheader.", SourceMultiValueHeader},
	{"route.request.multivaluequerystring.", SourceMultiValueQueryStr},
}

// sourceForms lists the source prefixes, for suggestions.
var sourceForms = []string{"context", "stageVariables", "route.request.body", "route.request.header",
	"route.request.querystring", "route.request.multivalueheader", "route.request.multivaluequerystring"}

// parseSource compiles a mapping source (SPEC ): context.<var>,
// stageVariables.<name>, route.request.body.<JSONPath> (with or without a
// leading $.), route.request.header|querystring|multivalueheader|multivaluequerystring.<name>,
// or a 'literal'. Stage variables come back as Kind stageVariables; Compile
// resolves them per stage.
func parseSource(expr string) (Source, error) {
	src := Source{Expr: expr}
	if len(expr) >= 2 && expr[0] == '\'' && expr[len(expr)-1] == '\'' {
		src.Kind, src.Literal = SourceLiteral, expr[1:len(expr)-1]
		return src, nil
	}
	if strings.HasPrefix(expr, "'") {
		return src, &exprError{Msg: fmt.Sprintf("the literal %s has no closing quote", expr)}
	}
	if v, ok := strings.CutPrefix(expr, "context."); ok {
		switch {
		case slices.Contains(contextVars, v):
		case strings.HasPrefix(v, "authorizer.") && len(v) > len("authorizer."):
		default:
			fix := template.DidYouMean(v, contextVars)
			if fix != "" {
				fix = "did you mean context." + strings.TrimPrefix(fix, "did you mean ")
			}
			return src, &exprError{Offset: len("context."), Msg: fmt.Sprintf("context.%s is not a context variable of WebSocket APIs", v), Fix: fix}
		}
		src.Kind, src.Name = SourceContext, v
		return src, nil
	}
	if v, ok := strings.CutPrefix(expr, "stageVariables."); ok {
		if !stageVarName.MatchString(v) {
			return src, &exprError{Offset: len("stageVariables."), Msg: fmt.Sprintf("%q is not a stage variable name (letters, digits and _ only)", v)}
		}
		src.Kind, src.Name = SourceStageVariable, v
		return src, nil
	}
	if v, ok := strings.CutPrefix(expr, "route.request.body"); ok && (strings.HasPrefix(v, ".") || strings.HasPrefix(v, "[")) {
		off := len("route.request.body")
		if v[0] == '.' {
			v, off = v[1:], off+1
		}
		switch {
		case strings.HasPrefix(v, "$."):
			v, off = v[2:], off+2
		case strings.HasPrefix(v, "$["):
			v, off = v[1:], off+1
		case strings.HasPrefix(v, "$"):
			return src, &exprError{Offset: off, Msg: fmt.Sprintf("%s needs the path of a field in the message body, as in route.request.body.action or route.request.body.$.action", expr)}
		}
		path, err := parsePath(v, off)
		if err != nil {
			return src, err
		}
		src.Kind, src.Path = SourceBody, path
		return src, nil
	}
	for _, rs := range requestSources {
		if v, ok := strings.CutPrefix(expr, rs.prefix); ok {
			if !paramName.MatchString(v) {
				return src, &exprError{Offset: len(rs.prefix), Msg: fmt.Sprintf("%q is not a request parameter name (letters, digits and . _ $ - only)", v)}
			}
			src.Kind, src.Name = rs.kind, v
			return src, nil
		}
	}
	head := expr
	if i := strings.LastIndexByte(expr, '.'); i > 0 {
		head = expr[:i]
	}
	fix := template.DidYouMean(head, sourceForms)
	return src, &exprError{Msg: fmt.Sprintf("%s is not a mapping source; use context.<variable>, stageVariables.<name>, route.request.body.<path>, route.request.header.<name>, route.request.querystring.<name> or a 'literal'", expr), Fix: fix}
}

// parseTarget compiles a RequestParameters key (SPEC) into the kind of
// target ("header" or "querystring") and the parameter's name.
func parseTarget(key string) (target, name string, err error) {
	for _, t := range []string{"header", "querystring"} {
		prefix := "integration.request." + t + "."
		if v, ok := strings.CutPrefix(key, prefix); ok {
			if !paramName.MatchString(v) {
				return "", "", &exprError{Offset: len(prefix), Msg: fmt.Sprintf("%q is not a valid %s name (letters, digits and . _ $ - only)", v, t)}
			}
			return t, v, nil
		}
	}
	head := key
	if i := strings.LastIndexByte(key, '.'); i > 0 {
		head = key[:i]
	}
	fix := template.DidYouMean(head, []string{"integration.request.header", "integration.request.querystring"})
	return "", "", &exprError{Msg: fmt.Sprintf("%s is not a mapping target; WebSocket integrations map to integration.request.header.<name> or integration.request.querystring.<name>", key), Fix: fix}
}

// sortSteps orders mapping steps by target, then name (header before querystring).
func sortSteps(steps []Step) {
	slices.SortFunc(steps, func(a, b Step) int {
		if c := strings.Compare(a.Target, b.Target); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
}
