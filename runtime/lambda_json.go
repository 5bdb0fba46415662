package runtime

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// The Lambda proxy event is built for every message a Lambda integration
// handles; these appenders write it as encoding/json marshals the proxyEvent
// struct (field order, omitempty and omitzero, sorted map keys, HTML-safe
// string escapes), without reflection. TestProxyEventJSONMatchesMarshal
// holds them to json.Marshal's output byte for byte.

// appendJSON appends ev as json.Marshal(ev) writes it.
func (ev *proxyEvent) appendJSON(b []byte) ([]byte, error) {
	b = append(b, '{')
	n := len(b) // a comma goes before every field but the first
	field := func(b []byte, name string) []byte {
		if len(b) > n {
			b = append(b, ',')
		}
		return append(append(append(b, '"'), name...), '"', ':')
	}
	if len(ev.Headers) > 0 {
		b = appendStringMap(field(b, "headers"), ev.Headers)
	}
	if len(ev.MultiValueHeaders) > 0 {
		b = appendStringsMap(field(b, "multiValueHeaders"), ev.MultiValueHeaders)
	}
	if len(ev.QueryStringParameters) > 0 {
		b = appendStringMap(field(b, "queryStringParameters"), ev.QueryStringParameters)
	}
	if len(ev.MultiValueQueryStringParameters) > 0 {
		b = appendStringsMap(field(b, "multiValueQueryStringParameters"), ev.MultiValueQueryStringParameters)
	}
	if len(ev.StageVariables) > 0 {
		b = appendStringMap(field(b, "stageVariables"), ev.StageVariables)
	}
	b = field(b, "requestContext")
	if rc := ev.RequestContext; rc == nil {
		b = append(b, "null"...)
	} else {
		var err error
		if b, err = rc.appendJSON(b); err != nil {
			return nil, err
		}
	}
	if ev.Body != nil {
		b = appendJSONString(field(b, "body"), *ev.Body)
	}
	b = strconv.AppendBool(field(b, "isBase64Encoded"), ev.IsBase64Encoded)
	return append(b, '}'), nil
}

// appendJSON appends rc as json.Marshal(rc) writes it.
func (rc *proxyContext) appendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"routeKey":`...)
	b = appendJSONString(b, rc.RouteKey)
	if rc.DisconnectStatusCode.present {
		b = append(b, `,"disconnectStatusCode":`...)
		b = appendNullable(b, rc.DisconnectStatusCode, appendInt)
	}
	if rc.MessageID.present {
		b = append(b, `,"messageId":`...)
		b = appendNullable(b, rc.MessageID, appendJSONStringOf)
	}
	if len(rc.Authorizer) > 0 {
		// Values of any type, from an authorizer's context: rare, and
		// left to encoding/json.
		m, err := json.Marshal(rc.Authorizer)
		if err != nil {
			return nil, err
		}
		b = append(append(b, `,"authorizer":`...), m...)
	}
	b = appendJSONString(append(b, `,"eventType":`...), rc.EventType)
	b = appendJSONString(append(b, `,"extendedRequestId":`...), rc.ExtendedRequestID)
	b = appendJSONString(append(b, `,"requestTime":`...), rc.RequestTime)
	b = appendJSONString(append(b, `,"messageDirection":`...), rc.MessageDirection)
	if rc.DisconnectReason.present {
		b = append(b, `,"disconnectReason":`...)
		b = appendNullable(b, rc.DisconnectReason, appendJSONStringOf)
	}
	b = appendJSONString(append(b, `,"stage":`...), rc.Stage)
	b = strconv.AppendInt(append(b, `,"connectedAt":`...), rc.ConnectedAt, 10)
	b = strconv.AppendInt(append(b, `,"requestTimeEpoch":`...), rc.RequestTimeEpoch, 10)
	b = append(b, `,"identity":{`...)
	if rc.Identity.AccessKey != "" {
		b = append(appendJSONString(append(b, `"accessKey":`...), rc.Identity.AccessKey), ',')
	}
	b = appendJSONString(append(b, `"userAgent":`...), rc.Identity.UserAgent)
	b = appendJSONString(append(b, `,"sourceIp":`...), rc.Identity.SourceIP)
	b = appendJSONString(append(b, `},"requestId":`...), rc.RequestID)
	b = appendJSONString(append(b, `,"domainName":`...), rc.DomainName)
	b = appendJSONString(append(b, `,"connectionId":`...), rc.ConnectionID)
	b = appendJSONString(append(b, `,"apiId":`...), rc.APIID)
	return append(b, '}'), nil
}

// appendNullable appends n's value with appendValue, or null.
func appendNullable[T int | string](b []byte, n nullable[T], appendValue func([]byte, T) []byte) []byte {
	if !n.set {
		return append(b, "null"...)
	}
	return appendValue(b, n.v)
}

func appendJSONStringOf(b []byte, s string) []byte { return appendJSONString(b, s) }

func appendInt(b []byte, n int) []byte { return strconv.AppendInt(b, int64(n), 10) }

// appendStringMap appends m as a JSON object with sorted keys.
func appendStringMap(b []byte, m map[string]string) []byte {
	b = append(b, '{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendJSONString(b, k), ':')
		b = appendJSONString(b, m[k])
	}
	return append(b, '}')
}

// appendStringsMap appends m as a JSON object with sorted keys whose values
// are arrays of strings (null for a nil slice).
func appendStringsMap(b []byte, m map[string][]string) []byte {
	b = append(b, '{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendJSONString(b, k), ':')
		vs := m[k]
		if vs == nil {
			b = append(b, "null"...)
			continue
		}
		b = append(b, '[')
		for j, v := range vs {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, v)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// appendJSONString appends s as a JSON string the way encoding/json writes
// one: \" \\ \b \f \n \r \t, other control characters and < > & as \u00XX,
// U+2028 and U+2029 escaped, and each byte of invalid UTF-8 as \ufffd.
func appendJSONString[S string | []byte](b []byte, s S) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(string(s[i:min(len(s), i+utf8.UTFMax)]))
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(append(b, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(append(b, s[start:]...), '"')
}

// parseSimpleResponse reads, without reflection, the answers most handlers
// give: an object of statusCode (an integer), body (a string) and
// isBase64Encoded (true or false) in any order, none of them required. A
// body without escapes is not copied: it is a part of payload. Anything
// else (headers, null, other keys, another spelling of a key, invalid UTF-8)
// is not ok, and json.Unmarshal reads it
// (parseLambdaResponse); FuzzParseSimpleResponse holds the two to the same
// result.
func parseSimpleResponse(payload []byte) (res result, ok bool) {
	res.status = http.StatusOK
	var b64 bool
	i := skipJSONSpace(payload, 0)
	if i >= len(payload) || payload[i] != '{' {
		return result{}, false
	}
	i = skipJSONSpace(payload, i+1)
	if i < len(payload) && payload[i] == '}' {
		return res, skipJSONSpace(payload, i+1) == len(payload)
	}
	for {
		key, next, ok := simpleString(payload, i)
		if !ok {
			return result{}, false
		}
		i = skipJSONSpace(payload, next)
		if i >= len(payload) || payload[i] != ':' {
			return result{}, false
		}
		i = skipJSONSpace(payload, i+1)
		switch string(key) {
		case "statusCode":
			n, next, ok := simpleInt(payload, i)
			if !ok {
				return result{}, false
			}
			res.status, i = n, next
		case "body":
			body, next, ok := simpleString(payload, i)
			if !ok {
				return result{}, false
			}
			res.body, i = body, next
		case "isBase64Encoded":
			switch {
			case bytes.HasPrefix(payload[i:], []byte("true")):
				b64, i = true, i+4
			case bytes.HasPrefix(payload[i:], []byte("false")):
				b64, i = false, i+5
			default:
				return result{}, false
			}
		default:
			return result{}, false
		}
		i = skipJSONSpace(payload, i)
		if i >= len(payload) {
			return result{}, false
		}
		switch payload[i] {
		case ',':
			i = skipJSONSpace(payload, i+1)
			continue
		case '}':
			if skipJSONSpace(payload, i+1) != len(payload) {
				return result{}, false
			}
		default:
			return result{}, false
		}
		break
	}
	if b64 && res.body != nil {
		dec, err := base64.StdEncoding.DecodeString(string(res.body))
		if err != nil {
			return result{}, false // the slow path words the error
		}
		res.body = dec
	}
	return res, true
}

// simpleString reads the JSON string at b[i:]: its contents, unescaped,
// and the index after it. Not ok: no string there, control characters,
// invalid UTF-8 or a \u escape of a surrogate (encoding/json's way with
// those is left to it). A string without escapes is not copied.
func simpleString(b []byte, i int) (s []byte, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	end, ok := skipString(b, i)
	if !ok {
		return nil, 0, false
	}
	s = b[i+1 : end-1]
	if plainString(s) {
		return s, end, true
	}
	if !utf8.Valid(s) {
		return nil, 0, false
	}
	if s, ok = unescape(s); !ok {
		return nil, 0, false
	}
	return s, end, true
}

// unescape decodes the escapes of a JSON string's contents.
func unescape(s []byte) ([]byte, bool) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i++; i >= len(s) {
			return nil, false
		}
		switch s[i] {
		case '"', '\\', '/':
			out = append(out, s[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if i+4 >= len(s) {
				return nil, false
			}
			r, err := strconv.ParseUint(string(s[i+1:i+5]), 16, 16)
			if err != nil || utf16.IsSurrogate(rune(r)) {
				return nil, false
			}
			out = utf8.AppendRune(out, rune(r))
			i += 4
		default:
			return nil, false
		}
	}
	return out, true
}

// simpleInt reads the JSON integer at b[i:] (-?(0|[1-9][0-9]*), at most 15
// digits, not followed by a fraction or an exponent).
func simpleInt(b []byte, i int) (n, next int, ok bool) {
	neg := i < len(b) && b[i] == '-'
	if neg {
		i++
	}
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		n = n*10 + int(b[i]-'0')
		i++
	}
	digits := i - start
	if digits == 0 || digits > 15 || (digits > 1 && b[start] == '0') {
		return 0, 0, false
	}
	if i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E') {
		return 0, 0, false
	}
	if neg {
		n = -n
	}
	return n, i, true
}
