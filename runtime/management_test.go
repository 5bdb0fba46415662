package runtime

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi/types"
	"github.com/gorilla/websocket"
)

// sdkClient is the AWS SDK for Go v2 @connections client pointed at base.
func sdkClient(base string) *apigatewaymanagementapi.Client {
	return apigatewaymanagementapi.New(apigatewaymanagementapi.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(base),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	})
}

// SPEC §8 with the real SDK: PostToConnection, GetConnection,
// DeleteConnection, then GoneException.
func TestConnectionsAPIWithSDK(t *testing.T) {
	connect := newBackend(t, nil)
	disc := newBackend(t, nil)
	p := testPlan(actionSel,
		route("$connect", httpInteg("C", connect.URL, header("X-Id", ctxVar("connectionId")))),
		route("$disconnect", httpInteg("D", disc.URL, header("X-Id", ctxVar("connectionId")),
			header("X-Code", ctxVar("disconnectStatusCode")), header("X-Reason", ctxVar("disconnectReason")))))
	g := startGateway(t, p, nil)
	ws := dial(t, g, "/dev")
	id := connect.next(t).Header.Get("X-Id")
	api := sdkClient("http://" + g.Addrs()[0] + "/dev")
	ctx := context.Background()
	before := time.Now().Add(-time.Second)

	if _, err := api.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte(`{"hello":"world"}`)}); err != nil {
		t.Fatalf("PostToConnection: %v", err)
	}
	if typ, data, err := ws.ReadMessage(); err != nil || typ != websocket.TextMessage || string(data) != `{"hello":"world"}` {
		t.Fatalf("client got %d %q %v", typ, data, err)
	}
	bin := []byte{0xff, 0x00, 0xfe}
	if _, err := api.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: bin}); err != nil {
		t.Fatalf("PostToConnection binary: %v", err)
	}
	if typ, data, err := ws.ReadMessage(); err != nil || typ != websocket.BinaryMessage || string(data) != string(bin) {
		t.Fatalf("client got %d %q %v", typ, data, err)
	}

	out, err := api.GetConnection(ctx, &apigatewaymanagementapi.GetConnectionInput{ConnectionId: aws.String(id)})
	if err != nil {
		t.Fatalf("GetConnection: %v", err)
	}
	if out.ConnectedAt == nil || out.ConnectedAt.Before(before) || out.ConnectedAt.After(time.Now()) {
		t.Errorf("connectedAt %v", out.ConnectedAt)
	}
	if out.LastActiveAt == nil || out.LastActiveAt.Before(*out.ConnectedAt) {
		t.Errorf("lastActiveAt %v", out.LastActiveAt)
	}
	if out.Identity == nil || aws.ToString(out.Identity.SourceIp) != "127.0.0.1" || aws.ToString(out.Identity.UserAgent) != "Go-http-client/1.1" {
		t.Errorf("identity %+v", out.Identity)
	}

	closed := make(chan *websocket.CloseError, 1)
	go func() {
		_, _, err := ws.ReadMessage()
		ce, _ := err.(*websocket.CloseError)
		closed <- ce
	}()
	if _, err := api.DeleteConnection(ctx, &apigatewaymanagementapi.DeleteConnectionInput{ConnectionId: aws.String(id)}); err != nil {
		t.Fatalf("DeleteConnection: %v", err)
	}
	select {
	case ce := <-closed:
		if ce == nil || ce.Code != 1000 || ce.Text != "Connection Closed Normally" {
			t.Errorf("client got close %v", ce)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no close frame after DeleteConnection")
	}
	d := disc.next(t)
	if d.Header.Get("X-Id") != id || d.Header.Get("X-Code") != "1000" || d.Header.Get("X-Reason") != "Connection Closed Normally" {
		t.Errorf("$disconnect headers %v", d.Header)
	}

	var gone *types.GoneException
	_, err = api.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte("x")})
	if !errors.As(err, &gone) {
		t.Errorf("PostToConnection after delete: %v, want GoneException", err)
	}
	_, err = api.GetConnection(ctx, &apigatewaymanagementapi.GetConnectionInput{ConnectionId: aws.String(id)})
	if !errors.As(err, &gone) {
		t.Errorf("GetConnection after delete: %v, want GoneException", err)
	}
	_, err = api.DeleteConnection(ctx, &apigatewaymanagementapi.DeleteConnectionInput{ConnectionId: aws.String(id)})
	if !errors.As(err, &gone) {
		t.Errorf("DeleteConnection after delete: %v, want GoneException", err)
	}
	// Ids with characters SDKs percent-encode are decoded segment by segment.
	_, err = api.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String("a+b/c=d"), Data: []byte("x")})
	if !errors.As(err, &gone) {
		t.Errorf("PostToConnection to an odd id: %v, want GoneException", err)
	}
}

// SPEC: errors the SDK raises as typed exceptions.
func TestConnectionsAPIErrors(t *testing.T) {
	connect := newBackend(t, nil)
	p := testPlan(actionSel, route("$connect", httpInteg("C", connect.URL, header("X-Id", ctxVar("connectionId")))))
	g := startGateway(t, p, nil)
	dial(t, g, "/dev")
	id := connect.next(t).Header.Get("X-Id")
	ctx := context.Background()

	_, err := sdkClient("http://"+g.Addrs()[0]+"/prod").PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte("x")})
	var forbidden *types.ForbiddenException
	if !errors.As(err, &forbidden) {
		t.Errorf("unknown stage: %v, want ForbiddenException", err)
	}
	api := sdkClient("http://" + g.Addrs()[0] + "/dev")
	_, err = api.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: make([]byte, 128<<10+1)})
	var tooLarge *types.PayloadTooLargeException
	if !errors.As(err, &tooLarge) {
		t.Errorf("129 KB post: %v, want PayloadTooLargeException", err)
	}
	if _, err := api.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: make([]byte, 128<<10)}); err != nil {
		t.Errorf("128 KB post: %v", err)
	}

	// The wire format, for SDKs other than Go's.
	resp, err := http.Get("http://" + g.Addrs()[0] + "/dev/@connections/nope")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 410 || resp.Header.Get("x-amzn-ErrorType") != "GoneException" || string(body) != `{"message":null}` {
		t.Errorf("gone: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	// Percent-encoded @ and = (as SDKs send them).
	u := "http://" + g.Addrs()[0] + "/dev/%40connections/" + url.PathEscape(strings.TrimSuffix(id, "=")) + "%3D"
	resp, err = http.Post(u, "application/octet-stream", strings.NewReader("hi"))
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("encoded path: %v %v", resp, err)
	}
	req, _ := http.NewRequest(http.MethodPut, "http://"+g.Addrs()[0]+"/dev/@connections/"+id, nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("PUT: %v %v", resp, err)
	}
}

// SPEC: posting to a connection whose $connect has not finished is 410.
func TestPostBeforeConnectFinished(t *testing.T) {
	release := make(chan struct{})
	connect := newBackend(t, func(http.ResponseWriter, *http.Request, []byte) { <-release })
	p := testPlan(actionSel, route("$connect", httpInteg("C", connect.URL, header("X-Id", ctxVar("connectionId")))))
	g := startGateway(t, p, nil)
	dialed := make(chan *websocket.Conn, 1)
	go func() {
		ws, _, err := websocket.DefaultDialer.Dial("ws://"+g.Addrs()[0]+"/dev", nil)
		if err != nil {
			t.Error(err)
		}
		dialed <- ws
	}()
	id := connect.next(t).Header.Get("X-Id")
	api := sdkClient("http://" + g.Addrs()[0] + "/dev")
	ctx := context.Background()
	var gone *types.GoneException
	_, err := api.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte("early")})
	if !errors.As(err, &gone) {
		t.Errorf("post during $connect: %v, want GoneException", err)
	}
	close(release)
	ws := <-dialed
	if ws == nil {
		t.FailNow()
	}
	defer ws.Close()
	if _, err := api.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte("late")}); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, ws); got != "late" {
		t.Errorf("got %q", got)
	}
}

// SPEC: a $default stage's @connections API is at /@connections, and a
// connection of another Api is gone.
func TestConnectionsAPIDefaultStage(t *testing.T) {
	connect := newBackend(t, nil)
	p := testPlan(actionSel, route("$connect", httpInteg("C", connect.URL, header("X-Id", ctxVar("connectionId")))))
	p.Apis[0].Stages[0].Name, p.Apis[0].Stages[0].Path = "$default", "/"
	g := startGateway(t, p, nil)
	ws := dial(t, g, "/")
	id := connect.next(t).Header.Get("X-Id")
	api := sdkClient("http://" + g.Addrs()[0])
	if _, err := api.PostToConnection(context.Background(), &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte("hi")}); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, ws); got != "hi" {
		t.Errorf("got %q", got)
	}
	if eps := g.Endpoints(); eps[0].WebSocketURL != "ws://"+g.Addrs()[0]+"/" || eps[0].ConnectionsURL != "http://"+g.Addrs()[0]+"/@connections" {
		t.Errorf("endpoints %+v", eps)
	}

}

// SPEC: the @connections API of one Api does not reach a connection of
// another Api of the same gateway.
func TestConnectionsAPIOtherApi(t *testing.T) {
	connect := newBackend(t, nil)
	p := testPlan(actionSel, route("$connect", httpInteg("C", connect.URL, header("X-Id", ctxVar("connectionId")))))
	second := *p.Apis[0]
	second.LogicalID, second.ID = "OtherApi", "other00000"
	p.Apis = append(p.Apis, &second)
	g := startGateway(t, p, nil) // port 0: each Api on its own free port
	dial(t, g, "/dev")
	id := connect.next(t).Header.Get("X-Id")
	ctx := context.Background()
	if _, err := sdkClient("http://"+g.Addrs()[0]+"/dev").GetConnection(ctx, &apigatewaymanagementapi.GetConnectionInput{ConnectionId: aws.String(id)}); err != nil {
		t.Fatalf("own Api: %v", err)
	}
	var gone *types.GoneException
	_, err := sdkClient("http://"+g.Addrs()[1]+"/dev").GetConnection(ctx, &apigatewaymanagementapi.GetConnectionInput{ConnectionId: aws.String(id)})
	if !errors.As(err, &gone) {
		t.Errorf("other Api: %v, want GoneException", err)
	}
}
