package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/gorilla/websocket"

	"github.com/wsgw/wsgw/internal/testtool"
)

// requireNode skips a test that runs Node.js functions when node is not on
// PATH (fails it in CI: internal/testtool).
func requireNode(tb testing.TB) {
	tb.Helper()
	testtool.Need(tb, "node")
}

// SPEC: serve runs InlineCode and Code.ZipFile functions from a
// private temporary directory (removed when serve stops); a function whose
// code is in S3, or whose TypeScript needs `sam build`, answers Internal
// server error, and the start and the log name the function and what to do.
func TestServeFunctionCode(t *testing.T) {
	requireNode(t)
	url, stdout, stderr, stop := startServe(t, "--addr", "127.0.0.1:0", "--no-watch", "--no-tls", "testdata/serve/code.yaml")
	stopped := false
	defer func() {
		if !stopped {
			_ = stop()
		}
	}()
	start := stderr.String() + stdout.String()
	for _, want := range []string{
		"warning: function PackagedFn cannot run locally: its CodeUri is in S3 (s3://my-bucket/0123abcd)",
		"[WSGW9002]",
		"warning: function TypeScriptFn needs building: it has Metadata BuildMethod esbuild and app.js is not in",
		"run `sam build` and serve .aws-sam/build/template.yaml",
		"not runnable: function PackagedFn cannot run locally",
	} {
		if !strings.Contains(start, want) {
			t.Errorf("serve's start output lacks %q:\n%s", want, start)
		}
	}

	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	send := func(msg string) string {
		t.Helper()
		if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		return chatRecv(t, ws)
	}

	inline := strings.Fields(send(`{"action":"inline"}`))
	if len(inline) != 3 || inline[0] != "inline" || !strings.HasSuffix(inline[1], "=") {
		t.Fatalf("inline answered %q", inline)
	}
	dir := inline[2]
	if b, err := os.ReadFile(filepath.Join(dir, "index.js")); err != nil || !strings.Contains(string(b), "exports.handler") {
		t.Errorf("index.js in %s: %v", dir, err)
	}
	if st, err := os.Stat(filepath.Dir(dir)); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("inline code's parent directory %s: %v, mode %v; want private (0700)", filepath.Dir(dir), err, st.Mode().Perm())
	}
	if got := send(`{"action":"zip"}`); got != "zip in us-east-1" {
		t.Errorf("zip answered %q", got)
	}
	for _, tc := range []struct{ action, log string }{
		{"s3", "function PackagedFn cannot run locally: its CodeUri is in S3"},
		{"ts", "function TypeScriptFn needs building"},
	} {
		got := send(`{"action":"` + tc.action + `"}`)
		if !strings.Contains(got, `"message": "Internal server error"`) {
			t.Errorf("%s answered %q, want the Internal server error frame", tc.action, got)
		}
		waitFor(t, stderr, tc.log)
	}
	ws.Close()
	stopped = true
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the inline code's directory %s is still there after serve stopped (%v)", dir, err)
	}
}

// waitFor waits until buf contains s.
func waitFor(t *testing.T, buf *lockedBuffer, s string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(buf.String(), s); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in:\n%s", s, buf)
		}
	}
}

// `wsgw serve .aws-sam/build/template.yaml` after `sam build` (SPEC ):
// the built template (CodeUri rewritten to the build directory, Metadata
// SamResourceId) runs the bundle; the source template, whose TypeScript
// needs building, says so at start and answers Internal server error.
func TestServeSamBuild(t *testing.T) {
	requireNode(t)
	for _, tc := range []struct {
		name, template string
		want           string // the echo route's answer
		start          string // in serve's start output
	}{
		{"built", "testdata/serve/sambuild/.aws-sam/build/template.yaml", `built echo: {"action":"echo"}`, ""},
		{"source", "testdata/serve/sambuild/template.yaml", `"message": "Internal server error"`,
			"warning: function EchoFunction needs building: it has Metadata BuildMethod esbuild and app.js is not in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, stdout, stderr, stop := startServe(t, "--addr", "127.0.0.1:0", "--no-watch", "--no-tls", tc.template)
			defer func() { _ = stop() }()
			start := stderr.String() + stdout.String()
			if tc.start != "" && (!strings.Contains(start, tc.start) || !strings.Contains(start, "run `sam build` and serve .aws-sam/build/template.yaml")) {
				t.Errorf("start output lacks %q and the sam build hint:\n%s", tc.start, start)
			}
			if tc.start == "" && strings.Contains(start, "warning") {
				t.Errorf("warnings for the built template:\n%s", start)
			}
			ws, _, err := websocket.DefaultDialer.Dial(url, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"action":"echo"}`)); err != nil {
				t.Fatal(err)
			}
			if got := chatRecv(t, ws); !strings.Contains(got, tc.want) {
				t.Errorf("echo answered %q, want %q\n%s", got, tc.want, stderr)
			}
			if tc.start != "" {
				waitFor(t, stderr, "function EchoFunction needs building")
			}
		})
	}
}

// SAM's Auth AWS_IAM served (SPEC ): an unsigned handshake is refused
// with 403 Missing Authentication Token before any function runs; one signed
// by the AWS SDK for Go's SigV4 signer is accepted, and the functions see
// its access key.
func TestServeSamIAM(t *testing.T) {
	requireNode(t)
	url, _, stderr, stop := startServe(t, "--addr", "127.0.0.1:0", "--no-watch", "--no-tls", "testdata/serve/iam.yaml")
	defer func() { _ = stop() }()

	_, resp, err := websocket.DefaultDialer.Dial(url, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("unsigned handshake: %v, %v; want 403", err, resp)
	}
	body, _ := io.ReadAll(resp.Body)
	if string(body) != `{"message":"Missing Authentication Token"}` {
		t.Errorf("unsigned handshake answered %s", body)
	}
	if strings.Contains(stderr.String(), "lambda process started") {
		t.Errorf("a function ran for an unsigned handshake:\n%s", stderr)
	}

	req, _ := http.NewRequest(http.MethodGet, url, nil)
	creds := aws.Credentials{AccessKeyID: "AKIAWSGWSAMTEST00001", SecretAccessKey: "secret"}
	const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, emptySHA256, "execute-api", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Authorization": req.Header.Values("Authorization"), "X-Amz-Date": req.Header.Values("X-Amz-Date")}
	ws, _, err := websocket.DefaultDialer.Dial(url, h)
	if err != nil {
		t.Fatalf("signed handshake: %v\n%s", err, stderr)
	}
	defer ws.Close()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"action":"whoami"}`)); err != nil {
		t.Fatal(err)
	}
	if got := chatRecv(t, ws); got != "key "+creds.AccessKeyID {
		t.Errorf("whoami answered %q", got)
	}
}

// Python in Code.ZipFile runs from index.py (SPEC ).
func TestServePythonInline(t *testing.T) {
	testtool.Need(t, "python3")
	url, _, stderr, stop := startServe(t, "--addr", "127.0.0.1:0", "--no-watch", "--no-tls", "testdata/serve/inline-python.yaml")
	defer func() { _ = stop() }()
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"action":"py"}`)); err != nil {
		t.Fatal(err)
	}
	if got := chatRecv(t, ws); got != "python index.py" {
		t.Errorf("answered %q\n%s", got, stderr)
	}
}
