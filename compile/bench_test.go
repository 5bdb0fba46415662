package compile

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wsgw/wsgw/template"
)

// limitsTemplate generates a template at AWS's per-API limits: 300 routes, each
// with its own HTTP_PROXY integration and mappings, and 10 stages.
func limitsTemplate() []byte {
	var b strings.Builder
	b.WriteString(`AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  BackendUrl: {Type: String, Default: "http://127.0.0.1:8080"}
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: limits
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: ${request.body.service}/${request.body.action}
  Deployment:
    Type: AWS::ApiGatewayV2::Deployment
    Properties: {ApiId: !Ref Api}
`)
	for i := range 300 {
		key := fmt.Sprintf("svc%d/act%d", i%17, i)
		if i == 0 {
			key = "$default"
		}
		fmt.Fprintf(&b, `  Integ%[1]d:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: HTTP_PROXY
      IntegrationMethod: POST
      IntegrationUri: !Sub "${BackendUrl}/route/%[1]d"
      TimeoutInMillis: 5000
      RequestParameters:
        integration.request.header.ConnectionId: context.connectionId
        integration.request.header.X-Action: route.request.body.action
        integration.request.querystring.static: "'v%[1]d'"
  Route%[1]d:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: %[2]q
      Target: !Join [/, [integrations, !Ref Integ%[1]d]]
`, i, key)
	}
	for s := range 10 {
		fmt.Fprintf(&b, `  Stage%[1]d:
    Type: AWS::ApiGatewayV2::Stage
    Properties:
      ApiId: !Ref Api
      DeploymentId: !Ref Deployment
      StageName: stage%[1]d
      StageVariables: {color: blue%[1]d}
      DefaultRouteSettings: {ThrottlingRateLimit: 100, ThrottlingBurstLimit: 50}
`, s)
	}
	return []byte(b.String())
}

// BenchmarkValidate measures `wsgw validate` on a template at AWS's limits:
// load, resolve and check every rule.
func BenchmarkValidate(b *testing.B) {
	src := limitsTemplate()
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		st, ds := template.Load("limits.yaml", src, template.Options{})
		if ds.HasErrors() {
			b.Fatal(ds)
		}
		if ds := Check(st); ds.HasErrors() {
			b.Fatal(ds)
		}
	}
}
