package runtime

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// readBody reads a declared length into one buffer and an undeclared one
// as io.ReadAll would, within Options.MaxResponseBytes+1 (SPEC ).
func TestReadBody(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		length  int64 // ContentLength: -1 unknown
		max     int
		want    string
		wantErr error
	}{
		{"declared", "hello", 5, 0, "hello", nil},
		{"declared within the limit", "hello", 5, 5, "hello", nil},
		{"declared over the limit: read limit+1", "hello world", 11, 5, "hello ", nil},
		{"unknown length", "hello", -1, 0, "hello", nil},
		{"unknown length over the limit", "hello world", -1, 5, "hello ", nil},
		{"empty", "", 0, 0, "", nil},
		{"shorter than declared", "hel", 5, 0, "", io.ErrUnexpectedEOF},
		{"nothing of a declared body", "", 5, 0, "", io.ErrUnexpectedEOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := &http.Response{ContentLength: tc.length, Body: io.NopCloser(strings.NewReader(tc.body))}
			got, err := readBody(resp, tc.max)
			if err != tc.wantErr {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if err == nil && !bytes.Equal(got, []byte(tc.want)) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// The gateway's client is called through its transport (no per-call header
// copy); a client that could follow redirects, keep cookies or time out on
// its own is called as it is (SPEC ).
func TestDirectTransport(t *testing.T) {
	g := newHTTPClient(&Options{})
	if rt := directTransport(g); rt != g.Transport {
		t.Errorf("the gateway's client: transport %v, want its own", rt)
	}
	follows := *g
	follows.CheckRedirect = func(*http.Request, []*http.Request) error { return nil }
	timeout := *g
	timeout.Timeout = time.Second
	for name, c := range map[string]*http.Client{"default client": {}, "redirects followed": &follows, "own timeout": &timeout} {
		if rt := directTransport(c); rt != nil {
			t.Errorf("%s: transport %v, want the client used", name, rt)
		}
	}
}
