package wsgwtest_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/gorilla/websocket"

	"github.com/wsgw/wsgw/runtime/wsgwtest"
)

// TestMockExample shows wsgwtest as a user's test would use it: serve a
// template, talk to it with a WebSocket client, and push a frame to the
// connection through the @connections API with the AWS SDK for Go v2.
func TestMockExample(t *testing.T) {
	srv := wsgwtest.Start(t, "../../examples/mock/template.yaml", nil)

	ws, _, err := websocket.DefaultDialer.Dial(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))

	// The mock example's ping route answers with the caller's connection id.
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"action":"ping"}`)); err != nil {
		t.Fatal(err)
	}
	_, data, err := ws.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	var pong struct {
		Action       string `json:"action"`
		ConnectionID string `json:"connectionId"`
	}
	if err := json.Unmarshal(data, &pong); err != nil || pong.Action != "pong" || pong.ConnectionID == "" {
		t.Fatalf("ping answered %q", data)
	}

	client := apigatewaymanagementapi.New(apigatewaymanagementapi.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.ConnectionsEndpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	})
	if _, err := client.PostToConnection(context.Background(), &apigatewaymanagementapi.PostToConnectionInput{
		ConnectionId: aws.String(pong.ConnectionID), Data: []byte("pushed"),
	}); err != nil {
		t.Fatal(err)
	}
	if _, data, err := ws.ReadMessage(); err != nil || string(data) != "pushed" {
		t.Fatalf("after PostToConnection: %q, %v", data, err)
	}
	if got := srv.Stage(t, "dev").WebSocketURL; got != srv.URL {
		t.Errorf("Stage(dev) = %s, want %s", got, srv.URL)
	}
}
