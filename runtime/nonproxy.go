package runtime

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
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
	in      *compile.Integration
	mock    bool
	client  *http.Client
	method  string
	url     *url.URL
	timeout time.Duration
	maxBody int
	// caller invokes the function of an AWS (Lambda) integration.
	caller lambdaCaller
}

var _ integration = (*nonProxy)(nil)

func newNonProxy(in *compile.Integration, p *compile.Plan, client *http.Client, opts *Options) integration {
	n := &nonProxy{in: in, mock: in.Type == "MOCK", client: client, method: in.Method, timeout: defaultTimeout, maxBody: opts.MaxResponseBytes}
	if in.TimeoutMillis > 0 {
		n.timeout = time.Duration(in.TimeoutMillis) * time.Millisecond
	}
	if in.Type == "AWS" {
		// An AWS integration that invokes a Lambda function (compile runs
		// only those): the rendered request template is the function's
		// payload, its result the integration response (SPEC ).
		caller, why := integrationCaller(in, p, client, opts)
		if caller == nil {
			return &notRunnable{in: in, reason: why}
		}
		n.caller = caller
		return n
	}
	if !n.mock {
		u, ok := parseHTTPURL(in.URL)
		if !ok {
			return &notRunnable{in: in, reason: fmt.Sprintf("integration URL %q is not an absolute http(s) URL", in.URL)}
		}
		n.url = u
		if n.method == "" || n.method == "ANY" {
			n.method = http.MethodPost
		}
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
	in := n.in
	body := e.body
	if e.binary && in.ContentHandlingStrategy == "CONVERT_TO_TEXT" {
		body = []byte(base64.StdEncoding.EncodeToString(body))
	}
	params := e.vtlParams()
	key := jsonKey
	if in.TemplateSelection != nil {
		key = evalSelection(in.TemplateSelection, e, 0, nil)
	}
	out := body
	contentType := ""
	tmpl, tkey := pickTemplate(in.RequestTemplate, key)
	switch {
	case tmpl != nil:
		s, err := tmpl.RenderString(e.vtlVars(vtl.NewInput(body, params)))
		if err != nil {
			return result{}, fmt.Errorf("request template %s of %s: %w", tkey, in.LogicalID, err)
		}
		out = []byte(s)
		if !n.mock {
			contentType = templateContentType(tkey, out)
		}
	case in.PassthroughBehavior == compile.PassthroughNever,
		in.PassthroughBehavior == compile.PassthroughWhenNoTemplates && in.HasRequestTemplates():
		why := fmt.Sprintf("no request template of %s for key %q and PassthroughBehavior %s", in.LogicalID, key, in.PassthroughBehavior)
		if e.typ == eventConnect {
			return result{status: http.StatusUnsupportedMediaType}, nil
		}
		return result{}, &gatewayError{status: http.StatusUnsupportedMediaType, message: "Unsupported Media Type", why: why}
	default:
		if e.typ == eventMessage && e.isJSON {
			contentType = jsonKey
		}
	}
	if in.ContentHandlingStrategy == "CONVERT_TO_BINARY" {
		b, err := base64.StdEncoding.DecodeString(string(out))
		if err != nil {
			return result{}, fmt.Errorf("ContentHandlingStrategy CONVERT_TO_BINARY of %s: the payload is not base64: %v", in.LogicalID, err)
		}
		out = b
	}

	var status int
	var respBody []byte
	var respHeader http.Header
	var funcErr *string // a Lambda function's error message (AWS integrations)
	if n.mock {
		if e.conn.tr != nil {
			e.traceRequest("MOCK", "", nil, out)
		}
		st, err := mockStatus(out)
		if err == nil && e.typ == eventConnect && (st < 100 || st > 599) {
			err = fmt.Errorf("statusCode %d is not an HTTP status code, which a $connect needs", st)
		}
		if err != nil {
			why := fmt.Sprintf("MOCK integration %s: %v", in.LogicalID, err)
			if e.typ == eventConnect {
				// The gateway refuses the handshake itself: 500, with why in the log.
				e.integErr = why
				return result{status: http.StatusInternalServerError}, nil
			}
			return result{}, errors.New(why)
		}
		status = st // no body: a mock's response template reads no $input
		if e.conn.tr != nil {
			e.traceResponse(status, nil, nil)
		}
	} else if n.caller != nil {
		var err error
		status, respBody, funcErr, err = n.invoke(ctx, e, out)
		if err != nil {
			return result{}, err
		}
	} else {
		var err error
		status, respHeader, respBody, err = n.send(ctx, e, out, contentType, wantBody)
		if err != nil {
			return result{}, err
		}
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

// respond renders what a two-way route sends back for an integration answer.
// A Lambda function's error (funcErr, its message) selects the response whose
// pattern matches the message instead of the status.
func (n *nonProxy) respond(e *event, status int, h http.Header, body []byte, funcErr *string, params vtl.Params) ([]byte, error) {
	in := n.in
	if len(in.Responses) == 0 {
		return body, nil
	}
	var ir *compile.IntegrationResponse
	if funcErr != nil {
		ir = in.SelectErrorResponse(*funcErr)
		if ir == nil {
			return nil, fmt.Errorf("no IntegrationResponse of %s matches the function error %q, and it has no $default one", in.LogicalID, *funcErr)
		}
	} else if ir = in.SelectResponse(status); ir == nil {
		return nil, fmt.Errorf("no IntegrationResponse of %s matches status %d, and it has no $default one", in.LogicalID, status)
	}
	if ir.ContentHandlingStrategy == "CONVERT_TO_TEXT" {
		body = []byte(base64.StdEncoding.EncodeToString(body))
	}
	key := jsonKey
	if ir.TemplateSelection != nil {
		key = evalSelection(ir.TemplateSelection, e, status, h)
	}
	out := body
	if tmpl, tkey := pickTemplate(ir.Template, key); tmpl != nil {
		s, err := tmpl.RenderString(e.vtlVars(vtl.NewInput(body, params)))
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

// pickTemplate returns the template of key, else the $default one.
func pickTemplate(get func(string) *vtl.Template, key string) (*vtl.Template, string) {
	if t := get(key); t != nil {
		return t, key
	}
	if t := get(compile.DefaultTemplateKey); t != nil {
		return t, compile.DefaultTemplateKey
	}
	return nil, ""
}

// templateContentType is the Content-Type of a rendered request (our
// choice): the template key when it is a media type, else application/json
// when the output is JSON, else text/plain.
func templateContentType(key string, out []byte) string {
	if strings.Contains(key, "/") {
		if _, _, err := mime.ParseMediaType(key); err == nil {
			return key
		}
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

// evalSelection evaluates a compiled template selection expression: body
// parts read the message (as route selection does, SPEC ), response
// parts the integration's answer.
func evalSelection(sel *compile.TemplateSelection, e *event, status int, h http.Header) string {
	var sb strings.Builder
	for _, p := range sel.Parts {
		switch p.Var {
		case "":
			sb.WriteString(p.Text)
		case compile.TemplateVarBody:
			if e.isJSON {
				v, _ := bodyValue(e.doc, p.Path)
				sb.WriteString(v)
			}
		case compile.TemplateVarStatusCode:
			if status != 0 {
				sb.WriteString(strconv.Itoa(status))
			}
		case compile.TemplateVarHeader:
			sb.WriteString(h.Get(p.Name))
		case compile.TemplateVarMultiValueHeader:
			sb.WriteString(strings.Join(h.Values(p.Name), ","))
		}
	}
	return sb.String()
}

// send makes the HTTP call of a non-proxy HTTP integration with the rendered
// body; mapped headers and query strings apply as for HTTP_PROXY (SPEC §6).
func (n *nonProxy) send(ctx context.Context, e *event, body []byte, contentType string, wantBody bool) (int, http.Header, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	var rd io.Reader = http.NoBody
	if len(body) > 0 {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, n.method, "", rd)
	if err != nil {
		return 0, nil, nil, err
	}
	u := *n.url
	req.URL, req.Host = &u, u.Host
	req.Header.Set("User-Agent", "AmazonAPIGateway_"+e.conn.apiID)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	var q url.Values
	mapQuery := false
	for _, st := range n.in.Mapping {
		if st.Target == "querystring" {
			mapQuery = true
		}
	}
	if mapQuery {
		q = u.Query()
	}
	e.applyMapping(n.in.Mapping, req.Header, q)
	if mapQuery {
		u.RawQuery = q.Encode()
	}
	if v := req.Header.Get("Host"); v != "" {
		req.Host = v
		req.Header.Del("Host")
	}
	if e.conn.tr != nil {
		e.traceRequest(n.method, u.String(), req.Header, body)
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return 0, nil, nil, n.explain(ctx, err)
	}
	defer resp.Body.Close()
	if !wantBody {
		_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
		if e.conn.tr != nil {
			e.traceResponse(resp.StatusCode, resp.Header, nil)
		}
		return resp.StatusCode, resp.Header, nil, nil
	}
	r := io.Reader(resp.Body)
	if n.maxBody > 0 {
		r = io.LimitReader(resp.Body, int64(n.maxBody)+1)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return 0, nil, nil, n.explain(ctx, err)
	}
	if n.maxBody > 0 && len(b) > n.maxBody {
		return 0, nil, nil, fmt.Errorf("integration response exceeds %d bytes", n.maxBody)
	}
	if e.conn.tr != nil {
		e.traceResponse(resp.StatusCode, resp.Header, b)
	}
	return resp.StatusCode, resp.Header, b, nil
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

func (n *nonProxy) explain(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return timedOut(n.timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("%s %s: %w", n.method, n.url.Redacted(), err)
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
