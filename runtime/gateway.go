package runtime

import (
	"context"
	"crypto/tls"
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
	// textLog is elog when log is slog's text handler on it: event lines
	// are then written straight to it in the same format (appendTextLine).
	textLog *logWriter
	alog    *accessLog
	reg     Registry
	// tracer is every connection's (nil: no observer, no body logging).
	tracer *tracer
	// cluster, when the gateway is a cluster node (Options.Cluster), is reg.
	cluster *clusterRegistry
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

	// tlsConfig, when the gateway has a CA, makes every port answer TLS too.
	tlsConfig *tls.Config
	// lambdaOwned is the Invoker Options.NewLambda made, which Shutdown closes.
	lambdaOwned Invoker

	// swapMu serializes swaps.
	swapMu sync.Mutex

	mu      sync.Mutex
	started bool
	closing bool
	// servers holds one server per Api ever served, in the order they
	// started; an Api a Swap removed keeps its server.
	servers []*apiServer
	// conns holds the connections from just before their handshake response
	// is written until they are closed.
	conns map[*conn]struct{}
	// wg counts connections from the start of their handshake until their
	// $disconnect returned.
	wg sync.WaitGroup

	// beforeUpgrade, when set (by tests), runs in each handshake once the
	// connection is tracked, just before the handshake response is written.
	beforeUpgrade func()
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
	g.tracer = newTracer(&g.opts)
	if opts.AccessLog != nil {
		g.alog.w = newLogWriter(opts.AccessLog, opts.LogQueue)
	}
	if g.log == nil && opts.LogOutput != nil {
		g.elog = newLogWriter(opts.LogOutput, opts.LogQueue)
		var h slog.Handler
		ho := &slog.HandlerOptions{Level: opts.LogLevel}
		switch opts.LogFormat {
		case "", "text":
			h = slog.NewTextHandler(g.elog, ho)
			g.textLog = g.elog
		case "json":
			h = slog.NewJSONHandler(g.elog, ho)
		default:
			return nil, fmt.Errorf("unknown log format %q (want text or json)", opts.LogFormat)
		}
		g.log = slog.New(h)
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if opts.Cluster != "" {
		cr, err := joinCluster(opts.Cluster, opts.NodeName, &g.opts, g.log)
		if err != nil {
			return nil, err
		}
		g.reg, g.cluster = cr, cr
	}
	if err := g.setupLambda(); err != nil {
		if g.cluster != nil {
			g.cluster.close()
		}
		return nil, err
	}
	g.ctx, g.cancel = context.WithCancel(context.Background())
	g.discCtx, g.discCancel = context.WithCancel(context.Background())
	g.snap.Store(provision(p, g.client, &g.opts, g.now()))
	return g, nil
}

func (g *Gateway) now() time.Time { return time.Now() }

// newConnID returns an id for a new connection: in a cluster, one of the
// node's own id space (SPEC ).
func (g *Gateway) newConnID() string {
	if g.cluster != nil {
		return newNodeID(g.cluster.tag)
	}
	return newID()
}

// Cluster describes the cluster the gateway joined (Options.Cluster); false
// when it is not a cluster node.
func (g *Gateway) Cluster() (ClusterInfo, bool) {
	if g.cluster == nil {
		return ClusterInfo{}, false
	}
	return g.cluster.info(), true
}

// Node returns the gateway's node name in its cluster, "" when it is not a
// cluster node.
func (g *Gateway) Node() string {
	if g.cluster == nil {
		return ""
	}
	return g.cluster.name
}

// Plan returns the plan being served.
func (g *Gateway) Plan() *compile.Plan { return g.snap.Load().plan }

// Start listens for every Api of the plan, the first on Options.Addr and
// each next one on the next port (SPEC ), and serves in the background.
// An Api a later Swap adds is served on the next free port after the highest
// the gateway uses (see Swap).
func (g *Gateway) Start() error {
	host, port, err := splitAddr(g.opts.Addr)
	if err != nil {
		return err
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
	if err := g.startLambda(); err != nil {
		closeAll(servers)
		g.servers, g.started = nil, false
		return err
	}
	for _, s := range servers {
		g.serve(s)
	}
	return nil
}

// splitAddr splits Options.Addr into its host and port.
func splitAddr(addr string) (string, int, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("address %s: %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("address %s: bad port", addr)
	}
	return host, port, nil
}

// serve runs s's HTTP server in the background.
func (g *Gateway) serve(s *apiServer) {
	go func() {
		if err := s.serveHTTP(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			g.log.Error("server stopped", "api", s.apiLogicalID, "addr", s.addr, "error", err)
		}
	}()
}

// server returns the server of the Api with that logical ID, or nil. g.mu is held.
func (g *Gateway) server(apiLogicalID string) *apiServer {
	for _, s := range g.servers {
		if s.apiLogicalID == apiLogicalID {
			return s
		}
	}
	return nil
}

// portTries bounds the ports Swap tries for an Api it adds.
const portTries = 100

// listenNew listens for api, which a Swap added, on the next free port after
// the highest one the gateway uses (any free port when Options.Addr has port
// 0), and starts serving it. g.mu is held.
func (g *Gateway) listenNew(api *compile.Api) (*apiServer, error) {
	host, base, err := splitAddr(g.opts.Addr)
	if err != nil {
		return nil, err
	}
	try := []int{0}
	if base != 0 {
		next := base
		for _, s := range g.servers {
			if _, p, err := splitAddr(s.addr); err == nil && p >= next {
				next = p + 1
			}
		}
		try = try[:0]
		for p := next; p <= 65535 && len(try) < portTries; p++ {
			try = append(try, p)
		}
	}
	var lastErr error = fmt.Errorf("no port left after %d", base)
	for _, p := range try {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err != nil {
			lastErr = err
			continue
		}
		s := newAPIServer(g, api.LogicalID, ln, host)
		g.servers = append(g.servers, s)
		g.serve(s)
		return s, nil
	}
	return nil, fmt.Errorf("Api %s: %w", api.LogicalID, lastErr)
}

func closeAll(servers []*apiServer) {
	for _, s := range servers {
		s.ln.Close()
	}
}

// Addrs returns the HOST:PORT each Api of the current plan listens on, in
// plan order (after Start).
func (g *Gateway) Addrs() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for _, api := range g.snap.Load().plan.Apis {
		if s := g.server(api.LogicalID); s != nil {
			out = append(out, s.addr)
		}
	}
	return out
}

// Swap makes p the plan every next handshake, message and @connections call
// uses, and returns the previous one. Open connections stay open; those whose
// Api or stage p no longer has are closed with 1001 (SPEC ). See
// SwapPlan for the Apis p adds or removes.
func (g *Gateway) Swap(p *compile.Plan) *compile.Plan {
	return g.SwapPlan(p).Old
}

// SwapResult is what SwapPlan did.
type SwapResult struct {
	// Old is the plan replaced.
	Old *compile.Plan
	// Closed counts the connections closed with 1001 because their Api or
	// stage is gone.
	Closed int
	// Err says which Apis p added could not be served (no free port); they
	// are in the plan but answer no one until a later swap finds them a port.
	Err error
}

// SwapPlan makes p the plan every next handshake, message and @connections
// call uses, atomically: a message is handled wholly by the old plan or
// wholly by p. Open connections stay open and their next message uses p;
// those whose Api or stage p no longer has are closed with 1001 (SPEC
// ), and their $disconnect runs from the stage as the old plan had it.
// The local runner's processes of functions p no longer has (renamed or
// removed) stop.
//
// An Api p adds (by logical ID) is served on the next free port after the
// highest one the gateway uses, as Start serves each next Api on the next
// port (SPEC ); with port 0 in Options.Addr, on any free port. An Api
// p removes keeps its port: its handshakes and @connections calls answer 403
// (no stage) until a later plan brings it back, which is then served there
// again. Swaps are serialized; before Start, SwapPlan only replaces the plan.
func (g *Gateway) SwapPlan(p *compile.Plan) SwapResult {
	g.swapMu.Lock()
	defer g.swapMu.Unlock()
	if p == nil {
		return SwapResult{Old: g.snap.Load().plan, Err: errors.New("no plan to swap in")}
	}
	s := provision(p, g.client, &g.opts, g.now())
	var errs []error
	g.mu.Lock()
	if g.started && !g.closing {
		// Listen before the plan is visible, so that Endpoints never lists
		// an Api without its address.
		for _, api := range p.Apis {
			if g.server(api.LogicalID) == nil {
				if _, err := g.listenNew(api); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	old := g.snap.Swap(s)
	var gone []*conn
	for c := range g.conns {
		if st := s.stage(c.srv.apiLogicalID, c.stageID); st != nil {
			c.stage.Store(st)
		} else {
			gone = append(gone, c)
		}
	}
	g.mu.Unlock()
	closed := 0
	for _, c := range gone {
		if _, ok := c.startClose(1001, reasonGoingAway, false); ok {
			closed++
		}
	}
	g.retainFunctions(p)
	return SwapResult{Old: old.plan, Closed: closed, Err: errors.Join(errs...)}
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

// track adds a connection whose $connect accepted it to the set Shutdown and
// Swap walk, before its handshake response is written, and gives it its
// stage as the current plan compiled it; false when shutdown already began
// or the current plan no longer has the connection's stage (the caller
// closes it with 1001).
func (g *Gateway) track(c *conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing {
		return false
	}
	// A Swap between the handshake's plan load and now did not see the
	// connection: do what it would have done (SPEC ).
	st := g.snap.Load().stage(c.srv.apiLogicalID, c.stageID)
	if st == nil {
		return false
	}
	c.stage.Store(st)
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
			c.cutTCP()
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
	if g.cluster != nil {
		// Other nodes answer 410 for this node's ids from now on.
		g.cluster.close()
	}
	g.closeLambda()
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
