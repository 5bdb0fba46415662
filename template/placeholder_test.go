package template

import (
	"strings"
	"testing"
)

// TestPlaceholders checks that a Ref or GetAtt of a resource wsgw does not
// run is marked as a placeholder where it is written, that --param Name and
// --param Name.Attribute set it (no longer a placeholder), and that --param
// names are checked against parameters and such resources (SPEC ).
func TestPlaceholders(t *testing.T) {
	src := `Resources:
  Nlb: {Type: AWS::ElasticLoadBalancingV2::LoadBalancer}
  Api: {Type: AWS::ApiGatewayV2::Api, Properties: {Name: a, ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.a}}
  X:
    Type: Custom::X
    Properties:
      Url: !Sub http://${Nlb.DNSName}/orders
      Ref: !Ref Nlb
      Api: !Ref Api
`
	tests := []struct {
		name     string
		params   map[string]string
		url, ref string
		marked   []string // links that are placeholders, as Name()@line:col
		diag     string
	}{
		{"made up", nil, "http://Nlb.DNSName/orders", "Nlb", []string{"Nlb.DNSName@7:24", "Nlb@8:12"}, ""},
		{"attribute set", map[string]string{"Nlb.DNSName": "127.0.0.1:9000"}, "http://127.0.0.1:9000/orders", "Nlb", []string{"Nlb@8:12"}, ""},
		{"ref set", map[string]string{"Nlb": "my-nlb"}, "http://Nlb.DNSName/orders", "my-nlb", []string{"Nlb.DNSName@7:24"}, ""},
		{"both set", map[string]string{"Nlb": "my-nlb", "Nlb.DNSName": "h:1"}, "http://h:1/orders", "my-nlb", nil, ""},
		{"resource typo", map[string]string{"Nlbb.DNSName": "h"}, "http://Nlb.DNSName/orders", "Nlb", []string{"Nlb.DNSName@7:24", "Nlb@8:12"},
			"WSGW1011 --param Nlbb.DNSName: the template has no resource Nlbb (did you mean Nlb?)"},
		{"resource wsgw runs", map[string]string{"Api": "x"}, "http://Nlb.DNSName/orders", "Nlb", []string{"Nlb.DNSName@7:24", "Nlb@8:12"},
			"WSGW1011 --param Api: wsgw runs Api (AWS::ApiGatewayV2::Api), so its values are not made up and cannot be set"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, ds := load(t, "p.yaml", src, Options{Params: tc.params})
			var got []string
			for _, d := range ds {
				s := d.Rule + " " + d.Message
				if d.Fix != "" {
					s += " (" + d.Fix + ")"
				}
				got = append(got, s)
			}
			if want := tc.diag; want == "" && len(got) > 0 || want != "" && (len(got) != 1 || got[0] != want) {
				t.Fatalf("diagnostics %q, want %q", got, want)
			}
			x := st.Resource("X")
			if v := x.Prop("Url").Value; v != tc.url {
				t.Errorf("Url = %q, want %q", v, tc.url)
			}
			if v := x.Prop("Ref").Value; v != tc.ref {
				t.Errorf("Ref = %q, want %q", v, tc.ref)
			}
			var marked []string
			for _, p := range []string{"Url", "Ref", "Api"} {
				for _, l := range x.Prop(p).Links {
					if l.Placeholder != "" {
						marked = append(marked, l.Name()+"@"+strings.TrimPrefix(l.Range.String(), "p.yaml:"))
					}
				}
			}
			if strings.Join(marked, " ") != strings.Join(tc.marked, " ") {
				t.Errorf("placeholders %q, want %q", marked, tc.marked)
			}
		})
	}
}
