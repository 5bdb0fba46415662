package main

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	goruntime "runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgw/wsgw/compile"
	"github.com/wsgw/wsgw/runtime"
	"github.com/wsgw/wsgw/template"
)

// loadTemplate is the Api -mode load drives: see its Description.
//
//go:embed load.yaml
var loadTemplate []byte

// loadStage is the stage name of loadTemplate.
const loadStage = "load"

// defaultLoadBackend is where the backend of -mode load listens when it
// drives an external gateway: load.yaml's default BackendUrl.
const defaultLoadBackend = "127.0.0.1:9300"

// startLoadGateway serves loadTemplate in process on a free port of
// 127.0.0.1, its integrations calling backendURL, and returns the gateway
// and the stage's URL.
func startLoadGateway(backendURL string, throttle bool) (*runtime.Gateway, string, error) {
	plan, ds := compile.Build("load.yaml", loadTemplate, template.Options{
		Params: map[string]string{"BackendUrl": backendURL}, Addr: "127.0.0.1:0", RequireParams: true}, compile.Options{})
	if plan == nil || ds.HasErrors() {
		return nil, "", diagError(ds)
	}
	return serveInProcess(plan, throttle, loadStage)
}

// kindOf is the route message seq of a connection takes: route "echo" or
// "post" sends every message there, "mix" alternates, odd numbers to echo.
func kindOf(route string, seq int) int {
	switch route {
	case "echo":
		return kindEcho
	case "post":
		return kindPost
	}
	if seq%2 == 1 {
		return kindEcho
	}
	return kindPost
}

// kindStats counts one kind's messages on one connection.
type kindStats struct {
	Sent       int64 `json:"sent"`
	Received   int64 `json:"received"`
	Lost       int64 `json:"lost"`
	Duplicated int64 `json:"duplicated"`
	Reordered  int64 `json:"reordered"`
}

func (k *kindStats) add(o kindStats) {
	k.Sent += o.Sent
	k.Received += o.Received
	k.Lost += o.Lost
	k.Duplicated += o.Duplicated
	k.Reordered += o.Reordered
}

// loadConn is one client connection of the load: a sender goroutine sends
// its messages on schedule (open loop: it never waits for replies), a reader
// goroutine checks every frame that comes back.
type loadConn struct {
	idx int
	ws  *websocket.Conn

	mu     sync.Mutex
	sentAt []int64 // intended send time (unix ns) of seq i+1
	check  seqCheck
	stats  [numKinds]kindStats

	closing    atomic.Bool
	readerDone chan struct{}
}

// histShards spreads the readers' latency records over a few locks.
const histShards = 16

// loadRun is one run of -mode load.
type loadRun struct {
	o     *options
	msgs  [numKinds]*messages
	errs  errorLog
	conns []*loadConn
	hists [histShards]struct {
		mu sync.Mutex
		h  histogram
	}
	// netDial, when set, dials the connections' TCP (-mode idle: without
	// keep-alive probes).
	netDial func(ctx context.Context, network, addr string) (net.Conn, error)
	// openRate, when above 0, paces the dials: connection i starts at
	// i/openRate seconds.
	openRate float64
	// received is loadHooks.received.
	received func()

	reserved    atomic.Int64 // messages reserved against -max-messages
	outstanding atomic.Int64 // sent and not yet received
	inWindow    atomic.Int64 // messages received between measureAt and end
	measureAt   time.Time
	end         time.Time
}

// newLoadRun returns a run of o's messages (echo and post, o.size bytes).
func newLoadRun(o *options) *loadRun {
	r := &loadRun{o: o}
	r.msgs[kindEcho] = newMessages("echo", o.size)
	r.msgs[kindPost] = newMessages("post", o.size)
	return r
}

// loadHooks lets tests change the backend (to inject faults).
type loadHooks struct {
	// backend wraps the load backend's handler.
	backend func(b *loadBackend, h http.Handler) http.Handler
	// received, when set, is called for each message that came back as sent.
	received func()
}

// load sets up the backend (and the gateway unless -gateway), opens the
// connections, runs the open-loop load, drains, closes and reports.
func load(ctx context.Context, o *options, stderr io.Writer, hooks loadHooks) (*loadReport, error) {
	cfg := loadConfig{Conns: o.conns, Size: o.size, Route: o.route, Duration: o.duration.Seconds(),
		Warmup: o.warmup.Seconds(), MaxMessages: o.maxMessages, Gateway: o.gateway, GatewayPID: o.gatewayPID,
		Throttle: o.throttle}
	cfg.Rate = o.rate
	if o.connRate > 0 {
		cfg.Rate = o.connRate * float64(o.conns)
	}

	listen := o.backendListen
	if listen == "" {
		listen = "127.0.0.1:0"
		if o.gateway != "" {
			listen = defaultLoadBackend
		}
	}
	// The backend needs the gateway's @connections URL and the gateway the
	// backend's URL: listen first, learn the gateway's address after.
	lb := newLoadBackend()
	var h http.Handler = lb.handler()
	if hooks.backend != nil {
		h = hooks.backend(lb, h)
	}
	be, err := startLoadBackend(listen, h)
	if err != nil {
		return nil, fmt.Errorf("starting the load backend on %s: %w", listen, err)
	}
	// Every call the backend must see has been counted when load returns:
	// close it at once (a graceful shutdown would wait 5 s for the
	// connections the gateway dialed but never used).
	defer be.srv.Close()
	defer lb.closeIdle()
	cfg.Backend = be.url

	probe := &memProbe{pid: o.gatewayPID}
	if o.gateway == "" {
		g, wsURL, err := startLoadGateway(be.url, o.throttle)
		if err != nil {
			return nil, fmt.Errorf("starting the gateway: %w", err)
		}
		defer shutdown(stderr, "gateway", g.Shutdown)
		cfg.Gateway, cfg.InProcess = wsURL, true
		probe.inProcess = true
	}
	// Several stage URLs are nodes of one cluster: connections spread over
	// them, and the backend posts through any.
	gateways := strings.Split(cfg.Gateway, ",")
	var connURLs []string
	for _, gw := range gateways {
		connURL, err := connectionsURLOf(gw)
		if err != nil {
			return nil, err
		}
		connURLs = append(connURLs, connURL)
	}
	if o.postVia != "" {
		connURLs = nil
		for _, u := range strings.Split(o.postVia, ",") {
			connURLs = append(connURLs, stripSlash(u)+"/")
		}
		cfg.PostVia = o.postVia
	}
	lb.connectionsURL.Store(&connURLs)
	memSrc := ""
	if o.gatewayPID != 0 || cfg.InProcess {
		memSrc = probe.source()
	}

	r := newLoadRun(o)
	r.received = hooks.received

	stopProfile, err := startCPUProfile(o.cpuProfile, stderr)
	if err != nil {
		return nil, err
	}
	defer stopProfile()

	var mem memoryReport
	mem.Source = memSrc
	if memSrc != "" {
		s, err := probe.sample(true)
		if err != nil {
			return nil, err
		}
		mem.Before = s
	}
	stopWatch := make(chan struct{})
	if memSrc != "" {
		go probe.watch(250*time.Millisecond, stopWatch)
	}

	opened := r.open(ctx, gateways)
	if memSrc != "" {
		time.Sleep(200 * time.Millisecond) // let the last handshakes' goroutines end
		s, err := probe.sample(true)
		if err != nil {
			return nil, err
		}
		mem.Open = s
		if opened > 0 {
			mem.PerConnBytes = (s.RSSKB - mem.Before.RSSKB) * 1024 / int64(opened)
			if cfg.InProcess {
				mem.HeapPerConnBytes = (s.HeapInuseKB - mem.Before.HeapInuseKB) * 1024 / int64(opened)
			}
		}
	}
	if o.memProfile != "" {
		if err := writeHeapProfile(o.memProfile); err != nil {
			fmt.Fprintf(stderr, "wsgw-bench: -memprofile: %v\n", err)
		}
	}

	start := time.Now().Add(20 * time.Millisecond)
	r.measureAt = start.Add(o.warmup)
	r.end = r.measureAt.Add(o.duration)
	var wg sync.WaitGroup
	for _, lc := range r.conns {
		if lc == nil {
			continue
		}
		go r.read(ctx, lc)
		if cfg.Rate > 0 {
			interval := time.Duration(float64(opened) / cfg.Rate * float64(time.Second))
			// Spread the connections' first messages over one interval.
			first := start.Add(time.Duration(int64(interval) * int64(lc.idx) / int64(max(opened, 1))))
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.send(ctx, lc, first, interval)
			}()
		}
	}
	if cfg.Rate == 0 {
		// Idle: hold the connections open.
		select {
		case <-time.After(time.Until(r.end)):
		case <-ctx.Done():
		}
	}
	wg.Wait()
	stopSending := time.Now()
	r.drain(ctx)
	if memSrc != "" {
		s, err := probe.sample(false)
		if err == nil {
			mem.End = s
		}
	}
	r.closeAll()
	close(stopWatch)
	mem.PeakRSSKB = probe.peak()

	// Every connection the gateway accepted gets its $disconnect.
	conns := waitDisconnects(ctx, lb, o.timeout)
	stopProfile()

	rep := &loadReport{Machine: thisMachine(), Config: cfg}
	rep.Connections = connReport{Requested: o.conns, Opened: opened, Connects: conns.connects, Disconnects: conns.disconnects}
	if conns.connects != conns.disconnects {
		r.errs.add("disconnect", fmt.Errorf("the backend saw %d $connect and %d $disconnect calls", conns.connects, conns.disconnects))
	}
	if memSrc != "" {
		rep.Memory = &mem
	}
	r.report(rep, stopSending)
	pe := lb.postErrors.snapshot()
	rep.PostErrors = pe.n
	for _, e := range pe.first {
		rep.FirstErrors = append(rep.FirstErrors, "backend "+e)
	}
	return rep, nil
}

// open dials every connection, at most -dial-concurrency at a time,
// connection i to urls[i mod len(urls)], and returns how many opened.
func (r *loadRun) open(ctx context.Context, urls []string) int {
	r.conns = make([]*loadConn, r.o.conns)
	d := websocket.Dialer{HandshakeTimeout: r.o.timeout, Proxy: nil, WriteBufferPool: &sync.Pool{}, NetDialContext: r.netDial}
	sem := make(chan struct{}, max(1, r.o.dialConcurrency))
	var wg sync.WaitGroup
	var n atomic.Int64
	start := time.Now()
	for i := range r.conns {
		if r.openRate > 0 {
			if wait := time.Until(start.Add(time.Duration(float64(i) / r.openRate * float64(time.Second)))); wait > 0 {
				select {
				case <-time.After(wait):
				case <-ctx.Done():
				}
			}
		}
		sem <- struct{}{}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ws, resp, err := d.DialContext(ctx, urls[i%len(urls)], nil)
			if err != nil {
				if ctx.Err() == nil {
					if resp != nil {
						err = fmt.Errorf("handshake answered %s", resp.Status)
					}
					r.errs.add("open", fmt.Errorf("conn %d: %w", i, err))
				}
				return
			}
			r.conns[i] = &loadConn{idx: i, ws: ws, readerDone: make(chan struct{})}
			n.Add(1)
		}()
	}
	wg.Wait()
	return int(n.Load())
}

// send sends lc's messages at first, first+interval, ... until the end of
// the run or -max-messages. A message is due at its time whatever happened to
// the ones before (open loop), and its latency counts from that time, so a
// sender that falls behind shows in the latencies.
func (r *loadRun) send(ctx context.Context, lc *loadConn, first time.Time, interval time.Duration) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for seq := 1; ; seq++ {
		at := first.Add(time.Duration(seq-1) * interval)
		if !at.Before(r.end) || ctx.Err() != nil {
			return
		}
		if r.o.maxMessages > 0 && r.reserved.Add(1) > r.o.maxMessages {
			return
		}
		if d := time.Until(at); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return
			}
		}
		if !r.sendOne(ctx, lc, seq, at) {
			return
		}
	}
}

// sendOne sends lc's message seq, due at at (its latency counts from
// there), and reports whether the connection took it.
func (r *loadRun) sendOne(ctx context.Context, lc *loadConn, seq int, at time.Time) bool {
	k := kindOf(r.o.route, seq)
	msg := r.msgs[k].build(lc.idx, seq)
	lc.mu.Lock()
	lc.sentAt = append(lc.sentAt, at.UnixNano())
	lc.stats[k].Sent++
	lc.mu.Unlock()
	r.outstanding.Add(1)
	_ = lc.ws.SetWriteDeadline(time.Now().Add(r.o.timeout))
	if err := lc.ws.WriteMessage(websocket.TextMessage, msg); err != nil {
		lc.mu.Lock()
		lc.sentAt = lc.sentAt[:len(lc.sentAt)-1]
		lc.stats[k].Sent--
		lc.mu.Unlock()
		r.outstanding.Add(-1)
		if !lc.closing.Load() && ctx.Err() == nil {
			r.errs.add("transport", fmt.Errorf("conn %d: send: %w", lc.idx, err))
		}
		return false
	}
	return true
}

// read checks every frame lc receives until the connection ends.
func (r *loadRun) read(ctx context.Context, lc *loadConn) {
	defer close(lc.readerDone)
	for {
		typ, data, err := lc.ws.ReadMessage()
		now := time.Now()
		if err != nil {
			if !lc.closing.Load() && ctx.Err() == nil {
				r.errs.add("transport", fmt.Errorf("conn %d: receive: %w", lc.idx, err))
			}
			return
		}
		r.receive(lc, typ, data, now)
	}
}

// errorFramePrefix starts API Gateway's error frames (Forbidden, Internal
// server error, Too Many Requests).
var errorFramePrefix = []byte(`{"message": "`)

// receive checks one frame: one of lc's messages, each once, in order.
func (r *loadRun) receive(lc *loadConn, typ int, data []byte, now time.Time) {
	if bytes.HasPrefix(data, errorFramePrefix) {
		r.errs.add("error-frame", fmt.Errorf("conn %d: %s", lc.idx, shorten(data)))
		return
	}
	conn, seq, ok := ids(data)
	if !ok || conn != lc.idx {
		r.errs.add("mismatch", fmt.Errorf("conn %d received a frame that is not one of its messages: %s", lc.idx, shorten(data)))
		return
	}
	lc.mu.Lock()
	if seq < 1 || seq > len(lc.sentAt) {
		lc.mu.Unlock()
		r.errs.add("mismatch", fmt.Errorf("conn %d received seq %d, which it did not send", lc.idx, seq))
		return
	}
	at := lc.sentAt[seq-1]
	k := kindOf(r.o.route, seq)
	v := lc.check.observe(seq)
	switch v {
	case seqOK:
		lc.stats[k].Received++
	case seqReordered:
		lc.stats[k].Received++
		lc.stats[k].Reordered++
	case seqDuplicate:
		lc.stats[k].Duplicated++
	}
	lc.mu.Unlock()
	switch v {
	case seqDuplicate:
		r.errs.add("duplicate", fmt.Errorf("conn %d: %s seq %d received again", lc.idx, kindNames[k], seq))
		return
	case seqReordered:
		r.errs.add("reordered", fmt.Errorf("conn %d: %s seq %d received after a later message", lc.idx, kindNames[k], seq))
	}
	r.outstanding.Add(-1)
	if !now.Before(r.measureAt) && now.Before(r.end) {
		r.inWindow.Add(1)
	}
	if err := verify(r.msgs[k].build(lc.idx, seq), data, lc.idx, seq); err != nil {
		r.errs.add("mismatch", err)
	} else if typ != websocket.TextMessage {
		r.errs.add("mismatch", fmt.Errorf("conn %d seq %d came back as a binary frame", lc.idx, seq))
	} else if r.received != nil {
		r.received()
	}
	if sent := time.Unix(0, at); !sent.Before(r.measureAt) {
		s := &r.hists[lc.idx%histShards]
		s.mu.Lock()
		s.h.record(now.Sub(sent))
		s.mu.Unlock()
	}
}

func shorten(b []byte) string {
	const show = 120
	if len(b) > show {
		return fmt.Sprintf("%q... (%d bytes)", b[:show], len(b))
	}
	return fmt.Sprintf("%q", b)
}

// maxDrain bounds the wait for the messages still under way at the end.
const maxDrain = 2 * time.Minute

// drain waits until every message sent came back. A gateway pushed past
// what it can handle answers late, not never: drain waits as long as
// answers keep coming, and gives up once none came for -timeout (or after
// maxDrain); what is then missing counts as lost.
func (r *loadRun) drain(ctx context.Context) {
	start := time.Now()
	last, lastAt := r.outstanding.Load(), start
	for ctx.Err() == nil {
		n := r.outstanding.Load()
		now := time.Now()
		if n <= 0 || now.Sub(start) > maxDrain {
			return
		}
		if n < last {
			last, lastAt = n, now
		} else if now.Sub(lastAt) > r.o.timeout {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// closeAll closes every connection with 1000 and waits (a little) for the
// readers to end.
func (r *loadRun) closeAll() {
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256)
	for _, lc := range r.conns {
		if lc == nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			lc.closing.Store(true)
			_ = lc.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
			select {
			case <-lc.readerDone: // the gateway's close frame came back
			case <-time.After(2 * time.Second):
			}
			_ = lc.ws.Close()
			<-lc.readerDone
		}()
	}
	wg.Wait()
}

type connCounts struct{ connects, disconnects int64 }

// waitDisconnects waits until the backend saw as many $disconnect as
// $connect calls, for at most timeout.
func waitDisconnects(ctx context.Context, lb *loadBackend, timeout time.Duration) connCounts {
	deadline := time.Now().Add(timeout)
	for {
		c := connCounts{lb.connects.Load(), lb.disconnects.Load()}
		if c.disconnects >= c.connects || !time.Now().Before(deadline) || ctx.Err() != nil {
			return c
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// report fills rep with the connections' counts and the latencies.
func (r *loadRun) report(rep *loadReport, stopSending time.Time) {
	var streams [numKinds]kindStats
	for _, lc := range r.conns {
		if lc == nil {
			continue
		}
		lc.mu.Lock()
		lc.check.lost(len(lc.sentAt), func(seq int) {
			k := kindOf(r.o.route, seq)
			lc.stats[k].Lost++
			r.errs.add("lost", fmt.Errorf("conn %d: %s seq %d never came back", lc.idx, kindNames[k], seq))
		})
		for k := range streams {
			streams[k].add(lc.stats[k])
		}
		lc.mu.Unlock()
	}
	rep.Streams = map[string]kindStats{}
	for k, s := range streams {
		if s.Sent > 0 || s.Received > 0 || s.Duplicated > 0 {
			rep.Streams[kindNames[k]] = s
		}
		rep.Messages.Sent += s.Sent
		rep.Messages.Received += s.Received
	}
	var h histogram
	for i := range r.hists {
		h.merge(&r.hists[i].h)
	}
	rep.Messages.Measured = int64(h.n)
	last := r.end
	if stopSending.Before(last) {
		last = stopSending // interrupted
	}
	measured := last.Sub(r.measureAt)
	if measured > 0 {
		rep.Messages.Seconds = round3(measured.Seconds())
		rep.Messages.Rate = round0(float64(r.inWindow.Load()) / measured.Seconds())
	}
	if h.n > 0 {
		rep.Latency = &latencyReport{P50: ms(h.quantile(0.5)), P90: ms(h.quantile(0.9)), P99: ms(h.quantile(0.99)), Max: ms(h.max)}
	}
	e := r.errs.snapshot()
	rep.Errors, rep.ErrorKinds = e.n, e.kinds
	rep.FirstErrors = append(rep.FirstErrors, e.first...)
}

// startCPUProfile starts a CPU profile into path ("" does nothing) and
// returns the function that ends it (safe to call twice).
func startCPUProfile(path string, stderr io.Writer) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("-cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("-cpuprofile: %w", err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			pprof.StopCPUProfile()
			if err := f.Close(); err != nil {
				fmt.Fprintf(stderr, "wsgw-bench: -cpuprofile: %v\n", err)
			}
		})
	}, nil
}

// writeHeapProfile writes a heap profile (after a GC) to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	goruntime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
