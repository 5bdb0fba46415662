package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

const samChatTemplate = "../../examples/sam-chat/template.yaml"

// The SAM chat example (examples/sam-chat): an AWS::Serverless::WebSocketApi
// expanded as SAM does (SPEC ), served with real clients. Its Auth
// CUSTOM authorizer (a Node.js function) runs on $connect with the token
// query parameter as identity source: no token is 401 without calling it, a
// wrong token 403 (its Deny policy); two clients with the token chat through
// SendMessage, whose AWS SDK for JavaScript v3 posts to both over the
// @connections API; whoami answers the caller (a two-way route through the
// RouteResponse on the generated ChatApiWhoamiRoute); OnDisconnect removes a
// client that leaves. SPEC, §8.
func TestSamChatExample(t *testing.T) {
	requireExample(t, "sam-chat")
	url, connFile, stderr, stop := exampleServer(t, samChatTemplate)
	defer stop()

	for _, tc := range []struct {
		name, query string
		status      int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"empty token", "?token=", http.StatusUnauthorized},
		{"wrong token", "?token=nope", http.StatusForbidden},
	} {
		ws, resp, err := websocket.DefaultDialer.Dial(url+tc.query, nil)
		if err == nil {
			ws.Close()
			t.Fatalf("%s: handshake accepted", tc.name)
		}
		if resp == nil || resp.StatusCode != tc.status {
			t.Fatalf("%s: response %v, want %d", tc.name, resp, tc.status)
		}
		// The cases without the identity source come first: the authorizer
		// must not have run (nor started) for them.
		if tc.status == http.StatusUnauthorized && strings.Contains(stderr.String(), "function=AuthorizerFunction") {
			t.Errorf("%s: the authorizer ran:\n%s", tc.name, stderr)
		}
	}
	if !strings.Contains(stderr.String(), "function=AuthorizerFunction") {
		t.Errorf("the authorizer never ran:\n%s", stderr)
	}

	alice, _, err := websocket.DefaultDialer.Dial(url+"?token=letmein&name=alice", nil)
	if err != nil {
		t.Fatalf("dial alice: %v\n%s", err, stderr)
	}
	defer alice.Close()
	idAlice := connectedID(t, stderr, 1)
	bob, _, err := websocket.DefaultDialer.Dial(url+"?token=letmein&name=bob", nil)
	if err != nil {
		t.Fatalf("dial bob: %v", err)
	}
	defer bob.Close()
	idBob := connectedID(t, stderr, 2)
	waitConnections(t, connFile, []string{idAlice, idBob})

	// whoami: the caller's connection id and the authorizer's principal.
	for name, tc := range map[string]struct {
		ws *websocket.Conn
		id string
	}{"alice": {alice, idAlice}, "bob": {bob, idBob}} {
		if err := tc.ws.WriteMessage(websocket.TextMessage, []byte(`{"action":"whoami"}`)); err != nil {
			t.Fatal(err)
		}
		var who struct{ ConnectionID, PrincipalID, Name string }
		if got := chatRecv(t, tc.ws); json.Unmarshal([]byte(got), &who) != nil || who.ConnectionID != tc.id || who.PrincipalID != name || who.Name != name {
			t.Errorf("%s: whoami answered %q, want connection %s and principal %s", name, got, tc.id, name)
		}
	}

	// sendMessage reaches both, through the SDK and @connections.
	for _, tc := range []struct {
		from       *websocket.Conn
		name, data string
	}{{alice, "alice", "hello from alice"}, {bob, "bob", "hi alice"}} {
		msg, _ := json.Marshal(map[string]string{"action": "sendMessage", "data": tc.data})
		if err := tc.from.WriteMessage(websocket.TextMessage, msg); err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(struct {
			From string `json:"from"`
			Data string `json:"data"`
		}{tc.name, tc.data})
		for name, ws := range map[string]*websocket.Conn{"alice": alice, "bob": bob} {
			if got := chatRecv(t, ws); got != string(want) {
				t.Fatalf("%s got %q, want %s\n%s", name, got, want, stderr)
			}
		}
	}

	// bob leaves: OnDisconnect removes him, and a broadcast reaches alice only.
	_ = bob.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	waitConnections(t, connFile, []string{idAlice})
	if err := alice.WriteMessage(websocket.TextMessage, []byte(`{"action":"sendMessage","data":"alone"}`)); err != nil {
		t.Fatal(err)
	}
	if got := chatRecv(t, alice); got != `{"from":"alice","data":"alone"}` {
		t.Errorf("alice got %q", got)
	}
	if s := stderr.String(); strings.Contains(s, "broadcast failed") || strings.Contains(s, "level=WARN msg=message") {
		t.Errorf("the functions reported errors:\n%s", s)
	}
}
