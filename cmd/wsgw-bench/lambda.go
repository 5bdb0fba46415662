package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// Pinned versions of the comparison (issue 11): serverless v3 and
// serverless-offline 13.9.0, whose --useInProcess mode runs handlers in its
// own Node.js event loop.
const (
	slsVersion        = "3.40.0"
	slsOfflineVersion = "13.9.0"
)

// lambdaTargetNames are the targets of -mode lambda, in report order.
// chat, not measured by default, is the chat example's sendmessage round
// trip (one connection only: it broadcasts to every connection).
// node-cmp and chat-cmp are the Node.js echo and the chat example served by
// the binary -wsgw-compare names (an earlier build; chat-cmp's template is
// -chat-compare), for before/after measures in one run.
var lambdaTargetNames = []string{"node", "node-cmp", "python", "go", "sls", "http", "chat", "chat-cmp"}

// isChat reports whether target t is the chat example (one connection only).
func isChat(t string) bool { return t == "chat" || t == "chat-cmp" }

// checkRoundsFlags checks the flags of -mode lambda and -mode proxy.
func checkRoundsFlags(o *options, fs *flag.FlagSet) error {
	for _, f := range []string{"gateway", "backend", "throttle", "cpuprofile"} {
		if isSet(fs, f) {
			return fmt.Errorf("-%s does not apply to -mode %s", f, o.mode)
		}
	}
	if _, err := parseConnsList(o.connsList); err != nil {
		return err
	}
	if _, err := parseTargets(o.targets); err != nil {
		return err
	}
	switch {
	case o.size < minSize || o.size > maxSize:
		return fmt.Errorf("-size %d: want %d to %d bytes", o.size, minSize, maxSize)
	case o.duration <= 0 || o.duration > maxDuration:
		return fmt.Errorf("-duration %s: want more than 0 and at most %s", o.duration, maxDuration)
	case o.warmup < 0 || o.warmup > maxWarmup:
		return fmt.Errorf("-warmup %s: want 0 to %s", o.warmup, maxWarmup)
	case o.rounds < 1 || o.rounds > 20:
		return fmt.Errorf("-rounds %d: want 1 to 20", o.rounds)
	case o.soak < 0 || o.soak > 10*time.Minute:
		return fmt.Errorf("-soak %s: want 0 to 10m", o.soak)
	case o.timeout <= 0:
		return fmt.Errorf("-timeout %s: want more than 0", o.timeout)
	}
	return nil
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// parseConnsList reads "1,32".
func parseConnsList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > maxConns {
			return nil, fmt.Errorf("-conns-list %q: want connection counts from 1 to %d, separated by commas", s, maxConns)
		}
		out = append(out, n)
	}
	return out, nil
}

// parseTargets reads "node,sls", keeping the report order.
func parseTargets(s string) ([]string, error) {
	want := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if !slices.Contains(lambdaTargetNames, f) {
			return nil, fmt.Errorf("-targets %q: %q is not one of %s", s, f, strings.Join(lambdaTargetNames, ", "))
		}
		want[f] = true
	}
	var out []string
	for _, n := range lambdaTargetNames {
		if want[n] {
			out = append(out, n)
		}
	}
	return out, nil
}

// serverProcess is one server under test (a gateway, the floor proxy, the echo
// backend), running as a process of its own.
type serverProcess struct {
	name string
	url  string
	cmd  *exec.Cmd
	log  string // the file its stdout and stderr go to
	// functionsInside: the functions run in the server's process
	// (serverless-offline in process), not in processes of their own.
	functionsInside bool
	// chat: messages go as {"action":"sendmessage","data":MESSAGE} and come
	// back as the broadcast.
	chat bool
}

func (s *serverProcess) pid() int { return s.cmd.Process.Pid }

// stop kills the server's process group, waits for it and removes its log.
func (s *serverProcess) stop() {
	defer os.Remove(s.log)
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// tail returns the last lines of the server's output.
func (s *serverProcess) tail() string {
	b, _ := os.ReadFile(s.log)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-20):], "\n")
}

// startServer runs cmd in a process group of its own, its output (log
// lines included) going to a file, as for a developer who keeps the logs:
// no reader is woken per line, for wsgw and serverless-offline alike. It
// waits until the output matches ready; the match's last group is the
// server's URL.
func startServer(ctx context.Context, name string, cmd *exec.Cmd, ready *regexp.Regexp, wait time.Duration) (*serverProcess, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	f, err := os.CreateTemp("", "wsgw-bench-"+name+"-*.log")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		os.Remove(f.Name())
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s := &serverProcess{name: name, cmd: cmd, log: f.Name()}
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		b, _ := os.ReadFile(s.log)
		if m := ready.FindSubmatch(b); m != nil {
			s.url = string(m[len(m)-1])
			return s, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	out := s.tail()
	s.stop()
	return nil, fmt.Errorf("%s did not start within %s; its last output:\n%s", name, wait, out)
}

var wsgwReady = regexp.MustCompile(`WebSocket +(ws://127\.0\.0\.1:\d+/bench)`)

// startWsgw serves the template in dir with the wsgw binary (-wsgw, or
// -wsgw-compare for a target named *-cmp: node-cmp, wsgw-cmp).
func startWsgw(ctx context.Context, o *options, name, dir string, extra ...string) (*serverProcess, error) {
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--no-watch", "--no-throttle"}, extra...)
	args = append(args, filepath.Join(dir, "template.yaml"))
	bin := o.wsgw
	if strings.HasSuffix(name, "-cmp") {
		bin = o.wsgwCompare
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	return startServer(ctx, name, cmd, wsgwReady, 60*time.Second)
}

// startProxyWsgw serves benchTemplate from dir, its integration calling
// backendURL, with -serve-flags.
func startProxyWsgw(ctx context.Context, o *options, name, dir, backendURL string) (*serverProcess, error) {
	if err := writeFiles(dir, map[string]string{"template.yaml": benchTemplate}); err != nil {
		return nil, err
	}
	return startWsgw(ctx, o, name, dir, append([]string{"--param", "BackendUrl=" + backendURL}, strings.Fields(o.serveFlags)...)...)
}

// setUpTarget writes the files of target name under dir and starts its server.
func setUpTarget(ctx context.Context, o *options, name, dir, backendURL string, stderr io.Writer) (*serverProcess, error) {
	dir = filepath.Join(dir, name)
	switch name {
	case "node", "node-cmp":
		if err := writeFiles(dir, map[string]string{"template.yaml": lambdaTemplate("nodejs20.x", "index.handler"),
			"fn/index.js": nodeEchoHandler}); err != nil {
			return nil, err
		}
		return startWsgw(ctx, o, name, dir)
	case "python":
		if err := writeFiles(dir, map[string]string{"template.yaml": lambdaTemplate("python3.12", "app.handler"),
			"fn/app.py": pythonEchoHandler}); err != nil {
			return nil, err
		}
		return startWsgw(ctx, o, name, dir)
	case "go":
		if err := writeFiles(dir, map[string]string{"template.yaml": lambdaTemplate("provided.al2023", "bootstrap"),
			"src/main.go": goEchoHandler, "src/go.mod": goEchoMod, "src/go.sum": goEchoSum}); err != nil {
			return nil, err
		}
		fmt.Fprintln(stderr, "wsgw-bench: building the Go echo function (aws-lambda-go)")
		build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", filepath.Join(dir, "fn", "bootstrap"), ".")
		build.Dir = filepath.Join(dir, "src")
		build.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
		if out, err := build.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("building the Go echo function: %v\n%s", err, out)
		}
		return startWsgw(ctx, o, name, dir)
	case "http":
		return startProxyWsgw(ctx, o, name, dir, backendURL)
	case "sls":
		return startSls(ctx, o, stderr)
	case "chat", "chat-cmp":
		tmpl, bin := o.chat, o.wsgw
		if name == "chat-cmp" {
			bin = o.wsgwCompare
			if o.chatCompare != "" {
				tmpl = o.chatCompare
			}
		}
		tmpl, err := filepath.Abs(tmpl)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(tmpl), "src", "node_modules")); err != nil {
			return nil, fmt.Errorf("%s: run npm ci in its src directory first", tmpl)
		}
		cmd := exec.CommandContext(ctx, bin, "serve", "--addr", "127.0.0.1:0", "--no-watch", "--no-throttle",
			"--param", fmt.Sprintf("ConnectionsFileName=wsgw-bench-%s-%d.json", name, os.Getpid()), tmpl)
		s, err := startServer(ctx, name, cmd, regexp.MustCompile(`WebSocket +(ws://127\.0\.0\.1:\d+/\w+)`), 60*time.Second)
		if err == nil {
			s.chat = true
		}
		return s, err
	}
	return nil, fmt.Errorf("unknown target %q", name)
}

// slsDir is where serverless and serverless-offline are installed.
func slsDir(o *options) (string, error) {
	if o.slsDir != "" {
		return filepath.Abs(o.slsDir)
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "wsgw-bench", "serverless-offline-"+slsOfflineVersion), nil
}

// slsEnv keeps serverless from reaching the network for telemetry,
// notifications, deprecation notices and its interactive setup.
var slsEnv = []string{"SLS_TELEMETRY_DISABLED=1", "SLS_TRACKING_DISABLED=1", "SLS_NOTIFICATIONS_MODE=off",
	"SLS_DEPRECATION_DISABLE=*", "SLS_INTERACTIVE_SETUP_DISABLE=1", "SLS_DEV_MODE_DISABLE=1"}

// installedVersion reads the version of the npm package name under dir.
func installedVersion(dir, name string) string {
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", name, "package.json"))
	if err != nil {
		return ""
	}
	m := regexp.MustCompile(`"version"\s*:\s*"([^"]+)"`).FindSubmatch(b)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// startSls installs the pinned serverless and serverless-offline when they
// are missing, writes the service and runs `serverless offline
// --useInProcess` on free ports of 127.0.0.1.
func startSls(ctx context.Context, o *options, stderr io.Writer) (*serverProcess, error) {
	dir, err := slsDir(o)
	if err != nil {
		return nil, err
	}
	if installedVersion(dir, "serverless") != slsVersion || installedVersion(dir, "serverless-offline") != slsOfflineVersion {
		fmt.Fprintf(stderr, "wsgw-bench: installing serverless@%s and serverless-offline@%s into %s (npm)\n", slsVersion, slsOfflineVersion, dir)
		if err := writeFiles(dir, map[string]string{"package.json": `{"name":"wsgw-bench-sls","private":true}` + "\n"}); err != nil {
			return nil, err
		}
		npm := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--save-exact",
			"serverless@"+slsVersion, "serverless-offline@"+slsOfflineVersion)
		npm.Dir = dir
		npm.Env = append(os.Environ(), slsEnv...)
		if out, err := npm.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("npm install: %v\n%s", err, out)
		}
	}
	if err := writeFiles(dir, map[string]string{"serverless.yml": slsService, "handler.js": nodeEchoHandler + slsConnect}); err != nil {
		return nil, err
	}
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "node", filepath.Join(dir, "node_modules", "serverless", "bin", "serverless.js"),
		"offline", "--useInProcess", "--host", "127.0.0.1", "--websocketPort", strconv.Itoa(ports[0]),
		"--httpPort", strconv.Itoa(ports[1]), "--lambdaPort", strconv.Itoa(ports[2]))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), slsEnv...)
	ready := regexp.MustCompile(`Offline \[websocket\] listening on (ws://\S+)`)
	s, err := startServer(ctx, "sls", cmd, ready, 90*time.Second)
	if err != nil {
		return nil, err
	}
	s.url = "ws://127.0.0.1:" + strconv.Itoa(ports[0])
	s.functionsInside = true
	return s, nil
}

// freePorts returns n ports of 127.0.0.1 free a moment ago.
func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	var out []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

// measureTarget runs one closed-loop phase against s with conns connections
// and reads the CPU time its processes used meanwhile.
func measureTarget(ctx context.Context, o *options, s *serverProcess, conns int, warmup, duration time.Duration, msgs *messages) measurement {
	var tg target = &wsTarget{url: s.url, timeout: o.timeout}
	if s.chat {
		tg = chatTarget{tg}
	}
	return measurePhase(ctx, o, s.name, tg, s.pid(), 0, conns, warmup, duration, msgs)
}

// hasProc reports whether /proc can be read (Linux), saying so when not.
func hasProc(o *options, stderr io.Writer) bool {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		fmt.Fprintf(stderr, "wsgw-bench: -mode %s reads /proc: it runs on Linux\n", o.mode)
		return false
	}
	return true
}

// findBinaries makes -wsgw, and -wsgw-compare when compare is set (for
// what, named in messages), absolute paths of executables found.
func findBinaries(o *options, compare bool, what string, stderr io.Writer) int {
	if compare {
		if o.wsgwCompare == "" {
			fmt.Fprintf(stderr, "wsgw-bench: %s needs -wsgw-compare, the wsgw binary to compare with\n", what)
			return exitUsage
		}
		p, err := exec.LookPath(o.wsgwCompare)
		if err != nil {
			fmt.Fprintf(stderr, "wsgw-bench: -wsgw-compare %s: %v\n", o.wsgwCompare, err)
			return exitUsage
		}
		o.wsgwCompare, _ = filepath.Abs(p)
	}
	p, err := exec.LookPath(o.wsgw)
	if err != nil {
		fmt.Fprintf(stderr, "wsgw-bench: -wsgw %s: %v (build it: go build -o /tmp/wsgw ./cmd/wsgw)\n", o.wsgw, err)
		return exitUsage
	}
	if o.wsgw, err = filepath.Abs(p); err != nil {
		fmt.Fprintf(stderr, "wsgw-bench: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// runLambda is -mode lambda.
func runLambda(ctx context.Context, o *options, stdout, stderr io.Writer) int {
	if !hasProc(o, stderr) {
		return exitUsage
	}
	conns, _ := parseConnsList(o.connsList)
	targets, _ := parseTargets(o.targets)
	dir, err := os.MkdirTemp("", "wsgw-bench-lambda-")
	if err != nil {
		fmt.Fprintf(stderr, "wsgw-bench: %v\n", err)
		return exitFailure
	}
	defer os.RemoveAll(dir)
	cmp := slices.Contains(targets, "node-cmp") || slices.Contains(targets, "chat-cmp")
	if code := findBinaries(o, cmp, "-targets node-cmp and chat-cmp", stderr); code != exitOK {
		return code
	}

	var backendURL string
	if slices.Contains(targets, "http") {
		be, err := startBackend(echoHandler())
		if err != nil {
			fmt.Fprintf(stderr, "wsgw-bench: %v\n", err)
			return exitFailure
		}
		defer shutdown(stderr, "backend", be.shutdown)
		backendURL = be.url
	}
	servers := map[string]*serverProcess{}
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	for _, t := range targets {
		s, err := setUpTarget(ctx, o, t, dir, backendURL, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "wsgw-bench: %s: %v\n", t, err)
			return exitFailure
		}
		servers[t] = s
		fmt.Fprintf(stderr, "wsgw-bench: %s serving at %s (pid %d)\n", t, s.url, s.pid())
	}

	msgs := newMessages("", o.size)
	fmt.Fprintf(stdout, "wsgw-bench -mode lambda: %d-byte messages, %s per phase after %s warm-up, %d rounds, %d CPUs, %s\n",
		o.size, o.duration, o.warmup, o.rounds, thisMachine().CPUs, time.Now().UTC().Format(time.RFC3339))
	const row = "%5s  %-8s  %5s  %7s  %8s  %8s  %9s  %9s  %9s  %6s\n"
	fmt.Fprintf(stdout, row, "round", "target", "conns", "msg/s", "p50 ms", "p99 ms", "gw µs/msg", "fn µs/msg", "µs/msg", "errors")
	all, failed := runRounds(ctx, o, stdout, stderr, roundPlan{
		targets: targets,
		conns:   conns,
		skip:    func(t string, c int) bool { return isChat(t) && c != 1 }, // a broadcast reaches every connection
		measure: func(t string, c int, warmup, duration time.Duration) measurement {
			return measureTarget(ctx, o, servers[t], c, warmup, duration, msgs)
		},
		row: func(w io.Writer, m measurement) {
			fmt.Fprintf(w, row, strconv.Itoa(m.Round), m.Target, strconv.Itoa(m.Conns), fmt.Sprintf("%.0f", m.Rate), fmt.Sprintf("%.3f", m.P50),
				fmt.Sprintf("%.3f", m.P99), fmt.Sprintf("%.1f", m.GwCPU), fmt.Sprintf("%.1f", m.FnCPU), fmt.Sprintf("%.1f", m.totalCPU()), strconv.FormatInt(m.Errors, 10))
		},
		tail: func(t string) string { return servers[t].tail() },
	})
	code := exitOK
	if failed {
		code = exitFailure
	}
	writeLambdaSummary(stdout, all, targets, conns)
	writeInstanceMemory(stdout, servers, targets)

	if o.soak > 0 && ctx.Err() == nil {
		c := slices.Max(conns)
		for _, t := range []string{"node", "sls"} {
			if s := servers[t]; s != nil && ctx.Err() == nil {
				if soakTarget(ctx, o, s, c, msgs, stdout) {
					code = exitFailure
				}
			}
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "wsgw-bench: interrupted")
		return exitFailure
	}
	return code
}

// writeLambdaSummary prints, per target and connection count, the range over
// the rounds, and the ratio node/sls of each round.
func writeLambdaSummary(w io.Writer, all []measurement, targets []string, conns []int) {
	fmt.Fprintln(w, "\nsummary (min-max over the rounds):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "target\tconns\tmsg/s\tp50 ms\tp99 ms\tgateway µs/msg\tfunction µs/msg\ttotal µs/msg")
	for _, t := range targets {
		for _, c := range conns {
			ms := pickMeasures(all, t, c)
			if len(ms) == 0 {
				continue // chat beyond one connection
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", t, c,
				span(ms, func(m measurement) float64 { return m.Rate }, "%.0f"),
				span(ms, func(m measurement) float64 { return m.P50 }, "%.3f"),
				span(ms, func(m measurement) float64 { return m.P99 }, "%.3f"),
				span(ms, func(m measurement) float64 { return m.GwCPU }, "%.0f"),
				span(ms, func(m measurement) float64 { return m.FnCPU }, "%.0f"),
				span(ms, measurement.totalCPU, "%.0f"))
		}
	}
	tw.Flush()
	if !slices.Contains(targets, "sls") {
		return
	}
	for _, t := range targets {
		if t == "sls" || t == "http" || isChat(t) {
			continue
		}
		for _, c := range conns {
			ratios := roundRatios(all, t, "sls", c, func(m measurement) float64 { return m.Rate })
			if len(ratios) == 0 {
				continue
			}
			fmt.Fprintf(w, "ratio %s/sls at %d connections: %.2f–%.2f (per round: %s)\n", t, c, ratios[0], ratios[len(ratios)-1], floats(ratios))
		}
	}
}

// writeInstanceMemory prints the resident set of each warm function
// process of the wsgw targets, and of the servers themselves.
func writeInstanceMemory(w io.Writer, servers map[string]*serverProcess, targets []string) {
	fmt.Fprintln(w, "\nmemory (VmRSS):")
	procs := allProcs()
	for _, t := range targets {
		s := servers[t]
		_, _, kids := treeCPU(procs, s.pid())
		line := fmt.Sprintf("  %s: server %.1f MiB", t, float64(rssKB(s.pid()))/1024)
		if len(kids) > 0 {
			var sum int64
			for _, k := range kids {
				sum += rssKB(k)
			}
			line += fmt.Sprintf(", %d function processes, %.1f MiB each on average", len(kids), float64(sum)/1024/float64(len(kids)))
		}
		fmt.Fprintln(w, line)
	}
}

// soakTarget runs s at conns connections for -soak, in 6 back-to-back
// slices, and prints each slice's rate and the spread. It reports whether
// a slice had errors.
func soakTarget(ctx context.Context, o *options, s *serverProcess, conns int, msgs *messages, w io.Writer) bool {
	const nSlices = 6
	slice := o.soak / nSlices
	var rates []float64
	bad := false
	fmt.Fprintf(w, "\nsoak %s, %d connections, %s in %d slices:", s.name, conns, o.soak, nSlices)
	for i := 0; i < nSlices && ctx.Err() == nil; i++ {
		warm := time.Duration(0)
		if i == 0 {
			warm = o.warmup
		}
		m := measureTarget(ctx, o, s, conns, warm, slice, msgs)
		rates = append(rates, m.Rate)
		bad = bad || m.Errors > 0
		fmt.Fprintf(w, " %.0f (p99 %.3f ms, server %.1f MiB)", m.Rate, m.P99, float64(rssKB(s.pid()))/1024)
	}
	if len(rates) > 0 {
		lo, hi := slicesMinMax(rates)
		var sum float64
		for _, r := range rates {
			sum += r
		}
		fmt.Fprintf(w, "\n  msg/s %.0f–%.0f, spread (max-min)/mean %.1f%%\n", lo, hi, (hi-lo)/(sum/float64(len(rates)))*100)
	}
	return bad
}

func slicesMinMax(fs []float64) (float64, float64) {
	if len(fs) == 0 {
		return 0, 0
	}
	return slices.Min(fs), slices.Max(fs)
}

// chatTarget sends each message as the data of a chat sendmessage action;
// with one connection, the broadcast that comes back is the message.
type chatTarget struct{ target }

func (t chatTarget) open(ctx context.Context, worker int) (session, error) {
	s, err := t.target.open(ctx, worker)
	if err != nil {
		return nil, err
	}
	return chatSession{s}, nil
}

type chatSession struct{ session }

func (s chatSession) roundTrip(ctx context.Context, msg []byte) ([]byte, error) {
	data, _ := json.Marshal(string(msg))
	return s.session.roundTrip(ctx, append(append([]byte(`{"action":"sendmessage","data":`), data...), '}'))
}
