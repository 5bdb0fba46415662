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
	doc    any  // body parsed as JSON
	isJSON bool // body is JSON

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

// contextVar returns $context.<name> (SPEC ); ok is false when the
// variable has no value for this event.
func (e *event) contextVar(name string) (string, bool) {
	switch name {
	case "connectionId":
		return e.conn.id, true
	case "connectedAt":
		return strconv.FormatInt(e.conn.connectedAt.UnixMilli(), 10), true
	case "domainName":
		return e.conn.domainName, true
	case "eventType":
		return string(e.typ), true
	case "messageId":
		return e.messageID, e.messageID != ""
	case "routeKey":
		return e.routeKey, e.routeKey != ""
	case "requestId", "extendedRequestId":
		return e.requestID, true
	case "apiId":
		return e.conn.apiID, true
	case "stage":
		return e.stage.stage.Name, true
	case "requestTime":
		return e.time.UTC().Format(requestTimeLayout), true
	case "requestTimeEpoch":
		return strconv.FormatInt(e.time.UnixMilli(), 10), true
	case "identity.sourceIp":
		return e.conn.sourceIP, e.conn.sourceIP != ""
	case "identity.userAgent":
		return e.conn.userAgent, e.conn.userAgent != ""
	case "identity.accessKey":
		return e.conn.accessKey, e.conn.accessKey != ""
	case "messageDirection":
		return "IN", true
	case "status":
		return strconv.Itoa(e.status), e.status != 0
	case "integrationStatus", "integration.status":
		return strconv.Itoa(e.integStatus), e.integStatus != 0
	case "integrationLatency", "integration.latency":
		return strconv.FormatInt(e.integLatency.Milliseconds(), 10), e.integStatus != 0 || e.integErr != ""
	case "integration.error", "integrationErrorMessage":
		return e.integErr, e.integErr != ""
	case "error.message", "error.messageString":
		if e.errMessage == "" {
			return "", false
		}
		if name == "error.messageString" {
			return `"` + e.errMessage + `"`, true
		}
		return e.errMessage, true
	case "disconnectStatusCode":
		return strconv.Itoa(e.disconnectCode), e.typ == eventDisconnect
	case "disconnectReason":
		return e.disconnectReason, e.typ == eventDisconnect
	}
	if key, ok := strings.CutPrefix(name, "authorizer."); ok && e.conn.auth != nil {
		return e.conn.auth.value(key)
	}
	// Unknown names were rejected when compiling.
	return "", false
}
