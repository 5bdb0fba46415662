package runtime

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sync/atomic"
	"time"

	"github.com/wsgw/wsgw/compile"
)

// DefaultDebounce is how long a Reloader waits after the last change to the
// template before it reloads. Editors save in steps (truncate then write;
// write a temporary file then rename it over the template; rename the
// template to a backup then write a new one), and a burst of saves gives one
// reload of the last content.
const DefaultDebounce = 100 * time.Millisecond

// rewatchEvery is how often a Reloader that lost the watch on the template's
// directory (removed or renamed) tries to watch it again.
const rewatchEvery = 200 * time.Millisecond

// errNoApi refuses a new plan without any Api: a gateway that serves
// nothing is never what an edit meant, and serve refuses it at start too.
var errNoApi = errors.New("nothing to serve: the template defines no AWS::ApiGatewayV2::Api with ProtocolType WEBSOCKET")

// BuildFunc turns the template's contents into a plan, with the options the
// gateway started with. It is how the command hands the template stage to
// the runtime, which never reads templates (esbuild-style: the later stage
// passed in as a value). A nil plan means the template has errors: the
// gateway keeps its plan, and err describes them. With a plan, a non-nil err
// describes warnings.
type BuildFunc func(src []byte) (plan *compile.Plan, err error)

// ReloadOptions configures a Reloader.
type ReloadOptions struct {
	// File is the template, as given on the command line.
	File string
	// Initial holds the bytes the gateway's plan was built from: until the
	// file holds other bytes, nothing is reloaded.
	Initial []byte
	// Build compiles the file's contents.
	Build BuildFunc
	// Watch makes Run watch File's directory; without it only Reload reloads.
	Watch bool
	// Debounce is the quiet time after a change before reloading
	// (DefaultDebounce when 0).
	Debounce time.Duration
	// Report, when set, is called on Run's goroutine after every reload that
	// read new bytes or failed to read, and after every Reload call.
	Report func(Reload)

	// debounce, when set, replaces the debounce timer (tests fire it when
	// they choose: STYLE, time is injected).
	debounce debounceTimer
}

// debounceTimer is Run's quiet-time timer: every change Resets it, and its
// channel fires once the quiet time has passed without another.
type debounceTimer interface {
	Reset(d time.Duration)
	Stop()
	C() <-chan time.Time
}

// realDebounce is the debounceTimer of time.Timer.
type realDebounce struct{ t *time.Timer }

func newRealDebounce() realDebounce {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return realDebounce{t}
}

func (d realDebounce) Reset(after time.Duration) { d.t.Reset(after) }
func (d realDebounce) Stop()                     { d.t.Stop() }
func (d realDebounce) C() <-chan time.Time       { return d.t.C }

// Reload reports one reload.
type Reload struct {
	// File is ReloadOptions.File.
	File string
	// Requested is set for a reload Reload asked for (serve: SIGHUP) rather
	// than a change of the file.
	Requested bool
	// Took is the time to read, build and swap.
	Took time.Duration
	// Err, when set, says why the plan was kept: the file could not be read,
	// the template has errors (the BuildFunc's error), or it has no Api.
	Err error
	// Unchanged is set when a requested reload found the bytes already built
	// (or already refused); nothing was built.
	Unchanged bool

	// The fields below are set when the new plan was swapped in.

	// Warnings is the BuildFunc's error that came with a plan.
	Warnings error
	// Changes is compile.Diff of the old and the new plan.
	Changes []compile.Change
	// Recovered is set when the reload before this one failed.
	Recovered bool
	// Closed counts connections closed with 1001: their Api or stage is gone.
	Closed int
	// Served lists the stages served now that were not before (stages and
	// Apis the plan added).
	Served []Endpoint
	// ListenErr reports added Apis that found no port (SwapResult.Err).
	ListenErr error
}

// Reloader rebuilds the gateway's plan from the template and swaps it in
// (SPEC §9): when the file changes (with ReloadOptions.Watch) and when asked
// (Reload). It watches the file's directory, not the file, and picks the
// file's events by name, so that saves that replace the file (rename over
// it, or remove and recreate it) are seen as well as saves that truncate
// and write it; if the directory itself goes away, it watches it again once
// it is back. A burst of events gives one reload, after ReloadOptions.Debounce
// without events. Bytes identical to the last ones built are not built again
// (a debug line says so). A template with errors leaves the plan serving and
// never stops the Reloader. Builds run on Run's goroutine, one at a time,
// while the gateway goes on serving the plan it has.
type Reloader struct {
	g    *Gateway
	o    ReloadOptions
	path string // File, absolute and clean: the name events are matched on
	dir  string
	req  chan struct{}

	// watch is Run's directory watch, once it has one (tests read its
	// Delivered count).
	watch atomic.Pointer[dirWatch]

	// Owned by Run's goroutine.
	last   [sha256.Size]byte // of the bytes last built or refused; zero after a read error
	failed bool              // the last reload did not swap
}

// NewReloader returns a Reloader for g; Run makes it work.
func NewReloader(g *Gateway, o ReloadOptions) (*Reloader, error) {
	if o.Build == nil {
		return nil, errors.New("reloader: no build function")
	}
	path, err := filepath.Abs(o.File)
	if err != nil {
		return nil, err
	}
	if o.Debounce <= 0 {
		o.Debounce = DefaultDebounce
	}
	return &Reloader{g: g, o: o, path: path, dir: filepath.Dir(path), req: make(chan struct{}, 1),
		last: sha256.Sum256(o.Initial)}, nil
}

// Reload asks Run to reload now, without waiting for a change: serve calls it
// on SIGHUP. It does not wait; requests made while one is pending are one.
func (r *Reloader) Reload() {
	select {
	case r.req <- struct{}{}:
	default:
	}
}

// Run watches and reloads until ctx ends. Problems with the watch itself
// (the directory cannot be watched, the system's event queue overflowed)
// are logged as warnings to the gateway's log; Run goes on, retrying the
// watch, and Reload keeps working.
func (r *Reloader) Run(ctx context.Context) {
	log := r.g.log
	var (
		dw       dirWatch
		changes  <-chan struct{}
		lost     <-chan struct{}
		errs     <-chan error
		rewatch  *time.Ticker
		rewatchC <-chan time.Time
	)
	debounce := r.o.debounce
	if debounce == nil {
		debounce = newRealDebounce()
	}
	defer debounce.Stop()
	startRewatch := func() {
		if rewatch == nil {
			rewatch = time.NewTicker(rewatchEvery)
			rewatchC = rewatch.C
		}
	}
	defer func() {
		if rewatch != nil {
			rewatch.Stop()
		}
	}()
	if r.o.Watch {
		w, err := newDirWatch(r.path)
		if err != nil {
			log.Warn("cannot watch the template; it reloads only when asked (serve: SIGHUP)", "file", r.o.File, "error", err)
		} else {
			dw = w
			r.watch.Store(&dw)
			defer dw.Close()
			changes, lost, errs = dw.Changes(), dw.Lost(), dw.Errors()
			if err := dw.Watch(); err != nil {
				log.Warn("cannot watch the template's directory yet; retrying", "dir", r.dir, "error", err)
				startRewatch()
			} else {
				// A save between the first read and the watch is seen too.
				debounce.Reset(r.o.Debounce)
			}
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-changes:
			debounce.Reset(r.o.Debounce)
		case <-lost:
			// Watch the path again once a directory is back there.
			log.Warn("the template's directory was removed or renamed; watching for it to come back", "dir", r.dir)
			startRewatch()
		case err := <-errs:
			// An overflow lost events, perhaps the template's: look anyway.
			log.Warn("watching the template", "file", r.o.File, "error", err)
			debounce.Reset(r.o.Debounce)
			if !dw.Watching() {
				startRewatch()
			}
		case <-rewatchC:
			if err := dw.Watch(); err == nil {
				rewatch.Stop()
				rewatch, rewatchC = nil, nil
				log.Info("watching the template's directory again", "dir", r.dir)
				debounce.Reset(r.o.Debounce)
			}
		case <-debounce.C():
			r.reload(false)
		case <-r.req:
			debounce.Stop()
			r.reload(true)
		}
	}
}

// reload reads the file and, when its bytes are new, builds and swaps.
func (r *Reloader) reload(requested bool) {
	start := r.g.now()
	rep := Reload{File: r.o.File, Requested: requested}
	// A panic in the build (the BuildFunc is another package's code) or the
	// swap is a failed reload: the plan serving stays, and so does Run.
	defer func() {
		if p := recover(); p != nil {
			r.failed, rep.Err = true, fmt.Errorf("reloading failed: %v (a bug in wsgw: please report it with the template)", p)
			r.g.log.Error("reload panicked", "file", r.o.File, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			r.report(rep, start)
		}
	}()
	src, err := os.ReadFile(r.o.File)
	if err != nil {
		// Whatever comes back next is built, even the bytes of the plan
		// serving, so that the user sees the file is good again.
		r.last, r.failed = [sha256.Size]byte{}, true
		rep.Err = err
		r.report(rep, start)
		return
	}
	sum := sha256.Sum256(src)
	if sum == r.last {
		r.g.log.Debug("template unchanged, not reloaded", "file", r.o.File)
		if requested {
			rep.Unchanged = true
			r.report(rep, start)
		}
		return
	}
	r.last = sum
	plan, err := r.o.Build(src)
	if plan == nil {
		if err == nil {
			err = errors.New("the template has errors")
		}
		r.failed, rep.Err = true, err
		r.report(rep, start)
		return
	}
	if len(plan.Apis) == 0 {
		r.failed, rep.Err = true, errNoApi
		r.report(rep, start)
		return
	}
	rep.Warnings = err
	before := r.g.Endpoints()
	res := r.g.SwapPlan(plan)
	rep.Served = newEndpoints(before, r.g.Endpoints())
	rep.Changes = compile.Diff(res.Old, plan)
	rep.Closed, rep.ListenErr = res.Closed, res.Err
	rep.Recovered, r.failed = r.failed, false
	r.report(rep, start)
}

func (r *Reloader) report(rep Reload, start time.Time) {
	rep.Took = r.g.now().Sub(start)
	if r.o.Report != nil {
		r.o.Report(rep)
	}
}

// newEndpoints lists the endpoints of after that before lacks.
func newEndpoints(before, after []Endpoint) []Endpoint {
	var out []Endpoint
	for _, ep := range after {
		if !slices.ContainsFunc(before, func(b Endpoint) bool { return b.WebSocketURL == ep.WebSocketURL }) {
			out = append(out, ep)
		}
	}
	return out
}
