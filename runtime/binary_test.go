package runtime

import (
	"errors"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// SPEC: by default a binary frame from a client is rejected as on API
// Gateway: the messages before it are handled, the connection is closed with
// 1003, $disconnect runs with 1003, and the frame reaches no route. Other
// connections go on. (With AllowBinary it is routed: TestRouteSelection.)
func TestBinaryFrameRejected(t *testing.T) {
	rec := newRecorder(t, nil)
	g := startGateway(t, faultPlan(rec, route("$default", httpInteg("Msg", rec.url+"/msg"))), nil)
	neighbour := dial(t, g, "/dev")
	ws := dial(t, g, "/dev")
	id := rec.wait(t, "/connect", 2, 5*time.Second)[1].id
	send(t, ws, `{"action":"before"}`)
	if err := ws.WriteMessage(websocket.BinaryMessage, []byte{0, 1, 0xff}); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := ws.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseUnsupportedData {
		t.Fatalf("read %v, want a close frame with 1003", err)
	}
	if d := rec.wait(t, "/disconnect", 1, 5*time.Second)[0]; d.id != id || d.code != "1003" {
		t.Errorf("$disconnect %+v, want connection %s with 1003", d, id)
	}
	if got := rec.wait(t, "/msg", 1, 5*time.Second); got[0].body != `{"action":"before"}` {
		t.Errorf("the route got %q", got[0].body)
	}
	send(t, neighbour, `{"action":"neighbour"}`)
	got := rec.wait(t, "/msg", 2, 5*time.Second)
	if got[1].body != `{"action":"neighbour"}` || len(got) != 2 {
		t.Errorf("the route got %d calls, the last %q; want the neighbour's message and no binary frame", len(got), got[len(got)-1].body)
	}
}
