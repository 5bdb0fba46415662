package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsgw/wsgw/compile"
)

// authorizerTimeout bounds an authorizer call (our choice: API Gateway's
// integration timeout; the function's own Timeout also applies).
const authorizerTimeout = defaultTimeout

// authorizer is a prepared Lambda REQUEST authorizer of a $connect route.
type authorizer struct {
	a *compile.Authorizer
	// identity are the IdentitySources, resolved once per plan.
	identity []identitySource
	caller   lambdaCaller // nil: not runnable
	why      string
}

type identitySource struct {
	expr string
	get  sourceFunc
}

// authorizer prepares a for the stage whose variables are vars.
func (pv *provisioner) authorizer(a *compile.Authorizer, vars map[string]string) *authorizer {
	p := pv.plan
	au := &authorizer{a: a, why: a.NotRunnable}
	for i := range a.IdentitySources {
		src := &a.IdentitySources[i]
		au.identity = append(au.identity, identitySource{expr: src.Expr, get: newSource(src, vars)})
	}
	if au.why != "" {
		return au
	}
	override := "" // --integration ID=URL (SPEC)
	if a.Overridden {
		override = a.URI
	}
	var fn *compile.Function
	if p != nil && a.Function != "" {
		fn = p.Functions[a.Function]
	}
	au.caller, au.why = newLambdaCaller(fn, a.FunctionName, a.FunctionQualifier, override, pv.client, pv.opts)
	return au
}

// authResult is what an authorizer allowed a connection with: its
// principalId and context ($context.authorizer.*, and requestContext.authorizer
// of every later event of the connection).
type authResult struct {
	principalID string
	context     map[string]string
	usageKey    string
	latency     time.Duration
}

// value is $context.authorizer.<key>; context values are strings (SPEC ).
func (a *authResult) value(key string) (string, bool) {
	if key == "principalId" {
		return a.principalID, a.principalID != ""
	}
	v, ok := a.context[key]
	return v, ok
}

// requestContext is requestContext.authorizer in Lambda events: principalId,
// integrationLatency (ms) and the context keys, as API Gateway passes a
// Lambda authorizer's output to a Lambda proxy integration (values as strings,
// our choice, as $context.authorizer.<key> gives them).
func (a *authResult) requestContext() map[string]any {
	m := make(map[string]any, len(a.context)+2)
	for k, v := range a.context {
		m[k] = v
	}
	m["principalId"] = a.principalID
	m["integrationLatency"] = a.latency.Milliseconds()
	return m
}

// authDenied is why an authorizer refused a handshake: status 401, 403 or
// 500, and what to log.
type authDenied struct {
	status int
	reason string
}

func (d *authDenied) Error() string { return d.reason }

// authorize runs the authorizer for the $connect event e. Missing identity
// sources refuse with 401 without calling the function; a function error
// "Unauthorized" (or the answer "Unauthorized") is 401; a policy that does not
// allow execute-api:Invoke on the methodArn, or denies it, 403; a function
// error, a timeout or a malformed answer 500, as API Gateway's
// AUTHORIZER_FAILURE and AUTHORIZER_CONFIGURATION_ERROR responses are.
func (au *authorizer) authorize(ctx context.Context, e *event) (*authResult, *authDenied) {
	for _, src := range au.identity {
		if v, ok := src.get(e); !ok || v == "" {
			return nil, &authDenied{http.StatusUnauthorized, "identity source " + src.expr + " is missing"}
		}
	}
	if au.caller == nil {
		return nil, &authDenied{http.StatusInternalServerError, "authorizer " + au.a.LogicalID + " cannot run: " + au.why}
	}
	payload, err := e.authorizerEventJSON(au.a.MethodArn)
	if err != nil {
		return nil, &authDenied{http.StatusInternalServerError, err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, authorizerTimeout)
	defer cancel()
	if e.conn.tr != nil {
		e.traceAs(au.a.LogicalID, func() { e.traceRequest("Invoke", "authorizer "+au.a.LogicalID, nil, payload) })
	}
	t0 := time.Now()
	out, err := au.caller.invoke(ctx, payload)
	latency := time.Since(t0)
	if e.conn.tr != nil && err == nil {
		e.traceAs(au.a.LogicalID, func() { e.traceResponse(http.StatusOK, nil, out) })
	}
	if err != nil {
		if msg, _, ok := functionError(err); ok && msg == "Unauthorized" {
			return nil, &authDenied{http.StatusUnauthorized, "the authorizer answered Unauthorized"}
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("authorizer timed out after %s", authorizerTimeout)
		}
		return nil, &authDenied{http.StatusInternalServerError, "authorizer " + au.a.LogicalID + ": " + err.Error()}
	}
	res, deny := evaluateAuthorizer(out, au.a.MethodArn)
	if deny != nil {
		deny.reason = "authorizer " + au.a.LogicalID + ": " + deny.reason
		return nil, deny
	}
	res.latency = latency
	return res, nil
}

// authorizerOutput is a Lambda authorizer's answer.
type authorizerOutput struct {
	PrincipalID        *string         `json:"principalId"`
	PolicyDocument     *policyDocument `json:"policyDocument"`
	Context            json.RawMessage `json:"context"`
	UsageIdentifierKey string          `json:"usageIdentifierKey"`
}

type policyDocument struct {
	Version   string            `json:"Version"`
	Statement []policyStatement `json:"Statement"`
}

type policyStatement struct {
	Effect   string      `json:"Effect"`
	Action   stringOrAll `json:"Action"`
	Resource stringOrAll `json:"Resource"`
}

// stringOrAll is an IAM policy element: one string or a list.
type stringOrAll []string

func (s *stringOrAll) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("must be a string or a list of strings")
	}
	*s = many
	return nil
}

// evaluateAuthorizer reads an authorizer's answer and evaluates its policy
// against methodArn: an explicit Deny wins, else an Allow must match
// (action execute-api:Invoke, resource methodArn, IAM wildcards * and ?).
func evaluateAuthorizer(out []byte, methodArn string) (*authResult, *authDenied) {
	var s string
	if json.Unmarshal(out, &s) == nil && s == "Unauthorized" {
		return nil, &authDenied{http.StatusUnauthorized, "answered Unauthorized"}
	}
	var o authorizerOutput
	if err := json.Unmarshal(out, &o); err != nil {
		return nil, &authDenied{http.StatusInternalServerError, "malformed answer: " + err.Error()}
	}
	if o.PolicyDocument == nil {
		return nil, &authDenied{http.StatusInternalServerError, "the answer has no policyDocument"}
	}
	res := &authResult{usageKey: o.UsageIdentifierKey}
	if o.PrincipalID != nil {
		res.principalID = *o.PrincipalID
	}
	if len(o.Context) > 0 && string(o.Context) != "null" {
		ctx, err := authContext(o.Context)
		if err != nil {
			return nil, &authDenied{http.StatusInternalServerError, err.Error()}
		}
		res.context = ctx
	}
	allowed := false
	for _, st := range o.PolicyDocument.Statement {
		if !matchAny(st.Action, "execute-api:Invoke") || !matchAny(st.Resource, methodArn) {
			continue
		}
		switch strings.ToLower(st.Effect) {
		case "deny":
			return nil, &authDenied{http.StatusForbidden, "the policy denies " + methodArn}
		case "allow":
			allowed = true
		}
	}
	if !allowed {
		return nil, &authDenied{http.StatusForbidden, "the policy does not allow " + methodArn}
	}
	return res, nil
}

// authContext reads an authorizer's context: strings, numbers and booleans,
// kept as strings; an object or array is an error, as on API Gateway.
func authContext(raw json.RawMessage) (map[string]string, error) {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("context must be an object of strings, numbers and booleans: %v", err)
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		switch v := v.(type) {
		case string:
			out[k] = v
		case json.Number:
			out[k] = v.String()
		case bool:
			out[k] = strconv.FormatBool(v)
		case nil:
			out[k] = ""
		default:
			return nil, fmt.Errorf("context value %s is an object or array; only strings, numbers and booleans are allowed", k)
		}
	}
	return out, nil
}

func matchAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if wildcardMatch(p, s) {
			return true
		}
	}
	return false
}

// wildcardMatch matches s against an IAM pattern: * any run of characters,
// ? one character. Actions compare case-insensitively, as IAM does; ARNs are
// compared as written.
func wildcardMatch(p, s string) bool {
	if strings.HasPrefix(s, "execute-api:") {
		p, s = strings.ToLower(p), strings.ToLower(s)
	}
	// Iterative glob with backtracking to the last *.
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// checkAPIKey reports whether the $connect request carries one of the
// gateway's API keys: the x-api-key header, or (when the Api's
// ApiKeySelectionExpression says so) the authorizer's usageIdentifierKey.
func checkAPIKey(api *compile.Api, r *http.Request, auth *authResult, keys []string) bool {
	key := r.Header.Get("X-Api-Key")
	if api.ApiKeySelectionExpression == "$context.authorizer.usageIdentifierKey" {
		key = ""
		if auth != nil {
			key = auth.usageKey
		}
	}
	return key != "" && slices.Contains(keys, key)
}

// admit checks the API key and runs the authorizer of a $connect route
// before its integration, and returns the status that refuses the handshake,
// or 0. The API key comes first when it is the x-api-key header (our choice:
// no function runs for a request without a key), after the authorizer when
// the Api takes it from the authorizer's usageIdentifierKey.
func (s *apiServer) admit(r *http.Request, c *conn, e *event, rs *routeState, api *compile.Api) int {
	if rs == nil {
		return 0
	}
	keyFromAuth := api.ApiKeySelectionExpression == "$context.authorizer.usageIdentifierKey"
	checkKey := func() bool {
		if !rs.route.ApiKeyRequired || checkAPIKey(api, r, c.meta.auth, s.g.opts.APIKeys) {
			return true
		}
		e.errMessage = "Forbidden: the route requires an API key and the request has no valid one"
		return false
	}
	if !keyFromAuth && !checkKey() {
		return http.StatusForbidden
	}
	if rs.auth != nil {
		res, deny := rs.auth.authorize(r.Context(), e)
		if deny != nil {
			e.errMessage = deny.reason
			if deny.status >= 500 {
				e.integErr = deny.reason
			}
			return deny.status
		}
		// Set before the connection opens: every later event reads it.
		c.meta.auth = res
	}
	if keyFromAuth && !checkKey() {
		return http.StatusForbidden
	}
	return 0
}

// handshakeHeader keeps the headers of a Lambda $connect response that may go
// into the handshake response (SPEC ), such as Sec-WebSocket-Protocol;
// those the WebSocket handshake itself sets are left out.
func handshakeHeader(h http.Header) http.Header {
	if len(h) == 0 {
		return nil
	}
	out := make(http.Header, len(h))
	for k, vs := range h {
		switch http.CanonicalHeaderKey(k) {
		case "Upgrade", "Connection", "Sec-Websocket-Accept", "Sec-Websocket-Extensions", "Content-Length",
			"Transfer-Encoding", "Content-Type", "Date":
			continue
		}
		out[http.CanonicalHeaderKey(k)] = vs
	}
	return out
}
