package runtime

import (
	"testing"

	"github.com/wsgw/wsgw/compile"
	"github.com/wsgw/wsgw/template"
)

// validateMessage validates the document route selection decoded (e.doc)
// instead of parsing the message again: the result must be the one
// Model.Validate gives for the message text, for every kind of JSON.
func TestValidateParsedMessage(t *testing.T) {
	const src = `
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: models
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: $request.body.action
  Strict:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: $default
      Target: !Sub integrations/${Mock}
      ModelSelectionExpression: \$default
      RequestModels:
        $default: m
  Mock:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: MOCK
  Model:
    Type: AWS::ApiGatewayV2::Model
    Properties:
      ApiId: !Ref Api
      Name: m
      Schema: '{"type": "object", "required": ["a"], "properties": {"a": {"type": "integer", "maximum": 12345678901234567890}, "b": {"type": "string", "maxLength": 2}}}'
`
	p, ds := compile.Build("t.yaml", []byte(src), template.Options{}, compile.Options{})
	if p == nil {
		t.Fatalf("%v", ds)
	}
	var m *compile.Model
	for _, a := range p.Apis {
		for _, st := range a.Stages {
			m = st.Routes["$default"].RequestModels["$default"]
		}
	}
	if m == nil {
		t.Fatal("no model in the plan")
	}
	schema, err := m.Compile()
	if err != nil {
		t.Fatal(err)
	}
	for _, msg := range []string{
		`{"a": 1}`, `{"a": 1.0}`, `{"a": 1.5}`, `{"a": 1e2}`, `{"a": 12345678901234567891}`, `{"a": 12345678901234567890}`,
		`{"a": 1, "b": "\u00e9\u00e9"}`, `{"a": 1, "b": "abc"}`, `{"b": 1}`, `{"a": 1, "a": "x"}`, `[]`, `"a"`, `null`,
	} {
		doc, ok := parseBody([]byte(msg))
		if !ok {
			t.Fatalf("%s does not parse", msg)
		}
		want, got := schema.Validate([]byte(msg)), schema.ValidateDecoded(doc)
		if (want == nil) != (got == nil) || want != nil && want.Error() != got.Error() {
			t.Errorf("%s: from e.doc %v, from the text %v", msg, got, want)
		}
	}
}
