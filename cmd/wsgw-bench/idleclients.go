package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// idleClients is a client process of -mode idle (a wsgw-bench child of role
// "clients"): the load backend of the node it serves (load.yaml's
// integrations call it) and, on command from the coordinating process, that
// node's client connections. Its commands are POSTs with JSON bodies on
// the backend's own port, under /bench/: open, probe and close, each
// answered once done.
type idleClients struct {
	ctx context.Context // the process's: the connections' readers live as long
	lb  *loadBackend

	mu sync.Mutex // one command at a time
	r  *loadRun
}

type clientOpenRequest struct {
	URL             string `json:"url"` // ws://HOST:PORT/STAGE of the node
	Conns           int    `json:"conns"`
	DialConcurrency int    `json:"dial_concurrency"`
	TimeoutMS       int64  `json:"timeout_ms"`
	// OpenRate paces the dials (connections started per second; 0: as
	// fast as DialConcurrency allows).
	OpenRate float64 `json:"open_rate"`
}

type clientOpenAnswer struct {
	Opened      int      `json:"opened"`
	Errors      int64    `json:"errors"`
	FirstErrors []string `json:"first_errors,omitempty"`
}

type clientProbeRequest struct {
	Conns int `json:"conns"` // sample connections
	// PostVia is the @connections URL (http://HOST:PORT/STAGE/@connections)
	// the backend posts the probes' post messages through.
	PostVia string `json:"post_via"`
}

type clientProbeAnswer struct {
	Streams     map[string]kindStats `json:"streams"`
	Latency     *latencyReport       `json:"latency_ms"`
	Errors      int64                `json:"errors"`
	PostErrors  int64                `json:"backend_post_errors"`
	FirstErrors []string             `json:"first_errors,omitempty"`
}

type clientCloseAnswer struct {
	Connects    int64    `json:"connects"`
	Disconnects int64    `json:"disconnects"`
	Errors      int64    `json:"errors"`
	FirstErrors []string `json:"first_errors,omitempty"`
}

func newIdleClients(ctx context.Context) *idleClients {
	return &idleClients{ctx: ctx, lb: newLoadBackend()}
}

// handler serves the commands and, on every other path, the load backend.
func (c *idleClients) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", c.lb.handler())
	mux.HandleFunc("POST /bench/open", func(w http.ResponseWriter, r *http.Request) {
		var req clientOpenRequest
		if !decodeCommand(w, r, &req) {
			return
		}
		ans, err := c.open(r.Context(), req)
		answerCommand(w, ans, err)
	})
	mux.HandleFunc("POST /bench/probe", func(w http.ResponseWriter, r *http.Request) {
		var req clientProbeRequest
		if !decodeCommand(w, r, &req) {
			return
		}
		ans, err := c.probe(r.Context(), req)
		answerCommand(w, ans, err)
	})
	mux.HandleFunc("POST /bench/close", func(w http.ResponseWriter, r *http.Request) {
		ans, err := c.close(r.Context())
		answerCommand(w, ans, err)
	})
	return mux
}

func decodeCommand(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(v); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}

func answerCommand(w http.ResponseWriter, v any, err error) {
	if err != nil {
		http.Error(w, err.Error(), http.StatusConflict)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// open dials req.Conns connections to req.URL and starts their readers; the
// backend posts through that node until a probe says otherwise.
func (c *idleClients) open(ctx context.Context, req clientOpenRequest) (*clientOpenAnswer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.r != nil {
		return nil, errors.New("the connections are open already")
	}
	if req.Conns < 1 || req.Conns > maxProcConns {
		return nil, fmt.Errorf("%d connections: want 1 to %d", req.Conns, maxProcConns)
	}
	connURL, err := connectionsURLOf(req.URL)
	if err != nil {
		return nil, err
	}
	c.lb.connectionsURL.Store(&[]string{connURL})
	o := &options{conns: req.Conns, size: 128, route: "mix", timeout: time.Duration(req.TimeoutMS) * time.Millisecond,
		dialConcurrency: max(1, req.DialConcurrency)}
	if o.timeout <= 0 {
		o.timeout = 5 * time.Second
	}
	// No TCP keep-alive probes from this side: on one machine, both ends
	// of every connection probe through the loopback device, whose backlog
	// (net.core.netdev_max_backlog, 1000 packets) the probes of connections
	// opened together overflow, every 15 s the same ones, until the kernel
	// aborts them. The gateway's own probes stay.
	r := newLoadRun(o)
	r.openRate, r.netDial = req.OpenRate, (&net.Dialer{Timeout: o.timeout, KeepAlive: -1}).DialContext
	opened := r.open(ctx, []string{req.URL})
	// Every frame that comes back is checked and its latency recorded.
	r.measureAt = time.Now()
	r.end = r.measureAt.Add(maxLoadDuration)
	for _, lc := range r.conns {
		if lc != nil {
			go r.read(c.ctx, lc)
		}
	}
	c.r = r
	e := r.errs.snapshot()
	return &clientOpenAnswer{Opened: opened, Errors: e.n, FirstErrors: e.first}, nil
}

// probeSample picks n of the open connections, spread evenly.
func probeSample(conns []*loadConn, n int) []*loadConn {
	var open []*loadConn
	for _, lc := range conns {
		if lc != nil {
			open = append(open, lc)
		}
	}
	n = min(n, len(open))
	out := make([]*loadConn, 0, n)
	for i := range n {
		out = append(out, open[i*len(open)/n])
	}
	return out
}

// probe sends, on req.Conns sample connections, an echo message (its
// answer a route response) and a post message (posted back by the backend
// through req.PostVia), waits until both came back (or -timeout passed with
// none coming), and reports what came back, once each and in order.
func (c *idleClients) probe(ctx context.Context, req clientProbeRequest) (*clientProbeAnswer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.r
	if r == nil {
		return nil, errors.New("no connection is open")
	}
	if req.PostVia != "" {
		c.lb.connectionsURL.Store(&[]string{stripSlash(req.PostVia) + "/"})
	}
	sample := probeSample(r.conns, req.Conns)
	for _, lc := range sample {
		// Route "mix": seq 1 is an echo, seq 2 a post.
		for seq := 1; seq <= 2; seq++ {
			if !r.sendOne(ctx, lc, seq, time.Now()) {
				break
			}
		}
	}
	r.drain(ctx)
	rep := &loadReport{}
	r.report(rep, time.Now())
	pe := c.lb.postErrors.snapshot()
	ans := &clientProbeAnswer{Streams: rep.Streams, Latency: rep.Latency, Errors: rep.Errors,
		PostErrors: pe.n, FirstErrors: rep.FirstErrors}
	for _, e := range pe.first {
		ans.FirstErrors = append(ans.FirstErrors, "backend "+e)
	}
	return ans, nil
}

// close closes every connection with 1000 and waits until the backend saw
// as many $disconnect calls as $connect calls (for at most 2 minutes).
func (c *idleClients) close(ctx context.Context) (*clientCloseAnswer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.r
	if r == nil {
		return nil, errors.New("no connection is open")
	}
	before := r.errs.snapshot().n
	r.closeAll()
	n := waitDisconnects(ctx, c.lb, 2*time.Minute)
	e := r.errs.snapshot()
	ans := &clientCloseAnswer{Connects: n.connects, Disconnects: n.disconnects, Errors: e.n - before}
	if ans.Errors > 0 {
		ans.FirstErrors = e.first
	}
	return ans, nil
}
