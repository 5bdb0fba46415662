package runtime

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wsgw/wsgw/compile"
)

// hangingInvoker is a local runner whose functions run until the call is
// abandoned.
type hangingInvoker struct{}

func (hangingInvoker) Invoke(ctx context.Context, _ *compile.Function, _ []byte) ([]byte, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// SPEC: a call past TimeoutInMillis answers API Gateway's
// "Endpoint request timed out" frame, byte for byte, on every integration
// type that makes a call (HTTP_PROXY, HTTP, AWS_PROXY through --integration,
// --lambda-endpoint and the local runner), on one-way and two-way routes; the
// connection stays open. (Other integration errors keep Internal server
// error: TestInternalServerError, TestLambdaWays.)
func TestIntegrationTimeout(t *testing.T) {
	hang := func(w http.ResponseWriter, r *http.Request) {
		// Read the body first, so that the server notices the gateway
		// abandoning the call.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}
	slow := httptest.NewServer(http.HandlerFunc(hang))
	t.Cleanup(slow.Close)
	ok := newBackend(t, echo)

	tests := []struct {
		name  string
		integ func() *compile.Integration
		opt   func(*Options)
	}{
		{"HTTP_PROXY", func() *compile.Integration { return httpInteg("Slow", slow.URL) }, nil},
		{"HTTP", func() *compile.Integration {
			return &compile.Integration{LogicalID: "Slow", ID: "slow", Type: "HTTP", Method: "POST", URL: slow.URL}
		}, nil},
		{"AWS_PROXY --integration", func() *compile.Integration {
			in := lambdaInteg("Slow", "Fn")
			in.URL, in.Overridden = slow.URL+"/fn", true
			return in
		}, func(o *Options) { o.Lambda = hangingInvoker{} }},
		{"AWS_PROXY --lambda-endpoint", func() *compile.Integration { return lambdaInteg("Slow", "Fn") },
			func(o *Options) { o.LambdaEndpoint = slow.URL }},
		{"AWS_PROXY local runner", func() *compile.Integration { return lambdaInteg("Slow", "Fn") },
			func(o *Options) { o.Lambda = hangingInvoker{} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			oneWay, twoWayIn := tc.integ(), tc.integ()
			oneWay.TimeoutMillis, twoWayIn.TimeoutMillis = 150, 150
			oneWay.LogicalID, oneWay.ID = "SlowOneWay", "slowoneway"
			p := withFunctions(testPlan(actionSel,
				twoWay(route("slow", twoWayIn)),
				route("quiet", oneWay),
				twoWay(route("ok", httpInteg("Ok", ok.URL))),
			), "Fn")
			g := startGateway(t, p, tc.opt)
			ws := dial(t, g, "/dev")
			for _, action := range []string{"slow", "quiet"} {
				send(t, ws, `{"action":"`+action+`"}`)
				got := recv(t, ws)
				m := errorFrameRE("Endpoint request timed out").FindStringSubmatch(got)
				if m == nil {
					t.Fatalf("%s: got %q, want the Endpoint request timed out frame", action, got)
				}
				if want := `{"message": "Endpoint request timed out", "connectionId":"` + m[1] + `", "requestId":"` + m[2] + `"}`; got != want {
					t.Fatalf("got %q, want %q", got, want)
				}
				send(t, ws, `{"action":"ok"}`)
				if got := recv(t, ws); got != `{"action":"ok"}` {
					t.Fatalf("connection not usable after the timeout: got %q", got)
				}
			}
		})
	}
}
