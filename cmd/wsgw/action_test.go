package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/wsgw/wsgw/internal/testtool"
)

// action is the part of action.yml the test runs.
type action struct {
	Inputs map[string]struct {
		Default string `yaml:"default"`
	} `yaml:"inputs"`
	Runs struct {
		Using string `yaml:"using"`
		Steps []struct {
			ID   string            `yaml:"id"`
			Uses string            `yaml:"uses"`
			Run  string            `yaml:"run"`
			Env  map[string]string `yaml:"env"`
		} `yaml:"steps"`
	} `yaml:"runs"`
}

var actionExpr = regexp.MustCompile(`\$\{\{\s*([^}]+?)\s*\}\}`)

// TestActionSteps runs the shell steps of action.yml as GitHub's runner would
// (GITHUB_ACTION_PATH, RUNNER_TEMP, GITHUB_OUTPUT, the steps' env with the
// inputs filled in) on a small repository, once with a broken template and once
// clean: the annotations, the SARIF file, the outputs and the exit statuses.
// The `uses:` steps (setup-go, upload-sarif) are GitHub's own and not run.
func TestActionSteps(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	if runtime.GOOS == "windows" {
		t.Skip("the action's steps are bash scripts")
	}
	bash := testtool.Need(t, "bash")
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(root, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var act action
	if err := yaml.Unmarshal(src, &act); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	if act.Runs.Using != "composite" {
		t.Fatalf("action.yml runs using %q, want composite", act.Runs.Using)
	}
	temp := t.TempDir() // RUNNER_TEMP, shared by both runs as on one runner

	run := func(t *testing.T, repo string, inputs map[string]string) (out string, outputs map[string]string, code int) {
		t.Helper()
		in := map[string]string{}
		for k, v := range act.Inputs {
			in[k] = v.Default
		}
		for k, v := range inputs {
			in[k] = v
		}
		outputs = map[string]string{}
		steps := map[string]map[string]string{}
		eval := func(s string) string {
			return actionExpr.ReplaceAllStringFunc(s, func(m string) string {
				e := actionExpr.FindStringSubmatch(m)[1]
				switch {
				case strings.HasPrefix(e, "inputs."):
					return in[strings.TrimPrefix(e, "inputs.")]
				case strings.HasPrefix(e, "steps."):
					p := strings.Split(e, ".") // steps.ID.outputs.NAME
					return steps[p[1]][p[3]]
				}
				t.Fatalf("action.yml: expression %q in a run step's env", e)
				return ""
			})
		}
		var all strings.Builder
		for i, st := range act.Runs.Steps {
			if st.Run == "" {
				continue
			}
			if actionExpr.MatchString(st.Run) {
				t.Fatalf("step %d: ${{ }} inside a run script; pass it through env", i)
			}
			ghOut := filepath.Join(t.TempDir(), "output")
			if err := os.WriteFile(ghOut, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			// GitHub runs composite bash steps as: bash --noprofile --norc -eo pipefail {0}
			cmd := exec.Command(bash, "--noprofile", "--norc", "-eo", "pipefail", "-c", st.Run)
			cmd.Dir = repo
			cmd.Env = append(os.Environ(), "GITHUB_ACTION_PATH="+root, "RUNNER_TEMP="+temp, "GITHUB_OUTPUT="+ghOut)
			for k, v := range st.Env {
				cmd.Env = append(cmd.Env, k+"="+eval(v))
			}
			b, err := cmd.CombinedOutput()
			all.Write(b)
			so := map[string]string{}
			f, _ := os.Open(ghOut)
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if k, v, ok := strings.Cut(sc.Text(), "="); ok {
					so[k] = v
				}
			}
			f.Close()
			if st.ID != "" {
				steps[st.ID] = so
			}
			if err != nil {
				if ee, ok := err.(*exec.ExitError); ok {
					return all.String(), steps["validate"], ee.ExitCode()
				}
				t.Fatalf("step %d: %v\n%s", i, err, b)
			}
		}
		return all.String(), steps["validate"], 0
	}

	write := func(dir string, files map[string]string) string {
		for name, body := range files {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	clean := "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
	broken := "Resources:\n  Api:\n    Type: AWS::ApiGatewayV2::Api\n    Properties:\n      ProtocolType: WEBSOCKET\n      RouteSelectionExpresion: $request.body.action\n"

	t.Run("diagnostics", func(t *testing.T) {
		repo := write(t.TempDir(), map[string]string{"infra/api.yaml": broken, "infra/topic.yaml": clean, "package.json": `{"name":"x"}`})
		out, outputs, code := run(t, repo, map[string]string{"templates": "infra package.json"})
		if code != 1 {
			t.Fatalf("exit %d, want 1\n%s", code, out)
		}
		if !regexp.MustCompile(`(?m)^::error file=infra/api\.yaml,line=6,col=7,.*title=WSGW1004::`).MatchString(out) {
			t.Errorf("no annotation for the broken template:\n%s", out)
		}
		if outputs["exit-code"] != "1" || outputs["sarif-file"] != "wsgw.sarif" {
			t.Errorf("outputs = %v", outputs)
		}
		var sarif struct {
			Version string `json:"version"`
			Runs    []struct {
				Results []struct {
					RuleID string `json:"ruleId"`
				} `json:"results"`
			} `json:"runs"`
		}
		b, err := os.ReadFile(filepath.Join(repo, "wsgw.sarif"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &sarif); err != nil {
			t.Fatalf("wsgw.sarif: %v", err)
		}
		if len(sarif.Runs) != 1 {
			t.Fatalf("wsgw.sarif has %d runs: %s", len(sarif.Runs), b)
		}
		found := false
		for _, r := range sarif.Runs[0].Results {
			found = found || r.RuleID == "WSGW1004"
		}
		if sarif.Version != "2.1.0" || !found {
			t.Errorf("wsgw.sarif has no WSGW1004 result: %s", b)
		}
	})
	t.Run("clean", func(t *testing.T) {
		repo := write(t.TempDir(), map[string]string{"template.yaml": clean})
		out, outputs, code := run(t, repo, map[string]string{"args": "--strict"})
		if code != 0 || outputs["exit-code"] != "0" {
			t.Fatalf("exit %d, outputs %v\n%s", code, outputs, out)
		}
	})
	t.Run("unreadable", func(t *testing.T) {
		repo := write(t.TempDir(), map[string]string{"template.yaml": clean})
		out, _, code := run(t, repo, map[string]string{"templates": "missing.yaml"})
		if code != 2 {
			t.Fatalf("exit %d, want 2\n%s", code, out)
		}
	})
}
