package runtime

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"
)

// appendTextLine writes what slog's text handler writes, byte for byte.
func TestAppendTextLineAsSlog(t *testing.T) {
	at := []time.Time{
		time.Date(2026, 12, 5, 15, 4, 5, 987654321, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("X", -7*3600)),
		time.Date(2026, 1, 2, 3, 4, 5, 999999999, time.Local),
	}
	tests := []struct {
		name  string
		level slog.Level
		msg   string
		attrs []slog.Attr
	}{
		{"a message line", slog.LevelInfo, "message", []slog.Attr{slog.String("connection", "LkpkH2SIZFduEoV="), slog.String("route", "echo"),
			slog.String("integration", "Echo"), slog.Int("status", 200), slog.Float64("latency_ms", 220.449), slog.String("requestId", "OGAyKuXV4SoIFZI=")}},
		{"a warning with an error", slog.LevelWarn, "message", []slog.Attr{slog.String("route", "$default"), slog.Int("status", 500),
			slog.String("error", `POST http://127.0.0.1:1/x: dial tcp: connection refused`)}},
		{"no route", slog.LevelInfo, "message: no route matched", []slog.Attr{slog.String("key", ""), slog.String("expression", "$request.body.action"),
			slog.String("error", `the message has no "action"`)}},
		{"numbers", slog.LevelInfo, "disconnect", []slog.Attr{slog.Float64("latency_ms", 0), slog.Float64("big", 1e21), slog.Float64("small", 0.000001),
			slog.Int("code", -1006), slog.Float64("frac", 0.957)}},
		{"strings to quote", slog.LevelInfo, "x", []slog.Attr{slog.String("tab", "a\tb"), slog.String("nl", "a\nb"), slog.String("bs", `a\b`),
			slog.String("eq", "a=b"), slog.String("uni", "héllo"), slog.String("nbsp", "a\u00a0b"), slog.String("bad", "a\xffb"),
			slog.String("del", "a\x7fb"), slog.String("zw", "a\u200bb"), slog.String("emoji", "ok👍")}},
		{"keys to quote", slog.LevelInfo, "x", []slog.Attr{slog.String("a key", "v"), slog.String("", "v")}},
		{"other levels", slog.LevelDebug + 1, "x", nil},
		{"an error level", slog.LevelError, "x y", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, when := range at {
				var want bytes.Buffer
				h := slog.NewTextHandler(&want, &slog.HandlerOptions{Level: slog.LevelDebug})
				r := slog.NewRecord(when, tc.level, tc.msg, 0)
				r.AddAttrs(tc.attrs...)
				if err := h.Handle(context.Background(), r); err != nil {
					t.Fatal(err)
				}
				got, ok := appendTextLine(nil, when, tc.level, tc.msg, tc.attrs)
				if !ok {
					t.Fatal("appendTextLine refused")
				}
				if string(got) != want.String() {
					t.Errorf("got  %q\nwant %q", got, want.String())
				}
			}
		})
	}
	if _, ok := appendTextLine(nil, at[0], slog.LevelInfo, "x", []slog.Attr{slog.Bool("b", true)}); ok {
		t.Error("a bool attribute: want false (slog writes it)")
	}
}

// BenchmarkEventLine compares an event line through slog and through
// appendTextLine.
func BenchmarkEventLine(b *testing.B) {
	attrs := []slog.Attr{slog.String("connection", "LkpkH2SIZFduEoV="), slog.String("route", "echo"),
		slog.String("integration", "Echo"), slog.Int("status", 200), slog.Float64("latency_ms", 0.449), slog.String("requestId", "OGAyKuXV4SoIFZI=")}
	var sink bytes.Buffer
	b.Run("slog", func(b *testing.B) {
		l := slog.New(slog.NewTextHandler(&sink, nil))
		b.ReportAllocs()
		for b.Loop() {
			sink.Reset()
			l.LogAttrs(context.Background(), slog.LevelInfo, "message", attrs...)
		}
	})
	b.Run("appendTextLine", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			sink.Reset()
			buf, _ = appendTextLine(buf[:0], time.Now(), slog.LevelInfo, "message", attrs)
			sink.Write(buf)
		}
	})
}

// appendStamp writes what time.Time.AppendFormat writes, across seconds,
// milliseconds, zones and the year's ends: the event log line's time.
func TestAppendStamp(t *testing.T) {
	zones := []*time.Location{time.UTC, time.Local, time.FixedZone("east", 5*3600+30*60), time.FixedZone("west", -7*3600)}
	if ny, err := time.LoadLocation("America/New_York"); err == nil {
		zones = append(zones, ny) // a daylight-saving change at 2026-03-08 07:00 UTC
	}
	starts := []time.Time{
		time.Date(2026, 3, 8, 6, 59, 58, 0, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 58, 990_000_000, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Now(),
	}
	for _, start := range starts {
		for _, loc := range zones {
			for step := range 400 {
				tm := start.Add(time.Duration(step) * 7 * time.Millisecond).In(loc).Truncate(time.Millisecond)
				want := tm.AppendFormat(nil, "2006-01-02T15:04:05.000Z07:00")
				if got := appendStamp([]byte("x"), tm); string(got) != "x"+string(want) {
					t.Fatalf("%v: got %s, want x%s", tm, got, want)
				}
			}
		}
	}
}
