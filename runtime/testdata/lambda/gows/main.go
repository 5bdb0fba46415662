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
//
// Run as a REQUEST authorizer (an event with a methodArn), it decodes the
// event into wsAuthorizerRequest, refusing unknown fields, and answers by the
// Auth header: "good" allows execute-api:Invoke on the methodArn (principal
// user-go, context tenant=go and the pid), "unauthorized" fails with
// Unauthorized, anything else denies.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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

// wsAuthorizerRequest is a WebSocket API's REQUEST authorizer event:
// aws-lambda-go's REQUEST authorizer event, whose requestContext is that of
// the WebSocket events (the developer guide: "The context variables in
// event.requestContext are different from those for REST APIs"; routeKey,
// eventType, connectionId ... are not fields of
// APIGatewayCustomAuthorizerRequestTypeRequestContext).
type wsAuthorizerRequest struct {
	events.APIGatewayCustomAuthorizerRequestTypeRequest
	RequestContext events.APIGatewayWebsocketProxyRequestContext `json:"requestContext"`
}

func authorize(raw json.RawMessage) (any, error) {
	var req wsAuthorizerRequest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, fmt.Errorf("event does not decode as a WebSocket REQUEST authorizer event: %w", err)
	}
	if err := record(raw); err != nil {
		return nil, err
	}
	if req.Type != "REQUEST" || req.RequestContext.EventType != "CONNECT" || req.RequestContext.RouteKey != "$connect" {
		return nil, fmt.Errorf("not a $connect REQUEST authorizer event: type %q, eventType %q, routeKey %q",
			req.Type, req.RequestContext.EventType, req.RequestContext.RouteKey)
	}
	effect := "Deny"
	switch req.Headers["Auth"] {
	case "good":
		effect = "Allow"
	case "unauthorized":
		return nil, errors.New("Unauthorized")
	}
	return events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: "user-go",
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
			Version:   "2012-10-17",
			Statement: []events.IAMPolicyStatement{{Action: []string{"execute-api:Invoke"}, Effect: effect, Resource: []string{req.MethodArn}}},
		},
		Context: map[string]any{"tenant": "go", "pid": os.Getpid()},
	}, nil
}

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var probe struct {
		MethodArn string `json:"methodArn"`
	}
	if json.Unmarshal(raw, &probe) == nil && probe.MethodArn != "" {
		return authorize(raw)
	}
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
