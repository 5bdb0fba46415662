package compile

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// lambdaTemplate is a WebSocket Api whose $default route invokes Fn, a
// function whose definition each case supplies.
const lambdaTemplate = `Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: a, ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action}
  Route:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Api, RouteKey: $default, Target: !Sub "integrations/${Integ}"}
  Integ:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations
  Fn:
FUNCTION
`

// TestFunctionCode checks where a function's code is found (SPEC ):
// SAM CodeUri (default "."), a Code path, a CDK asset's aws:asset:path,
// inline code (InlineCode, Code.ZipFile: runnable once written, without a
// directory in the plan), and none for S3 and images, which say why.
func TestFunctionCode(t *testing.T) {
	for _, tc := range []struct {
		name, fn    string
		dir         string // relative to the template's directory; "" for none
		inline      string // InlineFile
		unreachable string // part of Unreachable and of NotRunnable
	}{
		{"sam CodeUri", "    Type: AWS::Serverless::Function\n    Properties: {Runtime: nodejs20.x, Handler: a.h, CodeUri: src/}", "src", "", ""},
		{"sam default CodeUri", "    Type: AWS::Serverless::Function\n    Properties: {Runtime: nodejs20.x, Handler: a.h}", ".", "", ""},
		{"sam s3 CodeUri", "    Type: AWS::Serverless::Function\n    Properties: {Runtime: nodejs20.x, Handler: a.h, CodeUri: s3://b/k.zip}", "", "", "its CodeUri is in S3 (s3://b/k.zip)"},
		{"sam CodeUri mapping", "    Type: AWS::Serverless::Function\n    Properties: {Runtime: nodejs20.x, Handler: a.h, CodeUri: {Bucket: b, Key: k}}", "", "", "its CodeUri is in S3 (s3://b/k)"},
		{"sam image", "    Type: AWS::Serverless::Function\n    Properties: {PackageType: Image, ImageUri: repo:tag}", "", "", "container image function (repo:tag)"},
		{"sam InlineCode", "    Type: AWS::Serverless::Function\n    Properties: {Runtime: nodejs20.x, Handler: index.h, InlineCode: x}", "", "index.js", ""},
		{"sam InlineCode python", "    Type: AWS::Serverless::Function\n    Properties: {Runtime: python3.12, Handler: index.h, InlineCode: x}", "", "index.py", ""},
		{"sam InlineCode java", "    Type: AWS::Serverless::Function\n    Properties: {Runtime: java21, Handler: index.h, InlineCode: x}", "", "", "only for Node.js and Python"},
		{"lambda Code path", "    Type: AWS::Lambda::Function\n    Properties: {Runtime: nodejs20.x, Handler: a.h, Role: r, Code: ./fn}", "fn", "", ""},
		{"lambda ZipFile", "    Type: AWS::Lambda::Function\n    Properties: {Runtime: nodejs20.x, Handler: index.h, Role: r, Code: {ZipFile: x}}", "", "index.js", ""},
		{"lambda S3", "    Type: AWS::Lambda::Function\n    Properties: {Runtime: nodejs20.x, Handler: a.h, Role: r, Code: {S3Bucket: b, S3Key: k}}", "", "", "its Code is in S3 (s3://b/k)"},
		{"lambda image", "    Type: AWS::Lambda::Function\n    Properties: {PackageType: Image, Role: r, Code: {ImageUri: repo:tag}}", "", "", "container image function (repo:tag)"},
		{"cdk asset", "    Type: AWS::Lambda::Function\n    Metadata: {aws:asset:path: asset.abc, aws:asset:property: Code}\n    Properties: {Runtime: nodejs20.x, Handler: a.h, Role: r, Code: {S3Bucket: b, S3Key: k}}", "asset.abc", "", ""},
		{"cdk asset of another property", "    Type: AWS::Lambda::Function\n    Metadata: {aws:asset:path: asset.abc, aws:asset:property: Layers}\n    Properties: {Runtime: nodejs20.x, Handler: a.h, Role: r, Code: {S3Bucket: b, S3Key: k}}", "", "", "its Code is in S3 (s3://b/k)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := load(t, strings.Replace(lambdaTemplate, "FUNCTION", tc.fn, 1))
			plan, ds := Compile(st, Options{})
			if plan == nil {
				t.Fatalf("no plan:\n%s", diagText(ds))
			}
			fn := plan.Functions["Fn"]
			if fn == nil {
				t.Fatalf("no function Fn in the plan")
			}
			want := ""
			if tc.dir != "" {
				want, _ = filepath.Abs(tc.dir) // t.yaml is in the current directory
			}
			if fn.CodeDir != want {
				t.Errorf("CodeDir = %q, want %q", fn.CodeDir, want)
			}
			if fn.InlineFile != tc.inline || tc.inline != "" && fn.InlineCode != "x" {
				t.Errorf("InlineFile %q, InlineCode %q; want %q", fn.InlineFile, fn.InlineCode, tc.inline)
			}
			in := plan.Apis[0].Stages[0].Routes["$default"].Integration
			runnable := want != "" || tc.inline != ""
			if runnable != (in.NotRunnable == "") {
				t.Errorf("NotRunnable = %q with CodeDir %q", in.NotRunnable, fn.CodeDir)
			}
			if tc.unreachable != "" && (!strings.Contains(fn.Unreachable, tc.unreachable) || !strings.Contains(in.NotRunnable, tc.unreachable)) {
				t.Errorf("Unreachable %q, NotRunnable %q; want them to say %q", fn.Unreachable, in.NotRunnable, tc.unreachable)
			}
		})
	}
}

// WriteInline places inline code: its directory becomes CodeDir, and an
// error makes the function unreachable with the reason.
func TestFunctionWriteInline(t *testing.T) {
	src := strings.Replace(lambdaTemplate, "FUNCTION", "    Type: AWS::Serverless::Function\n    Properties: {Runtime: nodejs20.x, Handler: index.h, InlineCode: code}", 1)
	var got *Function
	plan, ds := Compile(load(t, src), Options{WriteInline: func(f *Function) (string, error) { got = f; return "/tmp/inline-x", nil }})
	if plan == nil {
		t.Fatalf("no plan:\n%s", diagText(ds))
	}
	if got == nil || got.InlineCode != "code" || got.InlineFile != "index.js" || plan.Functions["Fn"].CodeDir != "/tmp/inline-x" {
		t.Errorf("WriteInline got %+v; CodeDir %q", got, plan.Functions["Fn"].CodeDir)
	}
	plan, _ = Compile(load(t, src), Options{WriteInline: func(*Function) (string, error) { return "", errors.New("disk full") }})
	if in := plan.Apis[0].Stages[0].Routes["$default"].Integration; !strings.Contains(in.NotRunnable, "disk full") {
		t.Errorf("NotRunnable = %q", in.NotRunnable)
	}
}

// TestFunctionRunnable checks that an AWS_PROXY integration is NotRunnable
// only when no way of SPEC can run it.
func TestFunctionRunnable(t *testing.T) {
	fn := "    Type: AWS::Serverless::Function\n    Properties: {Runtime: java21, Handler: a.h, CodeUri: src/, Timeout: 7}"
	no := func(*Function) (bool, string) { return false, "runtime java21 is not supported" }
	yes := func(f *Function) (bool, string) { return true, "" }
	for _, tc := range []struct {
		name string
		opts Options
		want string // part of NotRunnable; "" for runnable
	}{
		{"local runner cannot", Options{CanRun: no}, "function Fn cannot run locally: runtime java21 is not supported; give --lambda-endpoint URL or --integration Integ=URL"},
		{"local runner can", Options{CanRun: yes}, ""},
		{"lambda endpoint", Options{CanRun: no, LambdaEndpoint: "http://127.0.0.1:3010"}, ""},
		{"integration override", Options{CanRun: no, Integrations: map[string]string{"Integ": "http://127.0.0.1:9/fn"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := load(t, strings.Replace(lambdaTemplate, "FUNCTION", fn, 1))
			plan, ds := Compile(st, tc.opts)
			if plan == nil {
				t.Fatalf("no plan:\n%s", diagText(ds))
			}
			in := plan.Apis[0].Stages[0].Routes["$default"].Integration
			if tc.want == "" && in.NotRunnable != "" || tc.want != "" && !strings.Contains(in.NotRunnable, tc.want) {
				t.Errorf("NotRunnable = %q, want %q", in.NotRunnable, tc.want)
			}
			if f := plan.Functions["Fn"]; f == nil || f.TimeoutMillis != 7000 {
				t.Errorf("function = %+v, want Timeout 7 s", f)
			}
		})
	}
}

// authTemplate has a $connect route with a CUSTOM authorizer whose
// properties each case supplies.
const authTemplate = `Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: a, ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action}
  Route:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Api, RouteKey: $connect, AuthorizationType: CUSTOM, AuthorizerId: !Ref Auth}
  Auth:
    Type: AWS::ApiGatewayV2::Authorizer
    Properties:
      ApiId: !Ref Api
      Name: auth
AUTH
  Fn:
    Type: AWS::Lambda::Function
    Properties: {Runtime: nodejs20.x, Handler: a.h, Role: r, Code: ./auth}
`

const authURI = "      AuthorizerUri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations\n"

// TestAuthorizerCompile checks the compiled $connect authorizer and the
// errors of authorizers WebSocket APIs cannot have (WSGW3017, WSGW3018).
func TestAuthorizerCompile(t *testing.T) {
	for _, tc := range []struct {
		name, auth string
		sources    []string // Expr of each identity source
		diag       string   // part of a diagnostic message
		rule       string   // its rule
	}{
		{"request", "      AuthorizerType: REQUEST\n" + authURI + "      IdentitySource: [route.request.header.Auth, route.request.querystring.token]", []string{"route.request.header.Auth", "route.request.querystring.token"}, "", ""},
		{"comma separated", "      AuthorizerType: REQUEST\n" + authURI + "      IdentitySource: ['route.request.header.Auth, stageVariables.key']", []string{"route.request.header.Auth", "stageVariables.key"}, "", ""},
		{"no identity source", "      AuthorizerType: REQUEST\n" + authURI, nil, "", ""},
		{"jwt", "      AuthorizerType: JWT\n      IdentitySource: [route.request.header.Auth]", nil, "AuthorizerType of Auth is JWT; WebSocket APIs support only REQUEST", RuleAuthorizerType.ID},
		{"body source", "      AuthorizerType: REQUEST\n" + authURI + "      IdentitySource: [route.request.body.token]", nil, "route.request.body.token is not an identity source", RuleIdentitySource.ID},
		{"no uri", "      AuthorizerType: REQUEST", nil, "authorizer Auth needs an AuthorizerUri", RuleAuthorizerType.ID},
		{"not lambda", "      AuthorizerType: REQUEST\n      AuthorizerUri: https://example.com/auth", nil, "AuthorizerUri of Auth is \"https://example.com/auth\"", RuleAuthorizerType.ID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := load(t, strings.Replace(authTemplate, "AUTH", tc.auth, 1))
			plan, ds := Compile(st, Options{})
			if tc.diag != "" {
				for _, d := range ds {
					if d.Rule == tc.rule && strings.Contains(d.Message, tc.diag) {
						return
					}
				}
				t.Fatalf("no %s %q in:\n%s", tc.rule, tc.diag, diagText(ds))
			}
			if plan == nil {
				t.Fatalf("no plan:\n%s", diagText(ds))
			}
			a := plan.Apis[0].Stages[0].Routes["$connect"].Authorizer
			if a == nil {
				t.Fatal("no authorizer on $connect")
			}
			var got []string
			for _, s := range a.IdentitySources {
				got = append(got, s.Expr)
			}
			if strings.Join(got, "|") != strings.Join(tc.sources, "|") {
				t.Errorf("identity sources = %q, want %q", got, tc.sources)
			}
			if a.Function != "Fn" || a.FunctionName != "Fn" || a.NotRunnable != "" {
				t.Errorf("authorizer = %+v", a)
			}
			if want := "arn:aws:execute-api:us-east-1:123456789012:" + plan.Apis[0].ID + "/local/$connect"; a.MethodArn != want {
				t.Errorf("MethodArn = %q, want %q", a.MethodArn, want)
			}
			if plan.Functions["Fn"] == nil {
				t.Error("the authorizer's function is not in the plan")
			}
		})
	}
}

// SPEC: --integration ID=URL takes an authorizer's logical ID
// too: the authorizer's event is then POSTed to URL (stage variables
// substituted), whatever function AuthorizerUri names, even one with no code
// on disk or one not in the template.
func TestAuthorizerOverride(t *testing.T) {
	for _, tc := range []struct {
		name, auth, url string
		wantURI         string
		wantFunction    string
		diag            string // part of a WSGW8002 message; "" for none
	}{
		{"function", "      AuthorizerType: REQUEST\n" + authURI, "http://127.0.0.1:9000/auth", "http://127.0.0.1:9000/auth", "Fn", ""},
		{"function elsewhere", "      AuthorizerType: REQUEST\n      AuthorizerUri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:other/invocations",
			"https://auth.example/check", "https://auth.example/check", "", ""},
		{"stage variable", "      AuthorizerType: REQUEST\n" + authURI, "http://127.0.0.1:${stageVariables.port}/auth", "", "", "uses ${stageVariables.port}, which stage local does not define"},
		{"not http", "      AuthorizerType: REQUEST\n" + authURI, "ftp://127.0.0.1/auth", "", "", "want an absolute http:// or https:// URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// No code on disk (./auth does not exist next to the template):
			// without the override the authorizer could not run.
			st := load(t, strings.Replace(authTemplate, "AUTH", tc.auth, 1))
			plan, ds := Compile(st, Options{Integrations: map[string]string{"Auth": tc.url}})
			if tc.diag != "" {
				for _, d := range ds {
					if d.Rule == RuleIntegrationOption.ID && strings.Contains(d.Message, tc.diag) {
						return
					}
				}
				t.Fatalf("no %s %q in:\n%s", RuleIntegrationOption.ID, tc.diag, diagText(ds))
			}
			if plan == nil {
				t.Fatalf("no plan:\n%s", diagText(ds))
			}
			a := plan.Apis[0].Stages[0].Routes["$connect"].Authorizer
			if a == nil {
				t.Fatal("no authorizer on $connect")
			}
			if !a.Overridden || a.URI != tc.wantURI || a.NotRunnable != "" || a.Function != tc.wantFunction {
				t.Errorf("authorizer = %+v, want URI %s overridden and runnable, function %q", a, tc.wantURI, tc.wantFunction)
			}
		})
	}
	t.Run("unknown id", func(t *testing.T) {
		st := load(t, strings.Replace(authTemplate, "AUTH", "      AuthorizerType: REQUEST\n"+authURI, 1))
		_, ds := Compile(st, Options{Integrations: map[string]string{"Authh": "http://127.0.0.1:1"}})
		d := findDiag(t, ds, RuleIntegrationOption.ID, "")
		if want := "--integration Authh: the template has no integration or authorizer Authh"; d.Message != want || d.Fix != "did you mean Auth?" {
			t.Errorf("%q (fix %q), want %q (did you mean Auth?)", d.Message, d.Fix, want)
		}
	})
}
