package runtime

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// CA is the local certificate authority wsgw creates once and keeps, so that
// the functions it runs (and any client told to trust it) reach the gateway
// over TLS: SDKs build the @connections endpoint as https:// + domainName.
type CA struct {
	// CertFile is the PEM file of the CA certificate, for NODE_EXTRA_CA_CERTS,
	// SSL_CERT_FILE and AWS_CA_BUNDLE.
	CertFile string
	cert     *x509.Certificate
	key      crypto.Signer
}

// CA file names inside its directory.
const (
	caCertName = "ca.pem"
	caKeyName  = "ca-key.pem"
)

// DefaultCADir is where wsgw keeps its CA: $WSGW_CA_DIR, else wsgw/ca in the
// user's cache directory (~/.cache/wsgw/ca on Linux).
func DefaultCADir() (string, error) {
	if d := os.Getenv("WSGW_CA_DIR"); d != "" {
		return d, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no directory for the local CA (set WSGW_CA_DIR): %w", err)
	}
	return filepath.Join(base, "wsgw", "ca"), nil
}

// LoadCA reads the CA kept in dir, creating it first when dir does not exist
// (the key readable only by the user). Processes that start together agree on
// one CA: it is written to a temporary directory renamed into place, and a
// process that loses that race reads the winner's.
func LoadCA(dir string) (*CA, error) {
	if ca, err := readCA(dir); err == nil {
		return ca, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return nil, fmt.Errorf("creating the local CA: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, ".ca-*")
	if err != nil {
		return nil, fmt.Errorf("creating the local CA: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := writeNewCA(tmp); err != nil {
		return nil, fmt.Errorf("creating the local CA: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(filepath.Join(dir, caCertName)); statErr != nil {
			return nil, fmt.Errorf("creating the local CA: %w", err)
		}
		// Another process created it first.
	}
	return readCA(dir)
}

func readCA(dir string) (*CA, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, caCertName))
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, caKeyName))
	if err != nil {
		return nil, err
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, fmt.Errorf("local CA in %s: not PEM (delete the directory to make a new CA)", dir)
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("local CA in %s: %w", dir, err)
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("local CA key in %s: %w", dir, err)
	}
	key, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("local CA key in %s: not a signing key", dir)
	}
	abs, err := filepath.Abs(filepath.Join(dir, caCertName))
	if err != nil {
		return nil, err
	}
	return &CA{CertFile: abs, cert: cert, key: key}, nil
}

func writeNewCA(dir string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	host, _ := os.Hostname()
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{Organization: []string{"wsgw local development CA"}, CommonName: "wsgw local CA " + host},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, caKeyName), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, caCertName), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

func randomSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		return big.NewInt(time.Now().UnixNano())
	}
	return n
}

// Pool returns a certificate pool holding the CA, for clients.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// serverConfig issues a certificate for localhost, 127.0.0.1, ::1 and the
// given hosts (names or IPs), valid for a year, and returns a TLS server
// configuration with it (HTTP/1.1 only: WebSocket handshakes need it).
func (ca *CA) serverConfig(hosts ...string) (*tls.Config, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{Organization: []string{"wsgw local gateway"}, CommonName: "localhost"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	for _, h := range hosts {
		if h == "" {
			continue
		}
		if ip := net.ParseIP(h); ip != nil {
			if !ip.IsUnspecified() && !ip.IsLoopback() {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			}
			continue
		}
		if h != "localhost" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	if NotAfter := ca.cert.NotAfter; tmpl.NotAfter.After(NotAfter) {
		tmpl.NotAfter = NotAfter
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: key}},
		NextProtos:   []string{"http/1.1"},
		MinVersion:   tls.VersionTLS12,
	}, nil
}

// serveHTTP serves s's listener: plain HTTP and WebSocket, and, when the
// gateway has a TLS configuration, TLS on the same port. Each connection is
// a headConn, which keeps the first request head for the header names as
// the client sent them (http.Server then sees TLS connections as plain ones:
// whether a request came over TLS is the headConn's tls). A connection whose
// first byte is 0x16 (a TLS handshake record) is TLS; any other is plain.
func (s *apiServer) serveHTTP() error {
	cfg := s.g.tlsConfig
	if cfg == nil {
		return s.http.Serve(headListener{Listener: s.ln})
	}
	d := newDemux(s.ln)
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(headListener{Listener: tls.NewListener(d.tls, cfg), tls: true}) }()
	err := s.http.Serve(headListener{Listener: d.plain})
	d.Close()
	if terr := <-errc; err == nil {
		err = terr
	}
	return err
}

// demux splits a listener in two by the first byte each connection sends.
type demux struct {
	ln         net.Listener
	plain, tls *subListener
	done       chan struct{}
	closeOnce  sync.Once
	err        error
}

// peekTimeout bounds the wait for a connection's first byte.
const peekTimeout = 10 * time.Second

func newDemux(ln net.Listener) *demux {
	d := &demux{ln: ln, done: make(chan struct{})}
	d.plain = &subListener{d: d, conns: make(chan net.Conn)}
	d.tls = &subListener{d: d, conns: make(chan net.Conn)}
	go d.accept()
	return d
}

func (d *demux) accept() {
	for {
		c, err := d.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			d.closeWith(err)
			return
		}
		go d.route(c)
	}
}

// route reads c's first byte and hands c to the listener it belongs to.
func (d *demux) route(c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(peekTimeout))
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		c.Close()
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	pc := &peekedConn{Conn: c, first: b[0], has: true}
	to := d.plain
	if b[0] == 0x16 {
		to = d.tls
	}
	select {
	case to.conns <- pc:
	case <-d.done:
		c.Close()
	}
}

// Close stops accepting; both sub-listeners report closed.
func (d *demux) Close() error { return d.closeWith(nil) }

// closeWith closes the demux once; Accept then returns cause (set before
// done is closed), or net.ErrClosed.
func (d *demux) closeWith(cause error) error {
	var err error
	d.closeOnce.Do(func() {
		d.err = cause
		close(d.done)
		err = d.ln.Close()
	})
	return err
}

// subListener is one half of a demux.
type subListener struct {
	d     *demux
	conns chan net.Conn
}

func (l *subListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.d.done:
		if l.d.err != nil {
			return nil, l.d.err
		}
		return nil, net.ErrClosed
	}
}

func (l *subListener) Close() error   { return l.d.Close() }
func (l *subListener) Addr() net.Addr { return l.d.ln.Addr() }

// peekedConn gives back the byte the demux read before the rest.
type peekedConn struct {
	net.Conn
	first byte
	has   bool
}

func (c *peekedConn) Read(p []byte) (int, error) {
	if c.has && len(p) > 0 {
		p[0] = c.first
		c.has = false
		return 1, nil
	}
	return c.Conn.Read(p)
}
