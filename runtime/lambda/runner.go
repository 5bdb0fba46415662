package lambda

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	mrand "math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wsgw/wsgw/compile"
)

// Defaults of Options.
const (
	DefaultMaxProcesses = 4
	DefaultInitTimeout  = 10 * time.Second // Lambda's limit for the init phase
	DefaultIdleTimeout  = 10 * time.Minute // Lambda reclaims idle environments after minutes too
	defaultTimeout      = 3 * time.Second  // a function without Timeout
	keptColdStarts      = 32
)

// Options configure a Runner.
type Options struct {
	// Env is added to every function's environment (AWS_ENDPOINT_URL_*, CA
	// bundles, AWS_REGION ...). The function's own Environment wins over it,
	// and neither can change the variables Lambda reserves (AWS_LAMBDA_*,
	// _HANDLER, LAMBDA_TASK_ROOT, AWS_REGION, AWS_DEFAULT_REGION,
	// AWS_EXECUTION_ENV). AWS_REGION here sets the region; without it the
	// region comes from the function's Arn.
	Env map[string]string
	// Logger receives process lifecycle events (started, ready with its cold
	// start, exited, killed) and, when Output is nil, every output line with
	// the function's name. Nil: discard.
	Logger *slog.Logger
	// Output receives the functions' stdout and stderr, one line at a time,
	// each prefixed with "[FunctionName] ". Nil: lines go to Logger.
	Output io.Writer
	// MaxProcesses bounds the processes (instances) of one function whose
	// template sets no ReservedConcurrentExecutions: concurrent invocations
	// start extra processes up to it, then wait for a free one. 0 means
	// DefaultMaxProcesses.
	MaxProcesses int
	// IdleTimeout stops a warm process that has not been invoked for this
	// long; the next invocation is a cold start. 0 means
	// DefaultIdleTimeout; negative: never.
	IdleTimeout time.Duration
	// InitTimeout bounds the time from spawn to the first /next poll.
	// 0 means DefaultInitTimeout.
	InitTimeout time.Duration
	// LoopDir is where the Node.js and Python runtime loops are written; ""
	// means the user cache directory (else the temporary directory).
	LoopDir string

	// httpLoops makes the Node.js and Python loops talk to the Runtime API
	// over HTTP, as on Windows, instead of the frame channel (tests).
	httpLoops bool
}

// Runner runs functions as local processes behind a Lambda Runtime API it
// serves itself, and keeps them warm between invocations. It is safe for
// concurrent use.
type Runner struct {
	opts Options
	log  *slog.Logger

	outMu sync.Mutex

	loopMu  sync.Mutex
	loopDir string

	mu     sync.Mutex
	closed bool
	pools  map[string]*pool // by logical ID
	stats  map[string]*Stats
	// kept is the set Retain was last given (nil: every function is kept).
	kept map[string]bool
	// retired holds the pools closed while processes of theirs may still
	// run an invocation, so that Close stops those too.
	retired map[*pool]bool
}

// NewRunner returns a Runner; it starts nothing until the first Invoke.
func NewRunner(opts Options) *Runner {
	if opts.MaxProcesses <= 0 {
		opts.MaxProcesses = DefaultMaxProcesses
	}
	if opts.InitTimeout <= 0 {
		opts.InitTimeout = DefaultInitTimeout
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{opts: opts, log: log, pools: map[string]*pool{}, stats: map[string]*Stats{}, retired: map[*pool]bool{}}
}

// Stats describes one function's processes since the Runner started.
type Stats struct {
	LogicalID string
	Runtime   string
	// Processes is the number of processes alive now.
	Processes int
	// Starts counts processes spawned; Invocations counts events handed to a
	// process, Errors those that ended with an error of any kind.
	Starts, Invocations, Errors int
	// ColdStarts holds the time from spawn to the first /next poll of the
	// last processes (most recent last): the process start and, for Node.js
	// and Python, loading the handler's module.
	ColdStarts []time.Duration
}

// Stats returns the statistics of every function invoked so far, by logical ID.
func (r *Runner) Stats() []Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Stats, 0, len(r.stats))
	for id, s := range r.stats {
		c := *s
		c.ColdStarts = append([]time.Duration(nil), s.ColdStarts...)
		if pl := r.pools[id]; pl != nil {
			c.Processes = pl.alive()
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LogicalID < out[j].LogicalID })
	return out
}

func (r *Runner) record(id string, f func(*Stats)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.stats[id]; s != nil {
		f(s)
	}
}

// Invoke sends payload (the event JSON) to fn and returns the function's
// response payload. The function's handler failing (an /error post, or
// /init/error) gives a *FunctionError. Other failures wrap ErrTimeout,
// ErrExited, ErrStart, ErrProtocol or ErrNotRunnable; the process involved
// is gone and the next call starts a new one. Timeout (fn.TimeoutMillis,
// default 3 s) bounds the invocation from the moment the process takes the
// event; ctx bounds the whole call, waiting for a free process included.
func (r *Runner) Invoke(ctx context.Context, fn *compile.Function, payload []byte) ([]byte, error) {
	if fn == nil {
		return nil, fmt.Errorf("function ?: %w: no function", ErrNotRunnable)
	}
	if len(payload) > maxPayload {
		return nil, fmt.Errorf("function %s: request payload of %d bytes is over Lambda's limit of %d", fn.LogicalID, len(payload), maxPayload)
	}
	timeout := time.Duration(fn.TimeoutMillis) * time.Millisecond
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	for attempt := 0; ; attempt++ {
		pl, err := r.poolFor(fn)
		if err != nil {
			return nil, err
		}
		if cap(pl.sem) == 0 {
			r.record(fn.LogicalID, func(s *Stats) { s.Errors++ })
			return nil, fmt.Errorf("function %s: %w: its ReservedConcurrentExecutions is 0", fn.LogicalID, ErrThrottled)
		}
		p, err := pl.acquire(ctx)
		if errors.Is(err, errPoolClosed) && attempt < 3 {
			continue // replaced by a new configuration meanwhile
		}
		if err != nil {
			r.record(fn.LogicalID, func(s *Stats) { s.Errors++ })
			return nil, err
		}
		inv := &invocation{
			id:      newRequestID(),
			traceID: newTraceID(),
			arn:     fn.Arn,
			payload: payload,
			timeout: timeout,
		}
		if p.frames == nil {
			inv.result = make(chan outcome, 1) // the Runtime API's handlers answer on it
		}
		finish := func(o outcome) {
			pl.release(p, o)
			if !o.retry {
				r.record(fn.LogicalID, func(s *Stats) {
					if o.delivered {
						s.Invocations++
					}
					if o.err != nil {
						s.Errors++
					}
				})
			}
		}
		// Run in the caller's goroutine: no hand-over per invocation.
		o := p.invoke(ctx, inv, r.opts.InitTimeout)
		if o.abandoned {
			// The invocation, which the process took, runs on to its end
			// (or its Timeout), as on Lambda; the process is then reused.
			go func() {
				o := p.await(nil, inv)
				o.delivered = true
				finish(o)
			}()
			return nil, fmt.Errorf("function %s: %w", fn.LogicalID, ctx.Err())
		}
		finish(o)
		if o.retry && attempt == 0 {
			continue
		}
		if o.err != nil && !o.delivered && ctx.Err() != nil {
			return nil, fmt.Errorf("function %s: %w", fn.LogicalID, o.err)
		}
		return o.payload, o.err
	}
}

// Stop stops the processes of the function with this logical ID; the next
// Invoke starts a new one (a cold start).
func (r *Runner) Stop(logicalID string) {
	r.mu.Lock()
	pl := r.pools[logicalID]
	delete(r.pools, logicalID)
	r.mu.Unlock()
	if pl != nil {
		pl.shutdown()
	}
}

// Retain stops the functions whose logical IDs are not in logicalIDs (the
// functions of a new plan: a reload renamed or removed the others). Their
// idle processes stop now, busy ones once their invocation ends. A later
// invocation of such a function (a message that the previous plan still
// handles) runs in a process of its own, stopped once it answered; a later
// Retain that names the function again keeps it warm again.
func (r *Runner) Retain(logicalIDs []string) {
	kept := make(map[string]bool, len(logicalIDs))
	for _, id := range logicalIDs {
		kept[id] = true
	}
	r.mu.Lock()
	r.kept = kept
	var gone []*pool
	for id, pl := range r.pools {
		if !kept[id] {
			delete(r.pools, id)
			r.retire(pl)
			gone = append(gone, pl)
		}
	}
	r.mu.Unlock()
	for _, pl := range gone {
		r.log.Info("lambda function no longer in the template: stopping", "function", pl.cfg.LogicalID)
	}
}

// retire closes pl, which left r.pools, and keeps it in r.retired while it
// has processes; it drops the retired pools that have none left. r.mu is held.
func (r *Runner) retire(pl *pool) {
	pl.retire()
	r.retired[pl] = true
	for old := range r.retired {
		if old.empty() {
			delete(r.retired, old)
		}
	}
}

// Close stops every process and waits (up to a few seconds) for them to exit.
// Invoke then fails with ErrClosed.
func (r *Runner) Close() error {
	r.mu.Lock()
	r.closed = true
	pools := make([]*pool, 0, len(r.pools)+len(r.retired))
	for _, pl := range r.pools {
		pools = append(pools, pl)
	}
	for pl := range r.retired {
		pools = append(pools, pl)
	}
	r.pools, r.retired = map[string]*pool{}, map[*pool]bool{}
	r.mu.Unlock()
	for _, pl := range pools {
		pl.shutdown()
	}
	return nil
}

func (r *Runner) poolFor(fn *compile.Function) (*pool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	if r.kept != nil && !r.kept[fn.LogicalID] {
		// Not in the latest plan: one process for this invocation only.
		pl := newPool(r, fn, configKey(fn))
		pl.oneShot = true
		r.retired[pl] = true
		return pl, nil
	}
	pl := r.pools[fn.LogicalID]
	if pl != nil && pl.fn == fn {
		return pl, nil
	}
	key := configKey(fn)
	if pl != nil && pl.key == key {
		return pl, nil
	}
	if pl != nil {
		r.log.Info("lambda function configuration changed: restarting", "function", fn.LogicalID)
		r.retire(pl)
	}
	if r.stats[fn.LogicalID] == nil {
		r.stats[fn.LogicalID] = &Stats{LogicalID: fn.LogicalID}
	}
	r.stats[fn.LogicalID].Runtime = fn.Runtime
	pl = newPool(r, fn, key)
	r.pools[fn.LogicalID] = pl
	return pl, nil
}

func newPool(r *Runner, fn *compile.Function, key string) *pool {
	cp := *fn
	return &pool{r: r, fn: fn, cfg: &cp, key: key, sem: make(chan struct{}, r.Instances(fn)), all: map[*process]bool{},
		watch: newCodeWatch(fn.CodeDir)}
}

// Instances is the most processes fn runs at once (SPEC ): its
// ReservedConcurrentExecutions when the template sets it, else
// Options.MaxProcesses.
func (r *Runner) Instances(fn *compile.Function) int {
	if fn.ReservedConcurrency != nil {
		return *fn.ReservedConcurrency
	}
	return r.opts.MaxProcesses
}

// IdleTimeout is how long a warm process waits for an invocation before it
// is stopped; 0: never.
func (r *Runner) IdleTimeout() time.Duration { return max(r.opts.IdleTimeout, 0) }

// configKey identifies what a process was started with, but for the code on
// disk (fingerprinted separately) and the timeout (applied per invocation).
func configKey(fn *compile.Function) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%q %q %q %q %q %d\n", fn.Runtime, fn.Handler, fn.CodeDir, fn.Name, fn.Arn, fn.MemoryMB)
	if fn.ReservedConcurrency != nil {
		fmt.Fprintf(&b, "reserved %d\n", *fn.ReservedConcurrency)
	}
	for _, k := range slices.Sorted(maps.Keys(fn.Environment)) {
		fmt.Fprintf(&b, "%q=%q\n", k, fn.Environment[k])
	}
	return b.String()
}

func (r *Runner) loops() (string, error) {
	r.loopMu.Lock()
	defer r.loopMu.Unlock()
	if r.loopDir != "" {
		return r.loopDir, nil
	}
	dir, err := writeLoops(r.opts.LoopDir)
	if err != nil {
		return "", err
	}
	r.loopDir = dir
	return dir, nil
}

func (r *Runner) emit(fn *compile.Function, line string) {
	if r.opts.Output != nil {
		r.outMu.Lock()
		io.WriteString(r.opts.Output, "["+functionName(fn)+"] "+line+"\n")
		r.outMu.Unlock()
		return
	}
	r.log.Info("function output", "function", functionName(fn), "line", line)
}

var errPoolClosed = errors.New("pool closed")

// pool holds the processes of one function configuration.
type pool struct {
	r   *Runner
	fn  *compile.Function // as passed to Invoke (identity check only)
	cfg *compile.Function // copy the processes start from
	key string
	sem chan struct{} // one token per process in use
	// oneShot: a pool of a function Retain dropped, whose processes stop
	// after their invocation.
	oneShot bool

	// watch notices changes of the code directory (SPEC: watched,
	// not walked per invocation).
	watch codeWatch

	mu     sync.Mutex
	idle   []*process // most recently used last
	all    map[*process]bool
	code   uint64 // latest code generation seen
	closed bool
}

// acquire returns a process for one invocation: an idle one whose code is
// current, else a new one. It waits while MaxProcesses are busy.
func (pl *pool) acquire(ctx context.Context) (*process, error) {
	select {
	case pl.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("function %s: waiting for a free process: %w", pl.cfg.LogicalID, ctx.Err())
	}
	code := pl.watch.generation()
	pl.mu.Lock()
	if pl.closed {
		pl.mu.Unlock()
		<-pl.sem
		return nil, errPoolClosed
	}
	if code != pl.code && pl.code != 0 {
		pl.r.log.Info("lambda function code changed: restarting", "function", pl.cfg.LogicalID)
	}
	pl.code = code
	for len(pl.idle) > 0 {
		p := pl.idle[len(pl.idle)-1]
		pl.idle = pl.idle[:len(pl.idle)-1]
		if p.idleTimer != nil {
			p.idleTimer.Stop()
		}
		if p.code != code || p.exited() {
			delete(pl.all, p)
			p.kill()
			continue
		}
		pl.mu.Unlock()
		return p, nil
	}
	pl.mu.Unlock()

	p, err := pl.spawn(code)
	if err != nil {
		if pl.oneShot {
			pl.mu.Lock()
			pl.closed = true
			pl.mu.Unlock()
		}
		<-pl.sem
		return nil, err
	}
	pl.mu.Lock()
	if pl.closed {
		pl.mu.Unlock()
		p.kill()
		<-pl.sem
		return nil, errPoolClosed
	}
	pl.all[p] = true
	pl.mu.Unlock()
	return p, nil
}

func (pl *pool) spawn(code uint64) (*process, error) {
	// Checked when a process starts, not per invocation (SPEC ): a
	// bootstrap built later lets a later cold start succeed.
	if ok, why := CanRun(pl.cfg); !ok {
		return nil, fmt.Errorf("function %s: %w: %s", pl.cfg.LogicalID, ErrNotRunnable, why)
	}
	loopDir := ""
	if k := kindOf(pl.cfg.Runtime); k == kindNode || k == kindPython {
		d, err := pl.r.loops()
		if err != nil {
			return nil, fmt.Errorf("function %s: %w: %v", pl.cfg.LogicalID, ErrStart, err)
		}
		loopDir = d
	}
	id := pl.cfg.LogicalID
	p, err := start(spawnSpec{
		fn:        pl.cfg,
		code:      code,
		env:       pl.r.opts.Env,
		loopDir:   loopDir,
		httpLoops: pl.r.opts.httpLoops,
		log:       pl.r.log,
		emit:      pl.r.emit,
		ready: func(p *process) {
			pl.r.log.Info("lambda process ready", "function", id, "pid", p.cmd.Process.Pid,
				"cold_start_ms", float64(p.coldStart.Microseconds())/1000)
			pl.r.record(id, func(s *Stats) {
				if len(s.ColdStarts) == keptColdStarts {
					s.ColdStarts = append(s.ColdStarts[:0], s.ColdStarts[1:]...)
				}
				s.ColdStarts = append(s.ColdStarts, p.coldStart)
			})
		},
	})
	if err != nil {
		return nil, err
	}
	pl.r.record(id, func(s *Stats) { s.Starts++ })
	return p, nil
}

// release takes a process back after an invocation: kept warm when healthy and
// current, else stopped.
func (pl *pool) release(p *process, o outcome) {
	pl.mu.Lock()
	if o.healthy && !pl.closed && !pl.oneShot && p.code == pl.code && !p.exited() && !p.killed.Load() {
		pl.idle = append(pl.idle, p)
		if d := pl.r.IdleTimeout(); d > 0 {
			p.idleSince = time.Now()
			if p.idleTimer == nil {
				p.idleTimer = time.AfterFunc(d, func() { pl.reap(p) })
			} else {
				p.idleTimer.Reset(d)
			}
		}
	} else {
		delete(pl.all, p)
		p.kill()
	}
	if pl.oneShot {
		pl.closed = true // it served its one invocation
		pl.watch.close()
	}
	pl.mu.Unlock()
	<-pl.sem
}

// reap stops p when it is still idle and has been for IdleTimeout (a timer
// that fired as the process was taken finds it busy, or idle anew).
func (pl *pool) reap(p *process) {
	d := pl.r.IdleTimeout()
	pl.mu.Lock()
	i := slices.Index(pl.idle, p)
	if i < 0 || time.Since(p.idleSince) < d {
		pl.mu.Unlock()
		return
	}
	pl.idle = slices.Delete(pl.idle, i, i+1)
	delete(pl.all, p)
	pl.mu.Unlock()
	pl.r.log.Info("lambda process idle: stopping", "function", pl.cfg.LogicalID, "pid", p.cmd.Process.Pid, "idle", d.String())
	p.kill()
}

// alive counts the processes that have not exited.
func (pl *pool) alive() int {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	n := 0
	for p := range pl.all {
		if !p.exited() {
			n++
		}
	}
	return n
}

// empty reports whether the pool is closed and has no process left.
func (pl *pool) empty() bool {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return pl.closed && len(pl.all) == 0
}

// retire closes the pool after a configuration change or Retain: idle
// processes stop now, busy ones after their invocation.
func (pl *pool) retire() {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	pl.closed = true
	pl.watch.close()
	for _, p := range pl.idle {
		delete(pl.all, p)
		p.kill()
	}
	pl.idle = nil
}

// shutdown kills every process of the pool, busy or not, and waits for them.
func (pl *pool) shutdown() {
	pl.mu.Lock()
	pl.closed = true
	pl.watch.close()
	procs := make([]*process, 0, len(pl.all))
	for p := range pl.all {
		procs = append(procs, p)
	}
	pl.idle = nil
	pl.mu.Unlock()
	deadline := time.After(5 * time.Second)
	for _, p := range procs {
		p.kill()
	}
	for _, p := range procs {
		select {
		case <-p.done:
		case <-deadline:
			return
		}
	}
}

// newRequestID returns a random UUID (version 4), the form of Lambda's
// request IDs. They need to be unique, not secret: math/rand/v2's generator
// costs no system call per invocation.
func newRequestID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], mrand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], mrand.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// newTraceID returns an X-Ray trace header, unsampled:
// Root=1-<epoch seconds, 8 hex>-<24 hex>;Parent=<16 hex>;Sampled=0.
func newTraceID() string {
	var r [20]byte
	binary.LittleEndian.PutUint64(r[0:], mrand.Uint64())
	binary.LittleEndian.PutUint64(r[8:], mrand.Uint64())
	binary.LittleEndian.PutUint32(r[16:], mrand.Uint32())
	b := make([]byte, 0, 80)
	b = append(b, "Root=1-"...)
	var t [4]byte
	binary.BigEndian.PutUint32(t[:], uint32(time.Now().Unix()))
	b = hex.AppendEncode(b, t[:])
	b = append(b, '-')
	b = hex.AppendEncode(b, r[:12])
	b = append(b, ";Parent="...)
	b = hex.AppendEncode(b, r[12:])
	b = append(b, ";Sampled=0"...)
	return string(b)
}
