package main

import (
	"fmt"
	"strings"

	"github.com/wsgw/wsgw/compile"
	"github.com/wsgw/wsgw/runtime"
	"github.com/wsgw/wsgw/template"
)

// benchTemplate is the Api the in-process gateway serves: every message
// goes to a two-way $default route (SPEC) whose HTTP_PROXY integration
// POSTs it to BackendUrl, so the backend's answer comes back as a frame.
const benchTemplate = `AWSTemplateFormatVersion: '2010-09-09'
Description: wsgw-bench's echo Api.
Parameters:
  BackendUrl:
    Type: String
Resources:
  BenchApi:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: wsgw-bench
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: $request.body.action
  EchoInteg:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref BenchApi
      IntegrationType: HTTP_PROXY
      IntegrationMethod: POST
      IntegrationUri: !Ref BackendUrl
  DefaultRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref BenchApi
      RouteKey: $default
      RouteResponseSelectionExpression: $default
      Target: !Sub integrations/${EchoInteg}
  DefaultRouteResponse:
    Type: AWS::ApiGatewayV2::RouteResponse
    Properties:
      ApiId: !Ref BenchApi
      RouteId: !Ref DefaultRoute
      RouteResponseKey: $default
  BenchStage:
    Type: AWS::ApiGatewayV2::Stage
    Properties:
      ApiId: !Ref BenchApi
      StageName: bench
`

// benchStage is the stage name of benchTemplate.
const benchStage = "bench"

// benchPlan loads and compiles benchTemplate with its integration pointing
// at backendURL.
func benchPlan(backendURL string) (*compile.Plan, error) {
	const file = "wsgw-bench.yaml"
	plan, ds := compile.Build(file, []byte(benchTemplate), template.Options{
		Params: map[string]string{"BackendUrl": backendURL}, Addr: "127.0.0.1:0", RequireParams: true}, compile.Options{})
	if plan == nil {
		return nil, diagError(ds)
	}
	return plan, nil
}

func diagError(ds template.Diagnostics) error {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString("\n  " + d.Text())
	}
	return fmt.Errorf("the bench template does not compile:%s", b.String())
}

// startGateway serves benchTemplate on a free port of 127.0.0.1, with API
// Gateway's limits, logging to nowhere, and throttling only when asked (the
// account-level 10,000 messages/s would otherwise cap the measure). It
// returns the running gateway and the stage's URL.
func startGateway(backendURL string, throttle bool) (*runtime.Gateway, string, error) {
	plan, err := benchPlan(backendURL)
	if err != nil {
		return nil, "", err
	}
	return serveInProcess(plan, throttle, benchStage)
}

// serveInProcess starts a gateway for plan on 127.0.0.1:0 and returns it
// with the URL of its stage.
func serveInProcess(plan *compile.Plan, throttle bool, stage string) (*runtime.Gateway, string, error) {
	o := runtime.DefaultOptions()
	o.Addr = "127.0.0.1:0"
	o.Throttling = throttle
	g, err := runtime.New(plan, o)
	if err != nil {
		return nil, "", err
	}
	if err := g.Start(); err != nil {
		return nil, "", err
	}
	return g, "ws://" + g.Addrs()[0] + "/" + stage, nil
}
