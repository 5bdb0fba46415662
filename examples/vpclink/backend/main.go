// Command backend is the HTTP service behind the VPC link in the vpclink
// example. It logs every request the gateway makes and answers with a JSON
// echo of it, so the headers and query strings mapped by the integrations'
// RequestParameters (ConnectionId, X-Action, room, source...) are easy to see.
package main

import (
	"encoding/json"
	"flag"
	"io"
	"log"
	"net/http"
	"strings"
)

// echo is the JSON answer: what the gateway sent, as the backend saw it.
type echo struct {
	Method       string            `json:"method"`
	Path         string            `json:"path"`
	Query        map[string]string `json:"query,omitempty"`
	ConnectionID string            `json:"connectionId,omitempty"`
	Headers      map[string]string `json:"headers,omitempty"`
	Body         json.RawMessage   `json:"body,omitempty"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	log.Printf("backend listening on http://%s", *addr)
	log.Fatal(http.ListenAndServe(*addr, http.HandlerFunc(handle)))
}

func handle(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	e := echo{Method: r.Method, Path: r.URL.Path, ConnectionID: r.Header.Get("ConnectionId"),
		Query: map[string]string{}, Headers: map[string]string{}}
	for k, v := range r.URL.Query() {
		e.Query[k] = strings.Join(v, ",")
	}
	for k, v := range r.Header {
		if strings.HasPrefix(k, "X-") || k == "Content-Type" {
			e.Headers[k] = strings.Join(v, ",")
		}
	}
	if json.Valid(body) {
		e.Body = body
	} else if len(body) > 0 {
		e.Body, _ = json.Marshal(string(body))
	}
	log.Printf("%s %s query=%v connectionId=%q headers=%v body=%s",
		e.Method, e.Path, e.Query, e.ConnectionID, e.Headers, body)

	// A $connect with ?token=deny is refused: the gateway turns the 403 into a
	// refused WebSocket handshake.
	if r.URL.Path == "/connect" && r.URL.Query().Get("token") == "deny" {
		http.Error(w, `{"message":"denied"}`, http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(e)
}
