package main

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"time"
)

// echoHandler answers every request with its body, status 200 and
// Content-Type application/json.
func echoHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 2*maxSize))
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	})
}

// backend is an HTTP server on 127.0.0.1 the bench starts.
type backend struct {
	url string
	srv *http.Server
}

// startBackend serves h on a free port of 127.0.0.1.
func startBackend(h http.Handler) (*backend, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return serveBackend(ln, h), nil
}

// serveBackend serves h on ln in the background.
func serveBackend(ln net.Listener, h http.Handler) *backend {
	srv := &http.Server{
		Handler: h,
		// Longer than the gateway's idle pool keeps a connection (90 s):
		// a header timeout also closes a connection the gateway dialed but
		// has not used yet, and a call picking it as it closes would fail.
		ReadHeaderTimeout: 2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Printf("wsgw-bench: backend: %v", err)
		}
	}()
	return &backend{url: "http://" + ln.Addr().String(), srv: srv}
}

func (b *backend) shutdown(ctx context.Context) error {
	err := b.srv.Shutdown(ctx)
	if err != nil {
		b.srv.Close()
	}
	return err
}
