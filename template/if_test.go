package template

import (
	"strings"
	"testing"
)

// SPEC: only the branch Fn::If picks is evaluated. A Ref, GetAtt or
// Sub in the other branch may name a resource whose condition is false (as
// CDK's conditional resources do) without a diagnostic; a name that is
// nowhere in the template is still an error, in either branch.
func TestIfUntakenBranch(t *testing.T) {
	head := `Parameters:
  Local: {Type: String, Default: "yes"}
Conditions:
  UseLocal: !Equals [!Ref Local, "yes"]
  UseLb: !Not [!Condition UseLocal]
Resources:
  Lb:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Condition: UseLb
    Properties: {Type: network}
  Probe:
    Type: Custom::Probe
    Properties:
      Value: `
	tests := []struct {
		name, expr, want string
		errs             []string // each a diagnostic's text, in order
	}{
		{"getatt in false branch", "!If [UseLocal, 127.0.0.1, !GetAtt Lb.DNSName]", "127.0.0.1", nil},
		{"getatt list form in false branch", "!If [UseLocal, 127.0.0.1, !GetAtt [Lb, DNSName]]", "127.0.0.1", nil},
		{"getatt in true branch not taken", "!If [UseLb, !GetAtt Lb.DNSName, 127.0.0.1]", "127.0.0.1", nil},
		{"ref", "!If [UseLocal, a, !Ref Lb]", "a", nil},
		{"sub", `!If [UseLocal, a, !Sub "http://${Lb.DNSName}/${Lb}/${AWS::Region}/${Local}/${!Literal}"]`, "a", nil},
		{"sub variables", `!If [UseLocal, a, !Sub ["${X}-${Y}", {X: !Ref Lb}]]`, "a", []string{"Y is not a parameter or resource of this template"}},
		{"deep", `!If [UseLocal, a, {k: [!Join ["", [!Ref Lb, x]]]}]`, "a", nil},
		{"taken branch still checked", "!If [UseLb, a, !Ref Lb]", "",
			[]string{"Lb is referenced here but does not exist, because its condition UseLb is false"}},
		{"unknown ref in untaken branch", "!If [UseLocal, a, !Ref Lbb]", "a",
			[]string{"Lbb is not a parameter or resource of this template (did you mean Lb?)"}},
		{"unknown getatt in untaken branch", "!If [UseLocal, a, !GetAtt Nope.DNSName]", "a",
			[]string{"GetAtt names Nope, which is not a resource of this template"}},
		{"unknown sub name in untaken branch", `!If [UseLocal, a, !Sub "http://${Nope}"]`, "a",
			[]string{"Nope is not a parameter or resource of this template"}},
		{"nested if in untaken branch", "!If [UseLocal, a, !If [UseLb, !Ref Lb, !Ref Nope]]", "a",
			[]string{"Nope is not a parameter or resource of this template"}},
		{"unknown condition in untaken branch", "!If [UseLocal, a, !If [UseLbb, !Ref Lb, b]]", "a",
			[]string{"condition UseLbb is not defined in Conditions (did you mean UseLb?)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, ds := load(t, "probe.yaml", head+tc.expr+"\n", Options{})
			var got []string
			for _, d := range ds {
				got = append(got, d.Message+fixText(d))
				if d.Rule != RuleUndefinedName.ID {
					t.Errorf("diagnostic %s: want rule %s", d.Text(), RuleUndefinedName.ID)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.errs, "\n") {
				t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.errs, "\n"))
			}
			if tc.want == "" {
				return
			}
			if v := st.Resource("Probe").Prop("Value"); v == nil || v.Value != tc.want {
				t.Errorf("got %+v, want %q", v, tc.want)
			}
		})
	}
}

func fixText(d Diagnostic) string {
	if d.Fix == "" {
		return ""
	}
	return " (" + d.Fix + ")"
}
