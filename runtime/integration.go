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

// prepare turns a compiled integration into something callable once per
// plan, so that no URL or expression is parsed while a message is handled.
func prepare(in *compile.Integration, p *compile.Plan, client *http.Client, opts *Options) integration {
	if in.NotRunnable != "" {
		return &notRunnable{in: in, reason: in.NotRunnable}
	}
	switch in.Type {
	case "HTTP_PROXY":
		return newHTTPProxy(in, client, opts)
	case "AWS_PROXY":
		return newLambdaProxy(in, p, client, opts)
	case "HTTP", "MOCK", "AWS":
		return newNonProxy(in, p, client, opts)
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

// httpProxy is an HTTP_PROXY integration (SPEC ). ConnectionType
// VPC_LINK changes nothing: the call goes to the URL as if the link reached it.
type httpProxy struct {
	in       *compile.Integration
	client   *http.Client
	method   string
	url      *url.URL
	query    url.Values // the URL's own query, when mapping adds to it
	mapQuery bool       // some step targets a query string
	timeout  time.Duration
	maxBody  int
}

var _ integration = (*httpProxy)(nil)

// parseHTTPURL parses an absolute http(s) URL, the only kind of URL an
// integration can call.
func parseHTTPURL(s string) (*url.URL, bool) {
	u, err := url.Parse(s)
	return u, err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func newHTTPProxy(in *compile.Integration, client *http.Client, opts *Options) integration {
	u, ok := parseHTTPURL(in.URL)
	if !ok {
		return &notRunnable{in: in, reason: fmt.Sprintf("integration URL %q is not an absolute http(s) URL", in.URL)}
	}
	h := &httpProxy{in: in, client: client, method: in.Method, url: u, timeout: defaultTimeout, maxBody: opts.MaxResponseBytes}
	if h.method == "" || h.method == "ANY" {
		h.method = http.MethodPost
	}
	if in.TimeoutMillis > 0 {
		h.timeout = time.Duration(in.TimeoutMillis) * time.Millisecond
	}
	for _, st := range in.Mapping {
		if st.Target == "querystring" {
			h.mapQuery = true
		}
	}
	if h.mapQuery {
		h.query = u.Query()
	}
	return h
}

func (h *httpProxy) plan() *compile.Integration { return h.in }

func (h *httpProxy) call(ctx context.Context, e *event, wantBody bool) (result, error) {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()

	var body io.Reader = http.NoBody
	if e.typ == eventMessage && len(e.body) > 0 {
		body = bytes.NewReader(e.body)
	}
	req, err := http.NewRequestWithContext(ctx, h.method, "", body)
	if err != nil {
		return result{}, err
	}
	u := *h.url
	req.URL, req.Host = &u, u.Host
	req.Header.Set("User-Agent", "AmazonAPIGateway_"+e.conn.apiID)
	if e.typ == eventMessage && e.isJSON {
		req.Header.Set("Content-Type", "application/json")
	}
	var q url.Values
	if h.mapQuery {
		q = make(url.Values, len(h.query)+2)
		for k, v := range h.query {
			q[k] = v
		}
	}
	e.applyMapping(h.in.Mapping, req.Header, q)
	if h.mapQuery {
		u.RawQuery = q.Encode()
	}
	if v := req.Header.Get("Host"); v != "" {
		req.Host = v
		req.Header.Del("Host")
	}
	if e.conn.tr != nil {
		var sent []byte
		if e.typ == eventMessage {
			sent = e.body
		}
		e.traceRequest(h.method, u.String(), req.Header, sent)
	}

	resp, err := h.client.Do(req)
	if err != nil {
		return result{}, h.explain(ctx, err)
	}
	defer resp.Body.Close()
	res := result{status: resp.StatusCode}
	if !wantBody {
		// Drain a little so the connection can be reused.
		_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
		if e.conn.tr != nil {
			e.traceResponse(res.status, resp.Header, nil)
		}
		return res, nil
	}
	r := io.Reader(resp.Body)
	if h.maxBody > 0 {
		r = io.LimitReader(resp.Body, int64(h.maxBody)+1)
	}
	res.body, err = io.ReadAll(r)
	if err != nil {
		return result{}, h.explain(ctx, err)
	}
	if h.maxBody > 0 && len(res.body) > h.maxBody {
		return result{}, fmt.Errorf("integration response exceeds %d bytes", h.maxBody)
	}
	if e.conn.tr != nil {
		e.traceResponse(res.status, resp.Header, res.body)
	}
	return res, nil
}

// explain words a failed call for the log.
func (h *httpProxy) explain(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return timedOut(h.timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("%s %s: %w", h.method, h.url.Redacted(), err)
}

// newHTTPClient is the client every HTTP integration of a gateway shares:
// pooled connections, no redirects followed (SPEC ), no overall
// timeout (each call has its context).
func newHTTPClient(opts *Options) *http.Client {
	tr := &http.Transport{
		Proxy: nil,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		MaxIdleConns:          max(100, 4*opts.MaxIdleConnsPerHost),
		MaxIdleConnsPerHost:   max(2, opts.MaxIdleConnsPerHost),
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
