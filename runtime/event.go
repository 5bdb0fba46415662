package runtime

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// eventType is $context.eventType.
type eventType string

const (
	eventConnect    eventType = "CONNECT"
	eventMessage    eventType = "MESSAGE"
	eventDisconnect eventType = "DISCONNECT"
)

// requestTimeLayout is the format of $context.requestTime (SPEC ).
const requestTimeLayout = "02/Jan/2006:15:04:05 -0700"

// event is one integration call's input: a $connect handshake, a message
// or a $disconnect, with what the mapping steps and access log read.
type event struct {
	typ   eventType
	conn  *connMeta
	stage *stageState

	routeKey  string
	requestID string
	messageID string // MESSAGE only
	time      time.Time

	body   []byte
	binary bool
	isJSON bool // body is JSON (jsonValid)
	doc    any  // body decoded by decoded(), on first use
	docSet bool

	// header, query and host are the $connect request's, tls whether it came
	// over TLS (CONNECT only).
	header http.Header
	// rawNames maps a canonical header name to the client's spelling, where
	// they differ (nil: not known).
	rawNames map[string]string
	query    url.Values
	host     string
	tls      bool

	disconnectCode   int
	disconnectReason string

	// Filled in as the call goes, for logs.
	integration  string // logical ID of the integration called
	status       int    // what the client was answered (handshake status, 200, 403, 429, 500)
	integStatus  int    // what the integration answered (0: not called or failed)
	integLatency time.Duration
	errMessage   string
	integErr     string

	// trace is the integration call as sent and answered, for a log line
	// with bodies (nil unless Options.LogBodies); traceAt when it was sent,
	// in Unix nanoseconds (0 unless traced: an int64 keeps the event in the
	// allocation size class it had before tracing).
	trace   *trace
	traceAt int64
	// noRoute: no route matched the message's key and there is no $default.
	noRoute bool
}

// decoded returns the body decoded by encoding/json (numbers as
// json.Number), decoding it on first use: only model validation needs the
// whole document (SPEC ); route selection, template selection and
// mapping read single paths with jsonValid's scanner.
func (e *event) decoded() any {
	if !e.docSet {
		e.doc, _ = parseBody(e.body)
		e.docSet = true
	}
	return e.doc
}

// connMeta is what an event needs to know about its connection.
type connMeta struct {
	id          string
	apiID       string // Api.ID, $context.apiId
	domainName  string // HOST:PORT
	connectedAt time.Time
	sourceIP    string
	userAgent   string
	// accessKey is the access key id of the SigV4 signature of the $connect
	// request of an AWS_IAM route ("" otherwise).
	accessKey string
	// auth is what the $connect authorizer answered (nil: no authorizer);
	// set before the connection opens, read by every later event.
	auth *authResult
	// tr is where the connection's events are traced (nil: nowhere).
	tr *tracer
}

// contextFunc reads one $context variable of an event (SPEC ); ok is
// false when the variable has no value for the event.
type contextFunc func(e *event) (string, bool)

// contextVars are the $context variables by name, except authorizer.<key>.
var contextVars = map[string]contextFunc{
	"connectionId": func(e *event) (string, bool) { return e.conn.id, true },
	"connectedAt": func(e *event) (string, bool) {
		return strconv.FormatInt(e.conn.connectedAt.UnixMilli(), 10), true
	},
	"domainName": func(e *event) (string, bool) { return e.conn.domainName, true },
	"eventType":  func(e *event) (string, bool) { return string(e.typ), true },
	"messageId":  func(e *event) (string, bool) { return e.messageID, e.messageID != "" },
	"routeKey":   func(e *event) (string, bool) { return e.routeKey, e.routeKey != "" },
	"requestId":  ctxRequestID, "extendedRequestId": ctxRequestID,
	"apiId": func(e *event) (string, bool) { return e.conn.apiID, true },
	"stage": func(e *event) (string, bool) { return e.stage.stage.Name, true },
	"requestTime": func(e *event) (string, bool) {
		return e.time.UTC().Format(requestTimeLayout), true
	},
	"requestTimeEpoch":   func(e *event) (string, bool) { return strconv.FormatInt(e.time.UnixMilli(), 10), true },
	"identity.sourceIp":  func(e *event) (string, bool) { return e.conn.sourceIP, e.conn.sourceIP != "" },
	"identity.userAgent": func(e *event) (string, bool) { return e.conn.userAgent, e.conn.userAgent != "" },
	"identity.accessKey": func(e *event) (string, bool) { return e.conn.accessKey, e.conn.accessKey != "" },
	"messageDirection":   func(*event) (string, bool) { return "IN", true },
	"status":             func(e *event) (string, bool) { return strconv.Itoa(e.status), e.status != 0 },
	"integrationStatus":  ctxIntegStatus, "integration.status": ctxIntegStatus,
	"integrationLatency": ctxIntegLatency, "integration.latency": ctxIntegLatency,
	"integration.error": ctxIntegError, "integrationErrorMessage": ctxIntegError,
	"error.message": func(e *event) (string, bool) { return e.errMessage, e.errMessage != "" },
	"error.messageString": func(e *event) (string, bool) {
		if e.errMessage == "" {
			return "", false
		}
		return `"` + e.errMessage + `"`, true
	},
	"disconnectStatusCode": func(e *event) (string, bool) {
		return strconv.Itoa(e.disconnectCode), e.typ == eventDisconnect
	},
	"disconnectReason": func(e *event) (string, bool) { return e.disconnectReason, e.typ == eventDisconnect },
}

func ctxRequestID(e *event) (string, bool) { return e.requestID, true }

func ctxIntegStatus(e *event) (string, bool) {
	return strconv.Itoa(e.integStatus), e.integStatus != 0
}

func ctxIntegLatency(e *event) (string, bool) {
	return strconv.FormatInt(e.integLatency.Milliseconds(), 10), e.integStatus != 0 || e.integErr != ""
}

func ctxIntegError(e *event) (string, bool) { return e.integErr, e.integErr != "" }

// contextAccessor resolves $context.<name> once, when a plan is provisioned
// (a mapping source, an identity source, an access log variable), into the
// function that reads it. Unknown names, which the compiler rejects, have no
// value.
func contextAccessor(name string) contextFunc {
	if f, ok := contextVars[name]; ok {
		return f
	}
	if key, ok := strings.CutPrefix(name, "authorizer."); ok {
		return func(e *event) (string, bool) {
			if e.conn.auth == nil {
				return "", false
			}
			return e.conn.auth.value(key)
		}
	}
	return func(*event) (string, bool) { return "", false }
}

// contextVar returns $context.<name> for a name known only while a message
// is handled ($context.<name> in a mapping template, read as the template
// runs); ok is false when the variable has no value for this event.
func (e *event) contextVar(name string) (string, bool) {
	if f, ok := contextVars[name]; ok {
		return f(e)
	}
	if key, ok := strings.CutPrefix(name, "authorizer."); ok && e.conn.auth != nil {
		return e.conn.auth.value(key)
	}
	return "", false
}
