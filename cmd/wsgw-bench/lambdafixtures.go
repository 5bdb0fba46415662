package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The functions -mode lambda serves: the same echo handler, answering the
// message's body on a two-way $default route, in each runtime.
const (
	nodeEchoHandler = "exports.handler = async (event) => ({ statusCode: 200, body: event.body });\n"
	// slsConnect accepts every connection on serverless-offline.
	slsConnect        = "exports.connect = async () => ({ statusCode: 200 });\n"
	pythonEchoHandler = `def handler(event, context):
    return {"statusCode": 200, "body": event["body"]}
`
	goEchoHandler = `// Command bootstrap is wsgw-bench's Go echo function (aws-lambda-go).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handler(_ context.Context, e events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
	return events.APIGatewayProxyResponse{StatusCode: 200, Body: e.Body}, nil
}

func main() { lambda.Start(handler) }
`
	goEchoMod = `module wsgw.bench/goecho

go 1.26

require github.com/aws/aws-lambda-go v1.55.1
`
	goEchoSum = `github.com/aws/aws-lambda-go v1.55.1 h1:We2cCp4BwqqH/JW+bEEo1FhgG71rslvjfi4y7KmlrR0=
github.com/aws/aws-lambda-go v1.55.1/go.mod h1:V+NzkHNR6vBC8C1PDloqSLE+7jYWFiPvJJFiCiTm8nE=
`
)

// lambdaTemplate is a SAM template whose two-way $default route (SPEC)
// invokes one function, Echo, through an AWS_PROXY integration (SPEC ).
// runtime and handler name the function; its code is in ./fn.
func lambdaTemplate(runtime, handler string) string {
	return strings.NewReplacer("RUNTIME", runtime, "HANDLER", handler).Replace(`AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: wsgw-bench's Lambda echo Api.
Resources:
  BenchApi:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: wsgw-bench-lambda
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: $request.body.action
  EchoInteg:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref BenchApi
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Echo.Arn}/invocations
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
  Echo:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ./fn
      Handler: HANDLER
      Runtime: RUNTIME
      Timeout: 10
`)
}

// slsService is the serverless.yml of the serverless-offline target: the
// same Node.js handler on a websocket $default route whose return value is
// sent back (routeResponseSelectionExpression), and a $connect route that
// accepts, without which serverless-offline refuses every handshake (502).
const slsService = `service: wsgw-bench
frameworkVersion: '3'
provider:
  name: aws
  runtime: nodejs20.x
functions:
  connect:
    handler: handler.connect
    events:
      - websocket:
          route: $connect
  echo:
    handler: handler.handler
    events:
      - websocket:
          route: $default
          routeResponseSelectionExpression: $default
plugins:
  - serverless-offline
`

// writeFiles writes files (relative path to contents) under dir.
func writeFiles(dir string, files map[string]string) error {
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	return nil
}
