package runtime

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/gorilla/websocket"

	"github.com/wsgw/wsgw/compile"
)

// iamPlan is lambdaTestPlan with AuthorizationType AWS_IAM on $connect.
func iamPlan() *compile.Plan {
	p := lambdaTestPlan()
	p.Apis[0].Stages[0].Routes["$connect"].IAM = true
	return p
}

var testCreds = aws.Credentials{AccessKeyID: "AKIAWSGWTEST0000001", SecretAccessKey: "secret", SessionToken: "tok"}

// signedHeader signs a GET of u with SigV4 in the Authorization header, as
// an AWS SDK signs a WebSocket handshake.
func signedHeader(t *testing.T, u string) http.Header {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if err := v4.NewSigner().SignHTTP(context.Background(), testCreds, req, emptySHA256, "execute-api", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	for _, k := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} {
		h.Set(k, req.Header.Get(k))
	}
	return h
}

// presigned returns u presigned with SigV4 in its query string, as Amplify's
// Signer.signUrl and the SDKs' presigners do for browser WebSockets.
func presigned(t *testing.T, u string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	out, _, err := v4.NewSigner().PresignHTTP(context.Background(), testCreds, req, emptySHA256, "execute-api", "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return out
}

const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// SPEC: AuthorizationType AWS_IAM on $connect accepts a SigV4-signed
// handshake (header or presigned URL; the signature is not checked) and
// refuses an unsigned or malformed one with 403 and API Gateway's JSON body,
// without running the $connect function. The access key reaches
// requestContext.identity.accessKey of every event of the connection.
func TestIAMConnect(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sign    func(t *testing.T, u string) (string, http.Header)
		status  int
		errType string
		message string
	}{
		{"header", func(t *testing.T, u string) (string, http.Header) { return u, signedHeader(t, u) }, 101, "", ""},
		{"presigned", func(t *testing.T, u string) (string, http.Header) { return presigned(t, u), nil }, 101, "", ""},
		{"bad signature", func(t *testing.T, u string) (string, http.Header) {
			h := signedHeader(t, u)
			h.Set("Authorization", strings.Replace(h.Get("Authorization"), "Signature=", "Signature=00", 1))
			return u, h
		}, 101, "", ""},
		{"unsigned", func(_ *testing.T, u string) (string, http.Header) { return u, nil }, 403, "MissingAuthenticationTokenException", "Missing Authentication Token"},
		{"not sigv4", func(_ *testing.T, u string) (string, http.Header) {
			return u, http.Header{"Authorization": {"Bearer abc"}}
		}, 403, "IncompleteSignatureException", "Authorization header requires the AWS4-HMAC-SHA256 algorithm (Signature Version 4)."},
		{"no date", func(t *testing.T, u string) (string, http.Header) {
			h := signedHeader(t, u)
			h.Del("X-Amz-Date")
			return u, h
		}, 403, "IncompleteSignatureException", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."},
		{"no signature", func(_ *testing.T, u string) (string, http.Header) {
			return u, http.Header{"Authorization": {"AWS4-HMAC-SHA256 Credential=AKID/20260505/us-east-1/execute-api/aws4_request, SignedHeaders=host"}, "X-Amz-Date": {"20260505T000000Z"}}
		}, 403, "IncompleteSignatureException", "Authorization header requires 'Signature' parameter."},
		{"presigned without signature", func(t *testing.T, u string) (string, http.Header) {
			p, _ := url.Parse(presigned(t, u))
			q := p.Query()
			q.Del("X-Amz-Signature")
			p.RawQuery = q.Encode()
			return p.String(), nil
		}, 403, "IncompleteSignatureException", "AWS query-string parameters must include 'X-Amz-Signature'."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFakeLambda(echoEvent)
			g := startGateway(t, iamPlan(), func(o *Options) { o.Lambda = fake })
			u, h := tc.sign(t, "ws://"+g.Addrs()[0]+"/dev")
			ws, resp, err := websocket.DefaultDialer.Dial(u, h)
			if tc.status == 101 {
				if err != nil {
					t.Fatalf("dial: %v (status %v)", err, resp)
				}
				defer ws.Close()
				ev := decodeEvent(t, fake.next(t).payload)
				if got := identityOf(ev)["accessKey"]; got != testCreds.AccessKeyID {
					t.Errorf("CONNECT identity.accessKey = %v, want %s", got, testCreds.AccessKeyID)
				}
				send(t, ws, `{"action":"echo"}`)
				msg := decodeEvent(t, []byte(recv(t, ws)))
				if got := identityOf(msg)["accessKey"]; got != testCreds.AccessKeyID {
					t.Errorf("MESSAGE identity.accessKey = %v, want %s", got, testCreds.AccessKeyID)
				}
				return
			}
			if err == nil {
				ws.Close()
				t.Fatal("handshake accepted")
			}
			if resp == nil || resp.StatusCode != tc.status {
				t.Fatalf("response %v, want status %d", resp, tc.status)
			}
			body, _ := io.ReadAll(resp.Body)
			var got struct{ Message string }
			if err := json.Unmarshal(body, &got); err != nil || got.Message != tc.message {
				t.Errorf("body %s, want message %q", body, tc.message)
			}
			if et := resp.Header.Get("x-amzn-ErrorType"); et != tc.errType {
				t.Errorf("x-amzn-ErrorType %q, want %q", et, tc.errType)
			}
			if n := len(fake.snapshot()); n != 0 {
				t.Errorf("%d function calls for a refused handshake", n)
			}
		})
	}
}

// Without AWS_IAM, identity has no accessKey, signed or not.
func TestNoIAMNoAccessKey(t *testing.T) {
	fake := newFakeLambda(echoEvent)
	g := startGateway(t, lambdaTestPlan(), func(o *Options) { o.Lambda = fake })
	u := "ws://" + g.Addrs()[0] + "/dev"
	ws, _, err := websocket.DefaultDialer.Dial(u, signedHeader(t, u))
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if _, ok := identityOf(decodeEvent(t, fake.next(t).payload))["accessKey"]; ok {
		t.Error("identity.accessKey without AWS_IAM")
	}
}

func decodeEvent(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("event %s: %v", b, err)
	}
	return ev
}

func identityOf(ev map[string]any) map[string]any {
	rc, _ := ev["requestContext"].(map[string]any)
	id, _ := rc["identity"].(map[string]any)
	return id
}

// $context.identity.accessKey in a mapping (SPEC ): the access key of
// the $connect signature on every later call of the connection.
func TestIAMAccessKeyMapping(t *testing.T) {
	be := newBackend(t, nil)
	p := iamPlan()
	p.Apis[0].Stages[0].Routes["mapped"] = route("mapped", httpInteg("Mapped", be.URL, header("X-Key", ctxVar("identity.accessKey"))))
	g := startGateway(t, p, func(o *Options) { o.Lambda = newFakeLambda(echoEvent) })
	u := "ws://" + g.Addrs()[0] + "/dev"
	ws, _, err := websocket.DefaultDialer.Dial(presigned(t, u), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	send(t, ws, `{"action":"mapped"}`)
	if got := be.next(t).Header.Get("X-Key"); got != testCreds.AccessKeyID {
		t.Errorf("X-Key = %q, want %s", got, testCreds.AccessKeyID)
	}
}
