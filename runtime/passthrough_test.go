package runtime

import (
	"testing"
	"time"
)

const passthroughAPI = `
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: passthrough
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: $request.body.action
  Match:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: match
      Target: !Sub integrations/${NoMatch}
  NoMatch:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: HTTP
      IntegrationUri: http://127.0.0.1:1/
      TemplateSelectionExpression: ${request.body.kind}
      RequestTemplates:
        wrapped: '{"wrapped": $input.json(''$'')}'
  Templates:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: templates
      Target: !Sub integrations/${NoTemplates}
  NoTemplates:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: HTTP
      IntegrationUri: http://127.0.0.1:1/
      PassthroughBehavior: WHEN_NO_TEMPLATES
      TemplateSelectionExpression: ${request.body.kind}
      RequestTemplates:
        wrapped: '{"wrapped": true}'
  Bare:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: bare
      Target: !Sub integrations/${NoTemplatesAtAll}
  NoTemplatesAtAll:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: HTTP
      IntegrationUri: http://127.0.0.1:1/
      PassthroughBehavior: WHEN_NO_TEMPLATES
  Binary:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: binary
      Target: !Sub integrations/${ToBinary}
  ToBinary:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: HTTP
      IntegrationUri: http://127.0.0.1:1/
      ContentHandlingStrategy: CONVERT_TO_BINARY
      TemplateSelectionExpression: \$default
      RequestTemplates:
        $default: $input.path('$.data')
`

// SPEC: PassthroughBehavior decides what a message no template applies
// to becomes: WHEN_NO_MATCH (the default) sends it as received,
// WHEN_NO_TEMPLATES only when the integration has no template at all;
// ContentHandlingStrategy CONVERT_TO_BINARY decodes the base64 payload.
func TestPassthrough(t *testing.T) {
	b := newBackend(t, nil)
	all := map[string]string{}
	for _, id := range []string{"NoMatch", "NoTemplates", "NoTemplatesAtAll", "ToBinary"} {
		all[id] = b.URL + "/" + id
	}
	g := startGateway(t, buildPlan(t, passthroughAPI, all), nil)
	tests := []struct {
		name, msg  string
		path, body string // what the backend gets; "" for nothing
		frame      string // error frame the client gets
	}{
		{"template", `{"action":"match","kind":"wrapped"}`, "/NoMatch", `{"wrapped": {"action":"match","kind":"wrapped"}}`, ""},
		{"when no match", `{"action":"match","kind":"other"}`, "/NoMatch", `{"action":"match","kind":"other"}`, ""},
		{"when no templates refuses", `{"action":"templates","kind":"other"}`, "", "", "Unsupported Media Type"},
		{"when no templates, none at all", `{"action":"bare"}`, "/NoTemplatesAtAll", `{"action":"bare"}`, ""},
		{"convert to binary", `{"action":"binary","data":"aGVsbG8="}`, "/ToBinary", "hello", ""},
		{"convert to binary, not base64", `{"action":"binary","data":"%%%"}`, "", "", "Internal server error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ws := dial(t, g, "/local")
			send(t, ws, tc.msg)
			if tc.frame != "" {
				if got := recv(t, ws); errorFrameRE(tc.frame).FindStringSubmatch(got) == nil {
					t.Fatalf("client got %q, want the %s frame", got, tc.frame)
				}
				b.none(t, 100*time.Millisecond)
				return
			}
			r := b.next(t)
			if r.Path != tc.path || r.Body != tc.body {
				t.Fatalf("backend got %s %q, want %s %q", r.Path, r.Body, tc.path, tc.body)
			}
		})
	}
}
