package runtime

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/wsgw/wsgw/compile"
	"github.com/wsgw/wsgw/compile/vtl"
)

// nonProxy is an HTTP (non-proxy) or MOCK integration (SPEC ): a
// request template, chosen by the integration's TemplateSelectionExpression
// ($default as fallback), renders what is sent (PassthroughBehavior decides
// when none applies); the status code picks an IntegrationResponse, whose
// response template renders what a two-way route sends back.
//
// MOCK never calls out (mockStatus): the statusCode of the rendered request
// (or of the message passed through) is the status, and the integration's
// response has no body: a response template's $input is empty ({}), so what
// it sends can come only from $context and $stageVariables, and the status
// decides which integration response and template apply, as on AWS. A
// statusCode that is missing or not an integer is API Gateway's "Execution
// failed due to configuration error: Unable to parse statusCode": a message
// gets the Internal server error frame and a $connect is refused
// with 500 (our choice for $connect, where AWS documents no status; 500 is
// what its REST APIs answer).
//
// Our choices where AWS documents nothing for WebSocket APIs:
//   - without a TemplateSelectionExpression the template key is
//     application/json (the key of AWS's own MOCK examples), then $default;
//   - a MOCK $connect whose status is an integer outside 100-599 is
//     refused with 500 (a message route matches it against the integration
//     responses like any other);
//   - a non-proxy integration without IntegrationResponses sends its answer
//     back unchanged on two-way routes; one whose responses neither match
//     the status nor include $default is an integration error;
//   - a message the PassthroughBehavior refuses gets the frame
//     {"message": "Unsupported Media Type", ...} (a $connect is refused with
//     415), as REST APIs answer 415.
type nonProxy struct {
	in   *compile.Integration
	mock bool
	// send makes the call of an HTTP integration (nil: MOCK or AWS).
	send *httpCall
	// caller invokes the function of an AWS (Lambda) integration.
	caller  lambdaCaller
	timeout time.Duration
	maxBody int
	// sel, templates and responses are the integration's template selection,
	// request templates and integration responses, prepared once per plan.
	sel       templateSelection
	templates templates
	responses []*integResponse
}

var _ integration = (*nonProxy)(nil)

// templates are the request or response templates of a plan, parsed once
// per plan, by key.
type templates map[string]preparedTemplate

type preparedTemplate struct {
	t *vtl.Template
	// contentType is the key when it is a media type (text/plain), the
	// Content-Type the rendered request goes with; "" otherwise.
	contentType string
}

// parseTemplates parses the templates of a RequestTemplates
// ("RequestTemplates") or ResponseTemplates ("ResponseTemplates") of the
// plan; a template several stages share is parsed once.
func (pv *provisioner) parseTemplates(prop string, src map[string]string) (templates, error) {
	if len(src) == 0 {
		return nil, nil
	}
	out := make(templates, len(src))
	for key, text := range src {
		id := prop + "\x00" + key + "\x00" + text
		t, ok := pv.templates[id]
		if !ok {
			var err error
			if t, err = compile.ParseTemplate(prop, key, text); err != nil {
				return nil, fmt.Errorf("template %s of %s: %w", key, prop, err)
			}
			pv.templates[id] = t
		}
		pt := preparedTemplate{t: t}
		if strings.Contains(key, "/") {
			if _, _, err := mime.ParseMediaType(key); err == nil {
				pt.contentType = key
			}
		}
		out[key] = pt
	}
	return out, nil
}

// pick returns the template of key, else the $default one, with the key it
// has.
func (ts templates) pick(key string) (preparedTemplate, string) {
	if t, ok := ts[key]; ok {
		return t, key
	}
	if t, ok := ts[compile.DefaultTemplateKey]; ok {
		return t, compile.DefaultTemplateKey
	}
	return preparedTemplate{}, ""
}

// integResponse is an IntegrationResponse prepared once per plan: its key's
// pattern compiled, its selection and templates too.
type integResponse struct {
	ir        *compile.IntegrationResponse
	pattern   *regexp.Regexp // nil: $default
	sel       templateSelection
	templates templates
}

func (pv *provisioner) integResponse(ir *compile.IntegrationResponse) (*integResponse, error) {
	pat, err := compile.ResponseKeyPattern(ir.Key)
	if err != nil {
		return nil, fmt.Errorf("IntegrationResponseKey %s of %s: %w", ir.Key, ir.LogicalID, err)
	}
	ts, err := pv.parseTemplates("ResponseTemplates", ir.ResponseTemplates)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ir.LogicalID, err)
	}
	return &integResponse{ir: ir, pattern: pat, sel: newTemplateSelection(ir.TemplateSelection), templates: ts}, nil
}

// selectResponse returns the integration response for a status code: the
// first whose pattern matches, in template order, else the $default one,
// else nil.
func (n *nonProxy) selectResponse(status int) *integResponse {
	return n.matchResponse(strconv.Itoa(status))
}

// matchResponse picks the integration response for text, a status code's or
// a Lambda function error's message (an AWS integration; our choice, as REST
// APIs select Lambda errors): the first whose pattern matches, in template
// order, else the $default one, else nil.
func (n *nonProxy) matchResponse(message string) *integResponse {
	var def *integResponse
	for _, r := range n.responses {
		if r.pattern == nil {
			def = r
		} else if r.pattern.MatchString(message) {
			return r
		}
	}
	return def
}

func (pv *provisioner) nonProxy(in *compile.Integration, apiID string, vars map[string]string) integration {
	n := &nonProxy{in: in, mock: in.Type == "MOCK", timeout: integrationTimeout(in), maxBody: pv.opts.MaxResponseBytes,
		sel: newTemplateSelection(in.TemplateSelection)}
	var err error
	if n.templates, err = pv.parseTemplates("RequestTemplates", in.RequestTemplates); err != nil {
		return &notRunnable{in: in, reason: err.Error()}
	}
	for _, ir := range in.Responses {
		r, err := pv.integResponse(ir)
		if err != nil {
			return &notRunnable{in: in, reason: err.Error()}
		}
		n.responses = append(n.responses, r)
	}
	if in.Type == "AWS" {
		// An AWS integration that invokes a Lambda function (compile runs
		// only those): the rendered request template is the function's
		// payload, its result the integration response (SPEC ).
		caller, why := integrationCaller(in, pv.plan, pv.client, pv.opts)
		if caller == nil {
			return &notRunnable{in: in, reason: why}
		}
		n.caller = caller
		return n
	}
	if !n.mock {
		c, why := newHTTPCall(in, apiID, vars, pv.client, pv.opts)
		if c == nil {
			return &notRunnable{in: in, reason: why}
		}
		n.send = c
	}
	return n
}

func (n *nonProxy) plan() *compile.Integration { return n.in }

// gatewayError is a refusal by the gateway itself, answered with an error
// frame carrying message (or, on $connect, with status).
type gatewayError struct {
	status  int
	message string
	why     string // for the log
}

func (g *gatewayError) Error() string { return g.why }

// jsonKey is the template key used when an expression is absent.
const jsonKey = "application/json"

func (n *nonProxy) call(ctx context.Context, e *event, wantBody bool) (result, error) {
	params := e.vtlParams()
	out, contentType, refused, err := n.request(e, params)
	if refused != nil || err != nil {
		return deref(refused), err
	}
	var status int
	var respBody []byte
	var respHeader http.Header
	var funcErr *string // a Lambda function's error message (AWS integrations)
	switch {
	case n.mock:
		status, refused, err = n.mockAnswer(e, out)
		if refused != nil {
			return *refused, nil
		}
	case n.caller != nil:
		status, respBody, funcErr, err = n.invoke(ctx, e, out)
	default:
		status, respHeader, respBody, err = n.send.do(ctx, e, out, contentType, wantBody)
	}
	if err != nil {
		return result{}, err
	}
	res := result{status: status}
	if !wantBody {
		return res, nil
	}
	b, err := n.respond(e, status, respHeader, respBody, funcErr, params)
	if err != nil {
		return result{}, err
	}
	res.body = b
	return res, nil
}

func deref(r *result) result {
	if r == nil {
		return result{}
	}
	return *r
}

// request renders what the integration is sent (SPEC ): the request
// template the selection expression picks ($default as fallback), else the
// message as it is when PassthroughBehavior lets it through, with the
// ContentHandlingStrategy applied; contentType is what an HTTP integration
// sends it as. A message PassthroughBehavior refuses is a gatewayError; a
// $connect it refuses is answered with refused (415).
func (n *nonProxy) request(e *event, params vtl.Params) (out []byte, contentType string, refused *result, err error) {
	in := n.in
	body := e.body
	if e.binary && in.ContentHandlingStrategy == "CONVERT_TO_TEXT" {
		body = []byte(base64.StdEncoding.EncodeToString(body))
	}
	key := jsonKey
	if n.sel != nil {
		key = n.sel.eval(e, 0, nil)
	}
	out = body
	tmpl, tkey := n.templates.pick(key)
	switch {
	case tmpl.t != nil:
		s, err := tmpl.t.RenderString(e.vtlVars(vtl.NewInput(body, params)))
		if err != nil {
			return nil, "", nil, fmt.Errorf("request template %s of %s: %w", tkey, in.LogicalID, err)
		}
		out = []byte(s)
		if !n.mock {
			contentType = tmpl.renderedType(out)
		}
	case in.PassthroughBehavior == compile.PassthroughNever,
		in.PassthroughBehavior == compile.PassthroughWhenNoTemplates && len(n.templates) > 0:
		why := fmt.Sprintf("no request template of %s for key %q and PassthroughBehavior %s", in.LogicalID, key, in.PassthroughBehavior)
		if e.typ == eventConnect {
			return nil, "", &result{status: http.StatusUnsupportedMediaType}, nil
		}
		return nil, "", nil, &gatewayError{status: http.StatusUnsupportedMediaType, message: "Unsupported Media Type", why: why}
	default:
		if e.typ == eventMessage && e.isJSON {
			contentType = jsonKey
		}
	}
	if in.ContentHandlingStrategy == "CONVERT_TO_BINARY" {
		b, err := base64.StdEncoding.DecodeString(string(out))
		if err != nil {
			return nil, "", nil, fmt.Errorf("ContentHandlingStrategy CONVERT_TO_BINARY of %s: the payload is not base64: %v", in.LogicalID, err)
		}
		out = b
	}
	return out, contentType, nil, nil
}

// mockAnswer is the status a MOCK integration answers the rendered request
// out with (mockStatus). A $connect whose status cannot be read is refused
// by the gateway itself: refused (500), with why in the log.
func (n *nonProxy) mockAnswer(e *event, out []byte) (status int, refused *result, err error) {
	if e.conn.tr != nil {
		e.traceRequest("MOCK", "", nil, out)
	}
	st, err := mockStatus(out)
	if err == nil && e.typ == eventConnect && (st < 100 || st > 599) {
		err = fmt.Errorf("statusCode %d is not an HTTP status code, which a $connect needs", st)
	}
	if err != nil {
		why := fmt.Sprintf("MOCK integration %s: %v", n.in.LogicalID, err)
		if e.typ == eventConnect {
			e.integErr = why
			return 0, &result{status: http.StatusInternalServerError}, nil
		}
		return 0, nil, errors.New(why)
	}
	// No body: a mock's response template reads no $input.
	if e.conn.tr != nil {
		e.traceResponse(st, nil, nil)
	}
	return st, nil, nil
}

// respond renders what a two-way route sends back for an integration answer.
// A Lambda function's error (funcErr, its message) selects the response whose
// pattern matches the message instead of the status.
func (n *nonProxy) respond(e *event, status int, h http.Header, body []byte, funcErr *string, params vtl.Params) ([]byte, error) {
	in := n.in
	if len(in.Responses) == 0 {
		return body, nil
	}
	var r *integResponse
	if funcErr != nil {
		r = n.matchResponse(*funcErr)
		if r == nil {
			return nil, fmt.Errorf("no IntegrationResponse of %s matches the function error %q, and it has no $default one", in.LogicalID, *funcErr)
		}
	} else if r = n.selectResponse(status); r == nil {
		return nil, fmt.Errorf("no IntegrationResponse of %s matches status %d, and it has no $default one", in.LogicalID, status)
	}
	ir := r.ir
	if ir.ContentHandlingStrategy == "CONVERT_TO_TEXT" {
		body = []byte(base64.StdEncoding.EncodeToString(body))
	}
	key := jsonKey
	if r.sel != nil {
		key = r.sel.eval(e, status, h)
	}
	out := body
	if tmpl, tkey := r.templates.pick(key); tmpl.t != nil {
		s, err := tmpl.t.RenderString(e.vtlVars(vtl.NewInput(body, params)))
		if err != nil {
			return nil, fmt.Errorf("response template %s of %s: %w", tkey, ir.LogicalID, err)
		}
		out = []byte(s)
	}
	if ir.ContentHandlingStrategy == "CONVERT_TO_BINARY" {
		b, err := base64.StdEncoding.DecodeString(string(out))
		if err != nil {
			return nil, fmt.Errorf("ContentHandlingStrategy CONVERT_TO_BINARY of %s: the response is not base64: %v", ir.LogicalID, err)
		}
		out = b
	}
	return out, nil
}

// renderedType is the Content-Type of a request rendered with the template
// (our choice): the template key when it is a media type, else
// application/json when the output is JSON, else text/plain.
func (t preparedTemplate) renderedType(out []byte) string {
	if t.contentType != "" {
		return t.contentType
	}
	if json.Valid(out) {
		return jsonKey
	}
	return "text/plain; charset=utf-8"
}

// mockStatus reads the status a MOCK integration answers with from the
// payload it got (the rendered request template, or the message passed
// through): its top-level statusCode, which must be a JSON integer; any
// integer will do, as on API Gateway (LocalStack's MOCK tests, checked
// against AWS: "200" fails, 0 and -1000 are accepted; its implementation
// rejects every non-integer). A payload that is
// not JSON is read as API Gateway reads {statusCode: 200}, the template the
// CDK writes for CORS: an object whose keys may be bare or single-quoted.
func mockStatus(out []byte) (int, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(out, &top); err == nil {
		raw, ok := top["statusCode"]
		if !ok {
			return 0, errNoStatusCode
		}
		return statusInt(raw)
	}
	if raw, ok := looseStatusCode(out); ok {
		return statusInt(raw)
	}
	return 0, errNoStatusCode
}

var errNoStatusCode = errors.New("unable to parse statusCode: the request template must render a JSON object with an integer statusCode, such as {\"statusCode\": 200}")

// statusInt reads a statusCode value: a JSON integer that fits in 32 bits.
func statusInt(raw []byte) (int, error) {
	s := string(raw)
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || strings.Trim(digits, "0123456789") != "" || len(digits) > 1 && digits[0] == '0' {
		return 0, fmt.Errorf("unable to parse statusCode: %s is not an integer", bytes.TrimSpace(raw))
	}
	st, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("unable to parse statusCode: %s is out of range", s)
	}
	return int(st), nil
}

// looseStatusCode finds the statusCode of an object written with bare or
// single-quoted keys ({statusCode: 200, 'a': 'b'}): the value of the first
// member whose key is statusCode, however quoted. Members are split at
// commas without regard to nesting, so a value holding a comma can hide
// what follows it.
func looseStatusCode(out []byte) ([]byte, bool) {
	s := bytes.TrimSpace(out)
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil, false
	}
	for _, member := range bytes.Split(s[1:len(s)-1], []byte(",")) {
		k, v, ok := bytes.Cut(member, []byte(":"))
		if !ok {
			continue
		}
		k = bytes.TrimSpace(k)
		if len(k) >= 2 && (k[0] == '"' || k[0] == '\'') && k[len(k)-1] == k[0] {
			k = k[1 : len(k)-1]
		}
		if string(k) == "statusCode" {
			return bytes.TrimSpace(v), true
		}
	}
	return nil, false
}

// invoke runs the function of an AWS integration with the rendered payload.
// Its result is the response body with status 200; a function error gives
// status 200 too, the error's JSON (errorMessage, errorType) as the body and
// its message for response selection (our choice, as REST APIs do for Lambda
// custom integrations); any other failure is an integration error.
func (n *nonProxy) invoke(ctx context.Context, e *event, payload []byte) (int, []byte, *string, error) {
	out, err := invokeFunction(ctx, n.caller, n.in, n.timeout, e, payload)
	if err != nil {
		msg, typ, ok := functionError(err)
		if !ok {
			return 0, nil, nil, err
		}
		body, _ := json.Marshal(map[string]string{"errorMessage": msg, "errorType": typ})
		return http.StatusOK, body, &msg, nil
	}
	if n.maxBody > 0 && len(out) > n.maxBody {
		return 0, nil, nil, fmt.Errorf("integration response exceeds %d bytes", n.maxBody)
	}
	return http.StatusOK, out, nil, nil
}

// vtlParams are $input.params() of an event: the $connect request's headers
// and query string (first values); messages have none.
func (e *event) vtlParams() vtl.Params {
	if e.typ != eventConnect {
		return vtl.Params{}
	}
	p := vtl.Params{Header: make(map[string]string, len(e.header)), QueryString: make(map[string]string, len(e.query))}
	for k, vs := range e.header {
		if len(vs) > 0 {
			p.Header[k] = vs[0]
		}
	}
	for k, vs := range e.query {
		if len(vs) > 0 {
			p.QueryString[k] = vs[0]
		}
	}
	return p
}

// vtlVars are the variables a mapping template of e is rendered with.
func (e *event) vtlVars(input *vtl.Input) vtl.Vars {
	return vtl.Vars{
		"input":          input,
		"context":        vtlContext{e: e},
		"stageVariables": e.stage.stage.Variables,
		"util":           vtl.Util(),
	}
}

// vtlContext is $context in mapping templates: the context variables of SPEC
// R-6.4 (connectedAt and requestTimeEpoch as numbers), with identity.*,
// authorizer.*, error.* and integration.* as nested objects.
type vtlContext struct {
	e      *event
	prefix string
}

var _ vtl.Object = vtlContext{}

func (c vtlContext) Property(name string) (any, bool) {
	full := c.prefix + name
	switch full {
	case "identity", "authorizer", "error", "integration":
		return vtlContext{e: c.e, prefix: full + "."}, true
	case "connectedAt":
		return c.e.conn.connectedAt.UnixMilli(), true
	case "requestTimeEpoch":
		return c.e.time.UnixMilli(), true
	}
	v, ok := c.e.contextVar(full)
	if !ok {
		return nil, false
	}
	return v, true
}

func (c vtlContext) Call(string, []any) (any, error) { return nil, vtl.ErrNoMethod }
