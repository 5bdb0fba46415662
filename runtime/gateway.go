package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsgw/wsgw/compile"
)

// Gateway serves a plan: one HTTP server per Api, the connections they
// accept, and the @connections API.
type Gateway struct {
	opts   Options
	client *http.Client
	log    *slog.Logger
	elog   *logWriter // under log when it writes to Options.LogOutput
	alog   *accessLog
	reg    Registry
	// logsClosed makes Shutdown flush and report the logs once.
	logsClosed sync.Once

	// snap is the current plan with what was provisioned from it (the
	// "equivalent" of an atomic.Pointer[compile.Plan] that STYLE.md asks for:
	// the plan and its prepared integrations swap as one value).
	snap atomic.Pointer[snapshot]

	// ctx is cancelled when Shutdown gives up waiting: it aborts message
	// integration calls. discCtx bounds the $disconnect calls Shutdown waits for.
	ctx        context.Context
	cancel     context.CancelFunc
	discCtx    context.Context
	discCancel context.CancelFunc

	mu      sync.Mutex
	started bool
	closing bool
	servers []*apiServer
	conns   map[*conn]struct{}
	// wg counts connections from the start of their handshake until their
	// $disconnect returned.
	wg sync.WaitGroup
}

// New returns a gateway for p. Start makes it listen.
func New(p *compile.Plan, opts Options) (*Gateway, error) {
	if p == nil || len(p.Apis) == 0 {
		return nil, errors.New("nothing to serve: the template defines no AWS::ApiGatewayV2::Api with ProtocolType WEBSOCKET")
	}
	if opts.Addr == "" {
		opts.Addr = DefaultOptions().Addr
	}
	g := &Gateway{
		opts:   opts,
		client: newHTTPClient(&opts),
		log:    opts.Logger,
		alog:   &accessLog{},
		reg:    newMemRegistry(),
		conns:  map[*conn]struct{}{},
	}
	if opts.AccessLog != nil {
		g.alog.w = newLogWriter(opts.AccessLog, opts.LogQueue)
	}
	if g.log == nil && opts.LogOutput != nil {
		g.elog = newLogWriter(opts.LogOutput, opts.LogQueue)
		var h slog.Handler
		switch opts.LogFormat {
		case "", "text":
			h = slog.NewTextHandler(g.elog, nil)
		case "json":
			h = slog.NewJSONHandler(g.elog, nil)
		default:
			return nil, fmt.Errorf("unknown log format %q (want text or json)", opts.LogFormat)
		}
		g.log = slog.New(h)
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	g.ctx, g.cancel = context.WithCancel(context.Background())
	g.discCtx, g.discCancel = context.WithCancel(context.Background())
	g.snap.Store(provision(p, g.client, &g.opts, g.now()))
	return g, nil
}

func (g *Gateway) now() time.Time { return time.Now() }

// Plan returns the plan being served.
func (g *Gateway) Plan() *compile.Plan { return g.snap.Load().plan }

// Start listens for every Api of the plan, the first on Options.Addr and
// each next one on the next port (SPEC ), and serves in the background.
// Apis a later Swap adds are not served until the gateway restarts.
func (g *Gateway) Start() error {
	host, portStr, err := net.SplitHostPort(g.opts.Addr)
	if err != nil {
		return fmt.Errorf("address %s: %w", g.opts.Addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return fmt.Errorf("address %s: bad port", g.opts.Addr)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.started {
		return errors.New("gateway already started")
	}
	apis := g.snap.Load().plan.Apis
	var servers []*apiServer
	for i, api := range apis {
		p := 0
		if port != 0 {
			p = port + i
			if p > 65535 {
				closeAll(servers)
				return fmt.Errorf("no port left for Api %s after %d", api.LogicalID, port)
			}
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err != nil {
			closeAll(servers)
			return fmt.Errorf("Api %s: %w", api.LogicalID, err)
		}
		s := newAPIServer(g, api.LogicalID, ln, host)
		servers = append(servers, s)
	}
	g.servers = servers
	g.started = true
	for _, s := range servers {
		go func() {
			if err := s.http.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				g.log.Error("server stopped", "api", s.apiLogicalID, "addr", s.addr, "error", err)
			}
		}()
	}
	return nil
}

func closeAll(servers []*apiServer) {
	for _, s := range servers {
		s.ln.Close()
	}
}

// Addrs returns the HOST:PORT each Api listens on, in plan order.
func (g *Gateway) Addrs() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]string, len(g.servers))
	for i, s := range g.servers {
		out[i] = s.addr
	}
	return out
}

// Swap makes p the plan every next handshake, message and @connections call
// uses, and returns the previous one. Open connections stay open; those whose
// Api or stage p no longer has are closed with 1001 (SPEC ).
func (g *Gateway) Swap(p *compile.Plan) *compile.Plan {
	s := provision(p, g.client, &g.opts, g.now())
	old := g.snap.Swap(s)
	g.mu.Lock()
	var gone []*conn
	for c := range g.conns {
		if st := s.stage(c.srv.apiLogicalID, c.stageID); st != nil {
			c.stage.Store(st)
		} else {
			gone = append(gone, c)
		}
	}
	g.mu.Unlock()
	for _, c := range gone {
		c.startClose(1001, reasonGoingAway, false)
	}
	return old.plan
}

// enter counts a handshake in; false once the gateway is shutting down.
func (g *Gateway) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing {
		return false
	}
	g.wg.Add(1)
	return true
}

// track adds an upgraded connection to the set Shutdown closes; false when
// shutdown already began (the caller closes it).
func (g *Gateway) track(c *conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing {
		return false
	}
	g.conns[c] = struct{}{}
	return true
}

func (g *Gateway) untrack(c *conn) {
	g.mu.Lock()
	delete(g.conns, c)
	g.mu.Unlock()
}

// Shutdown stops accepting, closes every connection with 1001 "Going away",
// and waits until each one's $disconnect returned, or until ctx ends: then
// it cancels what still runs, drops the connections and returns ctx's error.
// @connections requests still running when the connections are done are cut.
// Last it writes out the queued log lines (for at most 2 s) and, when an
// output was too slow to take them all, logs how many it dropped.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.mu.Lock()
	g.closing = true
	servers := g.servers
	g.mu.Unlock()

	// Stop listening at once; running requests go on until the end.
	var swg sync.WaitGroup
	for _, s := range servers {
		swg.Add(1)
		go func() {
			defer swg.Done()
			_ = s.http.Shutdown(ctx)
		}()
	}

	g.mu.Lock()
	conns := make([]*conn, 0, len(g.conns))
	for c := range g.conns {
		conns = append(conns, c)
	}
	g.mu.Unlock()
	for _, c := range conns {
		c.startClose(1001, reasonGoingAway, false)
	}
	// Messages being handled would only answer a closed connection.
	g.cancel()

	// Handshakes under way and connections, until their $disconnect returned.
	done := make(chan struct{})
	go func() {
		g.wg.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		g.discCancel()
		g.mu.Lock()
		for c := range g.conns {
			c.tcp.Close()
		}
		g.mu.Unlock()
		select {
		case <-done:
		case <-time.After(time.Second):
		}
	}
	g.discCancel()
	// http.Server.Shutdown waits for connections that never sent a request;
	// cut them and whatever else is left.
	for _, s := range servers {
		s.http.Close()
	}
	swg.Wait()
	g.client.CloseIdleConnections()
	g.closeLogs()
	return err
}

// logFlushTimeout bounds how long Shutdown waits for the logs to be written.
const logFlushTimeout = 2 * time.Second

// closeLogs writes out the queued log lines (for at most logFlushTimeout)
// and reports in one warning the lines an output too slow made the gateway
// drop.
func (g *Gateway) closeLogs() {
	g.logsClosed.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), logFlushTimeout)
		defer cancel()
		var accessDropped, eventDropped int64
		if w := g.alog.w; w != nil {
			_ = w.close(ctx)
			accessDropped = w.dropped.Load()
		}
		if g.elog != nil {
			_ = g.elog.flush(ctx)
			eventDropped = g.elog.dropped.Load()
		}
		if accessDropped+eventDropped > 0 {
			g.log.Warn("log lines dropped: the log output did not keep up", "access_log", accessDropped, "event_log", eventDropped)
		}
		if g.elog != nil {
			_ = g.elog.close(ctx)
		}
	})
}
