package runtime

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsgw/wsgw/compile"
	"github.com/wsgw/wsgw/template"
)

// buildPlan compiles a template the way `wsgw serve` does, with
// --integration overrides, and fails the test on any error.
func buildPlan(t *testing.T, src string, integrations map[string]string) *compile.Plan {
	t.Helper()
	p, ds := compile.Build("template.yaml", []byte(src), template.Options{}, compile.Options{Integrations: integrations})
	if p == nil {
		t.Fatalf("template does not compile:\n%v", ds)
	}
	for _, d := range ds {
		t.Logf("%s", d.Text())
	}
	return p
}

// dialStatus opens a WebSocket to path and returns it (nil when refused)
// with the handshake's status.
func dialStatus(t *testing.T, g *Gateway, path string) (*websocket.Conn, int) {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial("ws://"+g.Addrs()[0]+path, nil)
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	if err != nil {
		return nil, status
	}
	t.Cleanup(func() { ws.Close() })
	return ws, status
}

const mockAPI = `
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: mock
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: $request.body.action
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties:
      ApiId: !Ref Api
      StageName: dev
      StageVariables:
        greeting: hello
  Connect:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: $connect
      Target: !Sub integrations/${ConnectMock}
  ConnectMock:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: MOCK
      TemplateSelectionExpression: \$default
      RequestTemplates:
        $default: |
          #if($input.params('deny') == "1")
          {"statusCode": 403}
          #elseif($input.params('status') != "")
          {"statusCode": $input.params('status')}
          #else
          {"statusCode": 200}
          #end
  Ping:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: ping
      RouteResponseSelectionExpression: $default
      Target: !Sub integrations/${PingMock}
  PingResponse:
    Type: AWS::ApiGatewayV2::RouteResponse
    Properties:
      ApiId: !Ref Api
      RouteId: !Ref Ping
      RouteResponseKey: $default
  PingMock:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: MOCK
      TemplateSelectionExpression: \$default
      RequestTemplates:
        $default: |
          {"statusCode": 200, "id": $input.json('$.id')}
  PingOK:
    Type: AWS::ApiGatewayV2::IntegrationResponse
    Properties:
      ApiId: !Ref Api
      IntegrationId: !Ref PingMock
      IntegrationResponseKey: /2\d\d/
      TemplateSelectionExpression: \$default
      ResponseTemplates:
        $default: '{"type": "pong", "id": $input.json(''$.id''), "connectionId": "$context.connectionId", "stage": "$context.stage", "greeting": "$stageVariables.greeting"}'
  Echo:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: echo
      RouteResponseSelectionExpression: $default
      Target: !Sub integrations/${EchoMock}
  EchoResponse:
    Type: AWS::ApiGatewayV2::RouteResponse
    Properties:
      ApiId: !Ref Api
      RouteId: !Ref Echo
      RouteResponseKey: $default
  EchoMock:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: MOCK
      TemplateSelectionExpression: ${request.body.format}
      RequestTemplates:
        $default: '{"statusCode": 200, "message": $input.json(''$.message'')}'
        fail: '{"statusCode": 500}'
  EchoOK:
    Type: AWS::ApiGatewayV2::IntegrationResponse
    Properties:
      ApiId: !Ref Api
      IntegrationId: !Ref EchoMock
      IntegrationResponseKey: $default
      TemplateSelectionExpression: ${integration.response.statuscode}
      ResponseTemplates:
        "200": '{"echo": $input.json(''$.message''), "upper": "$input.path(''$.message'').toUpperCase()"}'
        "500": '{"error": "failed on purpose"}'
  Silent:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: silent
      Target: !Sub integrations/${PingMock}
`

// SPEC: a MOCK $connect accepts or refuses the handshake with the
// status its request template renders; $input.params reads the query string.
func TestMockConnect(t *testing.T) {
	g := startGateway(t, buildPlan(t, mockAPI, nil), nil)
	tests := []struct {
		name, query string
		want        int
	}{
		{"accepted", "", 101},
		{"refused by template", "?deny=1", 403},
		{"other 2xx accepted", "?status=204", 101},
		{"5xx refuses", "?status=500", 500},
		{"not a status is 502", "?status=999", 502},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ws, status := dialStatus(t, g, "/dev"+tc.query)
			if status != tc.want {
				t.Fatalf("handshake status %d, want %d", status, tc.want)
			}
			if (ws != nil) != (tc.want == 101) {
				t.Fatalf("connection open: %v, want %v", ws != nil, tc.want == 101)
			}
		})
	}
}

// SPEC: two-way MOCK routes answer with their integration
// response's template, which reads the rendered request ($input), $context
// and $stageVariables; a one-way MOCK route sends nothing.
func TestMockTwoWay(t *testing.T) {
	g := startGateway(t, buildPlan(t, mockAPI, nil), nil)
	ws := dial(t, g, "/dev")

	send(t, ws, `{"action": "ping", "id": 7}`)
	var pong map[string]any
	got := recv(t, ws)
	if err := json.Unmarshal([]byte(got), &pong); err != nil {
		t.Fatalf("pong is not JSON: %q", got)
	}
	if pong["type"] != "pong" || pong["id"] != 7.0 || pong["stage"] != "dev" || pong["greeting"] != "hello" || !idPattern.MatchString(pong["connectionId"].(string)) {
		t.Fatalf("pong = %q", got)
	}

	send(t, ws, `{"action": "echo", "message": "hi there"}`)
	if got, want := recv(t, ws), `{"echo": "hi there", "upper": "HI THERE"}`; got != want {
		t.Fatalf("echo = %q, want %q", got, want)
	}
	send(t, ws, `{"action": "echo", "format": "fail"}`)
	if got, want := recv(t, ws), `{"error": "failed on purpose"}`; got != want {
		t.Fatalf("echo fail = %q, want %q", got, want)
	}

	send(t, ws, `{"action": "silent", "id": 1}`)
	noMessage(t, ws, 200*time.Millisecond)
}

const httpAPI = `
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: http
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: $request.body.action
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties:
      ApiId: !Ref Api
      StageName: dev
      StageVariables:
        env: test
  Connect:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: $connect
      Target: !Sub integrations/${ConnectHttp}
  ConnectHttp:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: HTTP
      IntegrationUri: http://127.0.0.1:1/connect
      TemplateSelectionExpression: \$default
      RequestTemplates:
        $default: '{"connectionId": "$context.connectionId", "event": "$context.eventType", "token": "$input.params(''token'')"}'
  Send:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: send
      RouteResponseSelectionExpression: $default
      Target: !Sub integrations/${SendHttp}
  SendResponse:
    Type: AWS::ApiGatewayV2::RouteResponse
    Properties:
      ApiId: !Ref Api
      RouteId: !Ref Send
      RouteResponseKey: $default
  SendHttp:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: HTTP
      IntegrationMethod: PUT
      IntegrationUri: http://127.0.0.1:1/send
      PassthroughBehavior: NEVER
      TemplateSelectionExpression: ${request.body.kind}
      RequestParameters:
        integration.request.header.X-Connection: context.connectionId
        integration.request.querystring.env: stageVariables.env
      RequestTemplates:
        chat: |
          {
            "to": $input.json('$.to'),
            "text": "$util.escapeJavaScript($input.path('$.text'))",
            "from": "$context.connectionId",
            "env": "$stageVariables.env"
          }
        text/plain: 'to=$input.path(''$.to'')'
  SendOK:
    Type: AWS::ApiGatewayV2::IntegrationResponse
    Properties:
      ApiId: !Ref Api
      IntegrationId: !Ref SendHttp
      IntegrationResponseKey: /2\d\d/
      ResponseTemplates:
        $default: '{"delivered": $input.json(''$.count''), "status": "ok"}'
  SendFailed:
    Type: AWS::ApiGatewayV2::IntegrationResponse
    Properties:
      ApiId: !Ref Api
      IntegrationId: !Ref SendHttp
      IntegrationResponseKey: /4\d\d/
      TemplateSelectionExpression: ${integration.response.header.X-Reason}
      ResponseTemplates:
        busy: '{"error": "busy, retry later"}'
  SendOther:
    Type: AWS::ApiGatewayV2::IntegrationResponse
    Properties:
      ApiId: !Ref Api
      IntegrationId: !Ref SendHttp
      IntegrationResponseKey: $default
`

// SPEC: an HTTP (non-proxy) integration sends the rendered request
// template, with its mapped headers and query strings; the answer's status
// picks the integration response whose template reshapes what the client
// gets (none: the body as is).
func TestHTTPTemplates(t *testing.T) {
	connect := newBackend(t, nil)
	sendB := newBackend(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		switch {
		case strings.Contains(string(body), "nobody"):
			w.Header().Set("X-Reason", "busy")
			w.WriteHeader(409)
			_, _ = w.Write([]byte(`{"raw": "conflict"}`))
		case strings.Contains(string(body), "teapot"):
			w.WriteHeader(503)
			_, _ = w.Write([]byte(`backend down`))
		default:
			_, _ = w.Write([]byte(`{"count": 2}`))
		}
	})
	p := buildPlan(t, httpAPI, map[string]string{"ConnectHttp": connect.URL + "/connect", "SendHttp": sendB.URL + "/send"})
	g := startGateway(t, p, nil)
	ws := dial(t, g, "/dev?token=abc")

	c := connect.next(t)
	var cb map[string]string
	if err := json.Unmarshal([]byte(c.Body), &cb); err != nil {
		t.Fatalf("$connect body is not JSON: %q", c.Body)
	}
	connID := cb["connectionId"]
	if !idPattern.MatchString(connID) || cb["event"] != "CONNECT" || cb["token"] != "abc" || c.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("$connect got %q (Content-Type %q)", c.Body, c.Header.Get("Content-Type"))
	}

	send(t, ws, `{"action": "send", "kind": "chat", "to": ["a", "b"], "text": "say \"hi\""}`)
	r := sendB.next(t)
	want := "{\n  \"to\": [\"a\",\"b\"],\n  \"text\": \"say \\\"hi\\\"\",\n  \"from\": \"" + connID + "\",\n  \"env\": \"test\"\n}\n"
	if r.Body != want {
		t.Errorf("backend got body\n%s\nwant\n%s", r.Body, want)
	}
	if r.Method != "PUT" || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("X-Connection") != connID || r.Query["env"][0] != "test" {
		t.Errorf("backend got %s, Content-Type %q, X-Connection %q, query %v", r.Method, r.Header.Get("Content-Type"), r.Header.Get("X-Connection"), r.Query)
	}
	if got, want := recv(t, ws), `{"delivered": 2, "status": "ok"}`; got != want {
		t.Errorf("client got %q, want %q", got, want)
	}

	// A template keyed by a media type sends that Content-Type.
	send(t, ws, `{"action": "send", "kind": "text/plain", "to": "nobody"}`)
	r = sendB.next(t)
	if r.Body != "to=nobody" || r.Header.Get("Content-Type") != "text/plain" {
		t.Errorf("backend got %q with Content-Type %q", r.Body, r.Header.Get("Content-Type"))
	}
	// 409: the /4\d\d/ response, its template chosen by a response header.
	if got, want := recv(t, ws), `{"error": "busy, retry later"}`; got != want {
		t.Errorf("client got %q, want %q", got, want)
	}

	// 503: the $default response, which has no template: the body as is.
	send(t, ws, `{"action": "send", "kind": "chat", "to": "teapot", "text": ""}`)
	sendB.next(t)
	if got, want := recv(t, ws), `backend down`; got != want {
		t.Errorf("client got %q, want %q", got, want)
	}

	// PassthroughBehavior NEVER: no template for the key, the backend is not
	// called and the client gets the Unsupported Media Type frame.
	send(t, ws, `{"action": "send", "kind": "video"}`)
	got := recv(t, ws)
	if m := errorFrameRE("Unsupported Media Type").FindStringSubmatch(got); m == nil || m[1] != connID {
		t.Errorf("client got %q, want the Unsupported Media Type frame", got)
	}
	sendB.none(t, 100*time.Millisecond)
}

const modelAPI = `
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: models
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: $request.body.action
  Send:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: sendMessage
      Target: !Sub integrations/${Proxy}
      ModelSelectionExpression: ${request.body.messageType}
      RequestModels:
        email: emailModel
  Strict:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: strict
      Target: !Sub integrations/${Proxy}
      ModelSelectionExpression: \$default
      RequestModels:
        $default: countModel
  Proxy:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: HTTP_PROXY
      IntegrationMethod: POST
      IntegrationUri: http://127.0.0.1:1/
  EmailModel:
    Type: AWS::ApiGatewayV2::Model
    Properties:
      ApiId: !Ref Api
      Name: emailModel
      ContentType: application/json
      Schema:
        $schema: http://json-schema.org/draft-04/schema#
        type: object
        required: [address]
        properties:
          address: {type: string}
  CountModel:
    Type: AWS::ApiGatewayV2::Model
    Properties:
      ApiId: !Ref Api
      Name: countModel
      Schema: '{"type": "object", "properties": {"count": {"type": "integer", "maximum": 10}}, "required": ["count"]}'
`

// SPEC: a message that fails its route's model gets the Invalid
// request body frame (the text of AWS's request-validation example) and its
// backend is not called; a valid one goes through. No model for the key and
// no $default model fails too.
func TestRequestModels(t *testing.T) {
	b := newBackend(t, nil)
	g := startGateway(t, buildPlan(t, modelAPI, map[string]string{"Proxy": b.URL}), nil)
	tests := []struct {
		name, msg string
		valid     bool
	}{
		{"missing property", `{"action": "sendMessage", "messageType": "email"}`, false},
		{"valid", `{"action": "sendMessage", "messageType": "email", "address": "mary_major@example.com"}`, true},
		{"wrong type", `{"action": "sendMessage", "messageType": "email", "address": 42}`, false},
		{"no model for the key", `{"action": "sendMessage", "messageType": "sms", "address": "x"}`, false},
		{"default model valid", `{"action": "strict", "count": 3}`, true},
		{"default model maximum", `{"action": "strict", "count": 11}`, false},
		{"default model integer", `{"action": "strict", "count": 1.5}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ws := dial(t, g, "/local") // one connection each: a read timeout breaks a gorilla connection
			send(t, ws, tc.msg)
			if tc.valid {
				if got := b.next(t); got.Body != tc.msg {
					t.Fatalf("backend got %q, want %q", got.Body, tc.msg)
				}
				noMessage(t, ws, 100*time.Millisecond)
				return
			}
			got := recv(t, ws)
			if errorFrameRE("Invalid request body").FindStringSubmatch(got) == nil {
				t.Fatalf("client got %q, want the Invalid request body frame", got)
			}
			b.none(t, 100*time.Millisecond)
		})
	}
}
