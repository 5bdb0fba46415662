package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The Lambda flags of serve are checked before anything starts.
func TestServeLambdaFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"lambda endpoint not a URL", []string{"--lambda-endpoint", "localhost:3010"}, "--lambda-endpoint \"localhost:3010\": want an absolute http(s) URL"},
		{"empty api key", []string{"--api-key", ""}, "--api-key must not be empty"},
		{"negative max instances", []string{"--max-instances", "-1"}, "--max-instances -1: want at least 1"},
		{"negative idle timeout", []string{"--instance-idle-timeout", "-1s"}, "limits must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{"serve", "--addr", "127.0.0.1:0"}, tc.args...), chatTemplate)
			_, errs, code := runWSGW(args...)
			if code != exitUsage || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, errs, exitUsage, tc.want)
			}
		})
	}
}

// Issue 12: a function whose CodeUri lies outside the template's directory is
// served (SAM allows it), and serve names it at start, once; a function
// inside says nothing.
func TestServeCodeOutsideTemplate(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"stack/fn", "shared/fn"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tmpl := `Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: a, ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action}
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties: {ApiId: !Ref Api, StageName: dev}
`
	for _, fn := range []struct{ id, code string }{{"Inside", "./fn"}, {"Outside", "../shared/fn"}} {
		tmpl += fmt.Sprintf(`  %[1]sRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Api, RouteKey: %[1]s, Target: !Sub "integrations/${%[1]sInteg}"}
  %[1]sInteg:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${%[1]s.Arn}/invocations
  %[1]s:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: %[2]s, Runtime: provided.al2023, Handler: bootstrap}
`, fn.id, fn.code)
	}
	file := filepath.Join(root, "stack", "template.yaml")
	if err := os.WriteFile(file, []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, stderr, stop := startServe(t, "--addr", "127.0.0.1:0", "--no-watch", file)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	want := "wsgw: function Outside runs code from " + filepath.Join(root, "shared", "fn") + ", outside the template's directory\n"
	if got := stderr.String(); strings.Count(got, want) != 1 || strings.Contains(got, "function Inside") {
		t.Errorf("stderr:\n%s\nwant once: %s", got, want)
	}
}

// SPEC: the instance flags reach the local runner: --max-instances for
// functions without ReservedConcurrentExecutions, and an idle timeout of 0
// keeps instances running.
func TestServeInstanceOptions(t *testing.T) {
	o := &serveOptions{MaxInstances: 7, InstanceIdleTimeout: 0}
	ro := o.runnerOptions(nil, nil, nil)
	if ro.MaxProcesses != 7 || ro.IdleTimeout >= 0 {
		t.Errorf("runner options %+v, want MaxProcesses 7 and a negative IdleTimeout (never)", ro)
	}
	o.InstanceIdleTimeout = 90 * time.Second
	if ro := o.runnerOptions(nil, nil, nil); ro.IdleTimeout != 90*time.Second {
		t.Errorf("IdleTimeout %s, want 1m30s", ro.IdleTimeout)
	}
}
