package template

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestCloudFormationSelection checks which resources `plan --format
// cloudformation` prints: the API's, and transitively what they reference,
// with the parameters they use; nothing unrelated (SPEC ).
func TestCloudFormationSelection(t *testing.T) {
	src := `Parameters:
  Table: {Type: String, Default: t}
  Unused: {Type: String, Default: u}
Resources:
  Unrelated:
    Type: AWS::SNS::Topic
  Store:
    Type: AWS::Serverless::SimpleTable
    Properties: {TableName: !Ref Table}
  Rest:
    Type: AWS::Serverless::Api
    Properties: {StageName: v1}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      CodeUri: ./src
      AutoPublishAlias: live
      Environment: {Variables: {STORE: !Ref Store, REST: !Ref Rest}}
  Api:
    Type: AWS::Serverless::WebSocketApi
    Properties:
      RouteSelectionExpression: $request.body.action
      Routes: {$default: {FunctionArn: !GetAtt Fn.Arn}}
`
	st, ds := load(t, "c.yaml", src, Options{})
	if ds.HasErrors() {
		t.Fatalf("Load: %v", ds.Err())
	}
	tmpl, notes := st.CloudFormation()
	b, _ := json.Marshal(tmpl)
	var got struct {
		Resources  map[string]struct{ Type string }
		Parameters map[string]any
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for id, r := range got.Resources {
		ids = append(ids, id+" "+r.Type)
	}
	slices.Sort(ids)
	want := []string{"Api AWS::ApiGatewayV2::Api", "ApiDefaultIntegration AWS::ApiGatewayV2::Integration",
		"ApiDefaultPermission AWS::Lambda::Permission", "ApiDefaultRoute AWS::ApiGatewayV2::Route",
		"ApiDefaultStage AWS::ApiGatewayV2::Stage", "Fn AWS::Lambda::Function", "FnRole AWS::IAM::Role",
		"Store AWS::DynamoDB::Table"}
	if !slices.Equal(ids, want) {
		t.Errorf("resources:\n%s\nwant:\n%s", strings.Join(ids, "\n"), strings.Join(want, "\n"))
	}
	if len(got.Parameters) != 2 {
		t.Errorf("parameters %v, want both, as SAM keeps them", got.Parameters)
	}
	wantNotes := []string{"Fn: SAM generates more from AutoPublishAlias than wsgw writes here",
		"Rest (AWS::Serverless::Api) is referenced but left out: wsgw does not translate that SAM type"}
	if !slices.Equal(notes, wantNotes) {
		t.Errorf("notes:\n%s", strings.Join(notes, "\n"))
	}
	if code := string(mustJSON(t, tmpl["Resources"].(map[string]any)["Fn"])); !strings.Contains(code, `"Code":"./src"`) {
		t.Errorf("a local CodeUri is kept as the path to package: %s", code)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
