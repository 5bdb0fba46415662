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
          #elseif($input.params('bare') != "")
          {statusCode: $input.params('bare'), 'other': 'x'}
          #elseif($input.params('none') != "")
          {"status": 200}
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
        $default: '{"type": "pong", "input": $input.json(''$''), "body": "$input.body", "connectionId": "$context.connectionId", "stage": "$context.stage", "greeting": "$stageVariables.greeting"}'
  Status:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: status
      RouteResponseSelectionExpression: $default
      Target: !Sub integrations/${StatusMock}
  StatusResponse:
    Type: AWS::ApiGatewayV2::RouteResponse
    Properties:
      ApiId: !Ref Api
      RouteId: !Ref Status
      RouteResponseKey: $default
  StatusMock:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: MOCK
      TemplateSelectionExpression: \$default
      RequestTemplates:
        $default: '{"statusCode": $input.json(''$.code'')}'
  StatusOK:
    Type: AWS::ApiGatewayV2::IntegrationResponse
    Properties:
      ApiId: !Ref Api
      IntegrationId: !Ref StatusMock
      IntegrationResponseKey: /2\d\d/
      ResponseTemplates:
        $default: '{"ok": true}'
  StatusClientError:
    Type: AWS::ApiGatewayV2::IntegrationResponse
    Properties:
      ApiId: !Ref Api
      IntegrationId: !Ref StatusMock
      IntegrationResponseKey: /4\d\d/
      TemplateSelectionExpression: ${integration.response.statuscode}
      ResponseTemplates:
        "404": '{"error": "not found"}'
        $default: '{"error": "client error"}'
  StatusOther:
    Type: AWS::ApiGatewayV2::IntegrationResponse
    Properties:
      ApiId: !Ref Api
      IntegrationId: !Ref StatusMock
      IntegrationResponseKey: $default
      ResponseTemplates:
        $default: '{"other": "$context.routeKey"}'
  Raw:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: raw
      RouteResponseSelectionExpression: $default
      Target: !Sub integrations/${RawMock}
  RawResponse:
    Type: AWS::ApiGatewayV2::RouteResponse
    Properties:
      ApiId: !Ref Api
      RouteId: !Ref Raw
      RouteResponseKey: $default
  RawMock:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: MOCK
  RawCreated:
    Type: AWS::ApiGatewayV2::IntegrationResponse
    Properties:
      ApiId: !Ref Api
      IntegrationId: !Ref RawMock
      IntegrationResponseKey: /201/
      ResponseTemplates:
        $default: '{"created": true}'
  Silent:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: silent
      Target: !Sub integrations/${PingMock}
`

// SPEC: a MOCK $connect accepts or refuses the handshake with the
// status its request template renders; $input.params reads the query string.
// A statusCode that is missing or not an integer is API Gateway's "Unable to
// parse statusCode", refused with 500; a bare statusCode key is read as AWS
// reads it.
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
		{"bare key", "?bare=403", 403},
		{"string statusCode is 500", "?status=%22204%22", 500},
		{"decimal statusCode is 500", "?status=204.0", 500},
		{"not JSON is 500", "?status=abc", 500},
		{"no statusCode is 500", "?none=1", 500},
		{"not an HTTP status is 500", "?status=999", 500},
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
// response's template. A mock's response has no body, so that template's
// $input is empty: it reads $context and $stageVariables, and the status
// (from the request template's statusCode) picks the integration response
// and its template. A one-way MOCK route sends nothing.
func TestMockTwoWay(t *testing.T) {
	g := startGateway(t, buildPlan(t, mockAPI, nil), nil)
	ws := dial(t, g, "/dev")

	send(t, ws, `{"action": "ping", "id": 7}`)
	var pong map[string]any
	got := recv(t, ws)
	if err := json.Unmarshal([]byte(got), &pong); err != nil {
		t.Fatalf("pong is not JSON: %q", got)
	}
	connID, _ := pong["connectionId"].(string)
	if pong["type"] != "pong" || pong["stage"] != "dev" || pong["greeting"] != "hello" || !idPattern.MatchString(connID) {
		t.Fatalf("pong = %q", got)
	}
	// Nothing of the message or of the rendered request reaches the
	// response template.
	if in, ok := pong["input"].(map[string]any); !ok || len(in) != 0 || pong["body"] != "{}" {
		t.Errorf("the response template's $input is %v, $input.body %q; want {} for both", pong["input"], pong["body"])
	}

	tests := []struct{ name, msg, want string }{
		{"2xx", `{"action": "status", "code": 201}`, `{"ok": true}`},
		{"404 template", `{"action": "status", "code": 404}`, `{"error": "not found"}`},
		{"4xx default template", `{"action": "status", "code": 418}`, `{"error": "client error"}`},
		{"any integer", `{"action": "status", "code": -1000}`, `{"other": "status"}`},
		{"zero", `{"action": "status", "code": 0}`, `{"other": "status"}`},
		{"passthrough body", `{"action": "raw", "statusCode": 201}`, `{"created": true}`},
	}
	for _, tc := range tests {
		send(t, ws, tc.msg)
		if got := recv(t, ws); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	// Unable to parse statusCode: the Internal server error frame.
	for _, msg := range []string{
		`{"action": "status", "code": "200"}`,
		`{"action": "status", "code": 200.5}`,
		`{"action": "status", "code": 1e2}`,
		`{"action": "status", "code": true}`,
		`{"action": "status"}`,
		`{"action": "raw", "text": "no statusCode"}`,
	} {
		send(t, ws, msg)
		if got := recv(t, ws); errorFrameRE("Internal server error").FindStringSubmatch(got) == nil {
			t.Errorf("%s: got %q, want the Internal server error frame", msg, got)
		}
	}

	send(t, ws, `{"action": "silent", "id": 1}`)
	noMessage(t, ws, 200*time.Millisecond)
}

// mockStatus reads statusCode as API Gateway does (LocalStack's tests,
// recorded against AWS: an integer, any integer; {statusCode: 200} as the
// CDK writes it).
func TestMockStatus(t *testing.T) {
	tests := []struct {
		in   string
		want int // 0: an error
	}{
		{`{"statusCode": 200}`, 200},
		{` {"a": [1, {"statusCode": 5}], "statusCode": 404} `, 404},
		{`{"statusCode": -1000}`, -1000},
		{`{statusCode: 200}`, 200},
		{`{ 'statusCode' : 302, x: y }`, 302},
		{`{"statusCode": "200"}`, 0},
		{`{"statusCode": 200.0}`, 0},
		{`{"statusCode": 2e2}`, 0},
		{`{"statusCode": 0200}`, 0},
		{`{"statusCode": null}`, 0},
		{`{"statusCode": 99999999999}`, 0},
		{`{"statusCode": 200`, 0},
		{`{"status": 200}`, 0},
		{`[{"statusCode": 200}]`, 0},
		{`null`, 0},
		{``, 0},
		{`statusCode: 200`, 0},
	}
	for _, tc := range tests {
		got, err := mockStatus([]byte(tc.in))
		if tc.want == 0 {
			if err == nil {
				t.Errorf("mockStatus(%s) = %d, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("mockStatus(%s) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
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
