package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// -mode idle holds more idle connections than one process may: a cluster
// of -nodes `wsgw serve --cluster` processes of load.yaml on one NATS
// server (nats-server, started here), each node's connections dialed by a
// client process of its own (this executable as child "clients", which is
// also that node's backend). It reports each node's resident set and live
// heap before and after the connections opened, their sums per connection,
// the NATS server's resident set, the resident sets every second while the
// connections are held, and, after the hold, whether sample connections
// still work: an echo message (a route response) and a post message that
// the backend posts back through another node's @connections API.

// maxProcConns bounds the connections of one node and of one client
// process: under the 20,000 open files a process may have on the machine
// this was measured on (ulimit -Hn), with room for its other files.
const maxProcConns = 19000

// maxIdleNodes bounds -nodes.
const maxIdleNodes = 16

// splitConns divides total connections over parts as evenly as possible,
// the first ones taking one more when it does not divide.
func splitConns(total, parts int) []int {
	out := make([]int, parts)
	for i := range out {
		out[i] = total / parts
		if i < total%parts {
			out[i]++
		}
	}
	return out
}

// gcTrace is a line the Go runtime prints on stderr after each collection
// under GODEBUG=gctrace=1:
// "gc 12 @3.456s 1%: ... ms cpu, 40->41->20 MB, 42 MB goal, 1 MB stacks, 0 MB globals, 2 P".
type gcTrace struct {
	N        int     `json:"gc"`
	AtS      float64 `json:"at_s"`      // since the process started
	LiveMB   int64   `json:"live_mb"`   // the heap marked live
	GoalMB   int64   `json:"goal_mb"`   // the heap size that starts the next collection
	StacksMB int64   `json:"stacks_mb"` // the goroutine stacks scanned
}

var gcTraceLine = regexp.MustCompile(`^gc (\d+) @([0-9.]+)s .* (\d+)->(\d+)->(\d+) MB, (\d+) MB goal, (\d+) MB stacks`)

// lastGC returns the last well-formed gctrace line of log (a process's
// stderr, where log lines written at the same time may cut one).
func lastGC(log []byte) (gcTrace, bool) {
	for end := len(log); end > 0; {
		start := bytes.LastIndexByte(log[:end], '\n') + 1
		line := bytes.TrimRight(log[start:end], "\r")
		if m := gcTraceLine.FindSubmatch(line); m != nil {
			var t gcTrace
			t.N, _ = strconv.Atoi(string(m[1]))
			t.AtS, _ = strconv.ParseFloat(string(m[2]), 64)
			t.LiveMB, _ = strconv.ParseInt(string(m[5]), 10, 64)
			t.GoalMB, _ = strconv.ParseInt(string(m[6]), 10, 64)
			t.StacksMB, _ = strconv.ParseInt(string(m[7]), 10, 64)
			return t, true
		}
		end = start - 1
	}
	return gcTrace{}, false
}

// nodeMemory is one reading of a node: its resident set and the last
// collection it traced (nil: none yet).
type nodeMemory struct {
	RSSKB int64    `json:"rss_kb"`
	GC    *gcTrace `json:"last_gc,omitempty"`
}

type idleNode struct {
	Name      string `json:"name"`
	URL       string `json:"url"`
	PID       int    `json:"pid"`
	Requested int    `json:"requested"`
	Opened    int    `json:"opened"`
	// Before the connections open, once they are, and after the hold.
	Before nodeMemory `json:"before"`
	Open   nodeMemory `json:"open"`
	Held   nodeMemory `json:"held"`
	// HoldMinKB and HoldMaxKB: the resident set read every second during
	// the hold.
	HoldMinKB int64 `json:"hold_min_rss_kb"`
	HoldMaxKB int64 `json:"hold_max_rss_kb"`
	// GCInHold: a collection ran after every connection had opened, so
	// Held.GC's live heap holds them all.
	GCInHold bool `json:"gc_in_hold"`
}

// idleTotal sums the nodes.
type idleTotal struct {
	Opened int `json:"opened"`
	// The resident sets, summed.
	BeforeKB int64 `json:"rss_before_kb"`
	OpenKB   int64 `json:"rss_open_kb"`
	HeldKB   int64 `json:"rss_held_kb"`
	// The least and most of the sums read each second of the hold.
	HoldMinKB int64 `json:"hold_min_rss_kb"`
	HoldMaxKB int64 `json:"hold_max_rss_kb"`
	// RSSPerConnBytes is (Open - Before) / Opened; HeldPerConnBytes the
	// same after the hold.
	RSSPerConnBytes  int64 `json:"rss_per_conn_bytes"`
	HeldPerConnBytes int64 `json:"held_rss_per_conn_bytes"`
	// HeapPerConnBytes is the live heap after the hold minus before, over
	// the connections, counting only the nodes with a collection during
	// the hold (HeapNodes of them); 0 when none had.
	HeapPerConnBytes int64 `json:"heap_per_conn_bytes,omitempty"`
	HeapNodes        int   `json:"heap_nodes"`
}

// totalOf sums the nodes' memory; holdSums are the sums of the nodes'
// resident sets read at each second of the hold.
func totalOf(nodes []idleNode, holdSums []int64) idleTotal {
	var t idleTotal
	var heapConns int
	var heapDeltaMB int64
	for _, n := range nodes {
		t.Opened += n.Opened
		t.BeforeKB += n.Before.RSSKB
		t.OpenKB += n.Open.RSSKB
		t.HeldKB += n.Held.RSSKB
		if n.GCInHold && n.Held.GC != nil {
			var before int64
			if n.Before.GC != nil {
				before = n.Before.GC.LiveMB
			}
			heapDeltaMB += n.Held.GC.LiveMB - before
			heapConns += n.Opened
			t.HeapNodes++
		}
	}
	for i, s := range holdSums {
		if i == 0 || s < t.HoldMinKB {
			t.HoldMinKB = s
		}
		t.HoldMaxKB = max(t.HoldMaxKB, s)
	}
	if t.Opened > 0 {
		t.RSSPerConnBytes = (t.OpenKB - t.BeforeKB) * 1024 / int64(t.Opened)
		t.HeldPerConnBytes = (t.HeldKB - t.BeforeKB) * 1024 / int64(t.Opened)
	}
	if heapConns > 0 {
		t.HeapPerConnBytes = heapDeltaMB << 20 / int64(heapConns)
	}
	return t
}

// kernelCounters are machine-wide counters of the Linux kernel that tell
// whether the machine, not the gateway, dropped connections.
type kernelCounters struct {
	// BacklogDrops: packets dropped because a CPU's input backlog (which
	// every loopback packet crosses) was full; the second column of
	// /proc/net/softnet_stat, summed over the CPUs.
	BacklogDrops int64 `json:"backlog_drops"`
	// AbortOnTimeout: TCP connections the kernel aborted after their
	// retransmissions or keep-alive probes went unanswered (TcpExt
	// TCPAbortOnTimeout of /proc/net/netstat).
	AbortOnTimeout int64 `json:"tcp_abort_on_timeout"`
}

func (k kernelCounters) sub(o kernelCounters) kernelCounters {
	return kernelCounters{k.BacklogDrops - o.BacklogDrops, k.AbortOnTimeout - o.AbortOnTimeout}
}

func readKernelCounters() kernelCounters {
	var k kernelCounters
	if b, err := os.ReadFile("/proc/net/softnet_stat"); err == nil {
		k.BacklogDrops = softnetDrops(b)
	}
	if b, err := os.ReadFile("/proc/net/netstat"); err == nil {
		k.AbortOnTimeout, _ = netstatValue(b, "TcpExt", "TCPAbortOnTimeout")
	}
	return k
}

// softnetDrops sums the second column (hexadecimal) of softnet_stat.
func softnetDrops(b []byte) int64 {
	var n int64
	for _, line := range bytes.Split(b, []byte("\n")) {
		f := bytes.Fields(line)
		if len(f) < 2 {
			continue
		}
		if v, err := strconv.ParseInt(string(f[1]), 16, 64); err == nil {
			n += v
		}
	}
	return n
}

// netstatValue reads counter name of group in /proc/net/netstat, whose
// groups come as two lines: the names, then the values.
func netstatValue(b []byte, group, name string) (int64, bool) {
	lines := bytes.Split(b, []byte("\n"))
	prefix := []byte(group + ":")
	for i := 0; i+1 < len(lines); i++ {
		if !bytes.HasPrefix(lines[i], prefix) || !bytes.HasPrefix(lines[i+1], prefix) {
			continue
		}
		names, values := bytes.Fields(lines[i]), bytes.Fields(lines[i+1])
		for j, n := range names {
			if string(n) == name && j < len(values) {
				v, err := strconv.ParseInt(string(values[j]), 10, 64)
				return v, err == nil
			}
		}
		return 0, false
	}
	return 0, false
}

type idleConfig struct {
	Conns           int      `json:"conns"`
	Nodes           int      `json:"nodes"`
	HoldS           float64  `json:"hold_s"`
	Probes          int      `json:"probes_per_node"`
	OpenRate        float64  `json:"open_rate"`
	DialConcurrency int      `json:"dial_concurrency"`
	Wsgw            string   `json:"wsgw"`
	ServeFlags      []string `json:"serve_flags"`
	NATS            string   `json:"nats_server"`
}

type idleReport struct {
	Machine     machineInfo `json:"machine"`
	Config      idleConfig  `json:"config"`
	Started     string      `json:"started"`
	LoadAverage [2]float64  `json:"load_average"`
	OpenSeconds float64     `json:"open_s"`
	Nodes       []idleNode  `json:"nodes"`
	Total       idleTotal   `json:"total"`
	// NATSKB is nats-server's resident set before, open and after the hold.
	NATSKB      [3]int64             `json:"nats_rss_kb"`
	Probe       map[string]kindStats `json:"probe"`
	ProbeP99    float64              `json:"probe_p99_ms"`
	Connects    int64                `json:"connects"`
	Disconnects int64                `json:"disconnects"`
	// Kernel is what the machine's kernel counted during the run.
	Kernel      kernelCounters `json:"kernel"`
	Errors      int64          `json:"errors"`
	FirstErrors []string       `json:"first_errors,omitempty"`
}

var (
	natsReady = regexp.MustCompile(`Listening for client connections on (127\.0\.0\.1:\d+)`)
	// A node is ready once its banner shows it joined NATS and its stage.
	idleNodeReady = regexp.MustCompile(`(?s)Cluster .*connected to .*WebSocket +(ws://127\.0\.0\.1:\d+/` + loadStage + `)`)
)

// idleProcs are the processes -mode idle started.
type idleProcs struct {
	all []*serverProcess
}

func (p *idleProcs) add(s *serverProcess) { p.all = append(p.all, s) }

// stop ends every process, the last started first, and removes their logs.
func (p *idleProcs) stop() {
	for i := len(p.all) - 1; i >= 0; i-- {
		p.all[i].stop()
	}
}

// command posts v as JSON to a client process's command path and decodes
// its answer into out.
func command(ctx context.Context, base, path string, v, out any) error {
	body, _ := json.Marshal(v)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(base, "/")+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s: %s", path, resp.Status, bytes.TrimSpace(b))
	}
	return json.Unmarshal(b, out)
}

// onEach runs f for every index at once and waits.
func onEach(n int, f func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i)
		}()
	}
	wg.Wait()
}

func readNode(s *serverProcess) nodeMemory {
	m := nodeMemory{RSSKB: rssKB(s.pid())}
	if b, err := os.ReadFile(s.log); err == nil {
		if t, ok := lastGC(b); ok {
			m.GC = &t
		}
	}
	return m
}

func runIdle(ctx context.Context, o *options, stdout, stderr io.Writer) int {
	if !hasProc(o, stderr) {
		return exitUsage
	}
	if code := findBinaries(o, false, "-mode idle", stderr); code != exitOK {
		return code
	}
	natsPath, err := exec.LookPath(o.nats)
	if err != nil {
		fmt.Fprintf(stderr, "wsgw-bench: -nats %s: %v (apt-get install nats-server)\n", o.nats, err)
		return exitUsage
	}
	rep, err := idle(ctx, o, natsPath, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "wsgw-bench: %v\n", err)
		return exitFailure
	}
	if !printReport(ctx, stdout, stderr, o.json, rep, func(w io.Writer) error { return writeIdleTable(w, rep) }) {
		return exitFailure
	}
	code := exitOK
	if rep.Errors > 0 || rep.Total.Opened != o.conns || rep.Connects != int64(o.conns) || rep.Disconnects != rep.Connects {
		fmt.Fprintf(stderr, "wsgw-bench: %d errors; %d of %d connections opened, %d $connect, %d $disconnect\n",
			rep.Errors, rep.Total.Opened, o.conns, rep.Connects, rep.Disconnects)
		code = exitFailure
	}
	for _, k := range kindNames {
		s := rep.Probe[k]
		if s.Sent == 0 || s.Received != s.Sent {
			fmt.Fprintf(stderr, "wsgw-bench: probe %s: %d sent, %d came back\n", k, s.Sent, s.Received)
			code = exitFailure
		}
	}
	return code
}

// idle runs -mode idle (see the top of this file).
func idle(ctx context.Context, o *options, natsPath string, stderr io.Writer) (*idleReport, error) {
	var serveFlags []string
	if o.serveFlags != "" {
		serveFlags = strings.Fields(o.serveFlags)
	}
	rep := &idleReport{Machine: thisMachine(), Started: time.Now().UTC().Format(time.RFC3339),
		Config: idleConfig{Conns: o.conns, Nodes: o.nodes, HoldS: o.duration.Seconds(), Probes: o.probes,
			DialConcurrency: o.dialConcurrency, OpenRate: o.openRate, Wsgw: o.wsgw, ServeFlags: serveFlags, NATS: natsPath}}
	rep.LoadAverage[0] = loadAverage()
	kernelBefore := readKernelCounters()
	dir, err := os.MkdirTemp("", "wsgw-bench-idle-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	tmpl := filepath.Join(dir, "load.yaml")
	if err := os.WriteFile(tmpl, loadTemplate, 0o644); err != nil {
		return nil, err
	}
	var procs idleProcs
	defer procs.stop()
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, "wsgw-bench: "+format+"\n", args...) }

	nats, err := startServer(ctx, "nats-server", exec.CommandContext(ctx, natsPath, "-a", "127.0.0.1", "-p", "-1"), natsReady, 30*time.Second)
	if err != nil {
		return nil, err
	}
	procs.add(nats)
	natsURL := "nats://" + nats.url
	logf("nats-server at %s (pid %d)", natsURL, nats.pid())

	per := splitConns(o.conns, o.nodes)
	clients := make([]*serverProcess, o.nodes)
	nodes := make([]*serverProcess, o.nodes)
	rep.Nodes = make([]idleNode, o.nodes)
	for i := range o.nodes {
		c, err := startChild(ctx, "clients")
		if err != nil {
			return nil, err
		}
		procs.add(c)
		clients[i] = c
		name := "n" + strconv.Itoa(i+1)
		args := append([]string{"serve", "--addr", "127.0.0.1:0", "--no-watch", "--no-throttle", "--cluster", natsURL,
			"--node", name, "--param", "BackendUrl=" + c.url}, serveFlags...)
		cmd := exec.CommandContext(ctx, o.wsgw, append(args, tmpl)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GODEBUG=gctrace=1")
		n, err := startServer(ctx, name, cmd, idleNodeReady, 60*time.Second)
		if err != nil {
			return nil, err
		}
		procs.add(n)
		nodes[i] = n
		rep.Nodes[i] = idleNode{Name: name, URL: n.url, PID: n.pid(), Requested: per[i]}
		logf("node %s at %s (pid %d), its clients and backend at %s (pid %d)", name, n.url, n.pid(), c.url, c.pid())
	}
	// Let the nodes finish starting (their first collections) before reading.
	time.Sleep(time.Second)
	for i, n := range nodes {
		rep.Nodes[i].Before = readNode(n)
	}
	natsKB := [3]int64{rssKB(nats.pid())}

	var errsMu sync.Mutex
	addErrs := func(who string, n int64, first []string, err error) {
		errsMu.Lock()
		defer errsMu.Unlock()
		if err != nil {
			n, first = 1, []string{err.Error()}
		}
		rep.Errors += n
		for _, e := range first {
			if len(rep.FirstErrors) < keepErrors {
				rep.FirstErrors = append(rep.FirstErrors, who+": "+e)
			}
		}
	}

	logf("opening %d connections", o.conns)
	start := time.Now()
	onEach(o.nodes, func(i int) {
		var ans clientOpenAnswer
		err := command(ctx, clients[i].url, "/bench/open", clientOpenRequest{URL: nodes[i].url, Conns: per[i],
			DialConcurrency: o.dialConcurrency, TimeoutMS: o.timeout.Milliseconds(), OpenRate: o.openRate / float64(o.nodes)}, &ans)
		rep.Nodes[i].Opened = ans.Opened
		addErrs(rep.Nodes[i].Name+" open", ans.Errors, ans.FirstErrors, err)
	})
	rep.OpenSeconds = round3(time.Since(start).Seconds())
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	time.Sleep(200 * time.Millisecond) // let the last handshakes' goroutines end
	for i, n := range nodes {
		rep.Nodes[i].Open = readNode(n)
	}
	natsKB[1] = rssKB(nats.pid())
	logf("%d connections open after %.1f s; holding them %s", totalOf(rep.Nodes, nil).Opened, rep.OpenSeconds, o.duration)

	var holdSums []int64
	tick := time.NewTicker(time.Second)
	end := time.Now().Add(o.duration)
	for time.Now().Before(end) && ctx.Err() == nil {
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
		var sum int64
		for i, n := range nodes {
			kb := rssKB(n.pid())
			nd := &rep.Nodes[i]
			if nd.HoldMinKB == 0 || kb < nd.HoldMinKB {
				nd.HoldMinKB = kb
			}
			nd.HoldMaxKB = max(nd.HoldMaxKB, kb)
			sum += kb
		}
		holdSums = append(holdSums, sum)
	}
	tick.Stop()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	for i, n := range nodes {
		nd := &rep.Nodes[i]
		nd.Held = readNode(n)
		// A collection that started after the connections opened counts
		// them all (a collection's N only grows).
		nd.GCInHold = nd.Held.GC != nil && (nd.Open.GC == nil || nd.Held.GC.N > nd.Open.GC.N)
	}
	natsKB[2] = rssKB(nats.pid())
	rep.NATSKB = natsKB
	rep.Total = totalOf(rep.Nodes, holdSums)

	logf("probing %d connections per node", o.probes)
	rep.Probe = map[string]kindStats{}
	onEach(o.nodes, func(i int) {
		via, _ := connectionsURLOf(nodes[(i+1)%o.nodes].url)
		var ans clientProbeAnswer
		err := command(ctx, clients[i].url, "/bench/probe", clientProbeRequest{Conns: o.probes, PostVia: strings.TrimSuffix(via, "/")}, &ans)
		errsMu.Lock()
		for k, s := range ans.Streams {
			t := rep.Probe[k]
			t.add(s)
			rep.Probe[k] = t
		}
		if ans.Latency != nil {
			rep.ProbeP99 = max(rep.ProbeP99, ans.Latency.P99)
		}
		errsMu.Unlock()
		addErrs(rep.Nodes[i].Name+" probe", ans.Errors+ans.PostErrors, ans.FirstErrors, err)
	})

	logf("closing")
	onEach(o.nodes, func(i int) {
		var ans clientCloseAnswer
		err := command(ctx, clients[i].url, "/bench/close", struct{}{}, &ans)
		errsMu.Lock()
		rep.Connects += ans.Connects
		rep.Disconnects += ans.Disconnects
		errsMu.Unlock()
		addErrs(rep.Nodes[i].Name+" close", ans.Errors, ans.FirstErrors, err)
	})
	rep.LoadAverage[1] = loadAverage()
	rep.Kernel = readKernelCounters().sub(kernelBefore)
	return rep, nil
}

func gcText(t *gcTrace) string {
	if t == nil {
		return "-"
	}
	return fmt.Sprintf("%d MB (gc %d @%.0fs)", t.LiveMB, t.N, t.AtS)
}

// writeIdleTable prints the -mode idle report for people.
func writeIdleTable(w io.Writer, rep *idleReport) error {
	c, t := rep.Config, rep.Total
	flags := strings.Join(c.ServeFlags, " ")
	if flags == "" {
		flags = "(no extra flags)"
	}
	fmt.Fprintf(w, "wsgw-bench -mode idle, %s: %d connections over %d nodes of wsgw serve --cluster %s, one nats-server, %d CPUs, load average %.2f before, %.2f after\n",
		rep.Started, c.Conns, c.Nodes, flags, rep.Machine.CPUs, rep.LoadAverage[0], rep.LoadAverage[1])
	fmt.Fprintf(w, "opened %d in %.1f s; held %s; the backends saw %d $connect, %d $disconnect\n\n",
		t.Opened, rep.OpenSeconds, secs(c.HoldS), rep.Connects, rep.Disconnects)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "node\tpid\tconns\trss before\topen\tafter the hold\tin the hold\tper conn (open)\tlive heap before\tafter the hold\tstacks\tper conn\t")
	for _, n := range rep.Nodes {
		per, heapPer := "-", "-"
		if n.Opened > 0 {
			per = bytesText((n.Open.RSSKB - n.Before.RSSKB) * 1024 / int64(n.Opened))
			if n.GCInHold {
				heapPer = bytesText(totalOf([]idleNode{n}, nil).HeapPerConnBytes)
			}
		}
		stacks := "-"
		if n.Held.GC != nil {
			stacks = fmt.Sprintf("%d MB", n.Held.GC.StacksMB)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s–%s\t%s\t%s\t%s\t%s\t%s\t\n", n.Name, n.PID, n.Opened, kb(n.Before.RSSKB), kb(n.Open.RSSKB),
			kb(n.Held.RSSKB), kb(n.HoldMinKB), kb(n.HoldMaxKB), per, gcText(n.Before.GC), gcText(n.Held.GC), stacks, heapPer)
	}
	heapPer := "-"
	if t.HeapNodes > 0 {
		heapPer = bytesText(t.HeapPerConnBytes)
	}
	fmt.Fprintf(tw, "total\t\t%d\t%s\t%s\t%s\t%s–%s\t%s\t\t\t\t%s\t\n", t.Opened, kb(t.BeforeKB), kb(t.OpenKB), kb(t.HeldKB),
		kb(t.HoldMinKB), kb(t.HoldMaxKB), bytesText(t.RSSPerConnBytes), heapPer)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "(live heap: marked live by the node's last collection, GODEBUG=gctrace=1, whole MB; per conn only where one ran during the hold)")
	fmt.Fprintf(w, "\nrss per connection, all nodes: %s once open, %s after the hold", bytesText(t.RSSPerConnBytes), bytesText(t.HeldPerConnBytes))
	if t.HeapNodes > 0 {
		fmt.Fprintf(w, "; live heap per connection %s (the %d nodes that collected during the hold)", bytesText(t.HeapPerConnBytes), t.HeapNodes)
	}
	fmt.Fprintf(w, "\nnats-server rss: before %s, open %s, after the hold %s\n", kb(rep.NATSKB[0]), kb(rep.NATSKB[1]), kb(rep.NATSKB[2]))
	fmt.Fprintf(w, "probe after the hold, %d connections per node: ", c.Probes)
	for k, name := range kindNames {
		s := rep.Probe[name]
		how := [numKinds]string{"echo (route response)", "post (through the next node's @connections)"}[k]
		if k > 0 {
			fmt.Fprint(w, ", ")
		}
		fmt.Fprintf(w, "%s %d of %d came back", how, s.Received, s.Sent)
	}
	fmt.Fprintf(w, "; p99 %s\n", msText(rep.ProbeP99))
	fmt.Fprintf(w, "the kernel (whole machine) during the run: %d packets dropped at a full input backlog, %d TCP connections aborted on timeout\n",
		rep.Kernel.BacklogDrops, rep.Kernel.AbortOnTimeout)
	fmt.Fprintf(w, "errors %d\n", rep.Errors)
	for _, e := range rep.FirstErrors {
		fmt.Fprintf(w, "  %s\n", e)
	}
	return nil
}
