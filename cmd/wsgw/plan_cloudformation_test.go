package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlanCloudFormation compares `wsgw plan --format cloudformation` for
// each template of testdata/cloudformation with its .json golden; the goldens
// were checked against the output of SAM's translator for the cases each
// template names (SPEC ). A line `# wsgw-args: ...` adds flags.
// `go test ./cmd/wsgw -run TestPlanCloudFormation -update` rewrites them.
func TestPlanCloudFormation(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "cloudformation", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates: %v", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			args := []string{"plan", "--format", "cloudformation"}
			for _, line := range strings.Split(string(src), "\n") {
				if rest, ok := strings.CutPrefix(line, "# wsgw-args: "); ok {
					args = append(args, strings.Fields(rest)...)
				}
			}
			var stdout, stderr bytes.Buffer
			if code := run(append(args, path), strings.NewReader(""), &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			golden := strings.TrimSuffix(path, ".yaml") + ".json"
			if *update {
				if err := os.WriteFile(golden, stdout.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if stdout.String() != string(want) {
				t.Errorf("output differs from %s (run with -update and review the diff):\n%s", golden, stdout.String())
			}
		})
	}
}

// TestPlanCloudFormationErrors checks that template errors, SAM's among them,
// stop `plan --format cloudformation` with the diagnostics on stderr.
func TestPlanCloudFormationErrors(t *testing.T) {
	path := writeTemplate(t, `Resources:
  Api:
    Type: AWS::Serverless::WebSocketApi
    Properties:
      RouteSelectionExpression: $request.body.action
      Routes:
        send-message:
          FunctionArn: arn:aws:lambda:us-east-1:123456789012:function:f
`)
	var stdout, stderr bytes.Buffer
	code := run([]string{"plan", "--format", "cloudformation", path}, strings.NewReader(""), &stdout, &stderr)
	if code != 1 || stdout.Len() != 0 || !strings.Contains(stderr.String(), `t.yaml:7:9: error: route key "send-message" must be alphanumeric`) {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
}

// TestPlanSAMWebSocketApi checks that `wsgw plan --format json` compiles the
// API SAM generates like any other: routes, integrations and the authorizer
// speak in SAM's logical IDs and reach the template's functions.
func TestPlanSAMWebSocketApi(t *testing.T) {
	var stdout, stderr bytes.Buffer
	path := filepath.Join("testdata", "cloudformation", "auth.yaml")
	if code := run([]string{"plan", "--format", "json", path}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var plan struct {
		Apis []struct {
			LogicalID string `json:"logicalId"`
			Stages    []struct {
				Name   string `json:"name"`
				Routes map[string]struct {
					Integration struct {
						LogicalID string `json:"logicalId"`
					} `json:"integration"`
					Authorizer *struct {
						LogicalID string `json:"logicalId"`
						Function  string `json:"function"`
					} `json:"authorizer"`
				} `json:"routes"`
			} `json:"stages"`
		} `json:"apis"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &plan); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range plan.Apis {
		for _, s := range a.Stages {
			for k, r := range s.Routes {
				v := s.Name + " " + r.Integration.LogicalID
				if r.Authorizer != nil {
					v += " " + r.Authorizer.LogicalID + "->" + r.Authorizer.Function
				}
				got[a.LogicalID+" "+k] = v
			}
		}
	}
	want := map[string]string{
		"Custom $connect":   "default CustomConnectIntegration CustomConnectAuthorizer->Authorizer",
		"WithRole $connect": "default WithRoleConnectIntegration WithRoleConnectAuthorizer->Authorizer",
		"Literal $connect":  "default LiteralConnectIntegration LiteralConnectAuthorizer->",
		"Iam $connect":      "default IamConnectIntegration",
		"Iam ping":          "default IamPingIntegration",
		"Open $connect":     "default OpenConnectIntegration",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("routes:\n%v\nwant:\n%v", got, want)
	}
}
