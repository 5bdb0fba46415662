package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// A cluster (SPEC §12) is several gateways serving the same template that
// share their connections through NATS, an existing distributed engine:
// wsgw replicates no state of its own. Each node keeps its sockets and its
// in-memory registry; every open connection id is also a NATS subject
// (wsgw.conn.<id>) its holder subscribes to, so that an @connections call on
// any node for a connection it does not hold is a NATS request to that
// subject, answered by the holder as if local. Nobody subscribed (the
// connection closed, its node stopped or died, or NATS is away) is NATS's
// "no responders", answered at once: 410 GoneException (SPEC ).
//
// Connection ids end with the node's tag (4 letters and digits no other node
// of the cluster uses), so ids are unique across nodes, and an id of this
// node's own that it does not hold is gone without asking NATS.
const (
	connSubject = "wsgw.conn."
	nodeSubject = "wsgw.node."

	hdrOp     = "Wsgw-Op"     // post, get or delete
	hdrAPI    = "Wsgw-Api"    // the Api id the caller serves
	hdrCode   = "Wsgw-Code"   // delete: close code
	hdrReason = "Wsgw-Reason" // delete: close reason
	hdrStatus = "Wsgw-Status" // reply: ok or gone
	hdrNode   = "Wsgw-Node"   // reply: the holder's name
)

// ClusterInfo describes the cluster a gateway joined.
type ClusterInfo struct {
	// URLs are the NATS servers, as given.
	URLs string
	// Node is this node's name (Options.NodeName, else HOST:PORT of its first
	// Api); Tag ends every connection id it gives.
	Node, Tag string
	// Connected reports whether the node reaches NATS now; ConnectedURL is
	// the server it is connected to.
	Connected    bool
	ConnectedURL string
}

// clusterRegistry is the Registry of a cluster node: its own connections in
// a memRegistry, every other one through NATS.
type clusterRegistry struct {
	local *memRegistry
	nc    *nats.Conn
	urls  string
	name  string
	tag   string
	log   *slog.Logger
	// callTimeout bounds a remote call; holdTimeout bounds the holder's send
	// or close (the write timeout and a margin, as a local call).
	callTimeout, holdTimeout time.Duration

	// in receives the requests for every connection held here: each
	// connection's subscription delivers into it, so a connection costs
	// NATS a subscription and no goroutine.
	in       chan *nats.Msg
	stop     chan struct{}
	stopped  chan struct{}
	handlers sync.WaitGroup

	closeOnce sync.Once

	mu   sync.Mutex
	subs map[string]*nats.Subscription
}

var _ Registry = (*clusterRegistry)(nil)

// clusterInbox is how many requests wait for the dispatcher (each
// connection's subscription may hold as many before NATS drops one, which
// its caller then sees as a timeout).
const clusterInbox = 8192

// joinCluster connects to the NATS servers urls (comma-separated) and
// returns the node's registry. NATS being unreachable does not fail it: the
// node serves its own connections and keeps trying to connect (SPEC
// ); only a malformed URL does.
func joinCluster(urls, name string, opts *Options, log *slog.Logger) (*clusterRegistry, error) {
	if name == "" {
		name = defaultNodeName(opts.Addr)
	}
	r := &clusterRegistry{
		local: newMemRegistry(), urls: urls, name: name, log: log,
		callTimeout: opts.WriteTimeout + 2*time.Second, holdTimeout: opts.WriteTimeout + time.Second,
		in: make(chan *nats.Msg, clusterInbox), stop: make(chan struct{}), stopped: make(chan struct{}),
		subs: map[string]*nats.Subscription{},
	}
	if opts.WriteTimeout <= 0 {
		r.callTimeout, r.holdTimeout = 12*time.Second, 11*time.Second
	}
	for _, u := range strings.Split(urls, ",") {
		if u = strings.TrimSpace(u); !strings.HasPrefix(u, "nats://") && !strings.HasPrefix(u, "tls://") {
			return nil, fmt.Errorf("--cluster %q: want nats://HOST:PORT[,nats://HOST:PORT...]", urls)
		}
	}
	nc, err := nats.Connect(urls,
		nats.Name("wsgw "+name),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500*time.Millisecond),
		nats.ReconnectJitter(250*time.Millisecond, time.Second),
		// A server that stops answering is noticed within seconds, and a
		// stalled socket never holds up a handshake for long.
		nats.PingInterval(2*time.Second),
		nats.MaxPingsOutstanding(2),
		nats.FlusherTimeout(2*time.Second),
		// While reconnecting the client holds its lock for each attempt, up
		// to this timeout when a server accepts but does not answer (a
		// stalled process): handshakes subscribing their id wait that long.
		nats.Timeout(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			log.Warn("cluster: lost NATS; connections of other nodes answer 410 until it is back", "node", name, "error", err)
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			log.Info("cluster: reconnected to NATS", "node", name, "url", c.ConnectedUrlRedacted())
		}),
		nats.ConnectHandler(func(c *nats.Conn) {
			log.Info("cluster: connected to NATS", "node", name, "url", c.ConnectedUrlRedacted())
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("--cluster %s: %w", urls, err)
	}
	r.nc = nc
	r.tag = r.claimTag()
	go r.dispatch()
	return r, nil
}

// defaultNodeName is the host name and the port of addr.
func defaultNodeName(addr string) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "wsgw"
	}
	if _, port, err := net.SplitHostPort(addr); err == nil && port != "0" {
		return host + ":" + port
	}
	return host + "-" + strconv.Itoa(os.Getpid())
}

// claimTag picks a node tag no node connected to NATS answers for, and
// answers for it from now on. While NATS is away a random tag is taken
// unchecked (one in 14 million for a pair of nodes to draw the same).
func (r *clusterRegistry) claimTag() string {
	var tag string
	for range 8 {
		tag = newNodeTag()
		if !r.nc.IsConnected() {
			break
		}
		_, err := r.nc.Request(nodeSubject+tag, nil, time.Second)
		if errors.Is(err, nats.ErrNoResponders) {
			break
		}
	}
	if _, err := r.nc.Subscribe(nodeSubject+tag, func(m *nats.Msg) { _ = m.Respond([]byte(r.name)) }); err != nil {
		r.log.Warn("cluster: could not claim the node tag", "tag", tag, "error", err)
	}
	return tag
}

// info describes the node and its link to NATS.
func (r *clusterRegistry) info() ClusterInfo {
	ci := ClusterInfo{URLs: r.urls, Node: r.name, Tag: r.tag, Connected: r.nc.IsConnected()}
	if ci.Connected {
		ci.ConnectedURL = r.nc.ConnectedUrlRedacted()
	}
	return ci
}

// close stops answering for this node: NATS forgets its subscriptions at
// once, so every other node answers 410 for its ids; requests being
// answered finish first.
func (r *clusterRegistry) close() {
	r.closeOnce.Do(func() {
		r.nc.Close()
		close(r.stop)
		<-r.stopped
		r.handlers.Wait()
	})
}

func (r *clusterRegistry) Register(p Peer) error {
	if err := r.local.Register(p); err != nil {
		return err
	}
	id := p.ID()
	if !validID(id) {
		return nil
	}
	// While NATS is away the subscription waits in the client and is sent
	// when it reconnects; local traffic never waits for NATS.
	sub, err := r.nc.ChanSubscribe(connSubject+id, r.in)
	if err != nil {
		r.log.Warn("cluster: other nodes cannot reach this connection", "connectionId", id, "error", err)
		return nil
	}
	r.mu.Lock()
	r.subs[id] = sub
	r.mu.Unlock()
	// Register runs before the handshake completes: a round trip to the NATS
	// server makes sure it knows the subscription by the time the client (and
	// any backend it tells) has the id, so that a post through another node
	// right after $connect finds the holder instead of no responders (410).
	// It is bounded, so that a slow NATS delays a handshake little.
	if r.nc.IsConnected() {
		_ = r.nc.FlushTimeout(registerFlushTimeout)
	}
	return nil
}

// registerFlushTimeout bounds the wait for the NATS server in Register.
const registerFlushTimeout = 250 * time.Millisecond

func (r *clusterRegistry) Unregister(id string) {
	r.local.Unregister(id)
	r.mu.Lock()
	sub := r.subs[id]
	delete(r.subs, id)
	r.mu.Unlock()
	if sub != nil {
		_ = sub.Unsubscribe()
	}
}

func (r *clusterRegistry) Lookup(ctx context.Context, api, id string) (ConnInfo, error) {
	if r.local.has(id) {
		info, err := r.local.Lookup(ctx, api, id)
		info.Node = r.name
		return info, err
	}
	m, err := r.remote(ctx, "get", api, id, nil, nil)
	if err != nil {
		return ConnInfo{}, err
	}
	var info ConnInfo
	if err := json.Unmarshal(m.Data, &info); err != nil {
		return ConnInfo{}, ErrGone
	}
	info.Node = m.Header.Get(hdrNode)
	return info, nil
}

func (r *clusterRegistry) Send(ctx context.Context, api, id string, data []byte) error {
	if r.local.has(id) {
		return r.local.Send(ctx, api, id, data)
	}
	_, err := r.remote(ctx, "post", api, id, data, nil)
	return err
}

func (r *clusterRegistry) Close(ctx context.Context, api, id string, code int, reason string) error {
	if r.local.has(id) {
		return r.local.Close(ctx, api, id, code, reason)
	}
	_, err := r.remote(ctx, "delete", api, id, nil, func(h nats.Header) {
		h.Set(hdrCode, strconv.Itoa(code))
		h.Set(hdrReason, reason)
	})
	return err
}

// remote asks the node holding id to do op and returns its answer; ErrGone
// when the id is this node's own (it would be in local), when NATS is away,
// when no one holds id, or when the holder does not answer in time.
func (r *clusterRegistry) remote(ctx context.Context, op, api, id string, data []byte, header func(nats.Header)) (*nats.Msg, error) {
	if !validID(id) || idTag(id) == r.tag || !r.nc.IsConnected() {
		return nil, ErrGone
	}
	ctx, cancel := context.WithTimeout(ctx, r.callTimeout)
	defer cancel()
	m := nats.NewMsg(connSubject + id)
	m.Header.Set(hdrOp, op)
	m.Header.Set(hdrAPI, api)
	if header != nil {
		header(m.Header)
	}
	m.Data = data
	reply, err := r.nc.RequestMsgWithContext(ctx, m)
	if err != nil {
		// No responders (nobody holds id), a timeout, or NATS went away.
		return nil, ErrGone
	}
	if reply.Header.Get(hdrStatus) != "ok" {
		return nil, ErrGone
	}
	return reply, nil
}

// dispatch answers each request for a connection held here on a goroutine
// of its own, so that a client slow to read holds up no one else. A sender
// that waits for each answer (as every @connections client does) sees its
// posts arrive in order: the holder answers once the frame is written.
func (r *clusterRegistry) dispatch() {
	defer close(r.stopped)
	for {
		select {
		case m := <-r.in:
			r.handlers.Add(1)
			go r.answer(m)
		case <-r.stop:
			return
		}
	}
}

// answer does what a request asks to the local connection and replies.
func (r *clusterRegistry) answer(m *nats.Msg) {
	defer r.handlers.Done()
	if m.Reply == "" {
		return
	}
	id := strings.TrimPrefix(m.Subject, connSubject)
	api := m.Header.Get(hdrAPI)
	ctx, cancel := context.WithTimeout(context.Background(), r.holdTimeout)
	defer cancel()
	reply := nats.NewMsg(m.Reply)
	reply.Header.Set(hdrNode, r.name)
	var err error
	switch m.Header.Get(hdrOp) {
	case "post":
		err = r.local.Send(ctx, api, id, m.Data)
	case "get":
		var info ConnInfo
		if info, err = r.local.Lookup(ctx, api, id); err == nil {
			reply.Data, err = json.Marshal(info)
		}
	case "delete":
		code, cerr := strconv.Atoi(m.Header.Get(hdrCode))
		if cerr != nil {
			code = 1000
		}
		// As on the local path: 204 unless the connection is gone.
		if err = r.local.Close(ctx, api, id, code, m.Header.Get(hdrReason)); !errors.Is(err, ErrGone) {
			err = nil
		}
	default:
		err = fmt.Errorf("unknown operation %q", m.Header.Get(hdrOp))
	}
	if err != nil {
		reply.Header.Set(hdrStatus, "gone")
	} else {
		reply.Header.Set(hdrStatus, "ok")
	}
	_ = m.RespondMsg(reply)
}

// validID reports whether id has the shape of a connection id (15 letters
// and digits and "="), so that it is a plain NATS subject token.
func validID(id string) bool {
	if len(id) != 16 || id[15] != '=' {
		return false
	}
	for i := range 15 {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
