package runtime

import (
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// stamp is the text of one second of one location as log lines write it:
// head up to the seconds ("2006-01-02T15:04:05"), zone after the
// milliseconds ("Z07:00"). A stamp never changes once made.
type stamp struct {
	sec        int64
	loc        *time.Location
	head, zone []byte
}

// lastStamp is the stamp of the second the last line was written in: lines
// of one second share it instead of formatting the date each.
var lastStamp atomic.Pointer[stamp]

// appendStamp appends t as t.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
// would, formatting the date and zone once per second.
func appendStamp(b []byte, t time.Time) []byte {
	sec, loc := t.Unix(), t.Location()
	s := lastStamp.Load()
	if s == nil || s.sec != sec || s.loc != loc {
		s = &stamp{sec: sec, loc: loc, head: t.AppendFormat(nil, "2006-01-02T15:04:05"), zone: t.AppendFormat(nil, "Z07:00")}
		lastStamp.Store(s)
	}
	ms := t.Nanosecond() / 1e6
	b = append(b, s.head...)
	b = append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	return append(b, s.zone...)
}

// appendTextLine appends the line slog.TextHandler writes for a record at t
// with level, msg and attrs (no groups, no source, no ReplaceAttr), without
// going through slog: the event log's line per message, built in a reused
// buffer. false: an attribute is of a kind it does not write (then slog
// writes the line).
func appendTextLine(b []byte, t time.Time, level slog.Level, msg string, attrs []slog.Attr) ([]byte, bool) {
	b = append(b, "time="...)
	b = appendStamp(b, t.Truncate(time.Millisecond))
	b = append(b, " level="...)
	b = appendTextString(b, level.String())
	b = append(b, " msg="...)
	b = appendTextString(b, msg)
	for _, a := range attrs {
		b = append(b, ' ')
		b = appendTextString(b, a.Key)
		b = append(b, '=')
		switch v := a.Value; v.Kind() {
		case slog.KindString:
			b = appendTextString(b, v.String())
		case slog.KindInt64:
			b = strconv.AppendInt(b, v.Int64(), 10)
		case slog.KindFloat64:
			b = strconv.AppendFloat(b, v.Float64(), 'g', -1, 64)
		default:
			return b, false
		}
	}
	return append(b, '\n'), true
}

// appendTextString appends s as the text handler does: as is, or quoted
// when it is empty or holds a space, '=', '"', a control character, or a
// rune that is not printable.
func appendTextString(b []byte, s string) []byte {
	if textNeedsQuoting(s) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

func textNeedsQuoting(s string) bool {
	if s == "" {
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == ' ' || c == '=' || c == '"' {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}

// linePool holds the buffers event lines are built in.
var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// writeTextLine writes the line of a record to w in the text handler's
// format; false when appendTextLine cannot.
func writeTextLine(w *logWriter, level slog.Level, msg string, attrs []slog.Attr) bool {
	bp := linePool.Get().(*[]byte)
	b, ok := appendTextLine((*bp)[:0], time.Now(), level, msg, attrs)
	if ok {
		_, _ = w.Write(b)
	}
	if cap(b) <= 4<<10 {
		*bp = b[:0]
		linePool.Put(bp)
	}
	return ok
}
