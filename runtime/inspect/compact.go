package inspect

import (
	"encoding/binary"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

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
// string that follows); uvarint flags; then, in the order of the flags,
// what they say is there.
//
// A string is a uvarint code c and maybe its bytes: 0 is the record's own
// value (RequestID of the handshake, SourceIP, UserAgent, ConnectionID, Api,
// Stage; the connection id for a header value), an odd c is common[c>>1],
// an even c a string of c/2-1 bytes that follow; dateCode is an HTTP date
// (header values only) as seconds. Integration and Expr, which come from
// the template, are a uvarint index in the inspector's dict plus 1, or 0
// and a string.

// Flags of the kept form.
const (
	fTime     = 1 << iota // the time is not zero: varint seconds and uvarint nanoseconds follow (without fTimeRel)
	fTimeRel              // the time is a zigzag varint of nanoseconds after base.nano
	fStatus               // varint
	fCode                 // varint
	fLatency              // varint nanoseconds
	fHeader               // the header is not nil: uvarint count of keys, then key, uvarint 1+values (0: nil), values
	fBody                 // the body is not nil: uvarint length, bytes
	fBinary               // Event.Binary
	fCut                  // the body was cut: uvarint full size
	fSame                 // ConnectionID, Api and Stage are the record's (their string bits are clear)
	fURLInteg             // URL is the one the Integration's dict entry holds (its string bit is clear)
	fString0              // bit of string field 0; string field i is not empty when bit fString0<<i is set
)

// The string fields of an event, in the order of their flags (the most
// frequent first, so that the flags take fewer bytes).
const (
	sRequestID = iota
	sRoute
	sIntegration
	sMethod
	sURL
	sKey
	sExpr
	sWhy
	sError
	sReason
	sBy
	sSourceIP
	sUserAgent
	sConnectionID
	sApi
	sStage
	nStrings
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
// event leaves out when it has the same. It never changes.
type base struct {
	id        string
	names     *names // Api and Stage
	reqID     string // the handshake's request ID
	sourceIP  string
	userAgent string
	connSec   int64 // connectedAt
	connNsec  int32
}

// names are an Api's logical ID and a stage name, shared by the records of
// the stage's connections.
type names struct{ api, stage string }

// newBase returns the base of a connection whose handshake is ev, its
// names n.
func newBase(ev *runtime.Event, n *names) base {
	return base{id: ev.ConnectionID, names: n, reqID: ev.RequestID, sourceIP: ev.SourceIP, userAgent: ev.UserAgent,
		connSec: ev.Time.Unix(), connNsec: int32(ev.Time.Nanosecond())}
}

// connectedAt is the time of the handshake.
func (b *base) connectedAt() time.Time { return time.Unix(b.connSec, int64(b.connNsec)) }

// nano is the time that times are kept relative to: the handshake's, in
// nanoseconds since 1970, 0 when it is out of range.
func (b *base) nano() int64 {
	if b.connSec <= -9e9 || b.connSec >= 9e9 {
		return 0
	}
	return b.connSec*1e9 + int64(b.connNsec)
}

// noBase stands for no record: it has no fields.
var noBase = base{names: &names{}}

// same says whether ev's ConnectionID, Api and Stage are b's.
func (b *base) same(ev *runtime.Event) bool {
	return ev.ConnectionID == b.id && ev.Api == b.names.api && ev.Stage == b.names.stage
}

// dict holds strings that events repeat and the template bounds:
// integrations' logical IDs, each with the URL of its first call (which an
// HTTP integration seldom changes), and route selection expressions. It
// only grows, up to dictMax entries; an event names an entry by its index.
// Readers load the table without a lock; a change copies it.
type dict struct {
	mu    sync.Mutex
	table atomic.Pointer[dictTable]
	// hits finds an entry by the address of the string's bytes (the
	// template's strings are the same for every event), without hashing.
	hits [64]atomic.Pointer[dictHit]
}

type dictTable struct {
	index map[string]int
	list  []dictEntry
}

type dictEntry struct{ s, url string }

type dictHit struct {
	s string
	i int
}

// dictMax bounds the entries of a dict.
const dictMax = 1024

// entry returns entry i (which exists: the dict only grows).
func (d *dict) entry(i int) *dictEntry {
	t := d.table.Load()
	if t == nil || i >= len(t.list) {
		return &dictEntry{}
	}
	return &t.list[i]
}

// find returns the index of s and its entry, learning it (with url) when
// new; -1 when the dict is full. An entry without a URL takes url. Once
// learnt, s is found without a lock or an allocation.
func (d *dict) find(s, url string) (int, *dictEntry) {
	slot := &d.hits[(uintptr(unsafe.Pointer(unsafe.StringData(s)))>>3)%uintptr(len(d.hits))]
	h := slot.Load()
	if h != nil && len(h.s) == len(s) && unsafe.StringData(h.s) == unsafe.StringData(s) {
		if e := d.entry(h.i); e.url != "" || url == "" {
			return h.i, e
		}
	} else if t := d.table.Load(); t != nil {
		if i, ok := t.index[s]; ok && (t.list[i].url != "" || url == "") {
			if h == nil {
				slot.Store(&dictHit{s: s, i: i}) // the first string of the slot keeps it
			}
			return i, &t.list[i]
		}
	}
	i := d.learn(s, url)
	if i < 0 {
		return -1, nil
	}
	if h == nil {
		slot.Store(&dictHit{s: s, i: i})
	}
	return i, d.entry(i)
}

// learn returns the index of s, adding it when new and the dict is not
// full (-1 then), or giving it url when it has none.
func (d *dict) learn(s, url string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	t := d.table.Load()
	if t == nil {
		t = &dictTable{}
	}
	i, ok := t.index[s]
	switch {
	case ok && (t.list[i].url != "" || url == ""):
		return i
	case !ok && len(t.list) >= dictMax:
		return -1
	}
	nt := &dictTable{index: make(map[string]int, len(t.list)+1), list: make([]dictEntry, len(t.list), len(t.list)+1)}
	copy(nt.list, t.list)
	for k, v := range t.index {
		nt.index[k] = v
	}
	if ok {
		nt.list[i].url = url
	} else {
		i = len(nt.list)
		nt.index[s] = i
		nt.list = append(nt.list, dictEntry{s: s, url: url})
	}
	d.table.Store(nt)
	return i
}

// appendString appends s coded (own: the record's value of the field, ""
// for none), as one of common when it is.
func appendString(dst []byte, s, own string) []byte {
	if i := commonIndex(s); i >= 0 {
		return binary.AppendUvarint(dst, uint64(i)<<1|1)
	}
	return appendLiteral(dst, s, own)
}

// dateCode is the code of a header value that is an HTTP date, as a Date
// header has it: its seconds since 1970 (varint) follow.
const dateCode = uint64(len(common))<<1 | 1

// appendValue appends header value v coded: a date as its seconds (a
// backend's every answer has one), else as appendString does.
func appendValue(dst []byte, v, own string) []byte {
	if sec, ok := parseHTTPDate(v); ok {
		dst = binary.AppendUvarint(dst, dateCode)
		return binary.AppendVarint(dst, sec)
	}
	return appendString(dst, v, own)
}

// parseHTTPDate returns the seconds since 1970 of s when it is a date that
// formatted with http.TimeFormat is s again, byte for byte.
func parseHTTPDate(s string) (int64, bool) {
	const layout = "Mon, 02 Jan 2006 15:04:05 GMT"
	if len(s) != len(layout) || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
		s[19] != ':' || s[22] != ':' || s[25:] != " GMT" {
		return 0, false
	}
	num := func(b string) int {
		n := 0
		for i := range len(b) {
			if b[i] < '0' || b[i] > '9' {
				return -1
			}
			n = n*10 + int(b[i]-'0')
		}
		return n
	}
	day, year, hh, mm, ss := num(s[5:7]), num(s[12:16]), num(s[17:19]), num(s[20:22]), num(s[23:25])
	month := 0
	for m := time.January; m <= time.December; m++ {
		if m.String()[:3] == s[8:11] {
			month = int(m)
		}
	}
	if day < 1 || year < 0 || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 59 || month == 0 {
		return 0, false
	}
	t := time.Date(year, time.Month(month), day, hh, mm, ss, 0, time.UTC)
	if t.Day() != day || t.Weekday().String()[:3] != s[:3] {
		return 0, false // 31 Feb, or the wrong weekday: not what formatting gives
	}
	return t.Unix(), true
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

// keptNameBytes bounds a header name as kept: no real one is near it (a
// client may send a name of up to 1 MB).
const keptNameBytes = 4 << 10

// appendEvent appends the kept form of ev to dst: seq, and the body and
// header values cut to bodyMax bytes (header names to keptNameBytes). b is the record of ev's connection (nil: none), whose
// fields ev leaves out where it has the same; d is the inspector's dict.
func appendEvent(dst []byte, seq uint64, ev *runtime.Event, b *base, d *dict, bodyMax int) []byte {
	dst = binary.AppendUvarint(dst, seq)
	k := kindCode(ev.Kind)
	dst = append(dst, k)
	if k == 0 {
		dst = appendString(dst, string(ev.Kind), "")
	}
	if b == nil {
		b = &noBase
	}
	own, ownNames := b, b.names
	flags := bit(ev.RequestID, sRequestID) | bit(ev.Route, sRoute) | bit(ev.Integration, sIntegration) |
		bit(ev.Method, sMethod) | bit(ev.URL, sURL) | bit(ev.Key, sKey) | bit(ev.Expr, sExpr) | bit(ev.Why, sWhy) |
		bit(ev.Error, sError) | bit(ev.Reason, sReason) | bit(ev.By, sBy) | bit(ev.SourceIP, sSourceIP) | bit(ev.UserAgent, sUserAgent)
	if b.same(ev) {
		flags |= fSame
	} else {
		flags |= bit(ev.ConnectionID, sConnectionID) | bit(ev.Api, sApi) | bit(ev.Stage, sStage)
	}
	integ := -1
	if ev.Integration != "" {
		var e *dictEntry
		if integ, e = d.find(ev.Integration, ev.URL); e != nil && ev.URL != "" && ev.URL == e.url {
			flags = flags&^(fString0<<sURL) | fURLInteg
		}
	}
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
	dst = binary.AppendUvarint(dst, flags)
	switch {
	case flags&fTimeRel != 0:
		dst = binary.AppendVarint(dst, nano-b.nano())
	case flags&fTime != 0:
		dst = binary.AppendVarint(dst, ev.Time.Unix())
		dst = binary.AppendUvarint(dst, uint64(ev.Time.Nanosecond()))
	}
	// In the order of the flags. Route, Method, Why and By are often
	// common strings; the others seldom are.
	if flags&(fString0<<sRequestID) != 0 {
		dst = appendLiteral(dst, ev.RequestID, own.reqID)
	}
	if flags&(fString0<<sRoute) != 0 {
		dst = appendString(dst, ev.Route, "")
	}
	if flags&(fString0<<sIntegration) != 0 {
		dst = appendDict(dst, ev.Integration, integ)
	}
	if flags&(fString0<<sMethod) != 0 {
		dst = appendString(dst, ev.Method, "")
	}
	if flags&(fString0<<sURL) != 0 {
		dst = appendLiteral(dst, ev.URL, "")
	}
	if flags&(fString0<<sKey) != 0 {
		dst = appendLiteral(dst, ev.Key, "")
	}
	if flags&(fString0<<sExpr) != 0 {
		i, _ := d.find(ev.Expr, "")
		dst = appendDict(dst, ev.Expr, i)
	}
	if flags&(fString0<<sWhy) != 0 {
		dst = appendString(dst, ev.Why, "")
	}
	if flags&(fString0<<sError) != 0 {
		dst = appendLiteral(dst, ev.Error, "")
	}
	if flags&(fString0<<sReason) != 0 {
		dst = appendLiteral(dst, ev.Reason, "")
	}
	if flags&(fString0<<sBy) != 0 {
		dst = appendString(dst, ev.By, "")
	}
	if flags&(fString0<<sSourceIP) != 0 {
		dst = appendLiteral(dst, ev.SourceIP, own.sourceIP)
	}
	if flags&(fString0<<sUserAgent) != 0 {
		dst = appendLiteral(dst, ev.UserAgent, own.userAgent)
	}
	if flags&(fString0<<sConnectionID) != 0 {
		dst = appendLiteral(dst, ev.ConnectionID, own.id)
	}
	if flags&(fString0<<sApi) != 0 {
		dst = appendLiteral(dst, ev.Api, ownNames.api)
	}
	if flags&(fString0<<sStage) != 0 {
		dst = appendLiteral(dst, ev.Stage, ownNames.stage)
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
			dst = appendString(dst, cutText(key, keptNameBytes), "")
			if vs == nil {
				dst = append(dst, 0)
				continue
			}
			dst = binary.AppendUvarint(dst, uint64(len(vs))+1)
			for _, v := range vs {
				dst = appendValue(dst, cutText(v, bodyMax), own.id)
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

// appendDict appends s as entry i of the dict (-1: none).
func appendDict(dst []byte, s string, i int) []byte {
	if i >= 0 {
		return binary.AppendUvarint(dst, uint64(i)+1)
	}
	dst = append(dst, 0)
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// bit is the flag of string field i when s is not empty.
func bit(s string, i int) uint64 {
	if s == "" {
		return 0
	}
	return fString0 << i
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

// dict reads a string appendDict wrote and its index in d (-1: none).
func (r *reader) dict(d *dict) (string, int) {
	i := r.uvarint()
	if i > 0 {
		return d.entry(int(i - 1)).s, int(i - 1)
	}
	return string(r.bytes(r.uvarint())), -1
}

func (r *reader) string(own string) string {
	c := r.uvarint()
	switch {
	case c == 0:
		return own
	case c == dateCode:
		return time.Unix(r.varint(), 0).UTC().Format(http.TimeFormat)
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
// its body's full size. b and d are what appendEvent was given.
func decode(kept []byte, b *base, d *dict) (seq uint64, ev runtime.Event, size int) {
	if b == nil {
		b = &noBase
	}
	own, ownNames := b, b.names
	r := reader{b: kept}
	seq = r.uvarint()
	k := r.bytes(1)
	if len(k) == 1 && int(k[0]) < len(kinds) && k[0] != 0 {
		ev.Kind = kinds[k[0]]
	} else {
		ev.Kind = runtime.EventKind(r.string(""))
	}
	flags := r.uvarint()
	switch {
	case flags&fTimeRel != 0:
		ev.Time = time.Unix(0, b.nano()+r.varint())
	case flags&fTime != 0:
		sec := r.varint()
		ev.Time = time.Unix(sec, int64(r.uvarint()))
	}
	if flags&fSame != 0 {
		ev.ConnectionID, ev.Api, ev.Stage = own.id, ownNames.api, ownNames.stage
	}
	integ := -1
	for i := range nStrings {
		if flags&(fString0<<i) == 0 {
			continue
		}
		switch i {
		case sRequestID:
			ev.RequestID = r.string(own.reqID)
		case sRoute:
			ev.Route = r.string("")
		case sIntegration:
			ev.Integration, integ = r.dict(d)
		case sMethod:
			ev.Method = r.string("")
		case sURL:
			ev.URL = r.string("")
		case sKey:
			ev.Key = r.string("")
		case sExpr:
			ev.Expr, _ = r.dict(d)
		case sWhy:
			ev.Why = r.string("")
		case sError:
			ev.Error = r.string("")
		case sReason:
			ev.Reason = r.string("")
		case sBy:
			ev.By = r.string("")
		case sSourceIP:
			ev.SourceIP = r.string(own.sourceIP)
		case sUserAgent:
			ev.UserAgent = r.string(own.userAgent)
		case sConnectionID:
			ev.ConnectionID = r.string(own.id)
		case sApi:
			ev.Api = r.string(ownNames.api)
		case sStage:
			ev.Stage = r.string(ownNames.stage)
		}
	}
	if flags&fURLInteg != 0 && integ >= 0 {
		ev.URL = d.entry(integ).url
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
				vs = append(vs, r.string(own.id))
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
