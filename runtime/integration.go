package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"time"

	"github.com/wsgw/wsgw/compile"
)

// defaultTimeout is TimeoutInMillis when the plan leaves it out (SPEC ).
const defaultTimeout = 29 * time.Second

// errTimedOut is the error of every integration call abandoned at its
// TimeoutInMillis (SPEC ), whatever the integration type: HTTP_PROXY,
// HTTP, AWS_PROXY through --integration, --lambda-endpoint or the local
// runner. A message route answers it with the "Endpoint request timed out"
// frame instead of Internal server error (SPEC ). Wrapped with the
// timeout by timedOut.
var errTimedOut = errors.New("integration timed out")

// timedOut is errTimedOut for a call that ran for d.
func timedOut(d time.Duration) error { return fmt.Errorf("%w after %s", errTimedOut, d) }

// timeoutMessage is API Gateway's message for a call past its timeout.
const timeoutMessage = "Endpoint request timed out"

// integration is a prepared backend call.
type integration interface {
	// call runs the integration for e. The body of the answer is read only
	// when wantBody is set (two-way routes); err is an integration error
	// (SPEC ): unreachable, reset, timed out, not runnable.
	call(ctx context.Context, e *event, wantBody bool) (result, error)
	// plan returns the compiled integration it was prepared from.
	plan() *compile.Integration
}

// result is what an integration answered.
type result struct {
	status int
	body   []byte
	// header holds the headers a Lambda $connect response asks for in the
	// handshake response (SPEC ).
	header http.Header
}

// integration turns a compiled integration of Api apiID's stage whose
// variables are vars into something callable once per plan, so that no URL
// or expression is parsed while a message is handled.
func (pv *provisioner) integration(in *compile.Integration, apiID string, vars map[string]string) integration {
	if in.NotRunnable != "" {
		return &notRunnable{in: in, reason: in.NotRunnable}
	}
	switch in.Type {
	case "HTTP_PROXY":
		return newHTTPProxy(in, apiID, vars, pv.client, pv.opts)
	case "AWS_PROXY":
		return newLambdaProxy(in, pv.plan, pv.client, pv.opts)
	case "HTTP", "MOCK", "AWS":
		return pv.nonProxy(in, apiID, vars)
	}
	return &notRunnable{in: in, reason: fmt.Sprintf("%s integrations are not supported by this gateway yet", in.Type)}
}

// notRunnable is an integration the gateway cannot run; every call is an
// integration error.
type notRunnable struct {
	in     *compile.Integration
	reason string
}

var _ integration = (*notRunnable)(nil)

func (n *notRunnable) plan() *compile.Integration { return n.in }

func (n *notRunnable) call(context.Context, *event, bool) (result, error) {
	return result{}, errors.New("integration not runnable: " + n.reason)
}

// httpCall is the HTTP call of an HTTP_PROXY or HTTP (non-proxy)
// integration, prepared once per plan: method, URL and the URL's own query
// parsed, mapping steps resolved (SPEC §6, R-7.1, R-7.5). ConnectionType
// VPC_LINK changes nothing: the call goes to the URL as if the link reached it.
type httpCall struct {
	client  *http.Client
	rt      http.RoundTripper // client's transport, called directly (see roundTrip)
	method  string
	url     *url.URL
	urlText string     // url as text, for the trace (when mapping adds no query)
	query   url.Values // the URL's own query, when mapping adds to it
	mapping mapping
	timeout time.Duration
	maxBody int
	ua      []string // the User-Agent header: "AmazonAPIGateway_" and the Api's id
}

// jsonType is the Content-Type header value of a JSON message, shared by
// every call. Header values the gateway shares between requests are never
// changed in place: mapping replaces a header's values (setHeaderAs), and a
// one-element slice has no room to append into.
var jsonType = []string{jsonKey}

// parseHTTPURL parses an absolute http(s) URL, the only kind of URL an
// integration can call.
func parseHTTPURL(s string) (*url.URL, bool) {
	u, err := url.Parse(s)
	return u, err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// newHTTPCall prepares the call of in on Api apiID's stage whose variables
// are vars; why says why it cannot be made.
func newHTTPCall(in *compile.Integration, apiID string, vars map[string]string, client *http.Client, opts *Options) (*httpCall, string) {
	u, ok := parseHTTPURL(in.URL)
	if !ok {
		return nil, fmt.Sprintf("integration URL %q is not an absolute http(s) URL", in.URL)
	}
	h := &httpCall{client: client, rt: directTransport(client), method: in.Method, url: u, mapping: newMapping(in.Mapping, vars),
		timeout: integrationTimeout(in), maxBody: opts.MaxResponseBytes, ua: []string{"AmazonAPIGateway_" + apiID}}
	if h.method == "" || h.method == "ANY" {
		h.method = http.MethodPost
	}
	if h.mapping.query {
		h.query = u.Query()
	} else {
		h.urlText = u.String()
	}
	return h, ""
}

// integrationTimeout is an integration's TimeoutInMillis (SPEC ).
func integrationTimeout(in *compile.Integration) time.Duration {
	if in.TimeoutMillis > 0 {
		return time.Duration(in.TimeoutMillis) * time.Millisecond
	}
	return defaultTimeout
}

// do sends body (nil: none) with Content-Type contentType ("": none) and
// the mapped headers and query strings, within the integration's timeout.
// It returns the status and headers of the answer and, when wantBody is set,
// its body, at most Options.MaxResponseBytes of it.
func (h *httpCall) do(ctx context.Context, e *event, body []byte, contentType string, wantBody bool) (int, http.Header, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	var rd io.Reader = http.NoBody
	if len(body) > 0 {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, h.method, "", rd)
	if err != nil {
		return 0, nil, nil, err
	}
	u := req.URL // NewRequestWithContext's own, empty: no second URL per call
	*u = *h.url
	req.Host = u.Host
	req.Header["User-Agent"] = h.ua
	switch contentType {
	case "":
	case jsonKey:
		req.Header["Content-Type"] = jsonType
	default:
		req.Header["Content-Type"] = []string{contentType}
	}
	var q url.Values
	if h.mapping.query {
		q = make(url.Values, len(h.query)+2)
		for k, v := range h.query {
			q[k] = v
		}
	}
	h.mapping.apply(e, req.Header, q)
	if h.mapping.query {
		u.RawQuery = q.Encode()
	}
	if v := req.Header.Get("Host"); v != "" {
		req.Host = v
		req.Header.Del("Host")
	}
	if e.conn.tr != nil {
		text := h.urlText
		if h.mapping.query {
			text = u.String()
		}
		e.traceRequest(h.method, text, req.Header, body)
	}
	resp, err := h.roundTrip(req)
	if err != nil {
		return 0, nil, nil, h.explain(ctx, err)
	}
	defer resp.Body.Close()
	if !wantBody {
		// Drain a little so the connection can be reused.
		_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
		if e.conn.tr != nil {
			e.traceResponse(resp.StatusCode, resp.Header, nil)
		}
		return resp.StatusCode, resp.Header, nil, nil
	}
	b, err := readBody(resp, h.maxBody)
	if err != nil {
		return 0, nil, nil, h.explain(ctx, err)
	}
	if h.maxBody > 0 && len(b) > h.maxBody {
		return 0, nil, nil, fmt.Errorf("integration response exceeds %d bytes", h.maxBody)
	}
	if e.conn.tr != nil {
		e.traceResponse(resp.StatusCode, resp.Header, b)
	}
	return resp.StatusCode, resp.Header, b, nil
}

// directTransport returns the transport of a client that follows no
// redirects (noRedirects, SPEC ), keeps no cookies and has no timeout of
// its own (the request's context carries the integration's), such as the
// gateway's (newHTTPClient): on it, http.Client.Do would add nothing but a
// copy of the headers per call, kept for redirects it never follows. It
// returns nil for any other client, which is then used as it is.
func directTransport(c *http.Client) http.RoundTripper {
	if c.Jar != nil || c.Timeout != 0 || c.CheckRedirect == nil ||
		reflect.ValueOf(c.CheckRedirect).Pointer() != reflect.ValueOf(noRedirects).Pointer() {
		return nil
	}
	if c.Transport == nil {
		return http.DefaultTransport
	}
	return c.Transport
}

// roundTrip sends req on the transport directly where directTransport
// allows it, else through the client.
func (h *httpCall) roundTrip(req *http.Request) (*http.Response, error) {
	if h.rt == nil {
		return h.client.Do(req)
	}
	return h.rt.RoundTrip(req)
}

// readBody reads an answer's body, at most maxBody+1 bytes of it (0: no
// limit). A body whose length the answer declares is read into one buffer of
// that size, without io.ReadAll's growing.
func readBody(resp *http.Response, maxBody int) ([]byte, error) {
	if n := resp.ContentLength; n > 0 && n <= 1<<20 && (maxBody <= 0 || n <= int64(maxBody)) {
		b := make([]byte, n)
		if _, err := io.ReadFull(resp.Body, b); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF // shorter than declared, as io.ReadAll would say
			}
			return nil, err
		}
		return b, nil
	}
	r := io.Reader(resp.Body)
	if maxBody > 0 {
		r = io.LimitReader(resp.Body, int64(maxBody)+1)
	}
	return io.ReadAll(r)
}

// explain words a failed call for the log.
func (h *httpCall) explain(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return timedOut(h.timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("%s %s: %w", h.method, h.url.Redacted(), err)
}

// httpProxy is an HTTP_PROXY integration (SPEC ): the message goes to
// the URL as it is, and the answer comes back as it is.
type httpProxy struct {
	in   *compile.Integration
	send *httpCall
}

var _ integration = (*httpProxy)(nil)

func newHTTPProxy(in *compile.Integration, apiID string, vars map[string]string, client *http.Client, opts *Options) integration {
	c, why := newHTTPCall(in, apiID, vars, client, opts)
	if c == nil {
		return &notRunnable{in: in, reason: why}
	}
	return &httpProxy{in: in, send: c}
}

func (h *httpProxy) plan() *compile.Integration { return h.in }

func (h *httpProxy) call(ctx context.Context, e *event, wantBody bool) (result, error) {
	var body []byte
	contentType := ""
	if e.typ == eventMessage {
		body = e.body
		if e.isJSON {
			contentType = jsonKey
		}
	}
	status, _, b, err := h.send.do(ctx, e, body, contentType, wantBody)
	if err != nil {
		return result{}, err
	}
	return result{status: status, body: b}, nil
}

// newHTTPClient is the client every HTTP integration of a gateway shares:
// pooled connections, no redirects followed (SPEC ), no overall
// timeout (each call has its context). Plain-http calls are made on the
// caller's goroutine (h1Transport), https ones by net/http's Transport.
func newHTTPClient(opts *Options) *http.Client {
	dialer := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		MaxIdleConns:          max(100, 4*opts.MaxIdleConnsPerHost),
		MaxIdleConnsPerHost:   max(2, opts.MaxIdleConnsPerHost),
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport:     newH1Transport(tr, dialer),
		CheckRedirect: noRedirects,
	}
}

// noRedirects is the gateway client's redirect policy: a 3xx answer is the
// answer (SPEC ).
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
