package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// placeholderTemplate is the VPC-link pattern of examples/vpclink with the
// load balancer in the template: its DNS name (GetAtt, written in !Sub) and
// a DNS record's name (Ref) are values wsgw makes up (SPEC ).
const placeholderTemplate = `Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: orders
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: $request.body.action
  Nlb:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties:
      Type: network
      Scheme: internal
  Record:
    Type: AWS::Route53::RecordSet
    Properties:
      Name: orders.internal.example.com
      Type: CNAME
      HostedZoneName: internal.example.com.
      TTL: '60'
      ResourceRecords: [!GetAtt Nlb.DNSName]
  VpcLink:
    Type: AWS::ApiGateway::VpcLink
    Properties:
      Name: orders
      TargetArns: [!Ref Nlb]
  OrdersInteg:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: HTTP_PROXY
      IntegrationMethod: POST
      ConnectionType: VPC_LINK
      ConnectionId: !Ref VpcLink
      IntegrationUri: !Sub http://${Nlb.DNSName}/orders
  RecordInteg:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: HTTP_PROXY
      IntegrationMethod: POST
      IntegrationUri: !Join ['', ['http://', !Ref Record, /record]]
  OrdersRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: orders
      Target: !Sub integrations/${OrdersInteg}
  RecordRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: record
      Target: !Sub integrations/${RecordInteg}
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties:
      ApiId: !Ref Api
      StageName: dev
`

// SPEC: validate and plan warn where a made-up value reaches an
// integration URI, at the ${...} inside the !Sub and at the !Ref, naming the
// --param that sets it; both spellings of --param set it.
func TestPlaceholderValidatePlan(t *testing.T) {
	file := writeTemplate(t, placeholderTemplate)
	wantWarn := []string{
		file + ":34:35: warning: IntegrationUri of OrdersInteg uses Nlb.DNSName, which wsgw makes up as \"Nlb.DNSName\" because it does not run Nlb (AWS::ElasticLoadBalancingV2::LoadBalancer) (set it with --param Nlb.DNSName=VALUE) [WSGW1016]",
		file + ":41:46: warning: IntegrationUri of RecordInteg uses Record, which wsgw makes up as \"Record\" because it does not run Record (AWS::Route53::RecordSet) (set it with --param Record=VALUE) [WSGW1016]",
	}
	out, errs, code := runWSGW("validate", file)
	if code != 0 {
		t.Fatalf("validate: exit %d\n%s%s", code, out, errs)
	}
	for _, w := range wantWarn {
		if !strings.Contains(out, w) {
			t.Errorf("validate output lacks\n%s\ngot:\n%s", w, out)
		}
	}
	set := []string{"--param", "Nlb.DNSName=127.0.0.1:9000", "--param", "Record=127.0.0.1:9001"}
	out, errs, code = runWSGW(append(append([]string{"validate"}, set...), file)...)
	if code != 0 || strings.Contains(out, "WSGW1016") {
		t.Errorf("validate with --param: exit %d\n%s%s", code, out, errs)
	}

	out, errs, code = runWSGW("plan", file)
	if code != 0 || !strings.Contains(errs, wantWarn[0]) || !strings.Contains(errs, wantWarn[1]) || !strings.Contains(out, "http://Nlb.DNSName/orders") {
		t.Errorf("plan: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	out, errs, code = runWSGW(append(append([]string{"plan"}, set...), file)...)
	if code != 0 || strings.Contains(errs, "WSGW1016") {
		t.Fatalf("plan with --param: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	for _, want := range []string{"http://127.0.0.1:9000/orders", "http://127.0.0.1:9001/record"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan with --param lacks %s:\n%s", want, out)
		}
	}
	// --integration replaces the URI: its made-up value is never used, and only the other warns.
	out, errs, code = runWSGW("plan", "--integration", "OrdersInteg=http://127.0.0.1:9002/o", file)
	if code != 0 || strings.Contains(errs, wantWarn[0]) || !strings.Contains(errs, wantWarn[1]) || !strings.Contains(out, "http://127.0.0.1:9002/o") {
		t.Errorf("plan with --integration: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	// A misspelled resource is an error that names the right one.
	_, errs, code = runWSGW("plan", "--param", "Nbl.DNSName=127.0.0.1:9000", file)
	if code == 0 || !strings.Contains(errs, "--param Nbl.DNSName: the template has no resource Nbl") {
		t.Errorf("plan with a misspelled --param: exit %d\n%s", code, errs)
	}
}

// SPEC: serve prints the same warning at start, and with --param the
// gateway calls the URL built from the value given, for both spellings.
func TestPlaceholderServe(t *testing.T) {
	file := writeTemplate(t, placeholderTemplate)
	_, _, stderr, stop := startServe(t, "--addr", "127.0.0.1:0", "--no-watch", "--no-inspector", file)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), ":34:35: warning: IntegrationUri of OrdersInteg uses Nlb.DNSName") || !strings.Contains(stderr.String(), "--param Record=VALUE") {
		t.Errorf("serve did not warn at start:\n%s", stderr)
	}

	paths := make(chan string, 4)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths <- r.URL.Path
	}))
	defer backend.Close()
	host := strings.TrimPrefix(backend.URL, "http://")
	url, stdout, stderr, stop := startServe(t, "--addr", "127.0.0.1:0", "--no-watch", "--no-inspector",
		"--param", "Nlb.DNSName="+host, "--param", "Record="+host, file)
	defer stop()
	if strings.Contains(stderr.String(), "WSGW1016") {
		t.Errorf("serve warned although both values are set:\n%s", stderr)
	}
	for _, want := range []string{"POST " + backend.URL + "/orders", "POST " + backend.URL + "/record"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("startup output lacks %q:\n%s", want, stdout)
		}
	}
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	for _, action := range []string{"orders", "record"} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"action":"`+action+`"}`)); err != nil {
			t.Fatal(err)
		}
		select {
		case p := <-paths:
			if p != "/"+action {
				t.Errorf("backend got %s, want /%s", p, action)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("backend got no call for %s; stderr:\n%s", action, stderr)
		}
	}
}
