package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"
)

// loadBackend is the backend of load.yaml's integrations: /connect and
// /disconnect count the gateway's $connect and $disconnect calls, /echo
// answers with the message (the two-way echo route), and /post sends the
// message back to its sender through the gateway's @connections API, then
// answers 200 without a body (the one-way post route). The connection id
// comes in the X-Connection-Id header the template maps from
// context.connectionId.
type loadBackend struct {
	// connectionsURL is http://HOST:PORT/STAGE/@connections/ of each node,
	// set once the gateway is known (it may start after the backend); each
	// post goes through one picked at random (several nodes of a cluster).
	connectionsURL atomic.Pointer[[]string]
	client         *http.Client

	connects    atomic.Int64
	disconnects atomic.Int64
	postErrors  errorLog
}

func newLoadBackend() *loadBackend {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
		// Shorter than the gateway's ReadHeaderTimeout (10 s), which also
		// bounds a pooled connection that never carried a request: a post
		// picking one the gateway is closing would fail (a POST is not
		// retried), a failure of this tool, not of the gateway.
		IdleConnTimeout: 5 * time.Second,
	}
	return &loadBackend{client: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// handler serves the four paths, with f in place of the standard answer of
// any path f knows (tests inject faults that way).
func (b *loadBackend) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /connect", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		b.connects.Add(1)
	})
	mux.HandleFunc("POST /disconnect", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		b.disconnects.Add(1)
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 2*maxSize))
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	mux.HandleFunc("POST /post", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 2*maxSize))
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		if err := b.post(r.Context(), r.Header.Get("X-Connection-Id"), body); err != nil {
			b.postErrors.add("post", err)
			http.Error(w, err.Error(), http.StatusBadGateway)
		}
	})
	return mux
}

// post sends data to connection id through the @connections API; it fails
// unless the gateway answers 200.
func (b *loadBackend) post(ctx context.Context, id string, data []byte) error {
	if id == "" {
		return fmt.Errorf("no X-Connection-Id header: the template does not map context.connectionId")
	}
	bases := b.connectionsURL.Load()
	if bases == nil || len(*bases) == 0 {
		return fmt.Errorf("the gateway's @connections URL is not known yet")
	}
	base := (*bases)[rand.IntN(len(*bases))]
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+url.PathEscape(id), bytes.NewReader(data))
	if err != nil {
		return err
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST @connections/%s answered %s: %s", id, resp.Status, msg)
	}
	return nil
}

// closeIdle closes the backend's idle connections to the gateway.
func (b *loadBackend) closeIdle() { b.client.CloseIdleConnections() }

// connectionsURLOf turns a stage URL ws://HOST:PORT/STAGE into its
// @connections URL http://HOST:PORT/STAGE/@connections/ (SPEC ).
func connectionsURLOf(stageURL string) (string, error) {
	u, err := url.Parse(stageURL)
	if err != nil {
		return "", err
	}
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	default:
		return "", fmt.Errorf("%q is not a ws:// URL", stageURL)
	}
	u.Path = stripSlash(u.Path) + "/@connections/"
	u.RawPath = ""
	return u.String(), nil
}

func stripSlash(p string) string {
	for len(p) > 0 && p[len(p)-1] == '/' {
		p = p[:len(p)-1]
	}
	return p
}

// startLoadBackend serves h on addr (HOST:PORT, port 0 for a free one).
func startLoadBackend(addr string, h http.Handler) (*backend, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return serveBackend(ln, h), nil
}
