package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
)

// serveConnections is the @connections API of one stage (SPEC §8):
// POST sends a frame, GET describes the connection, DELETE closes it.
// Signatures are not checked.
func (s *apiServer) serveConnections(w http.ResponseWriter, r *http.Request, stageSeg, id string) {
	g := s.g
	st := g.snap.Load().stage(s.apiLogicalID, stageSeg)
	if st == nil {
		s.noStage(w, r, stageSeg)
		return
	}
	w.Header().Set("x-amzn-RequestId", newID())
	var posted []byte // the POST body, for the inspector
	if g.tracer != nil && g.tracer.obs != nil {
		sr := &statusRecorder{ResponseWriter: w}
		w = sr
		defer func() { s.traceManagement(st, r, id, sr.status, posted) }()
	}
	// The registry finds an open connection of this Api, on this node or,
	// in a cluster, on the node that holds it (SPEC ).
	api := st.api.ID
	switch r.Method {
	case http.MethodPost:
		limit := int64(g.opts.MaxMessageBytes)
		body, err := readLimited(r.Body, limit)
		if errors.Is(err, errTooLarge) {
			writeAWSError(w, http.StatusRequestEntityTooLarge, "PayloadTooLargeException", "Request Entity Too Large")
			return
		}
		if err != nil {
			writeAWSError(w, http.StatusBadRequest, "BadRequestException", "could not read the body")
			return
		}
		posted = body
		if err := g.reg.Send(r.Context(), api, id, body); err != nil {
			writeGone(w)
			return
		}
		w.WriteHeader(http.StatusOK)
	case http.MethodGet:
		info, err := g.reg.Lookup(r.Context(), api, id)
		if err != nil {
			writeGone(w)
			return
		}
		var out struct {
			ConnectedAt string `json:"connectedAt"`
			Identity    struct {
				SourceIP  string `json:"sourceIp"`
				UserAgent string `json:"userAgent"`
			} `json:"identity"`
			LastActiveAt string `json:"lastActiveAt"`
		}
		out.ConnectedAt = info.ConnectedAt.UTC().Format(rfc3339Millis)
		out.LastActiveAt = info.LastActiveAt.UTC().Format(rfc3339Millis)
		out.Identity.SourceIP, out.Identity.UserAgent = info.SourceIP, info.UserAgent
		b, _ := json.Marshal(out)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		_, _ = w.Write(b)
	case http.MethodDelete:
		ctx, cancel := context.WithTimeout(r.Context(), g.opts.WriteTimeout+time.Second)
		defer cancel()
		// 204 once the close frame is written; $disconnect runs afterwards.
		if err := g.reg.Close(ctx, api, id, websocket.CloseNormalClosure, reasonDeleted); errors.Is(err, ErrGone) {
			writeGone(w)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		writeAWSError(w, http.StatusMethodNotAllowed, "MethodNotAllowedException", "Method Not Allowed")
	}
}

// rfc3339Millis is RFC 3339 in UTC with milliseconds, as API Gateway writes it.
const rfc3339Millis = "2006-01-02T15:04:05.000Z"

var errTooLarge = errors.New("body too large")

// readLimited reads all of r, failing with errTooLarge past limit bytes
// (limit 0: no limit).
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	if limit <= 0 {
		return io.ReadAll(r)
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errTooLarge
	}
	return b, nil
}

// writeGone answers 410 GoneException the way every AWS SDK recognizes
// (SPEC ).
func writeGone(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("x-amzn-ErrorType", "GoneException")
	w.WriteHeader(http.StatusGone)
	_, _ = io.WriteString(w, `{"message":null}`)
}

// writeAWSError answers an error in the restJson shape of the
// apigatewaymanagementapi service: the x-amzn-ErrorType header names the
// exception and the body carries its message.
func writeAWSError(w http.ResponseWriter, status int, typ, message string) {
	b, _ := json.Marshal(map[string]string{"message": message})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("x-amzn-ErrorType", typ)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
