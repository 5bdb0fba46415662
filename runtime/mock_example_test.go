package runtime

import (
	"encoding/json"
	"testing"
)

// TestMockExample serves examples/mock as a user would and talks to it with
// a real client: the MOCK $connect refuses ?deny=1, ping, check (with its
// model, its status-selected integration responses), time and $default
// answer through their integration responses (SPEC ).
func TestMockExample(t *testing.T) {
	g := startGateway(t, compileExample(t, "../examples/mock/template.yaml", nil), nil)
	if _, status := dialStatus(t, g, "/dev?deny=1"); status != 403 {
		t.Fatalf("?deny=1: handshake status %d, want 403", status)
	}
	ws := dial(t, g, "/dev")

	reply := func(msg string) map[string]any {
		t.Helper()
		send(t, ws, msg)
		got := recv(t, ws)
		var v map[string]any
		if err := json.Unmarshal([]byte(got), &v); err != nil {
			t.Fatalf("%s: reply %q is not a JSON object", msg, got)
		}
		return v
	}
	pong := reply(`{"action":"ping"}`)
	connID, _ := pong["connectionId"].(string)
	if pong["action"] != "pong" || !idPattern.MatchString(connID) {
		t.Errorf("ping: %v", pong)
	}
	seen := map[any]bool{}
	for _, tc := range []struct {
		msg      string
		accepted bool
		reason   string
	}{
		{`{"action":"check","message":"hello  there, \"wsgw\""}`, true, ""},
		{`{"action":"check","message":" \t "}`, false, "the message is blank"},
		{`{"action":"check","message":"one two three four five six seven eight nine ten eleven"}`, false, "more than 10 words"},
	} {
		got := reply(tc.msg)
		id, _ := got["messageId"].(string)
		if got["accepted"] != tc.accepted || !idPattern.MatchString(id) || seen[id] ||
			tc.accepted && got["from"] != connID || !tc.accepted && got["reason"] != tc.reason {
			t.Errorf("%s: %v", tc.msg, got)
		}
		seen[id] = true
	}
	send(t, ws, `{"action":"check","text":"no message"}`)
	if got := recv(t, ws); errorFrameRE("Invalid request body").FindStringSubmatch(got) == nil {
		t.Errorf("check without message: got %q, want the Invalid request body frame", got)
	}
	tm := reply(`{"action":"time"}`)
	ms, _ := tm["epochMillis"].(float64)
	if s, _ := tm["epochSeconds"].(float64); ms < 1.7e12 || s != float64(int64(ms)/1000) {
		t.Errorf("time: %v", tm)
	}
	for _, msg := range []string{`{"action":"help"}`, `not json`} {
		if d := reply(msg); d["try"] == nil {
			t.Errorf("%s: $default answered %v", msg, d)
		}
	}
}
