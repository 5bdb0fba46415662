package template

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

const samChat = `Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {Runtime: nodejs20.x, Handler: index.handler, InlineCode: "x"}
  ChatApi:
    Type: AWS::Serverless::WebSocketApi
    Properties:
      RouteSelectionExpression: $request.body.action
      StageName: prod
      Routes:
        $connect:
          FunctionArn: !GetAtt Fn.Arn
        sendMessage:
          FunctionArn: !GetAtt Fn.Arn
          IntegrationTimeout: 5000
  SendResponse:
    Type: AWS::ApiGatewayV2::RouteResponse
    Properties:
      ApiId: !Ref ChatApi
      RouteId: !Ref ChatApiSendmessageRoute
      RouteResponseKey: $default
Outputs:
  Stage:
    Value: !Ref ChatApi.Stage
  Url:
    Value: !Sub wss://${ChatApi}.execute-api.${AWS::Region}.amazonaws.com/${ChatApi.Stage}
`

// TestSAMWebSocketExpand checks the resources SAM generates for a
// WebSocketApi, that other resources and outputs can reference them, and
// SAM's own references (SPEC ).
func TestSAMWebSocketExpand(t *testing.T) {
	st, ds := load(t, "sam.yaml", samChat, Options{})
	if ds.HasErrors() {
		t.Fatalf("Load: %v", ds.Err())
	}
	var got []string
	for _, rs := range st.Resources {
		got = append(got, rs.LogicalID+" "+rs.Type)
	}
	want := []string{
		"Fn AWS::Serverless::Function",
		"ChatApi AWS::ApiGatewayV2::Api",
		"ChatApiConnectRoute AWS::ApiGatewayV2::Route",
		"ChatApiConnectIntegration AWS::ApiGatewayV2::Integration",
		"ChatApiConnectPermission AWS::Lambda::Permission",
		"ChatApiSendmessageRoute AWS::ApiGatewayV2::Route",
		"ChatApiSendmessageIntegration AWS::ApiGatewayV2::Integration",
		"ChatApiSendmessagePermission AWS::Lambda::Permission",
		"ChatApiprodStage AWS::ApiGatewayV2::Stage",
		"SendResponse AWS::ApiGatewayV2::RouteResponse",
	}
	if !slices.Equal(got, want) {
		t.Errorf("resources:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	rr := st.Resource("SendResponse").Prop("RouteId")
	if rr.Value != st.Resource("ChatApiSendmessageRoute").PhysicalID || rr.Links[0].LogicalID != "ChatApiSendmessageRoute" {
		t.Errorf("RouteId resolved to %q %v", rr.Value, rr.Links)
	}
	if v := st.Resource("ChatApiSendmessageRoute").Prop("Target"); v.Value != "integrations/"+st.Resource("ChatApiSendmessageIntegration").PhysicalID {
		t.Errorf("Target = %q", v.Value)
	}
	if v := st.Resource("ChatApiSendmessageIntegration").Prop("IntegrationUri").Value; v != "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:Fn/invocations" {
		t.Errorf("IntegrationUri = %q", v)
	}
	if v := st.Resource("ChatApiSendmessageIntegration").Prop("TimeoutInMillis").Value; v != "5000" {
		t.Errorf("TimeoutInMillis = %q", v)
	}
	if v := st.Resource("ChatApiConnectPermission").Prop("SourceArn").Value; v != "arn:aws:execute-api:us-east-1:123456789012:"+st.Resource("ChatApi").PhysicalID+"/prod/$connect" {
		t.Errorf("SourceArn = %q", v)
	}
	outs := map[string]string{}
	for _, o := range st.Outputs {
		outs[o.Name] = o.Value.Value
	}
	if outs["Stage"] != "prod" || !strings.HasSuffix(outs["Url"], ".amazonaws.com/prod") {
		t.Errorf("outputs %v", outs)
	}
	// Generated nodes point into the SAM resource: the route at its key.
	if r := st.Resource("ChatApiSendmessageRoute").Range; r.Line != 14 || r.Col != 9 {
		t.Errorf("ChatApiSendmessageRoute at %s, want sam.yaml:14:9", r)
	}
}

// TestSAMWebSocketDiagnosticsPointIntoSAM checks that a problem the ordinary
// checks find in a generated resource is reported at the SAM node that made it.
func TestSAMWebSocketDiagnosticsPointIntoSAM(t *testing.T) {
	src := strings.Replace(samChat, "FunctionArn: !GetAtt Fn.Arn\n        sendMessage", "FunctionArn: !GetAtt Fnn.Arn\n        sendMessage", 1)
	_, ds := load(t, "sam.yaml", src, Options{})
	var lines []string
	for _, d := range ds {
		lines = append(lines, d.Text())
	}
	got := strings.Join(lines, "\n")
	// Once for the Integration's Sub, once for the Permission's FunctionName: both at the FunctionArn.
	if want := "sam.yaml:13:24: error: GetAtt names Fnn, which is not a resource of this template (did you mean Fn?) [WSGW1006]"; !strings.Contains(got, want) {
		t.Errorf("got:\n%s\nwant a line:\n%s", got, want)
	}
	if len(ds) != 1 {
		t.Errorf("want the diagnostic once, got %d", len(ds))
	}
	for _, d := range ds {
		if d.Range.Line < 6 || d.Range.Line > 15 {
			t.Errorf("diagnostic outside the WebSocketApi: %s", d.Text())
		}
	}
}

// TestSAMWebSocketGlobals checks Globals.WebSocketApi as SAM merges it, with
// IgnoreGlobals, and PropagateTags.
func TestSAMWebSocketGlobals(t *testing.T) {
	src := `Globals:
  WebSocketApi:
    StageVariables: {a: "1", b: "2"}
    Tags: {team: chat}
    PropagateTags: true
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {Runtime: nodejs20.x, Handler: index.handler, InlineCode: "x"}
  Merged:
    Type: AWS::Serverless::WebSocketApi
    Properties:
      RouteSelectionExpression: $request.body.action
      StageVariables: {b: "3"}
      Tags: {cost: x}
      Routes: {$default: {FunctionArn: !GetAtt Fn.Arn}}
  Ignoring:
    Type: AWS::Serverless::WebSocketApi
    IgnoreGlobals: [StageVariables]
    Properties:
      RouteSelectionExpression: $request.body.action
      Routes: {$default: {FunctionArn: !GetAtt Fn.Arn}}
`
	st, ds := load(t, "g.yaml", src, Options{})
	if ds.HasErrors() {
		t.Fatalf("Load: %v", ds.Err())
	}
	vars := st.Resource("MergedDefaultStage").Prop("StageVariables")
	if vars.Get("a").Str() != "1" || vars.Get("b").Str() != "3" {
		t.Errorf("merged StageVariables = %v", vars.Interface())
	}
	if st.Resource("IgnoringDefaultStage").Prop("StageVariables") != nil {
		t.Errorf("IgnoreGlobals [StageVariables] kept them")
	}
	want := map[string]any{"team": "chat", "cost": "x", "websocketapi:createdBy": "SAM"}
	for _, id := range []string{"Merged", "MergedDefaultStage"} {
		if got := st.Resource(id).Prop("Tags").Interface(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s Tags = %v, want %v (PropagateTags)", id, got, want)
		}
	}
}

// TestSAMWebSocketFailedExpansion checks that references to an API SAM
// cannot expand add no diagnostics of their own.
func TestSAMWebSocketFailedExpansion(t *testing.T) {
	src := strings.Replace(samChat, "StageName: prod", "StageName: $default", 1)
	_, ds := load(t, "sam.yaml", src, Options{})
	if len(ds) != 1 || ds[0].Rule != RuleSAMStageName.ID {
		t.Errorf("want only %s, got:\n%v", RuleSAMStageName.ID, ds.Err())
	}
}

// TestSAMHash checks SAM's LogicalIdGenerator hash (first 10 hex digits of
// SHA-1 of the value, JSON with sorted keys for anything but a string).
func TestSAMHash(t *testing.T) {
	ref := &Node{Kind: Map, Fields: []Field{{Key: "Ref", Value: &Node{Kind: String, Value: "MyDomainName"}}}}
	for _, tc := range []struct {
		n    *Node
		want string
	}{
		{&Node{Kind: String, Value: "abc123456"}, "370194ff6e"}, // SAM's RecordSetGroup370194ff6e
		{ref, "e12ae193a4"}, // SAM's ApiGatewayDomainNameV2e12ae193a4
		{&Node{Kind: String, Value: ""}, ""},
	} {
		if got := samHash(tc.n); got != tc.want {
			t.Errorf("samHash(%v) = %q, want %q", tc.n.Interface(), got, tc.want)
		}
	}
	if got := pyQuote("é\"\n"); got != `"\u00e9\"\n"` {
		t.Errorf("pyQuote = %s", got)
	}
}

// TestSAMWebSocketReferences checks SAM's references to what it generates:
// Ref, Sub and GetAtt of Api.Stage and Api.DomainName.
func TestSAMWebSocketReferences(t *testing.T) {
	src := `Resources:
  Api:
    Type: AWS::Serverless::WebSocketApi
    Properties:
      RouteSelectionExpression: $request.body.action
      StageName: v1
      Domain: {DomainName: ws.example.com, CertificateArn: arn:aws:acm:us-east-1:123456789012:certificate/x}
      Routes: {$default: {FunctionArn: arn:aws:lambda:us-east-1:123456789012:function:f}}
Outputs:
  Stage: {Value: !Ref Api.Stage}
  Domain: {Value: !Ref Api.DomainName}
  Regional: {Value: !GetAtt Api.DomainName.RegionalDomainName}
  Url: {Value: !Sub "https://${Api.DomainName}/${Api.Stage}"}
`
	st, ds := load(t, "r.yaml", src, Options{})
	if ds.HasErrors() {
		t.Fatalf("Load: %v", ds.Err())
	}
	got := map[string]string{}
	for _, o := range st.Outputs {
		got[o.Name] = o.Value.Value
		if len(o.Value.Links) == 0 {
			t.Errorf("output %s has no link to a resource", o.Name)
		}
	}
	domain := st.Resource("ApiGatewayDomainNameV2" + samHash(&Node{Kind: String, Value: "ws.example.com"})).PhysicalID
	want := map[string]string{"Stage": "v1", "Domain": domain, "Regional": domain + ".RegionalDomainName", "Url": "https://" + domain + "/v1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("outputs %v, want %v", got, want)
	}
}
