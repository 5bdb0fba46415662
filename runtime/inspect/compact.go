package inspect

import (
	"encoding/binary"
	"net/http"
	"time"

	"github.com/wsgw/wsgw/runtime"
)

// The kept form of an event is a byte string that holds no pointers (the
// garbage collector does not scan it) and leaves out what the connection's
// record already holds, so that an idle connection's four events cost a few
// hundred bytes (SPEC ). appendEvent writes it, decode reads it back
// into the runtime.Event it was, with the body cut to Options.BodyBytes:
// toJSON gives the same JSON for both.
//
// Layout: uvarint seq; the kind (one byte: its index in kinds, 0 for a
// string that follows); 4 bytes of flags, little endian; then, in the
// order of the flags, what they say is there.
//
// A string is a uvarint code c and maybe its bytes: 0 is the record's own
// value (ConnectionID, Api, Stage, RequestID of the handshake, SourceIP,
// UserAgent), an odd c is common[c>>1], an even c a string of c/2-1 bytes
// that follow.

// Flags of the kept form: bit i < nStrings says string field i is not empty.
const (
	nStrings = 16
	fTime    = 1 << (nStrings + iota) // the time is not zero: varint seconds and uvarint nanoseconds follow (without fTimeRel)
	fTimeRel                          // the time is a zigzag varint of nanoseconds after base.nano
	fStatus                           // varint
	fCode                             // varint
	fLatency                          // varint nanoseconds
	fHeader                           // the header is not nil: uvarint count of keys, then key, uvarint 1+values (0: nil), values
	fBody                             // the body is not nil: uvarint length, bytes
	fBinary                           // Event.Binary
	fCut                              // the body was cut: uvarint full size
)

// The string fields of an event, in the order of their flags.
const (
	sConnectionID = iota
	sApi
	sStage
	sRequestID
	sRoute
	sIntegration
	sKey
	sExpr
	sWhy
	sMethod
	sURL
	sReason
	sBy
	sError
	sSourceIP
	sUserAgent
)

// kinds are the event kinds coded in one byte (index 0: a string follows).
var kinds = [...]runtime.EventKind{"", runtime.KindConnect, runtime.KindConnected, runtime.KindMessage, runtime.KindRoute,
	runtime.KindIntegrationRequest, runtime.KindIntegrationResponse, runtime.KindFrame, runtime.KindManagement,
	runtime.KindError, runtime.KindDisconnect}

// common are strings coded in one byte: route keys, methods, the Why
// constants, who closed, and the header names and values a handshake and an
// HTTP backend use most. Any string may be missing from it; this only saves
// bytes. Never reorder it: nothing kept outlives the process, but a test
// pins every entry's round trip.
var common = [...]string{
	"$connect", "$disconnect", "$default", "-",
	"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "Invoke", "MOCK",
	runtime.WhyMatched, runtime.WhyNoSuch, runtime.WhyNotJSON, runtime.WhyBinary,
	"client", "gateway",
	"Accept", "Accept-Encoding", "Accept-Language", "Authorization", "Cache-Control", "Connection", "Content-Encoding",
	"Content-Length", "Content-Type", "Cookie", "Date", "Etag", "Expires", "Host", "Keep-Alive", "Last-Modified", "Origin",
	"Pragma", "Sec-Websocket-Extensions", "Sec-Websocket-Key", "Sec-Websocket-Protocol", "Sec-Websocket-Version",
	"Server", "Transfer-Encoding", "Upgrade", "User-Agent", "Vary", "X-Amz-Date", "X-Amzn-Trace-Id", "X-Forwarded-For",
	"X-Forwarded-Port", "X-Forwarded-Proto", "X-Request-Id",
	"websocket", "13", "0", "close", "keep-alive", "gzip", "chunked", "no-cache", "*/*", "Go-http-client/1.1",
	"permessage-deflate; client_max_window_bits", "application/json", "application/json; charset=utf-8",
	"text/plain; charset=utf-8", "text/html; charset=utf-8", "text/plain", "application/octet-stream",
}

// commonSlots finds a common string in one probe: commonSlot hashes a
// string into it, with multipliers chosen when the package starts so that no
// two common strings share a slot. A slot holds the string's index plus 1.
var (
	commonSlots [512]uint8
	commonMul   uint
)

func init() {
	for commonMul = 1; ; commonMul += 2 {
		clear(commonSlots[:])
		ok := true
		for i, s := range common {
			h := commonSlot(s)
			if commonSlots[h] != 0 {
				ok = false
				break
			}
			commonSlots[h] = uint8(i + 1)
		}
		if ok || commonMul > 1<<16 {
			return
		}
	}
}

func commonSlot(s string) uint {
	n := uint(len(s))
	if n == 0 {
		return 0
	}
	return (n*commonMul + uint(s[0])*31 + uint(s[n-1])*7 + uint(s[n/2])*3) % uint(len(commonSlots))
}

// commonIndex returns the index of s in common, or -1.
func commonIndex(s string) int {
	if len(s) == 0 || len(s) > 48 {
		return -1
	}
	if i := int(commonSlots[commonSlot(s)]) - 1; i >= 0 && common[i] == s {
		return i
	}
	return -1
}

// base is what a connection's record holds of its events: the fields an
// event leaves out when it has the same.
type base struct {
	id, api, stage string
	reqID          string // the handshake's request ID
	sourceIP       string
	userAgent      string
	connectedAt    time.Time
	connNano       int64 // connectedAt's unixNano, 0 when out of its range
}

// newBase returns the base of a connection whose handshake is ev.
func newBase(ev *runtime.Event) base {
	n, _ := unixNano(ev.Time)
	return base{id: ev.ConnectionID, api: ev.Api, stage: ev.Stage, reqID: ev.RequestID, sourceIP: ev.SourceIP,
		userAgent: ev.UserAgent, connectedAt: ev.Time, connNano: n}
}

// own returns b's value of string field i, "" for the fields it has none of.
func (b *base) own(i int) string {
	if b == nil {
		return ""
	}
	switch i {
	case sConnectionID:
		return b.id
	case sApi:
		return b.api
	case sStage:
		return b.stage
	case sRequestID:
		return b.reqID
	case sSourceIP:
		return b.sourceIP
	case sUserAgent:
		return b.userAgent
	}
	return ""
}

// strField returns a pointer to string field i of ev.
func strField(ev *runtime.Event, i int) *string {
	switch i {
	case sConnectionID:
		return &ev.ConnectionID
	case sApi:
		return &ev.Api
	case sStage:
		return &ev.Stage
	case sRequestID:
		return &ev.RequestID
	case sRoute:
		return &ev.Route
	case sIntegration:
		return &ev.Integration
	case sKey:
		return &ev.Key
	case sExpr:
		return &ev.Expr
	case sWhy:
		return &ev.Why
	case sMethod:
		return &ev.Method
	case sURL:
		return &ev.URL
	case sReason:
		return &ev.Reason
	case sBy:
		return &ev.By
	case sError:
		return &ev.Error
	case sSourceIP:
		return &ev.SourceIP
	case sUserAgent:
		return &ev.UserAgent
	}
	panic("inspect: no string field")
}

// appendString appends s coded (own: the record's value of the field, ""
// for none), as one of common when it is.
func appendString(dst []byte, s, own string) []byte {
	if i := commonIndex(s); i >= 0 {
		return binary.AppendUvarint(dst, uint64(i)<<1|1)
	}
	return appendLiteral(dst, s, own)
}

// appendLiteral appends s coded without looking for it in common: for the
// fields that seldom are (ids, names, URLs, texts).
func appendLiteral(dst []byte, s, own string) []byte {
	if own != "" && s == own {
		return append(dst, 0)
	}
	dst = binary.AppendUvarint(dst, uint64(len(s)+1)<<1)
	return append(dst, s...)
}

// appendEvent appends the kept form of ev to dst: seq, and the body cut to
// bodyMax bytes. b is the record of ev's connection (nil: none), whose
// fields ev leaves out where it has the same.
func appendEvent(dst []byte, seq uint64, ev *runtime.Event, b *base, bodyMax int) []byte {
	dst = binary.AppendUvarint(dst, seq)
	k := kindCode(ev.Kind)
	dst = append(dst, k)
	if k == 0 {
		dst = appendString(dst, string(ev.Kind), "")
	}
	flags := bit(ev.ConnectionID, sConnectionID) | bit(ev.Api, sApi) | bit(ev.Stage, sStage) | bit(ev.RequestID, sRequestID) |
		bit(ev.Route, sRoute) | bit(ev.Integration, sIntegration) | bit(ev.Key, sKey) | bit(ev.Expr, sExpr) | bit(ev.Why, sWhy) |
		bit(ev.Method, sMethod) | bit(ev.URL, sURL) | bit(ev.Reason, sReason) | bit(ev.By, sBy) | bit(ev.Error, sError) |
		bit(ev.SourceIP, sSourceIP) | bit(ev.UserAgent, sUserAgent)
	nano, inRange := unixNano(ev.Time)
	if !ev.Time.IsZero() {
		flags |= fTime
		if inRange {
			flags |= fTimeRel
		}
	}
	if ev.Status != 0 {
		flags |= fStatus
	}
	if ev.Code != 0 {
		flags |= fCode
	}
	if ev.Latency != 0 {
		flags |= fLatency
	}
	if ev.Header != nil {
		flags |= fHeader
	}
	body := ev.Body
	if body != nil {
		flags |= fBody
		if len(body) > bodyMax {
			flags |= fCut
			body = body[:bodyMax]
		}
	}
	if ev.Binary {
		flags |= fBinary
	}
	dst = binary.LittleEndian.AppendUint32(dst, flags)
	switch {
	case flags&fTimeRel != 0:
		dst = binary.AppendVarint(dst, nano-b.nano())
	case flags&fTime != 0:
		dst = binary.AppendVarint(dst, ev.Time.Unix())
		dst = binary.AppendUvarint(dst, uint64(ev.Time.Nanosecond()))
	}
	if flags&(1<<nStrings-1) != 0 {
		var own base
		if b != nil {
			own.id, own.api, own.stage, own.reqID, own.sourceIP, own.userAgent = b.id, b.api, b.stage, b.reqID, b.sourceIP, b.userAgent
		}
		// In the order of the flags. Route, Why, Method and By are often
		// common strings; the others seldom are.
		if flags&(1<<sConnectionID) != 0 {
			dst = appendLiteral(dst, ev.ConnectionID, own.id)
		}
		if flags&(1<<sApi) != 0 {
			dst = appendLiteral(dst, ev.Api, own.api)
		}
		if flags&(1<<sStage) != 0 {
			dst = appendLiteral(dst, ev.Stage, own.stage)
		}
		if flags&(1<<sRequestID) != 0 {
			dst = appendLiteral(dst, ev.RequestID, own.reqID)
		}
		if flags&(1<<sRoute) != 0 {
			dst = appendString(dst, ev.Route, "")
		}
		if flags&(1<<sIntegration) != 0 {
			dst = appendLiteral(dst, ev.Integration, "")
		}
		if flags&(1<<sKey) != 0 {
			dst = appendLiteral(dst, ev.Key, "")
		}
		if flags&(1<<sExpr) != 0 {
			dst = appendLiteral(dst, ev.Expr, "")
		}
		if flags&(1<<sWhy) != 0 {
			dst = appendString(dst, ev.Why, "")
		}
		if flags&(1<<sMethod) != 0 {
			dst = appendString(dst, ev.Method, "")
		}
		if flags&(1<<sURL) != 0 {
			dst = appendLiteral(dst, ev.URL, "")
		}
		if flags&(1<<sReason) != 0 {
			dst = appendLiteral(dst, ev.Reason, "")
		}
		if flags&(1<<sBy) != 0 {
			dst = appendString(dst, ev.By, "")
		}
		if flags&(1<<sError) != 0 {
			dst = appendLiteral(dst, ev.Error, "")
		}
		if flags&(1<<sSourceIP) != 0 {
			dst = appendLiteral(dst, ev.SourceIP, own.sourceIP)
		}
		if flags&(1<<sUserAgent) != 0 {
			dst = appendLiteral(dst, ev.UserAgent, own.userAgent)
		}
	}
	if flags&fStatus != 0 {
		dst = binary.AppendVarint(dst, int64(ev.Status))
	}
	if flags&fCode != 0 {
		dst = binary.AppendVarint(dst, int64(ev.Code))
	}
	if flags&fLatency != 0 {
		dst = binary.AppendVarint(dst, int64(ev.Latency))
	}
	if flags&fHeader != 0 {
		dst = binary.AppendUvarint(dst, uint64(len(ev.Header)))
		for key, vs := range ev.Header {
			dst = appendString(dst, key, "")
			if vs == nil {
				dst = append(dst, 0)
				continue
			}
			dst = binary.AppendUvarint(dst, uint64(len(vs))+1)
			for _, v := range vs {
				dst = appendString(dst, v, "")
			}
		}
	}
	if flags&fBody != 0 {
		if cap(dst)-len(dst) < len(body)+2*binary.MaxVarintLen64 {
			dst = append(make([]byte, 0, len(dst)+len(body)+2*binary.MaxVarintLen64), dst...)
		}
		dst = binary.AppendUvarint(dst, uint64(len(body)))
		dst = append(dst, body...)
		if flags&fCut != 0 {
			dst = binary.AppendUvarint(dst, uint64(len(ev.Body)))
		}
	}
	return dst
}

// bit is flag bit i when s is not empty.
func bit(s string, i int) uint32 {
	if s == "" {
		return 0
	}
	return 1 << i
}

// kindCode returns k's index in kinds, 0 for none.
func kindCode(k runtime.EventKind) byte {
	switch k {
	case runtime.KindConnect:
		return 1
	case runtime.KindConnected:
		return 2
	case runtime.KindMessage:
		return 3
	case runtime.KindRoute:
		return 4
	case runtime.KindIntegrationRequest:
		return 5
	case runtime.KindIntegrationResponse:
		return 6
	case runtime.KindFrame:
		return 7
	case runtime.KindManagement:
		return 8
	case runtime.KindError:
		return 9
	case runtime.KindDisconnect:
		return 10
	}
	return 0
}

// unixNano returns t's wall clock in nanoseconds since 1970 and whether
// that fits an int64 with room to spare (from 1685 to 2255).
func unixNano(t time.Time) (int64, bool) {
	sec := t.Unix()
	if sec <= -9e9 || sec >= 9e9 {
		return 0, false
	}
	return sec*1e9 + int64(t.Nanosecond()), true
}

// nano is the time that times are kept relative to: the record's
// connectedAt, 0 (1970) when there is no record or it is out of range.
func (b *base) nano() int64 {
	if b == nil {
		return 0
	}
	return b.connNano
}

// reader reads a kept form; a malformed one (never written by appendEvent)
// reads as zeros.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes(n uint64) []byte {
	if n > uint64(len(r.b)) {
		r.bad, r.b = true, nil
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) string(own string) string {
	c := r.uvarint()
	switch {
	case c == 0:
		return own
	case c&1 == 1:
		if i := c >> 1; i < uint64(len(common)) {
			return common[i]
		}
		r.bad = true
		return ""
	}
	return string(r.bytes(c>>1 - 1))
}

// seqOf returns the sequence number of a kept form.
func seqOf(kept []byte) uint64 {
	v, _ := binary.Uvarint(kept)
	return v
}

// decode returns the event kept (whose Body is part of kept), its seq and
// its body's full size. b is the record appendEvent was given.
func decode(kept []byte, b *base) (seq uint64, ev runtime.Event, size int) {
	r := reader{b: kept}
	seq = r.uvarint()
	k := r.bytes(1)
	if len(k) == 1 && int(k[0]) < len(kinds) && k[0] != 0 {
		ev.Kind = kinds[k[0]]
	} else {
		ev.Kind = runtime.EventKind(r.string(""))
	}
	fb := r.bytes(4)
	if len(fb) < 4 {
		return seq, ev, 0
	}
	flags := binary.LittleEndian.Uint32(fb)
	switch {
	case flags&fTimeRel != 0:
		ev.Time = time.Unix(0, b.nano()+r.varint())
	case flags&fTime != 0:
		sec := r.varint()
		ev.Time = time.Unix(sec, int64(r.uvarint()))
	}
	for i := range nStrings {
		if flags&(1<<i) != 0 {
			*strField(&ev, i) = r.string(b.own(i))
		}
	}
	if flags&fStatus != 0 {
		ev.Status = int(r.varint())
	}
	if flags&fCode != 0 {
		ev.Code = int(r.varint())
	}
	if flags&fLatency != 0 {
		ev.Latency = time.Duration(r.varint())
	}
	if flags&fHeader != 0 {
		n := r.uvarint()
		ev.Header = make(http.Header, min(n, 64))
		for range n {
			if r.bad {
				break
			}
			key := r.string("")
			m := r.uvarint()
			if m == 0 {
				ev.Header[key] = nil
				continue
			}
			vs := make([]string, 0, min(m-1, 64))
			for range m - 1 {
				vs = append(vs, r.string(""))
			}
			ev.Header[key] = vs
		}
	}
	if flags&fBody != 0 {
		ev.Body = r.bytes(r.uvarint())
		if ev.Body == nil {
			ev.Body = []byte{}
		}
	}
	size = len(ev.Body)
	if flags&fCut != 0 {
		size = int(r.uvarint())
	}
	ev.Binary = flags&fBinary != 0
	return seq, ev, size
}
