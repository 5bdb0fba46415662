package runtime

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/wsgw/wsgw/compile"
	"github.com/wsgw/wsgw/runtime/lambda"
)

// Invoker runs a Lambda function of the template and returns its response
// payload (SPEC, the third way: the local runner of runtime/lambda).
// A function's own error comes back as an error wrapping a
// *lambda.FunctionError (or a *FunctionError).
type Invoker interface {
	Invoke(ctx context.Context, fn *compile.Function, payload []byte) ([]byte, error)
}

// FunctionError is an error a function reported (a Lambda Invoke API answer
// with X-Amz-Function-Error, or the same header from an --integration URL).
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string {
	if e.Type == "" {
		return "function error: " + e.Message
	}
	return "function error: " + e.Type + ": " + e.Message
}

// functionError returns the errorMessage and errorType of a function error
// (from the local runner, the Invoke API or an --integration URL).
func functionError(err error) (msg, typ string, ok bool) {
	var fe *FunctionError
	if errors.As(err, &fe) {
		return fe.Message, fe.Type, true
	}
	var le *lambda.FunctionError
	if errors.As(err, &le) {
		return le.Message, le.Type, true
	}
	return "", "", false
}

// maxLambdaResponse is Lambda's limit on a synchronous response.
const maxLambdaResponse = 6 << 20

// lambdaHost holds the Invoker of a gateway; Start sets it when
// Options.NewLambda makes one once the gateway listens.
type lambdaHost struct {
	inv atomic.Pointer[invokerBox]
}

type invokerBox struct{ Invoker }

func (h *lambdaHost) get() Invoker {
	if b := h.inv.Load(); b != nil {
		return b.Invoker
	}
	return nil
}

// lambdaCaller invokes one function one of the three ways of SPEC.
type lambdaCaller interface {
	invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// newLambdaCaller picks the way to run a function (SPEC ): an
// --integration URL, else the Lambda Invoke API at Options.LambdaEndpoint,
// else the gateway's Invoker for a function of the template. It returns nil
// and why when there is none.
func newLambdaCaller(fn *compile.Function, name, qualifier, overrideURL string, client *http.Client, opts *Options) (lambdaCaller, string) {
	switch {
	case overrideURL != "":
		u, ok := parseHTTPURL(overrideURL)
		if !ok {
			return nil, fmt.Sprintf("integration URL %q is not an absolute http(s) URL", overrideURL)
		}
		return &urlCaller{client: client, url: u.String()}, ""
	case opts.LambdaEndpoint != "":
		if fn != nil {
			name = fn.Name
		}
		if name == "" {
			return nil, "the integration names no Lambda function"
		}
		return newInvokeAPICaller(opts.LambdaEndpoint, name, qualifier, client)
	case fn != nil:
		return &runnerCaller{host: opts.lambda, fn: fn}, ""
	}
	if name != "" {
		return nil, fmt.Sprintf("function %s is not defined in the template; give --lambda-endpoint or --integration", name)
	}
	return nil, "no Lambda function to invoke"
}

// runnerCaller runs a function of the template through the gateway's Invoker.
type runnerCaller struct {
	host *lambdaHost
	fn   *compile.Function
}

func (r *runnerCaller) invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var inv Invoker
	if r.host != nil {
		inv = r.host.get()
	}
	if inv == nil {
		return nil, fmt.Errorf("function %s: no local Lambda runner (give --lambda-endpoint or --integration)", r.fn.LogicalID)
	}
	out, err := inv.Invoke(ctx, r.fn, payload)
	if err != nil {
		// The local runner names the function in most of its errors already.
		if prefix := "function " + r.fn.LogicalID + ":"; !strings.HasPrefix(err.Error(), prefix) {
			err = fmt.Errorf("%s %w", prefix, err)
		}
		return nil, err
	}
	return out, nil
}

// urlCaller POSTs the event to an --integration URL; the reply body is the
// Lambda response. Our choice: a reply with X-Amz-Function-Error is a function
// error (as from the Invoke API), and a status other than 2xx an integration
// error.
type urlCaller struct {
	client *http.Client
	url    string
}

func (u *urlCaller) invoke(ctx context.Context, payload []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.url, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return doLambdaRequest(u.client, req, "POST "+u.url)
}

// invokeAPICaller calls the Lambda Invoke API (POST
// /2015-03-31/functions/NAME/invocations), as served by `sam local
// start-lambda`, LocalStack or AWS. Requests are signed (SigV4) when
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set, as AWS needs; local
// endpoints accept them either way.
type invokeAPICaller struct {
	client *http.Client
	url    string
	region string
	creds  *aws.Credentials
	signer *v4.Signer
}

func newInvokeAPICaller(endpoint, name, qualifier string, client *http.Client) (lambdaCaller, string) {
	base, ok := parseHTTPURL(endpoint)
	if !ok {
		return nil, fmt.Sprintf("--lambda-endpoint %q is not an absolute http(s) URL", endpoint)
	}
	u := strings.TrimSuffix(base.String(), "/") + "/2015-03-31/functions/" + url.PathEscape(name) + "/invocations"
	if qualifier != "" {
		u += "?Qualifier=" + url.QueryEscape(qualifier)
	}
	c := &invokeAPICaller{client: client, url: u}
	if id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		c.creds = &aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: os.Getenv("AWS_SESSION_TOKEN")}
		c.signer = v4.NewSigner()
		c.region = invokeRegion(base.Hostname())
	}
	return c, ""
}

// invokeRegion is the region to sign for: lambda.REGION.amazonaws.com's,
// else AWS_REGION or AWS_DEFAULT_REGION, else us-east-1.
func invokeRegion(host string) string {
	if parts := strings.Split(host, "."); len(parts) >= 4 && parts[0] == "lambda" {
		return parts[1]
	}
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "us-east-1"
}

func (c *invokeAPICaller) invoke(ctx context.Context, payload []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amz-Invocation-Type", "RequestResponse")
	if c.signer != nil {
		sum := sha256.Sum256(payload)
		if err := c.signer.SignHTTP(ctx, *c.creds, req, hex.EncodeToString(sum[:]), "lambda", c.region, time.Now()); err != nil {
			return nil, fmt.Errorf("signing the Invoke request: %w", err)
		}
	}
	return doLambdaRequest(c.client, req, "Lambda Invoke API "+c.url)
}

// doLambdaRequest sends an invocation and reads the Lambda response.
func doLambdaRequest(client *http.Client, req *http.Request, what string) ([]byte, error) {
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxLambdaResponse+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if len(body) > maxLambdaResponse {
		return nil, fmt.Errorf("%s: response larger than %d bytes", what, maxLambdaResponse)
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s answered %d: %s", what, resp.StatusCode, serviceMessage(body))
	}
	if t := resp.Header.Get("X-Amz-Function-Error"); t != "" {
		fe := &FunctionError{}
		if json.Unmarshal(body, fe) != nil || fe.Message == "" && fe.Type == "" {
			fe.Message = string(body)
		}
		if fe.Type == "" {
			fe.Type = t
		}
		return nil, fe
	}
	return body, nil
}

// serviceMessage words an error answer of the Invoke API
// ({"Type":"User","Message":"..."}, {"message":"..."}) or of an HTTP handler.
func serviceMessage(body []byte) string {
	var doc struct {
		Type     string `json:"Type"`
		Message  string `json:"Message"`
		Message2 string `json:"message"`
	}
	if json.Unmarshal(body, &doc) == nil {
		msg := doc.Message
		if msg == "" {
			msg = doc.Message2
		}
		if msg != "" {
			return msg
		}
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	if s == "" {
		return "(no body)"
	}
	return s
}

// invokeFunction calls the function of integration in with payload within
// timeout, tracing the call; past the timeout it answers timedOut. A
// function's own error comes back as the caller's error (functionError).
func invokeFunction(ctx context.Context, caller lambdaCaller, in *compile.Integration, timeout time.Duration, e *event, payload []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if e.conn.tr != nil {
		e.traceRequest("Invoke", cmp.Or(in.Target(), "-"), nil, payload)
	}
	out, err := caller.invoke(ctx, payload)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, timedOut(timeout)
		}
		return nil, err
	}
	if e.conn.tr != nil {
		e.traceResponse(http.StatusOK, nil, out)
	}
	return out, nil
}

// lambdaProxy is an AWS_PROXY integration (SPEC ): the WebSocket proxy
// event in, the Lambda proxy response out.
type lambdaProxy struct {
	in      *compile.Integration
	caller  lambdaCaller
	timeout time.Duration
	maxBody int
}

var _ integration = (*lambdaProxy)(nil)

// integrationCaller is the lambdaCaller of an integration that invokes a
// function (AWS_PROXY, or AWS with a Lambda URI): its --integration URL, else
// the function it names.
func integrationCaller(in *compile.Integration, p *compile.Plan, client *http.Client, opts *Options) (lambdaCaller, string) {
	override := ""
	if in.Overridden {
		override = in.URL
	}
	var fn *compile.Function
	if p != nil && in.Function != "" {
		fn = p.Functions[in.Function]
	}
	return newLambdaCaller(fn, in.FunctionName, in.FunctionQualifier, override, client, opts)
}

func newLambdaProxy(in *compile.Integration, p *compile.Plan, client *http.Client, opts *Options) integration {
	caller, why := integrationCaller(in, p, client, opts)
	if caller == nil {
		return &notRunnable{in: in, reason: why}
	}
	l := &lambdaProxy{in: in, caller: caller, timeout: defaultTimeout, maxBody: opts.MaxResponseBytes}
	if in.TimeoutMillis > 0 {
		l.timeout = time.Duration(in.TimeoutMillis) * time.Millisecond
	}
	return l
}

func (l *lambdaProxy) plan() *compile.Integration { return l.in }

func (l *lambdaProxy) call(ctx context.Context, e *event, wantBody bool) (result, error) {
	payload, err := e.proxyEventJSON()
	if err != nil {
		return result{}, err
	}
	out, err := invokeFunction(ctx, l.caller, l.in, l.timeout, e, payload)
	if err != nil {
		return result{}, err
	}
	res, err := parseLambdaResponse(out)
	if err != nil {
		return result{}, err
	}
	if wantBody && l.maxBody > 0 && len(res.body) > l.maxBody {
		return result{}, fmt.Errorf("integration response exceeds %d bytes", l.maxBody)
	}
	return res, nil
}
