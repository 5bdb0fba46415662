package compile

import (
	"strings"
	"testing"
)

// samAuthTemplate is a SAM WebSocketApi whose Auth each case supplies.
const samAuthTemplate = `Transform: AWS::Serverless-2016-10-31
Globals:
  Function: {Runtime: nodejs22.x, CodeUri: src/}
Resources:
  Chat:
    Type: AWS::Serverless::WebSocketApi
    Properties:
      RouteSelectionExpression: $request.body.action
AUTH
      Routes:
        $connect: {FunctionArn: !GetAtt OnConnect.Arn}
        send: {FunctionArn: !GetAtt OnConnect.Arn}
  OnConnect:
    Type: AWS::Serverless::Function
    Properties: {Handler: connect.handler}
  AuthFn:
    Type: AWS::Serverless::Function
    Properties: {Handler: auth.handler}
`

// The $connect authorization SAM's Auth and plain ApiGatewayV2 Routes give
// the plan (SPEC ): AWS_IAM needs a signed handshake; CUSTOM runs the
// generated ChatConnectAuthorizer (with or without InvokeRole, which sets
// AuthorizerCredentialsArn and only matters on AWS) with its identity sources.
func TestConnectAuth(t *testing.T) {
	for _, tc := range []struct {
		name, auth string
		iam        bool
		authorizer string // identity sources of the authorizer; "" for none
	}{
		{"none", "", false, ""},
		{"NONE", "      Auth: {AuthType: NONE}", false, ""},
		{"AWS_IAM", "      Auth: {AuthType: AWS_IAM}", true, ""},
		{"CUSTOM", "      Auth: {AuthType: CUSTOM, AuthArn: !GetAtt AuthFn.Arn, IdentitySource: [route.request.header.Auth, route.request.querystring.token]}",
			false, "route.request.header.Auth route.request.querystring.token"},
		{"CUSTOM with InvokeRole", "      Auth: {AuthType: CUSTOM, AuthArn: !GetAtt AuthFn.Arn, InvokeRole: arn:aws:iam::123456789012:role/invoker, IdentitySource: [route.request.querystring.token]}",
			false, "route.request.querystring.token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := load(t, strings.Replace(samAuthTemplate, "AUTH\n", tc.auth+"\n", 1))
			plan, ds := Compile(st, Options{})
			if plan == nil {
				t.Fatalf("no plan:\n%s", diagText(ds))
			}
			routes := plan.Apis[0].Stages[0].Routes
			c := routes["$connect"]
			if c.IAM != tc.iam || routes["send"].IAM {
				t.Errorf("$connect IAM = %v, want %v (send: %v)", c.IAM, tc.iam, routes["send"].IAM)
			}
			if tc.authorizer == "" {
				if c.Authorizer != nil {
					t.Errorf("authorizer %+v, want none", c.Authorizer)
				}
				return
			}
			a := c.Authorizer
			if a == nil {
				t.Fatal("no authorizer")
			}
			var ids []string
			for _, s := range a.IdentitySources {
				ids = append(ids, s.Expr)
			}
			if got := strings.Join(ids, " "); got != tc.authorizer || a.LogicalID != "ChatConnectAuthorizer" || a.Function != "AuthFn" || a.NotRunnable != "" {
				t.Errorf("authorizer %s invoking %s (%q), identity %q; want ChatConnectAuthorizer invoking AuthFn, identity %q", a.LogicalID, a.Function, a.NotRunnable, got, tc.authorizer)
			}
		})
	}
}

// AuthorizationType AWS_IAM on a plain ApiGatewayV2 $connect Route.
func TestConnectIAMRoute(t *testing.T) {
	st := load(t, `Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: a, ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action}
  Connect:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Api, RouteKey: $connect, AuthorizationType: AWS_IAM, Target: !Sub "integrations/${Integ}"}
  Integ:
    Type: AWS::ApiGatewayV2::Integration
    Properties: {ApiId: !Ref Api, IntegrationType: MOCK}
`)
	plan, ds := Compile(st, Options{})
	if plan == nil {
		t.Fatalf("no plan:\n%s", diagText(ds))
	}
	if !plan.Apis[0].Stages[0].Routes["$connect"].IAM {
		t.Error("$connect route without IAM")
	}
}
