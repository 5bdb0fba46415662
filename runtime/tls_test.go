package runtime

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/gorilla/websocket"
)

// testCA is a CA of the test's own.
func testCA(t *testing.T) *CA {
	t.Helper()
	ca, err := LoadCA(filepath.Join(t.TempDir(), "ca"))
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// TestLoadCA checks that the CA is created once and kept, also when several
// processes (here goroutines) create it at the same time.
func TestLoadCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "ca")
	var wg sync.WaitGroup
	cas := make([]*CA, 8)
	errs := make([]error, len(cas))
	for i := range cas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cas[i], errs[i] = LoadCA(dir)
		}()
	}
	wg.Wait()
	for i, ca := range cas {
		if errs[i] != nil {
			t.Fatalf("LoadCA %d: %v", i, errs[i])
		}
		if !bytes.Equal(ca.cert.Raw, cas[0].cert.Raw) {
			t.Fatalf("LoadCA %d made another CA", i)
		}
	}
	again, err := LoadCA(dir)
	if err != nil || !bytes.Equal(again.cert.Raw, cas[0].cert.Raw) {
		t.Fatalf("the CA was not kept: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, caKeyName)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v %v", fi.Mode(), err)
	}
	if !again.cert.IsCA || filepath.Base(again.CertFile) != caCertName || !filepath.IsAbs(again.CertFile) {
		t.Errorf("CA %+v", again)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("temporary directories left behind: %v", entries)
	}
}

// The SDKs inside functions reach @connections at https:// + domainName, on
// the same port as ws://: the gateway answers TLS and plain connections alike.
func TestTLSSamePort(t *testing.T) {
	ca := testCA(t)
	g := startGateway(t, testPlan(actionSel), func(o *Options) { o.CA = ca })
	addr := g.Addrs()[0]
	tlsConf := &tls.Config{RootCAs: ca.Pool()}

	// wss:// and ws:// on one port.
	wss, _, err := (&websocket.Dialer{TLSClientConfig: tlsConf}).Dial("wss://"+addr+"/dev", nil)
	if err != nil {
		t.Fatalf("wss: %v", err)
	}
	defer wss.Close()
	plain := dial(t, g, "/dev")

	// The AWS SDK for Go v2 with the CA in its root pool and an https:// endpoint.
	api := apigatewaymanagementapi.New(apigatewaymanagementapi.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("https://" + addr + "/dev"),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		HTTPClient:   &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConf}},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ids := connectionIDs(t, g, 2)
	if len(ids) != 2 {
		t.Fatalf("connections: %v", ids)
	}
	for _, id := range ids {
		if _, err := api.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte("over tls")}); err != nil {
			t.Fatalf("PostToConnection over TLS: %v", err)
		}
	}
	for _, ws := range []*websocket.Conn{wss, plain} {
		if m := recv(t, ws); m != "over tls" {
			t.Errorf("got %q", m)
		}
	}

	// A client that does not trust the CA is refused; plain HTTP still answers.
	if _, err := http.Get("https://" + addr + "/dev/@connections/x"); err == nil {
		t.Error("a client without the CA accepted the certificate")
	}
	resp, err := http.Get("http://" + addr + "/dev/@connections/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGone {
		t.Errorf("plain @connections: %d", resp.StatusCode)
	}

	// The certificate names localhost too.
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"})
	if err != nil {
		t.Fatalf("TLS for localhost: %v", err)
	}
	leaf := c.ConnectionState().PeerCertificates[0]
	c.Close()
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: "::1"}); err != nil {
		t.Errorf("certificate for ::1: %v", err)
	}
}

// connectionIDs lists the open connections of g, waiting (up to 2 s) until
// there are n.
func connectionIDs(t *testing.T, g *Gateway, n int) []string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		g.mu.Lock()
		var ids []string
		for c := range g.conns {
			ids = append(ids, c.meta.id)
		}
		g.mu.Unlock()
		if len(ids) >= n || time.Now().After(deadline) {
			return ids
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A connection that sends nothing does not hold up others (the first byte
// decides TLS or not), and Shutdown does not wait for it.
func TestTLSSilentClient(t *testing.T) {
	ca := testCA(t)
	g := startGateway(t, testPlan(actionSel), func(o *Options) { o.CA = ca })
	silent, err := net.Dial("tcp", g.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	ws := dial(t, g, "/dev")
	ws.Close()
}
