package lambda

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsgw/wsgw/compile"
)

// maxPayload is Lambda's limit for a synchronous invocation's request and
// response payloads.
const maxPayload = 6 << 20

const apiPrefix = "/2018-06-01/runtime/"

// process is one running function process with its own Runtime API listener.
// It serves one invocation at a time.
type process struct {
	fn     *compile.Function
	name   string
	code   uint64 // code fingerprint at spawn
	log    *slog.Logger
	cmd    *exec.Cmd
	srv    *http.Server // the Runtime API; nil with frames
	frames net.Conn     // the frame channel (channel.go); nil with the Runtime API
	// fr reads frames: readStartup's until the loop is ready, then the
	// invoking goroutine's (one invocation at a time).
	fr *bufio.Reader
	// head is the invocation frame's head, reused (sendFrame).
	head []byte
	// framesRead is closed once readStartup is done reading.
	framesRead chan struct{}
	out        *lineWriter
	spawned    time.Time

	next chan *invocation // /next receives the invocation handed over

	ready     chan struct{} // closed at the first /next
	onReady   func(*process)
	readyOnce sync.Once
	coldStart time.Duration // set before ready is closed

	initFailed chan struct{} // closed after /init/error
	initOnce   sync.Once
	initErr    *FunctionError

	done    chan struct{} // closed once the process has exited
	exitErr error         // set before done is closed

	killed atomic.Bool
	served int // invocations handed over; owned by the invoking goroutine

	// idleSince and idleTimer stop a process idle for IdleTimeout; the
	// pool's mutex guards them.
	idleSince time.Time
	idleTimer *time.Timer

	mu  sync.Mutex
	cur *invocation // handed over, not answered
}

// invocation is one event on its way through a process.
type invocation struct {
	id      string
	traceID string
	arn     string
	payload []byte
	timeout time.Duration
	// deadline is when the invocation times out, set as the process takes it.
	deadline time.Time
	// result is buffered 1, written by whoever clears process.cur (the
	// Runtime API's handlers; the frame channel's answers are read by the
	// invoking goroutine itself).
	result chan outcome
}

// outcome is how an invocation ended.
type outcome struct {
	payload []byte
	err     error
	// healthy: the process can take the next invocation.
	healthy bool
	// delivered: the process took the event.
	delivered bool
	// retry: the event never reached a process that had served before and has
	// since exited (a panicking Go handler exits after answering); it can be
	// given to a new process.
	retry bool
	// abandoned: the caller gave up waiting; the invocation goes on.
	abandoned bool
}

// spawnSpec is everything start needs.
type spawnSpec struct {
	fn      *compile.Function
	code    uint64
	env     map[string]string
	loopDir string
	log     *slog.Logger
	emit    func(fn *compile.Function, line string)
	// ready is called once, at the first /next poll.
	ready func(*process)
	// httpLoops makes the Node.js and Python loops use the Runtime API
	// rather than the frame channel (tests; Windows always does).
	httpLoops bool
}

func start(s spawnSpec) (*process, error) {
	fn := s.fn
	var (
		ln          net.Listener
		parent, kid *os.File
		apiAddr     string
		err         error
	)
	if k := kindOf(fn.Runtime); (k == kindNode || k == kindPython) && !s.httpLoops {
		parent, kid, err = socketPair()
		if err != nil {
			parent, kid = nil, nil // the Runtime API then
		}
	}
	if parent == nil {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("function %s: runtime API listener: %w", fn.LogicalID, err)
		}
		apiAddr = ln.Addr().String()
	}
	closeAll := func() {
		if ln != nil {
			ln.Close()
		}
		if parent != nil {
			parent.Close()
			kid.Close()
		}
	}
	p := &process{
		fn:         fn,
		name:       functionName(fn),
		code:       s.code,
		log:        s.log,
		next:       make(chan *invocation),
		ready:      make(chan struct{}),
		initFailed: make(chan struct{}),
		done:       make(chan struct{}),
		onReady:    s.ready,
	}
	p.out = &lineWriter{emit: func(line string) { s.emit(fn, line) }}
	if ln != nil {
		p.srv = &http.Server{
			Handler:           p,
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          log.New(io.Discard, "", 0),
		}
	}

	path, args, err := command(fn, s.loopDir)
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("function %s: %w: %s", fn.LogicalID, ErrStart, err)
	}
	stream := time.Now().UTC().Format("2006/01/02") + "/[$LATEST]" + strings.ReplaceAll(newRequestID(), "-", "")
	cmd := exec.Command(path, args...)
	cmd.Dir = fn.CodeDir
	cmd.Env = environ(fn, s.env, apiAddr, s.loopDir, stream)
	if kid != nil {
		cmd.ExtraFiles = []*os.File{kid} // descriptor 3: channelFD
	}
	cmd.Stdout = p.out
	cmd.Stderr = p.out // the same writer: one pipe, lines in the order written
	cmd.WaitDelay = time.Second
	setProcAttrs(cmd)
	p.cmd = cmd
	p.spawned = time.Now()
	if err := cmd.Start(); err != nil {
		closeAll()
		return nil, fmt.Errorf("function %s: %w: %v", fn.LogicalID, ErrStart, err)
	}
	if parent != nil {
		kid.Close() // the child has its copy
		c, err := net.FileConn(parent)
		parent.Close()
		if err != nil {
			killGroup(cmd.Process)
			go cmd.Wait()
			return nil, fmt.Errorf("function %s: %w: runtime channel: %v", fn.LogicalID, ErrStart, err)
		}
		p.frames = c
		p.fr = bufio.NewReaderSize(c, 64<<10)
		p.framesRead = make(chan struct{})
		go p.readStartup()
	} else {
		// Served from now on: the process's first connection waits in the
		// listener's backlog until then.
		go p.srv.Serve(&peerListener{Listener: ln, pgid: cmd.Process.Pid, function: fn.LogicalID, log: p.log})
	}
	p.log.Info("lambda process started", "function", fn.LogicalID, "runtime", fn.Runtime, "pid", cmd.Process.Pid)
	go p.wait()
	return p, nil
}

func (p *process) wait() {
	err := p.cmd.Wait()
	killGroup(p.cmd.Process) // whatever it started
	if p.frames != nil {
		// The frames it wrote before exiting (an init error, then exit 1)
		// are read before done says it is gone; during an invocation the
		// invoking goroutine reads them.
		select {
		case <-p.framesRead:
		case <-time.After(time.Second):
		}
	}
	p.out.flush()
	p.exitErr = err
	close(p.done)
	p.closeChannel()
	if !p.killed.Load() {
		p.log.Warn("lambda process exited", "function", p.fn.LogicalID, "pid", p.cmd.Process.Pid, "status", exitStatus(err))
	}
}

// kill stops the process and everything in its process group.
func (p *process) kill() {
	if p.killed.Swap(true) {
		return
	}
	if p.cmd != nil && p.cmd.Process != nil {
		killGroup(p.cmd.Process)
	}
	p.closeChannel()
}

// closeChannel closes the Runtime API server or the frame channel.
func (p *process) closeChannel() {
	if p.srv != nil {
		p.srv.Close()
	}
	if p.frames != nil {
		p.frames.Close()
	}
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *process) isReady() bool {
	select {
	case <-p.ready:
		return true
	default:
		return false
	}
}

// invoke hands inv to the process and waits for its answer. The process is
// used by one invocation at a time (the pool sees to it). When ctx ends after
// the process took the event, it returns an outcome marked abandoned: the
// caller waits for the answer elsewhere (await) before the process is reused.
func (p *process) invoke(ctx context.Context, inv *invocation, initTimeout time.Duration) outcome {
	var initTimer <-chan time.Time
	if !p.isReady() {
		t := time.NewTimer(initTimeout)
		defer t.Stop()
		initTimer = t.C
	}
	// The Runtime API hands the event over at a /next poll; the frame
	// channel takes it once the loop said it is ready.
	take, ready := p.next, (<-chan struct{})(nil)
	if p.frames != nil {
		take, ready = nil, p.ready
	}
	select {
	case take <- inv:
	case <-ready:
		p.mu.Lock()
		p.cur = inv
		p.mu.Unlock()
		inv.deadline = time.Now().Add(inv.timeout)
		if err := p.sendFrame(inv, inv.deadline); err != nil {
			p.take(inv.id)
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				p.kill()
				p.served++
				return outcome{delivered: true, err: fmt.Errorf("function %s: %w after %.2f seconds", p.fn.LogicalID, ErrTimeout, inv.timeout.Seconds())}
			}
			p.kill()
			<-p.done
			return p.exitedBeforeTaking()
		}
	case <-p.initFailed:
		p.kill()
		return outcome{err: p.initErr}
	case <-p.done:
		if p.served > 0 {
			return p.exitedBeforeTaking()
		}
		if fe := p.initError(); fe != nil {
			return outcome{err: fe}
		}
		return outcome{err: p.exitError("exited before polling the runtime API")}
	case <-initTimer:
		p.kill()
		return outcome{err: fmt.Errorf("function %s: %w: it did not poll the runtime API within %s%s",
			p.fn.LogicalID, ErrStart, initTimeout, p.lastOutput())}
	case <-ctx.Done():
		return outcome{healthy: true, err: ctx.Err()}
	}
	p.served++

	o := p.await(ctx, inv)
	if !o.abandoned {
		o.delivered = true
	}
	return o
}

// exitedBeforeTaking is the outcome of a process that exited without taking
// an event: after serving others, the invocation is retried on a new one.
func (p *process) exitedBeforeTaking() outcome {
	err := p.exitError("exited before taking the event")
	return outcome{retry: p.served > 0, err: err}
}

// await waits for the answer to the invocation the process took; when ctx
// (nil: none) ends first, it returns an outcome marked abandoned.
func (p *process) await(ctx context.Context, inv *invocation) outcome {
	if p.frames != nil {
		return p.awaitFrame(ctx, inv)
	}
	timer := time.NewTimer(inv.timeout)
	defer timer.Stop()
	var gaveUp <-chan struct{}
	if ctx != nil {
		gaveUp = ctx.Done()
	}
	select {
	case <-gaveUp:
		return outcome{abandoned: true}
	case o := <-inv.result:
		return o
	case <-p.done:
		select {
		case o := <-inv.result: // answered, then exited (a Go panic does that)
			o.healthy = false
			return o
		default:
		}
		return outcome{err: p.exitError("exited during the invocation")}
	case <-timer.C:
		p.kill()
		return outcome{err: fmt.Errorf("function %s: %w after %.2f seconds", p.fn.LogicalID, ErrTimeout, inv.timeout.Seconds())}
	}
}

func (p *process) initError() *FunctionError {
	select {
	case <-p.initFailed:
		return p.initErr
	default:
		return nil
	}
}

// exitError says the process exited, with its status and last output lines.
func (p *process) exitError(what string) error {
	return fmt.Errorf("function %s: %w: %s (%s)%s", p.fn.LogicalID, ErrExited, what, exitStatus(p.exitErr), p.lastOutput())
}

func (p *process) lastOutput() string {
	lines := p.out.lastLines()
	if len(lines) == 0 {
		return ""
	}
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	q := make([]string, len(lines))
	for i, l := range lines {
		q[i] = strconv.Quote(l)
	}
	return "; last output: " + strings.Join(q, " ")
}

func exitStatus(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// ServeHTTP is the process's Lambda Runtime API.
func (p *process) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	route, ok := strings.CutPrefix(r.URL.Path, apiPrefix)
	switch {
	case ok && route == "invocation/next" && r.Method == http.MethodGet:
		p.serveNext(w, r)
	case ok && route == "init/error" && r.Method == http.MethodPost:
		p.serveInitError(w, r)
	case ok && strings.HasPrefix(route, "invocation/") && r.Method == http.MethodPost:
		id, verb, _ := strings.Cut(strings.TrimPrefix(route, "invocation/"), "/")
		if verb != "response" && verb != "error" {
			p.violation(w, r, http.StatusNotFound, "unknown path")
			return
		}
		p.serveResult(w, r, id, verb)
	default:
		p.violation(w, r, http.StatusNotFound, "unknown path")
	}
}

// markReady records the cold start at the first /next poll (or ready frame).
func (p *process) markReady() {
	p.readyOnce.Do(func() {
		p.coldStart = time.Since(p.spawned)
		if p.onReady != nil {
			p.onReady(p)
		}
		close(p.ready)
	})
}

func (p *process) serveNext(w http.ResponseWriter, r *http.Request) {
	p.markReady()
	p.mu.Lock()
	cur := p.cur
	p.mu.Unlock()
	if cur != nil {
		p.violation(w, r, http.StatusBadRequest, "polled /next before answering request "+cur.id)
		return
	}
	var inv *invocation
	select {
	case inv = <-p.next:
	case <-r.Context().Done():
		return
	case <-p.done:
		return
	}
	p.mu.Lock()
	p.cur = inv
	p.mu.Unlock()
	deadline := time.Now().Add(inv.timeout)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", inv.arn)
	h.Set("Lambda-Runtime-Trace-Id", inv.traceID)
	h.Set("Content-Length", strconv.Itoa(len(inv.payload)))
	w.WriteHeader(http.StatusOK)
	w.Write(inv.payload)
}

// take clears and returns the invocation in flight when its ID is id.
func (p *process) take(id string) (inv *invocation, cur string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil {
		return nil, ""
	}
	if p.cur.id != id {
		return nil, p.cur.id
	}
	inv, p.cur = p.cur, nil
	return inv, ""
}

func (p *process) serveResult(w http.ResponseWriter, r *http.Request, id, verb string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil {
		p.violation(w, r, http.StatusBadRequest, "reading the body: "+err.Error())
		return
	}
	inv, cur := p.take(id)
	if inv == nil {
		p.violation(w, r, http.StatusBadRequest, unknownID(id, cur))
		return
	}
	var o outcome
	switch {
	case len(body) > maxPayload:
		writeAPIError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
			fmt.Sprintf("Exceeded maximum allowed payload size (%d bytes).", maxPayload))
		inv.result <- outcome{healthy: true, err: responseTooLarge()}
		return
	case verb == "error":
		o = outcome{healthy: true, err: parseFunctionError(body, r.Header.Get("Lambda-Runtime-Function-Error-Type"))}
	case r.Trailer.Get("Lambda-Runtime-Function-Error-Type") != "":
		// aws-lambda-go reports an error met while streaming the response in trailers.
		o = outcome{healthy: true, err: parseFunctionError(nil, r.Trailer.Get("Lambda-Runtime-Function-Error-Type"))}
	default:
		o = outcome{healthy: true, payload: body}
	}
	inv.result <- o
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, `{"status":"OK"}`)
}

func (p *process) serveInitError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxPayload))
	p.initFailure(parseFunctionError(body, r.Header.Get("Lambda-Runtime-Function-Error-Type")))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, `{"status":"OK"}`)
}

// initFailure records the init error the runtime reported.
func (p *process) initFailure(fe *FunctionError) {
	p.initOnce.Do(func() {
		p.initErr = fe
		close(p.initFailed)
	})
}

// violation answers a request the Runtime API does not allow. The invocation
// in flight, if any, fails with ErrProtocol and the process is killed: a
// runtime that lost track of the protocol would otherwise hang until the
// timeout.
func (p *process) violation(w http.ResponseWriter, r *http.Request, status int, what string) {
	errType := "InvalidRequest"
	switch status {
	case http.StatusNotFound:
		errType = "NotFound"
	case http.StatusBadRequest:
		if strings.HasPrefix(what, "unknown request id") {
			errType = "InvalidRequestID"
		} else {
			errType = "InvalidStateTransition"
		}
	}
	writeAPIError(w, status, errType, what)
	p.protocolError(r.Method + " " + r.URL.Path + ": " + what)
}

// protocolError fails the invocation in flight, if any, with ErrProtocol and
// kills the process.
func (p *process) protocolError(what string) {
	p.mu.Lock()
	inv := p.cur
	p.cur = nil
	p.mu.Unlock()
	err := p.protocolFailure(what)
	if inv != nil {
		inv.result <- outcome{err: err}
		p.kill()
	}
}

// protocolFailure logs a misuse of the protocol and returns the ErrProtocol
// error that fails the invocation in flight.
func (p *process) protocolFailure(what string) error {
	err := fmt.Errorf("function %s: %w: %s", p.fn.LogicalID, ErrProtocol, what)
	p.log.Warn("lambda runtime API misuse", "function", p.fn.LogicalID, "error", err)
	return err
}

func writeAPIError(w http.ResponseWriter, status int, errType, msg string) {
	body, _ := json.Marshal(map[string]string{"errorMessage": msg, "errorType": errType})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

var _ http.Handler = (*process)(nil)
