package runtime

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgw/wsgw/runtime/lambda"
)

// awsLambdaAPI has a two-way route whose AWS (non-proxy) integration invokes
// Fn: the request template renders the payload, the integration responses
// shape the answer, a function error picking the response whose pattern
// matches its message (SPEC ).
const awsLambdaAPI = `
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: calc
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: $request.body.action
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties:
      ApiId: !Ref Api
      StageName: dev
  Route:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: double
      RouteResponseSelectionExpression: $default
      Target: !Sub integrations/${Integ}
  RouteResponse:
    Type: AWS::ApiGatewayV2::RouteResponse
    Properties:
      ApiId: !Ref Api
      RouteId: !Ref Route
      RouteResponseKey: $default
  Integ:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: AWS
      IntegrationMethod: POST
      IntegrationUri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations
      TemplateSelectionExpression: \$default
      RequestTemplates:
        $default: '{"x": $input.json(''$.x''), "conn": "$context.connectionId"}'
  Ok:
    Type: AWS::ApiGatewayV2::IntegrationResponse
    Properties:
      ApiId: !Ref Api
      IntegrationId: !Ref Integ
      IntegrationResponseKey: $default
      TemplateSelectionExpression: \$default
      ResponseTemplates:
        $default: 'doubled=$input.path(''$.y'') for=$input.path(''$.conn'')'
  Bad:
    Type: AWS::ApiGatewayV2::IntegrationResponse
    Properties:
      ApiId: !Ref Api
      IntegrationId: !Ref Integ
      IntegrationResponseKey: /negative.*/
      TemplateSelectionExpression: \$default
      ResponseTemplates:
        $default: 'refused: $input.path(''$.errorMessage'')'
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      Role: arn:aws:iam::123456789012:role/fn
      Code: CODE
`

// doubleHandler is Fn in Node.js: it doubles x and refuses negatives.
const doubleHandler = `exports.handler = async (e) => {
  if (e.x < 0) throw new Error("negative input " + e.x);
  return {y: e.x * 2, conn: e.conn};
};
`

// checkDouble drives the route: a result through the $default response, a
// function error through the response its message matches, and a failure
// that is no function error as Internal server error.
func checkDouble(t *testing.T, g *Gateway, broken string) {
	t.Helper()
	ws := dial(t, g, "/dev")
	_ = ws.SetReadDeadline(time.Now().Add(20 * time.Second))
	send(t, ws, `{"action":"ping"}`) // no such route, no $default: Forbidden, and we learn our id
	var forbidden struct{ ConnectionID string }
	_ = json.Unmarshal([]byte(recv(t, ws)), &forbidden)
	send(t, ws, `{"action":"double","x":21}`)
	if got, want := recv(t, ws), "doubled=42 for="+forbidden.ConnectionID; got != want {
		t.Errorf("double 21: got %q, want %q", got, want)
	}
	send(t, ws, `{"action":"double","x":-1}`)
	if got, want := recv(t, ws), "refused: negative input -1"; got != want {
		t.Errorf("double -1: got %q, want %q", got, want)
	}
	if broken != "" {
		send(t, ws, `{"action":"double","x":"`+broken+`"}`)
		if got := recv(t, ws); !errorFrameRE("Internal server error").MatchString(got) {
			t.Errorf("a failed invocation: got %q, want Internal server error", got)
		}
	}
}

// An AWS integration sent to an --integration URL: the URL stands for the
// function (the rendered payload POSTed, the reply its result, a reply with
// X-Amz-Function-Error a function error).
func TestAWSLambdaIntegrationURL(t *testing.T) {
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			X    any    `json:"x"`
			Conn string `json:"conn"`
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &in); err != nil {
			t.Errorf("payload %q is not the rendered template: %v", b, err)
		}
		switch x := in.X.(type) {
		case float64:
			if x < 0 {
				w.Header().Set("X-Amz-Function-Error", "Unhandled")
				_, _ = io.WriteString(w, `{"errorMessage":"negative input -1","errorType":"Error"}`)
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"y": x * 2, "conn": in.Conn})
		default:
			w.WriteHeader(http.StatusBadGateway) // not a function error: an integration error
		}
	}))
	defer fn.Close()
	src := strings.Replace(awsLambdaAPI, "CODE", "./nowhere", 1)
	g := startGateway(t, buildPlan(t, src, map[string]string{"Integ": fn.URL}), nil)
	checkDouble(t, g, "boom")
}

// The same integration running Fn as a local Node.js process.
func TestAWSLambdaIntegrationRunner(t *testing.T) {
	requireNode(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.js"), []byte(doubleHandler), 0o644); err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(awsLambdaAPI, "CODE", dir, 1)
	var out io.Writer = io.Discard
	if testing.Verbose() {
		out = testWriter{t}
	}
	runner := lambda.NewRunner(lambda.Options{Output: out, Logger: slog.New(slog.NewTextHandler(out, nil))})
	t.Cleanup(func() { runner.Close() })
	g := startGateway(t, buildPlan(t, src, nil), func(o *Options) { o.Lambda = runner })
	checkDouble(t, g, "")
}
