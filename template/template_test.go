package template

import (
	"cmp"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

func load(t *testing.T, name, src string, opts Options) (*Stack, Diagnostics) {
	t.Helper()
	return Load(name, []byte(src), opts)
}

func TestParsePositions(t *testing.T) {
	yamlSrc := "Resources:\n  Integ:\n    Type: AWS::ApiGatewayV2::Integration\n    Properties:\n      ApiId: !Ref Api\n      TimeoutInMillis: \"500\"\n"
	jsonSrc := "{\n  \"Resources\": {\n    \"Integ\": {\n      \"Type\": \"AWS::ApiGatewayV2::Integration\",\n      \"Properties\": {\"ApiId\": {\"Ref\": \"Api\"},\n        \"TimeoutInMillis\": \"500\"}\n    }\n  }\n}\n"
	tests := []struct {
		name, src string
		path      []string
		line, col int
		kind      Kind
	}{
		{"yaml type", yamlSrc, []string{"Resources", "Integ", "Type"}, 3, 11, String},
		{"yaml short tag", yamlSrc, []string{"Resources", "Integ", "Properties", "ApiId"}, 5, 14, Map},
		{"yaml quoted", yamlSrc, []string{"Resources", "Integ", "Properties", "TimeoutInMillis"}, 6, 24, String},
		{"json type", jsonSrc, []string{"Resources", "Integ", "Type"}, 4, 15, String},
		{"json intrinsic", jsonSrc, []string{"Resources", "Integ", "Properties", "ApiId"}, 5, 31, Map},
		{"json string", jsonSrc, []string{"Resources", "Integ", "Properties", "TimeoutInMillis"}, 6, 28, String},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, ds := Parse("t", []byte(tc.src))
			if len(ds) > 0 {
				t.Fatalf("Parse: %v", ds)
			}
			for _, k := range tc.path {
				n = n.Get(k)
			}
			if n == nil {
				t.Fatalf("no node at %v", tc.path)
			}
			if n.Range.Line != tc.line || n.Range.Col != tc.col || n.Kind != tc.kind {
				t.Errorf("got %s %s, want %d:%d %s", n.Range, n.Kind, tc.line, tc.col, tc.kind)
			}
		})
	}
}

// TestResolve checks what each intrinsic function evaluates to (SPEC ..R-2.4).
func TestResolve(t *testing.T) {
	head := `Parameters:
  Env: {Type: String, Default: dev, AllowedValues: [dev, prod]}
  Subnets: {Type: CommaDelimitedList, Default: "a, b,c"}
  Port: {Type: Number, Default: 8080}
Mappings:
  Hosts:
    dev: {url: "http://127.0.0.1"}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  NotProd: !Not [!Condition IsProd]
  Both: !And [!Condition NotProd, !Equals [a, a]]
Resources:
  Api: {Type: AWS::ApiGatewayV2::Api, Properties: {Name: x, ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action}}
  Integ: {Type: AWS::ApiGatewayV2::Integration, Properties: {ApiId: !Ref Api, IntegrationType: MOCK}}
  Fn: {Type: AWS::Lambda::Function, Properties: {Role: r, Code: {ZipFile: x}}}
  Stage: {Type: AWS::ApiGatewayV2::Stage, Properties: {ApiId: !Ref Api, StageName: !Ref Env}}
  Probe:
    Type: Custom::Probe
    Properties:
      Value: `
	tests := []struct {
		name, expr, want string
		links            []string
	}{
		{"ref parameter", "!Ref Env", "dev", nil},
		{"ref api", "!Ref Api", physicalID("Api", 10), []string{"Api"}},
		{"ref integration", "!Ref Integ", physicalID("Integ", 7), []string{"Integ"}},
		{"ref stage is its name", "!Ref Stage", "dev", []string{"Stage"}},
		{"ref pseudo", "!Ref AWS::Region", "us-east-1", nil},
		{"stack name from file", "!Ref AWS::StackName", "probe", nil},
		{"getatt endpoint", "!GetAtt Api.ApiEndpoint", "ws://127.0.0.1:3001", []string{"Api.ApiEndpoint"}},
		{"getatt list form", "!GetAtt [Fn, Arn]", "arn:aws:lambda:us-east-1:123456789012:function:Fn", []string{"Fn.Arn"}},
		{"join refs", "!Join [/, [integrations, !Ref Integ]]", "integrations/" + physicalID("Integ", 7), []string{"Integ"}},
		{"sub with refs", "!Sub 'arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations'",
			"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:Fn/invocations", []string{"Fn.Arn"}},
		{"sub escape", "!Sub 'x/${!stageVariables.url}'", "x/${stageVariables.url}", nil},
		{"sub variables", "!Sub ['${A}-${Env}', {A: !Ref Integ}]", physicalID("Integ", 7) + "-dev", []string{"Integ"}},
		{"number parameter", "!Sub 'p${Port}'", "p8080", nil},
		{"select split", "!Select [1, !Split [',', 'x,y,z']]", "y", nil},
		{"select list parameter", "!Select [1, !Ref Subnets]", "b", nil},
		{"if false", "!If [IsProd, a, b]", "b", nil},
		{"nested conditions", "!If [Both, yes, no]", "yes", nil},
		{"find in map", "!FindInMap [Hosts, !Ref Env, url]", "http://127.0.0.1", nil},
		{"base64", "!Base64 hi", "aGk=", nil},
		{"getazs", "!Select [0, !GetAZs '']", "us-east-1a", nil},
		{"long form", `{"Fn::Join": ["", ["a", {"Ref": "Env"}]]}`, "adev", nil},
		{"to json string", "{Fn::ToJsonString: {a: 1}}", `{"a":1}`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, ds := load(t, "probe.yaml", head+tc.expr+"\n", Options{})
			if ds.HasErrors() {
				t.Fatalf("diagnostics: %v", ds)
			}
			v := st.Resource("Probe").Prop("Value")
			if v == nil || v.Value != tc.want {
				t.Fatalf("got %+v, want %q", v, tc.want)
			}
			var links []string
			for _, l := range v.Links {
				s := l.LogicalID
				if l.Attr != "" {
					s += "." + l.Attr
				}
				links = append(links, s)
			}
			if !slices.Equal(links, tc.links) {
				t.Errorf("links %v, want %v", links, tc.links)
			}
		})
	}
}

func TestNoValueAndConditions(t *testing.T) {
	src := `Parameters:
  Env: {Type: String, Default: dev}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Api: {Type: AWS::ApiGatewayV2::Api, Properties: {Name: x, ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action}}
  ProdOnly:
    Type: AWS::ApiGatewayV2::Integration
    Condition: IsProd
    Properties: {ApiId: !Ref Api, IntegrationType: MOCK}
  Integ:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: MOCK
      Description: !If [IsProd, prod, !Ref AWS::NoValue]
`
	for _, tc := range []struct {
		name   string
		params map[string]string
		exists bool
		desc   string
	}{
		{"default", nil, false, ""},
		{"override", map[string]string{"Env": "prod"}, true, "prod"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, ds := load(t, "c.yaml", src, Options{Params: tc.params})
			if len(ds) > 0 {
				t.Fatal(ds)
			}
			if got := st.Resource("ProdOnly") != nil; got != tc.exists {
				t.Errorf("ProdOnly exists = %v, want %v", got, tc.exists)
			}
			if got := st.Resource("Integ").Prop("Description").Str(); got != tc.desc {
				t.Errorf("Description = %q, want %q", got, tc.desc)
			}
		})
	}
}

// TestBadInput feeds inputs that must give one clear diagnostic, never a panic
// or a hang.
func TestBadInput(t *testing.T) {
	deepYAML := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	deepJSON := "{\"Resources\": " + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + "}"
	bomb := "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	for i := 'b'; i <= 'j'; i++ {
		bomb += fmt.Sprintf("%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	big := "Resources:\n" + strings.Repeat("  # padding padding padding padding padding padding padding padding\n", 20<<20/70)
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(i * 7919 % 251)
	}
	tests := []struct {
		name, file, src string
		rule            string
		msg             string
	}{
		{"empty", "e.yaml", "", "WSGW1001", "template is empty"},
		{"blank", "e.yaml", "\n  \n", "WSGW1001", "template is empty"},
		{"binary garbage", "g.yaml", string(garbage), "WSGW1001", "not UTF-8"},
		{"20 MB", "big.yaml", big, "WSGW1001", "at most 1 MB"},
		{"alias bomb", "bomb.yaml", bomb, "WSGW1001", "alias"},
		{"deep yaml", "deep.yaml", deepYAML, "WSGW1001", ""},
		{"deep json", "deep.json", deepJSON, "WSGW1001", "deeper"},
		{"tab indent", "tab.yaml", "Resources:\n\tApi:\n\t\tType: AWS::ApiGatewayV2::Api\n", "WSGW1001", "tab used for indentation"},
		{"json syntax", "s.json", "{\"Resources\": {\"A\": }}", "WSGW1001", "invalid JSON"},
		{"yaml syntax", "s.yaml", "Resources:\n  A: [\n", "WSGW1001", "invalid YAML"},
		{"not a mapping", "l.yaml", "- a\n- b\n", "WSGW1002", "must be a mapping"},
		{"no resources", "n.yaml", "Description: x\n", "WSGW1002", "no Resources"},
		{"circular refs", "c.yaml", "Resources:\n  A: {Type: Custom::X, Properties: {P: !Ref B}}\n  B: {Type: Custom::X, Properties: {P: !GetAtt A.Out}}\n", "WSGW1008", "circular dependency: A -> B -> A"},
		{"circular depends on", "d.yaml", "Resources:\n  A: {Type: Custom::X, DependsOn: A}\n", "WSGW1008", "circular dependency: A -> A"},
		{"circular conditions", "k.yaml", "Conditions:\n  A: !Condition B\n  B: !Condition A\nResources:\n  X: {Type: Custom::X, Condition: A}\n", "WSGW1008", "depends on itself"},
		{"duplicate key", "dup.yaml", "Resources:\n  A: {Type: Custom::X}\n  A: {Type: Custom::Y}\n", "WSGW1001", "duplicate key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, ds := Load(tc.file, []byte(tc.src), Options{})
			if time.Since(start) > 10*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
			if !ds.HasErrors() {
				t.Fatalf("no error for %s", tc.name)
			}
			found := false
			for _, d := range ds {
				if d.Rule == tc.rule && strings.Contains(d.Message, tc.msg) {
					found = true
				}
			}
			if !found {
				t.Errorf("want %s containing %q, got:\n%v", tc.rule, tc.msg, ds)
			}
		})
	}
}

func TestParams(t *testing.T) {
	src := `Parameters:
  Env: {Type: String, AllowedValues: [dev, prod], Default: dev}
  Name: {Type: String, AllowedPattern: "[a-z]+", MinLength: 2, MaxLength: 5, Default: abc}
  Count: {Type: Number, MinValue: 1, MaxValue: 10, Default: 3}
  Token: {Type: String}
  Boot: {Type: "AWS::SSM::Parameter::Value<String>", Default: /cdk-bootstrap/hnb659fds/version}
Resources:
  X: {Type: Custom::X, Properties: {A: !Ref Env, B: !Ref Boot}}
`
	tests := []struct {
		name    string
		params  map[string]string
		require bool
		want    []string // "RULE severity substring"
	}{
		{"defaults", nil, false, []string{"WSGW1010 warning parameter Token has no Default"}},
		{"serve requires", nil, true, []string{"WSGW1010 error parameter Token has no Default"}},
		{"all good", map[string]string{"Token": "t"}, true, nil},
		{"not allowed", map[string]string{"Token": "t", "Env": "prd"}, false, []string{"WSGW1011 error --param Env=prd: value is not one of AllowedValues (dev, prod)"}},
		{"pattern", map[string]string{"Token": "t", "Name": "ABC"}, false, []string{"WSGW1011 error --param Name=ABC: value \"ABC\" does not match AllowedPattern"}},
		{"too short", map[string]string{"Token": "t", "Name": "a"}, false, []string{"WSGW1011 error --param Name=a: value is shorter than MinLength 2"}},
		{"not a number", map[string]string{"Token": "t", "Count": "x"}, false, []string{"WSGW1011 error --param Count=x: value is \"x\", not a number"}},
		{"too big", map[string]string{"Token": "t", "Count": "11"}, false, []string{"WSGW1011 error --param Count=11: value is 11, above MaxValue 10"}},
		{"unknown param", map[string]string{"Token": "t", "Envv": "dev"}, false, []string{"WSGW1011 error --param Envv: the template has no parameter Envv"}},
		{"pseudo override", map[string]string{"Token": "t", "AWS::Region": "eu-west-1"}, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ds := load(t, "p.yaml", src, Options{Params: tc.params, RequireParams: tc.require})
			var got []string
			for _, d := range ds {
				got = append(got, d.Rule+" "+d.Severity.String()+" "+d.Message)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("got %q, want prefix %q", got[i], tc.want[i])
				}
			}
		})
	}
}

// TestResolvedGoldens writes what every Ref, GetAtt, Sub, Join and If of the
// examples and of testdata/resolved became; -update rewrites the goldens.
func TestResolvedGoldens(t *testing.T) {
	files, _ := filepath.Glob("testdata/resolved/*.yaml")
	jsonFiles, _ := filepath.Glob("testdata/resolved/*.json")
	examples, _ := filepath.Glob("../examples/*/template.*")
	files = append(append(files, jsonFiles...), examples...)
	if len(examples) < 3 {
		t.Errorf("expected the three examples under ../examples, found %v", examples)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
		if strings.HasPrefix(f, "../examples/") {
			name = "example-" + filepath.Base(filepath.Dir(f))
		}
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			st, ds := Load(filepath.ToSlash(f), src, Options{})
			got := ds.describe() + describeStack(st)
			golden := filepath.Join("testdata", "resolved", name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./template -update)", err)
			}
			if got != string(want) {
				t.Errorf("resolved stack differs from %s (run with -update and review the diff):\n%s", golden, got)
			}
		})
	}
}

func (ds Diagnostics) describe() string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.Text() + "\n")
	}
	return b.String()
}

// describeStack renders a resolved stack: parameters, conditions, and every
// resource property as path = value, with the links each value came from.
func describeStack(st *Stack) string {
	if st == nil {
		return "(no stack)\n"
	}
	var b strings.Builder
	b.WriteString("parameters:\n")
	for _, p := range st.Params {
		fmt.Fprintf(&b, "  %s (%s) = %s [%s]\n", p.Name, p.Type, value(p.Value), cmp.Or(p.Source, "none"))
	}
	b.WriteString("conditions:\n")
	for _, k := range mapKeys(st.Conditions) {
		fmt.Fprintf(&b, "  %s = %v\n", k, st.Conditions[k])
	}
	b.WriteString("resources:\n")
	for _, r := range st.Resources {
		fmt.Fprintf(&b, "  %s %s ref=%s typed=%v\n", r.LogicalID, r.Type, r.PhysicalID, Typed(r.Type) != nil)
		walk(&b, "    ", r.Properties)
	}
	b.WriteString("outputs:\n")
	for _, o := range st.Outputs {
		walk(&b, "  "+o.Name, o.Value)
	}
	return b.String()
}

func walk(b *strings.Builder, path string, n *Node) {
	switch {
	case n == nil:
	case n.Kind == Map:
		for _, f := range n.Fields {
			walk(b, strings.TrimSuffix(path, " ")+joinPath(path, f.Key), f.Value)
		}
	case n.Kind == List:
		for i, it := range n.Items {
			walk(b, path+fmt.Sprintf("[%d]", i), it)
		}
	default:
		fmt.Fprintf(b, "%s = %s", path, value(n))
		for _, l := range n.Links {
			ref := "Ref " + l.LogicalID
			if l.Attr != "" {
				ref = "GetAtt " + l.LogicalID + "." + l.Attr
			}
			fmt.Fprintf(b, "  <- %s @%d:%d", ref, l.Range.Line, l.Range.Col)
		}
		b.WriteString("\n")
	}
}

func joinPath(path, key string) string {
	if strings.HasSuffix(path, " ") {
		return " " + key
	}
	return "." + key
}

func value(n *Node) string {
	if n == nil {
		return "<none>"
	}
	if n.Kind == List {
		parts := make([]string, len(n.Items))
		for i, it := range n.Items {
			parts[i] = value(it)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	if n.Kind == String {
		return fmt.Sprintf("%q", n.Value)
	}
	return n.Value
}

// TestIntrinsicTable: every intrinsic function that did-you-mean proposes is
// one the resolver evaluates, and the other way round.
func TestIntrinsicTable(t *testing.T) {
	if len(intrinsics) != len(intrinsicNames) {
		t.Errorf("%d functions in the table, %d names", len(intrinsics), len(intrinsicNames))
	}
	for _, name := range intrinsicNames {
		if intrinsics[name] == nil {
			t.Errorf("%s has no evaluation", name)
		}
	}
}

// TestResourceAttrs: CloudFormation's resource attributes everywhere, and
// IgnoreGlobals on SAM resources only, with one check for both (issue 16).
func TestResourceAttrs(t *testing.T) {
	tests := []struct {
		name, typ, attr string
		want            string // the diagnostic's text after the position, "" for none
	}{
		{"IgnoreGlobals on a SAM function", "AWS::Serverless::Function", "IgnoreGlobals: '*'", ""},
		{"IgnoreGlobals on a Lambda function", "AWS::Lambda::Function", "IgnoreGlobals: '*'",
			"error: resource R has no attribute IgnoreGlobals (properties go under Properties) [WSGW1004]"},
		{"misspelt on a SAM function", "AWS::Serverless::Function", "IgnoreGlobal: '*'",
			"error: resource R has no attribute IgnoreGlobal (properties go under Properties) (did you mean IgnoreGlobals?) [WSGW1004]"},
		{"misspelt Metadata", "AWS::Lambda::Function", "Metdata: {}",
			"error: resource R has no attribute Metdata (properties go under Properties) (did you mean Metadata?) [WSGW1004]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "Transform: AWS::Serverless-2016-10-31\nResources:\n  R:\n    Type: " + tt.typ + "\n    " + tt.attr + "\n"
			_, ds := Load("t.yaml", []byte(src), Options{})
			var got []string
			for _, d := range ds {
				if d.Rule == RuleUnknownProp.ID {
					got = append(got, strings.TrimPrefix(d.Text(), "t.yaml:5:5: "))
				}
			}
			if tt.want == "" && len(got) > 0 || tt.want != "" && (len(got) != 1 || got[0] != tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
