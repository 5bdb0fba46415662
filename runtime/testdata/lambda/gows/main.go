// Command gows is the WebSocket test function of runtime's Lambda tests,
// built with aws-lambda-go as a provided.al2023 bootstrap. It decodes every
// event into events.APIGatewayWebsocketProxyRequest, refusing fields that
// type does not have, appends the event as received to $EVENTS_FILE (one JSON
// line per event), and answers by the message's "action":
//
//	echo     two-way: {"event": <the event>, "pid": <pid>}
//	fail     a function error
//	garbage  writes junk on stdout and answers a JSON string, not a proxy response
//	crash    exits the process
//	hang     sleeps 30 s (past any test Timeout)
//
// A $connect with the header X-Refuse answers {"statusCode": that value};
// one with Sec-WebSocket-Protocol answers that protocol back in headers.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

type reply struct {
	Event json.RawMessage `json:"event"`
	Pid   int             `json:"pid"`
}

func record(raw json.RawMessage) error {
	f, err := os.OpenFile(os.Getenv("EVENTS_FILE"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	var line bytes.Buffer
	if err := json.Compact(&line, raw); err != nil {
		return err
	}
	line.WriteByte('\n')
	_, err = f.Write(line.Bytes())
	return err
}

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var req events.APIGatewayWebsocketProxyRequest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, fmt.Errorf("event does not decode as APIGatewayWebsocketProxyRequest: %w", err)
	}
	if err := record(raw); err != nil {
		return nil, err
	}
	switch req.RequestContext.EventType {
	case "CONNECT":
		resp := events.APIGatewayProxyResponse{StatusCode: 200}
		if v := req.Headers["X-Refuse"]; v != "" {
			resp.StatusCode, _ = strconv.Atoi(v)
		}
		if p := req.Headers["Sec-WebSocket-Protocol"]; p != "" {
			resp.Headers = map[string]string{"Sec-WebSocket-Protocol": p}
		}
		return resp, nil
	case "DISCONNECT":
		return events.APIGatewayProxyResponse{StatusCode: 200}, nil
	}
	var msg struct {
		Action string `json:"action"`
	}
	_ = json.Unmarshal([]byte(req.Body), &msg)
	switch msg.Action {
	case "fail":
		return nil, fmt.Errorf("failing as asked")
	case "garbage":
		fmt.Println("\x00\x01 garbage on stdout \xff")
		return "garbage", nil
	case "crash":
		os.Exit(3)
	case "hang":
		time.Sleep(30 * time.Second)
	}
	body, err := json.Marshal(reply{Event: raw, Pid: os.Getpid()})
	if err != nil {
		return nil, err
	}
	return events.APIGatewayProxyResponse{StatusCode: 200, Body: string(body)}, nil
}

func main() { lambda.Start(handle) }
