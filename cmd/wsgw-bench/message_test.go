package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestMessages(t *testing.T) {
	tests := []struct {
		name   string
		action string
		size   int
		conn   int
		seq    int
	}{
		{"smallest", "", minSize, 999, 1234567},
		{"default", "", 128, 0, 1},
		{"with action", "echo", 128, 31, 99},
		{"largest", "", maxSize, 5, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMessages(tt.action, tt.size)
			msg := m.build(tt.conn, tt.seq)
			if len(msg) != tt.size {
				t.Errorf("message has %d bytes, want %d", len(msg), tt.size)
			}
			var got struct {
				Action    string `json:"action"`
				Conn, Seq int
				Pad       string
			}
			if err := json.Unmarshal(msg, &got); err != nil {
				t.Fatalf("message %q is not JSON: %v", msg, err)
			}
			if got.Action != tt.action || got.Conn != tt.conn || got.Seq != tt.seq {
				t.Errorf("message %q: action %q conn %d seq %d, want %q %d %d", msg, got.Action, got.Conn, got.Seq, tt.action, tt.conn, tt.seq)
			}
			if tt.action == "" && strings.Contains(string(msg), "action") {
				t.Errorf("message %q has an action", msg)
			}
			if err := verify(msg, msg, tt.conn, tt.seq); err != nil {
				t.Errorf("verify(msg, msg) = %v", err)
			}
		})
	}
}

// TestPadDiffers: consecutive messages of one connection differ in their
// padding, not only in their sequence number.
func TestPadDiffers(t *testing.T) {
	m := newMessages("", 128)
	a, b := m.build(1, 1), m.build(1, 2)
	pa, pb := a[strings.Index(string(a), `"pad"`):], b[strings.Index(string(b), `"pad"`):]
	if string(pa) == string(pb) {
		t.Errorf("seq 1 and 2 have the same padding %q", pa)
	}
}

func TestVerify(t *testing.T) {
	m := newMessages("", 128)
	sent := m.build(3, 7)
	corrupt := []byte(string(sent))
	corrupt[100] = '#'
	tests := []struct {
		name  string
		reply []byte
		want  string
	}{
		{"echo", sent, ""},
		{"other seq", m.build(3, 6), "reply is message conn 3 seq 6, want conn 3 seq 7"},
		{"other conn", m.build(4, 7), "reply is message conn 4 seq 7, want conn 3 seq 7"},
		{"corrupt", corrupt, "reply to conn 3 seq 7 differs from the message at byte 100"},
		{"truncated", sent[:60], "reply to conn 3 seq 7 has 60 bytes, want 128"},
		{"error frame", []byte(`{"message": "Forbidden", "connectionId":"x", "requestId":"y"}`),
			`reply to conn 3 seq 7 is not the message: "{\"message\": \"Forbidden\", \"connectionId\":\"x\", \"requestId\":\"y\"}"`},
		{"long", []byte(strings.Repeat("x", 200)), `reply to conn 3 seq 7 is not the message: "` + strings.Repeat("x", 120) + `"... (200 bytes)`},
		{"empty", nil, `reply to conn 3 seq 7 is not the message: ""`},
		{"truncated with ids", sent[:40], "reply to conn 3 seq 7 has 40 bytes, want 128"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := verify(sent, tt.reply, 3, 7)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("verify = %q, want %q", got, tt.want)
			}
		})
	}
}
