package runtime

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
)

// proxyEvent is the API Gateway WebSocket proxy event a Lambda integration
// receives (SPEC ): the shape of aws-lambda-go's
// events.APIGatewayWebsocketProxyRequest, with the fields API Gateway
// actually sends for each event type, in the order of the events captured in
// aws-lambda-go's testdata.
type proxyEvent struct {
	Headers                         map[string]string   `json:"headers,omitempty"`
	MultiValueHeaders               map[string][]string `json:"multiValueHeaders,omitempty"`
	QueryStringParameters           map[string]string   `json:"queryStringParameters,omitempty"`
	MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters,omitempty"`
	StageVariables                  map[string]string   `json:"stageVariables,omitempty"`
	RequestContext                  *proxyContext       `json:"requestContext"`
	Body                            *string             `json:"body,omitempty"`
	IsBase64Encoded                 bool                `json:"isBase64Encoded"`
}

// proxyContext is requestContext (SPEC, plus messageDirection).
type proxyContext struct {
	RouteKey             string           `json:"routeKey"`
	DisconnectStatusCode nullable[int]    `json:"disconnectStatusCode,omitzero"`
	MessageID            nullable[string] `json:"messageId,omitzero"`
	Authorizer           map[string]any   `json:"authorizer,omitempty"`
	EventType            string           `json:"eventType"`
	ExtendedRequestID    string           `json:"extendedRequestId"`
	RequestTime          string           `json:"requestTime"`
	MessageDirection     string           `json:"messageDirection"`
	DisconnectReason     nullable[string] `json:"disconnectReason,omitzero"`
	Stage                string           `json:"stage"`
	ConnectedAt          int64            `json:"connectedAt"`
	RequestTimeEpoch     int64            `json:"requestTimeEpoch"`
	Identity             proxyIdentity    `json:"identity"`
	RequestID            string           `json:"requestId"`
	DomainName           string           `json:"domainName"`
	ConnectionID         string           `json:"connectionId"`
	APIID                string           `json:"apiId"`
}

// nullable is a requestContext key that is left out (the zero value), null
// (present without a value), or a value.
type nullable[T any] struct {
	present, set bool
	v            T
}

func null[T any]() nullable[T]     { return nullable[T]{present: true} }
func value[T any](v T) nullable[T] { return nullable[T]{present: true, set: true, v: v} }
func (n nullable[T]) IsZero() bool { return !n.present }
func (n nullable[T]) MarshalJSON() ([]byte, error) {
	if !n.set {
		return []byte("null"), nil
	}
	return json.Marshal(n.v)
}

// proxyIdentity is requestContext.identity: accessKey is there for a
// connection an AWS_IAM $connect admitted (the access key id of its
// signature; the account, caller and user ARN API Gateway looks up from it
// are not known locally).
type proxyIdentity struct {
	AccessKey string `json:"accessKey,omitempty"`
	UserAgent string `json:"userAgent"`
	SourceIP  string `json:"sourceIp"`
}

// requestContext builds the requestContext of e.
func (e *event) requestContext() *proxyContext {
	rc := &proxyContext{
		RouteKey:          e.routeKey,
		EventType:         string(e.typ),
		ExtendedRequestID: e.requestID,
		RequestTime:       e.time.UTC().Format(requestTimeLayout),
		MessageDirection:  "IN",
		Stage:             e.stage.stage.Name,
		ConnectedAt:       e.conn.connectedAt.UnixMilli(),
		RequestTimeEpoch:  e.time.UnixMilli(),
		Identity:          proxyIdentity{AccessKey: e.conn.accessKey, UserAgent: e.conn.userAgent, SourceIP: e.conn.sourceIP},
		RequestID:         e.requestID,
		DomainName:        e.conn.domainName,
		ConnectionID:      e.conn.id,
		APIID:             e.conn.apiID,
	}
	if a := e.conn.auth; a != nil {
		rc.Authorizer = a.requestContext()
	}
	switch e.typ {
	case eventMessage:
		rc.MessageID = value(e.messageID)
	case eventDisconnect:
		rc.DisconnectStatusCode, rc.DisconnectReason = value(e.disconnectCode), value(e.disconnectReason)
	}
	return rc
}

// proxyEventJSON is the Lambda event of e.
//
// CONNECT carries the handshake's headers and query string (when it has
// one); MESSAGE the body, base64-encoded with isBase64Encoded for binary
// frames (SPEC ); DISCONNECT the headers API Gateway sends with it (in
// the event captured in aws-lambda-go's testdata: Host, and x-api-key,
// X-Forwarded-For and x-restapi empty) and disconnectStatusCode and
// disconnectReason in requestContext (SPEC ). stageVariables is there
// when the stage has variables.
func (e *event) proxyEventJSON() ([]byte, error) {
	return e.proxyEvent().appendJSON(make([]byte, 0, 640+len(e.body)*4/3))
}

// proxyEvent is the Lambda event of e, before it is written (proxyEventJSON).
func (e *event) proxyEvent() *proxyEvent {
	ev := &proxyEvent{RequestContext: e.requestContext()}
	switch e.typ {
	case eventConnect:
		// As in the $connect events API Gateway sends: messageId,
		// disconnectStatusCode and disconnectReason are there, null.
		rc := ev.RequestContext
		rc.MessageID, rc.DisconnectStatusCode, rc.DisconnectReason = null[string](), null[int](), null[string]()
		ev.Headers, ev.MultiValueHeaders = e.connectHeaders()
		ev.QueryStringParameters, ev.MultiValueQueryStringParameters = queryMaps(e.query)
	case eventMessage:
		body := string(e.body)
		if e.binary {
			body = base64.StdEncoding.EncodeToString(e.body)
			ev.IsBase64Encoded = true
		}
		ev.Body = &body
	case eventDisconnect:
		ev.Headers = map[string]string{"Host": e.conn.domainName, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""}
		ev.MultiValueHeaders = make(map[string][]string, len(ev.Headers))
		for k, v := range ev.Headers {
			ev.MultiValueHeaders[k] = []string{v}
		}
	}
	if vars := e.stage.stage.Variables; len(vars) > 0 {
		ev.StageVariables = vars
	}
	return ev
}

// hopHeaders are the hop-by-hop headers of RFC 9110 §7.6.1 (and RFC 2616's
// Keep-Alive) the $connect events leave out, in Go's canonical form;
// Proxy-* headers are left out too. Connection and Upgrade stay.
var hopHeaders = map[string]bool{"Keep-Alive": true, "Transfer-Encoding": true, "Te": true, "Trailer": true}

// headerNames writes the WebSocket handshake headers as RFC 6455 does, where
// Go's canonical form differs, for a request whose names as sent are not
// known (rawNames: a request after the first on its connection, or a head
// past maxRawHead); other names then keep the canonical form.
var headerNames = map[string]string{
	"Sec-Websocket-Key":        "Sec-WebSocket-Key",
	"Sec-Websocket-Version":    "Sec-WebSocket-Version",
	"Sec-Websocket-Protocol":   "Sec-WebSocket-Protocol",
	"Sec-Websocket-Extensions": "Sec-WebSocket-Extensions",
}

// connectHeaders returns the $connect request's headers, last value and all
// values, with Host, and X-Forwarded-For, X-Forwarded-Port and
// X-Forwarded-Proto as API Gateway's front end adds them (unless the client
// sent them), under the names as the client sent them (rawNames). The
// $connect proxy event and the authorizer event carry the
// same set: the headers the client sent, Connection and Upgrade included, as
// in the authorizer input of the developer guide, without the other
// hop-by-hop headers (Keep-Alive, TE, Trailer, Transfer-Encoding, Proxy-*,
// and those Connection names), which no proxy passes on.
func (e *event) connectHeaders() (map[string]string, map[string][]string) {
	n := len(e.header) + 4
	single, multi := make(map[string]string, n), make(map[string][]string, n)
	var named map[string]bool // the headers Connection names
	for _, v := range e.header.Values("Connection") {
		for _, tok := range strings.Split(v, ",") {
			if tok = textproto.TrimString(tok); tok != "" {
				if named == nil {
					named = map[string]bool{}
				}
				named[http.CanonicalHeaderKey(tok)] = true
			}
		}
	}
	add := func(name string, vs []string) {
		if len(vs) == 0 {
			return
		}
		if raw, ok := e.rawNames[name]; ok {
			name = raw
		} else if alt, ok := headerNames[name]; ok {
			name = alt
		}
		single[name] = vs[len(vs)-1]
		multi[name] = vs
	}
	if e.host != "" {
		add("Host", []string{e.host})
	}
	for k, vs := range e.header {
		if hopHeaders[k] || strings.HasPrefix(k, "Proxy-") || (named[k] && k != "Upgrade" && k != "Connection") {
			continue
		}
		add(k, vs)
	}
	_, port, _ := splitHostPortLoose(e.conn.domainName)
	proto := "http"
	if e.tls {
		proto = "https"
	}
	for k, v := range map[string]string{"X-Forwarded-For": e.conn.sourceIP, "X-Forwarded-Port": port, "X-Forwarded-Proto": proto} {
		if _, ok := multi[k]; !ok && v != "" {
			add(k, []string{v})
		}
	}
	return single, multi
}

// queryMaps returns the query string parameters, last value and all values,
// or nils when there are none (API Gateway then leaves both out).
func queryMaps(q url.Values) (map[string]string, map[string][]string) {
	if len(q) == 0 {
		return nil, nil
	}
	single, multi := make(map[string]string, len(q)), make(map[string][]string, len(q))
	for k, vs := range q {
		if len(vs) == 0 {
			continue
		}
		single[k] = vs[len(vs)-1]
		multi[k] = vs
	}
	return single, multi
}

// splitHostPortLoose is net.SplitHostPort without the error for a missing port.
func splitHostPortLoose(hp string) (host, port string, ok bool) {
	for i := len(hp) - 1; i >= 0; i-- {
		switch hp[i] {
		case ':':
			h := hp[:i]
			if len(h) > 1 && h[0] == '[' && h[len(h)-1] == ']' {
				h = h[1 : len(h)-1]
			}
			return h, hp[i+1:], true
		case ']':
			return hp, "", false
		}
	}
	return hp, "", false
}

// authorizerEvent is the event of a Lambda REQUEST authorizer on $connect
// (the WebSocket authorizer page of the API Gateway developer guide).
type authorizerEvent struct {
	Type                            string              `json:"type"`
	MethodArn                       string              `json:"methodArn"`
	Headers                         map[string]string   `json:"headers,omitempty"`
	MultiValueHeaders               map[string][]string `json:"multiValueHeaders,omitempty"`
	QueryStringParameters           map[string]string   `json:"queryStringParameters,omitempty"`
	MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters,omitempty"`
	StageVariables                  map[string]string   `json:"stageVariables"`
	RequestContext                  *proxyContext       `json:"requestContext"`
}

// authorizerEventJSON is the authorizer event of the $connect event e.
func (e *event) authorizerEventJSON(methodArn string) ([]byte, error) {
	ev := authorizerEvent{Type: "REQUEST", MethodArn: methodArn, RequestContext: e.requestContext(),
		StageVariables: e.stage.stage.Variables}
	if ev.StageVariables == nil {
		ev.StageVariables = map[string]string{}
	}
	ev.Headers, ev.MultiValueHeaders = e.connectHeaders()
	ev.QueryStringParameters, ev.MultiValueQueryStringParameters = queryMaps(e.query)
	return json.Marshal(&ev)
}

// lambdaResponse is a Lambda proxy integration's answer.
type lambdaResponse struct {
	StatusCode        *int                `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Body              *string             `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

// parseLambdaResponse reads a Lambda proxy response into a result. Our
// choices where AWS does not document WebSocket behaviour: null (a handler
// that returns nothing) is 200 without a body; a statusCode left out is 200;
// anything but a JSON object or null, a statusCode that is not a number, or
// a body that is not a string is a bad response (SPEC ).
func parseLambdaResponse(payload []byte) (result, error) {
	if res, ok := parseSimpleResponse(payload); ok {
		return res, nil
	}
	return unmarshalLambdaResponse(payload)
}

// unmarshalLambdaResponse is parseLambdaResponse with encoding/json, for
// every answer.
func unmarshalLambdaResponse(payload []byte) (result, error) {
	var resp *lambdaResponse
	if err := json.Unmarshal(payload, &resp); err != nil {
		return result{}, &badResponseError{payload: payload, err: err}
	}
	res := result{status: http.StatusOK}
	if resp == nil {
		return res, nil
	}
	if resp.StatusCode != nil {
		res.status = *resp.StatusCode
	}
	if resp.Body != nil {
		if resp.IsBase64Encoded {
			b, err := base64.StdEncoding.DecodeString(*resp.Body)
			if err != nil {
				return result{}, &badResponseError{payload: payload, err: err}
			}
			res.body = b
		} else {
			res.body = []byte(*resp.Body)
		}
	}
	if len(resp.Headers) > 0 || len(resp.MultiValueHeaders) > 0 {
		res.header = make(http.Header, len(resp.Headers)+len(resp.MultiValueHeaders))
		for k, vs := range resp.MultiValueHeaders {
			for _, v := range vs {
				res.header.Add(k, v)
			}
		}
		for k, v := range resp.Headers {
			if _, ok := res.header[http.CanonicalHeaderKey(k)]; !ok {
				res.header.Set(k, v)
			}
		}
	}
	return res, nil
}

// badResponseError is a Lambda answer that is not a proxy response.
type badResponseError struct {
	payload []byte
	err     error
}

func (e *badResponseError) Error() string {
	p := e.payload
	if len(p) > 200 {
		p = p[:200]
	}
	return "malformed Lambda proxy response (" + e.err.Error() + "): " + strconv.Quote(string(p))
}
