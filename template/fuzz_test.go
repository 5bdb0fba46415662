package template

import "testing"

// FuzzLoad checks that no input makes loading and resolution panic or hang.
// Seeds: testdata/fuzz/FuzzLoad (pathological inputs and small WebSocket
// templates in YAML and JSON). The big examples are left out: the fuzzer's
// minimization of large inputs outlasts short runs.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(`{"Resources": {"A": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {"Target": {"Fn::Sub": "${B.C}"}}}}}`))
	f.Add([]byte("Resources:\n  A:\n    Type: AWS::ApiGatewayV2::Api\n    Properties: !If [C, {Name: !Ref A}, !Ref AWS::NoValue]\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		for _, name := range []string{"f.yaml", "f.json"} {
			st, ds := Load(name, src, Options{Params: map[string]string{"P": "1"}})
			if st == nil && !ds.HasErrors() {
				t.Fatalf("no stack and no error")
			}
			for _, d := range ds {
				if d.Range.Line < 1 || d.Rule == "" || d.Message == "" {
					t.Fatalf("diagnostic without position, rule or message: %+v", d)
				}
			}
		}
	})
}
