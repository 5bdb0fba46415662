package main

import (
	"strings"
	"testing"
)

// SPEC: the text plan says how non-proxy integrations map
// messages and which models routes validate against; examples/mock validates
// clean, --strict included.
func TestPlanTextTemplates(t *testing.T) {
	const ex = "../../examples/mock/template.yaml"
	if out, errs, code := runWSGW("validate", "--strict", ex); code != 0 {
		t.Fatalf("validate --strict: exit %d\n%s%s", code, out, errs)
	}
	out, errs, code := runWSGW("plan", ex)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	for _, want := range []string{
		"    $connect  no       ConnectIntegration  MOCK  -       29000ms  0\n",
		"    route check validates messages: $default -> CheckMessage (selection \\$default)\n",
		"    CheckIntegration request templates $default (selection \\$default, passthrough WHEN_NO_MATCH)\n",
		"    CheckIntegration response /4\\d\\d/ (CheckRejected) templates 413, 422 (selection ${integration.response.statuscode})\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "cannot run") {
		t.Errorf("a MOCK integration is listed as not runnable:\n%s", out)
	}
}
