package runtime

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgw/wsgw/compile"
	"github.com/wsgw/wsgw/runtime/lambda"
)

const testMethodArn = "arn:aws:execute-api:us-east-1:123456789012:abcde12345/dev/$connect"

// authPlan is lambdaTestPlan with a REQUEST authorizer (function Auth) on
// $connect, whose identity sources are the Auth header and the token query
// string, and a route "mapped" whose HTTP_PROXY integration maps
// $context.authorizer.tenant and principalId to headers.
func authPlan(backendURL string) *compile.Plan {
	p := lambdaTestPlan()
	p.Functions["Auth"] = &compile.Function{LogicalID: "Auth", Name: "Auth", Runtime: "nodejs20.x", TimeoutMillis: 3000}
	st := p.Apis[0].Stages[0]
	st.Routes["$connect"].Authorizer = &compile.Authorizer{LogicalID: "Authorizer", ID: "auth123", Name: "auth", Type: "REQUEST",
		IdentitySources: []compile.Source{
			{Kind: compile.SourceHeader, Name: "Auth", Expr: "route.request.header.Auth"},
			{Kind: compile.SourceQueryString, Name: "token", Expr: "route.request.querystring.token"},
		},
		MethodArn: testMethodArn, Function: "Auth", FunctionName: "Auth"}
	st.Routes["mapped"] = route("mapped", httpInteg("Mapped", backendURL,
		header("X-Tenant", ctxVar("authorizer.tenant")), header("X-Principal", ctxVar("authorizer.principalId"))))
	return p
}

// policy is an authorizer answer with one statement.
func policy(effect, resource string, context string) string {
	return `{"principalId":"user-7","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"` +
		effect + `","Resource":"` + resource + `"}]}` + context + `}`
}

// Authorizers on $connect: the decision, the statuses, and the principal and
// context passed on to every later event of the connection.
func TestAuthorizer(t *testing.T) {
	ctx := `,"context":{"tenant":"acme","level":3,"admin":true}`
	for _, tc := range []struct {
		name       string
		answer     string
		err        error
		query      string
		authHeader string
		status     int  // 101: accepted
		called     bool // the authorizer function ran
	}{
		{"allow", policy("Allow", testMethodArn, ctx), nil, "?token=t", "a", 101, true},
		{"allow wildcard", policy("Allow", "arn:aws:execute-api:us-east-1:123456789012:abcde12345/*", ""), nil, "?token=t", "a", 101, true},
		{"allow list", `{"principalId":"p","policyDocument":{"Statement":[{"Action":["execute-api:*"],"Effect":"Allow","Resource":["arn:x","arn:aws:execute-api:*:*:abcde12345/dev/$connect"]}]}}`, nil, "?token=t", "a", 101, true},
		{"deny", policy("Deny", testMethodArn, ""), nil, "?token=t", "a", 403, true},
		{"deny wins", `{"principalId":"p","policyDocument":{"Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"},{"Action":"execute-api:Invoke","Effect":"Deny","Resource":"*"}]}}`, nil, "?token=t", "a", 403, true},
		{"allow elsewhere", policy("Allow", "arn:aws:execute-api:us-east-1:123456789012:abcde12345/prod/$connect", ""), nil, "?token=t", "a", 403, true},
		{"missing header", policy("Allow", testMethodArn, ""), nil, "?token=t", "", 401, false},
		{"missing query", policy("Allow", testMethodArn, ""), nil, "", "a", 401, false},
		{"empty query", policy("Allow", testMethodArn, ""), nil, "?token=", "a", 401, false},
		{"unauthorized error", ``, &lambda.FunctionError{Type: "Error", Message: "Unauthorized"}, "?token=t", "a", 401, true},
		{"unauthorized answer", `"Unauthorized"`, nil, "?token=t", "a", 401, true},
		{"function error", ``, &lambda.FunctionError{Type: "Error", Message: "boom"}, "?token=t", "a", 500, true},
		{"process error", ``, errors.New("process exited"), "?token=t", "a", 500, true},
		{"no policy", `{"principalId":"p"}`, nil, "?token=t", "a", 500, true},
		{"not json", `nope`, nil, "?token=t", "a", 500, true},
		{"context object", policy("Allow", testMethodArn, `,"context":{"o":{"a":1}}`), nil, "?token=t", "a", 500, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be := newBackend(t, nil)
			fake := newFakeLambda(func(fn *compile.Function, payload []byte) ([]byte, error) {
				if fn.LogicalID == "Auth" {
					return []byte(tc.answer), tc.err
				}
				return echoEvent(fn, payload)
			})
			g := startGateway(t, authPlan(be.URL), func(o *Options) { o.Lambda = fake })
			h := http.Header{"User-Agent": {"ua"}}
			if tc.authHeader != "" {
				h.Set("Auth", tc.authHeader)
			}
			ws, resp, err := websocket.DefaultDialer.Dial("ws://"+g.Addrs()[0]+"/dev"+tc.query, h)
			if called := fake.count("Auth") > 0; called != tc.called {
				t.Errorf("authorizer called: %v, want %v", called, tc.called)
			}
			if tc.status != 101 {
				if err == nil {
					ws.Close()
					t.Fatalf("handshake accepted, want %d", tc.status)
				}
				if resp == nil || resp.StatusCode != tc.status {
					t.Fatalf("handshake: %v, want %d", resp, tc.status)
				}
				if n := fake.count("Fn"); n != 0 {
					t.Errorf("$connect integration called %d times after a refusal", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("dial: %v (%v)", err, resp)
			}
			defer ws.Close()
			if tc.name != "allow" {
				return
			}
			// The authorizer's event.
			var authEv map[string]any
			for _, c := range fake.snapshot() {
				if c.fn == "Auth" {
					_ = json.Unmarshal(c.payload, &authEv)
				}
			}
			if authEv["type"] != "REQUEST" || authEv["methodArn"] != testMethodArn {
				t.Errorf("authorizer event type %v methodArn %v", authEv["type"], authEv["methodArn"])
			}
			hs, _ := authEv["headers"].(map[string]any)
			qs, _ := authEv["queryStringParameters"].(map[string]any)
			rc, _ := authEv["requestContext"].(map[string]any)
			if hs["Auth"] != "a" || qs["token"] != "t" || rc["eventType"] != "CONNECT" || rc["routeKey"] != "$connect" {
				t.Errorf("authorizer event: headers %v query %v requestContext %v", hs, qs, rc)
			}
			// As in the developer guide's example authorizer input.
			if hs["Upgrade"] != "websocket" || hs["Connection"] == nil {
				t.Errorf("authorizer event headers lack Connection and Upgrade: %v", hs)
			}
			if _, ok := authEv["stageVariables"].(map[string]any); !ok {
				t.Errorf("authorizer event has no stageVariables: %v", authEv)
			}
			wantAuth := map[string]any{"principalId": "user-7", "tenant": "acme", "level": "3", "admin": "true"}
			domain := g.Addrs()[0]
			// $connect's integration, then a message, then $disconnect.
			var connect []byte
			for _, c := range fake.snapshot() {
				if typ, _ := eventOf(c.payload); c.fn == "Fn" && typ == "CONNECT" {
					connect = c.payload
				}
			}
			checkEvent(t, connect, eventWant{typ: "CONNECT", routeKey: "$connect", domain: domain, userAgent: "ua",
				headers: map[string]string{"Auth": "a"}, query: map[string][]string{"token": {"t"}},
				stageVars: map[string]string{"color": "blue"}, authorizer: wantAuth})
			send(t, ws, `{"action":"echo"}`)
			checkEvent(t, []byte(recv(t, ws)), eventWant{typ: "MESSAGE", routeKey: "echo", domain: domain, userAgent: "ua",
				body: []byte(`{"action":"echo"}`), stageVars: map[string]string{"color": "blue"}, authorizer: wantAuth})
			send(t, ws, `{"action":"mapped"}`)
			got := be.next(t)
			if got.Header.Get("X-Tenant") != "acme" || got.Header.Get("X-Principal") != "user-7" {
				t.Errorf("$context.authorizer mapping: X-Tenant %q X-Principal %q", got.Header.Get("X-Tenant"), got.Header.Get("X-Principal"))
			}
			_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, "done"), time.Now().Add(time.Second))
			for { // the calls in order, until $disconnect's (next fails after 5 s)
				c := fake.next(t)
				if typ, _ := eventOf(c.payload); typ == "DISCONNECT" {
					checkEvent(t, c.payload, eventWant{typ: "DISCONNECT", routeKey: "$disconnect", domain: domain, userAgent: "ua",
						code: 1000, reason: "done", stageVars: map[string]string{"color": "blue"}, authorizer: wantAuth})
					return
				}
			}
		})
	}
}

// ApiKeyRequired on $connect: the x-api-key header must hold one of the
// gateway's keys (--api-key), else 403 before anything runs.
func TestAPIKeyRequired(t *testing.T) {
	for _, tc := range []struct {
		name, key string
		fromAuth  bool
		status    int
	}{
		{"no key", "", false, 403},
		{"wrong key", "nope", false, 403},
		{"right key", "k2", false, 101},
		{"authorizer key", "", true, 101},
		{"authorizer key ignores header", "k1", true, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			usage := ""
			if tc.fromAuth && tc.key == "" {
				usage = `,"usageIdentifierKey":"k1"`
			}
			fake := newFakeLambda(func(fn *compile.Function, payload []byte) ([]byte, error) {
				if fn.LogicalID == "Auth" {
					return []byte(policy("Allow", "*", usage)), nil
				}
				return []byte(`{"statusCode":200}`), nil
			})
			p := lambdaTestPlan()
			p.Apis[0].Stages[0].Routes["$connect"].ApiKeyRequired = true
			if tc.fromAuth {
				p.Apis[0].ApiKeySelectionExpression = "$context.authorizer.usageIdentifierKey"
				p = authPlan("http://127.0.0.1:1")
				p.Apis[0].ApiKeySelectionExpression = "$context.authorizer.usageIdentifierKey"
				p.Apis[0].Stages[0].Routes["$connect"].ApiKeyRequired = true
			}
			g := startGateway(t, p, func(o *Options) { o.Lambda = fake; o.APIKeys = []string{"k1", "k2"} })
			h := http.Header{"Auth": {"a"}}
			if tc.key != "" {
				h.Set("x-api-key", tc.key)
			}
			ws, resp, err := websocket.DefaultDialer.Dial("ws://"+g.Addrs()[0]+"/dev?token=t", h)
			if tc.status == 101 {
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				ws.Close()
				return
			}
			if err == nil {
				ws.Close()
				t.Fatal("accepted")
			}
			if resp == nil || resp.StatusCode != tc.status {
				t.Fatalf("handshake %v, want %d", resp, tc.status)
			}
			if !tc.fromAuth && fake.count("Fn") != 0 {
				t.Error("$connect ran without a valid key")
			}
		})
	}
}

// evaluateAuthorizer and wildcardMatch on their own.
func TestPolicyMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "anything", true},
		{"arn:aws:execute-api:*:*:api/*/$connect", "arn:aws:execute-api:us-east-1:1:api/dev/$connect", true},
		{"arn:aws:execute-api:*:*:api/dev/$connect", "arn:aws:execute-api:us-east-1:1:api/prod/$connect", false},
		{"arn:aws:execute-api:us-east-?:*", "arn:aws:execute-api:us-east-1:1", true},
		{"execute-api:invoke", "execute-api:Invoke", true},
		{"execute-api:*", "execute-api:Invoke", true},
		{"s3:*", "execute-api:Invoke", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
	} {
		if got := wildcardMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("wildcardMatch(%q, %q) = %v", tc.pattern, tc.s, got)
		}
	}
	if _, d := evaluateAuthorizer([]byte(policy("allow", testMethodArn, "")), testMethodArn); d != nil {
		t.Errorf("Effect is case-insensitive: %v", d)
	}
	if _, d := evaluateAuthorizer([]byte(strings.Replace(policy("Allow", testMethodArn, ""), `"Action":"execute-api:Invoke"`, `"Action":"s3:GetObject"`, 1)), testMethodArn); d == nil || d.status != 403 {
		t.Errorf("an Allow of another action: %v", d)
	}
}

// SPEC: an authorizer given --integration ID=URL (compiled as
// Overridden, URI the URL) POSTs its REQUEST event to the URL and takes the
// reply as the function's answer, instead of invoking the function that
// AuthorizerUri names.
func TestAuthorizerIntegrationURL(t *testing.T) {
	type authEvent struct {
		Type      string            `json:"type"`
		MethodArn string            `json:"methodArn"`
		Headers   map[string]string `json:"headers"`
	}
	events := make(chan authEvent, 10)
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev authEvent
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil || r.Method != http.MethodPost {
			http.Error(w, "bad event", http.StatusBadRequest)
			return
		}
		events <- ev
		effect := "Deny"
		if ev.Headers["Auth"] == "good" {
			effect = "Allow"
		}
		_, _ = w.Write([]byte(policy(effect, ev.MethodArn, `,"context":{"tenant":"url"}`)))
	}))
	for _, tc := range []struct {
		name, auth string
		status     int // 101: accepted
	}{
		{"allow", "good", 101},
		{"deny", "bad", 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be := newBackend(t, nil)
			p := authPlan(be.URL)
			a := p.Apis[0].Stages[0].Routes["$connect"].Authorizer
			a.Overridden, a.URI = true, srv+"/auth"
			fake := newFakeLambda(nil)
			g := startGateway(t, p, func(o *Options) { o.Lambda = fake })
			ws, resp, err := websocket.DefaultDialer.Dial("ws://"+g.Addrs()[0]+"/dev?token=t", http.Header{"Auth": {tc.auth}})
			if tc.status == 101 {
				if err != nil {
					t.Fatalf("dial: %v (%v)", err, resp)
				}
				defer ws.Close()
				send(t, ws, `{"action":"mapped"}`)
				if got := be.next(t).Header.Get("X-Tenant"); got != "url" {
					t.Errorf("$context.authorizer.tenant %q, want the URL's answer", got)
				}
			} else if err == nil || resp == nil || resp.StatusCode != tc.status {
				t.Fatalf("dial: %v %v, want %d", err, resp, tc.status)
			}
			select {
			case ev := <-events:
				if ev.Type != "REQUEST" || ev.MethodArn != testMethodArn || ev.Headers["Auth"] != tc.auth {
					t.Errorf("event at the URL: %+v", ev)
				}
			default:
				t.Error("the URL got no authorizer event")
			}
			if n := fake.count("Auth"); n != 0 {
				t.Errorf("the authorizer's function was invoked %d times despite --integration", n)
			}
		})
	}
}
