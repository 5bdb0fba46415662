package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wsgw/wsgw/internal/testtool"
)

func TestSplitConns(t *testing.T) {
	tests := []struct {
		total, parts int
		want         []int
	}{
		{100000, 6, []int{16667, 16667, 16667, 16667, 16666, 16666}},
		{12, 3, []int{4, 4, 4}},
		{5, 5, []int{1, 1, 1, 1, 1}},
		{7, 1, []int{7}},
	}
	for _, tt := range tests {
		got := splitConns(tt.total, tt.parts)
		if len(got) != len(tt.want) {
			t.Fatalf("splitConns(%d, %d) = %v, want %v", tt.total, tt.parts, got, tt.want)
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("splitConns(%d, %d) = %v, want %v", tt.total, tt.parts, got, tt.want)
				break
			}
		}
	}
}

// A node's stderr mixes its log lines with the runtime's gctrace lines; a
// gctrace line cut by a log line is skipped for the last whole one.
func TestLastGC(t *testing.T) {
	log := strings.Join([]string{
		"gc 1 @0.012s 2%: 0.010+1.2+0.003 ms clock, 0.020+0.1/0.5/0+0.006 ms cpu, 3->4->1 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P",
		`time=2026-12-05T17:51:41Z level=INFO msg=connect connectionId=abc`,
		"gc 7 @9.210s 1%: 0.1+3+0.01 ms clock, 0.2+0.5/2/0.1+0.02 ms cpu, 15->16->9 MB, 18 MB goal, 1 MB stacks, 0 MB globals, 2 P",
		`time=2026-12-05T17:51:42Z level=INFO msg=connect connectionId=def`,
		"gc 8 @12.5s 1%: 0.1+3+0.01 ms clock, 0.2+0.5/2/0.1+0.02 ms cpu, 17->time=2026 level=INFO msg=connect",
		"",
	}, "\n")
	got, ok := lastGC([]byte(log))
	want := gcTrace{N: 7, AtS: 9.21, LiveMB: 9, GoalMB: 18, StacksMB: 1}
	if !ok || got != want {
		t.Errorf("lastGC = %+v, %v; want %+v", got, ok, want)
	}
	if got, ok := lastGC([]byte("Cluster  nats://127.0.0.1:4222 as node a\nWebSocket  ws://127.0.0.1:1/load\n")); ok {
		t.Errorf("lastGC of a log without collections = %+v, want none", got)
	}
}

func TestTotalOf(t *testing.T) {
	gc := func(n int, live int64) *gcTrace { return &gcTrace{N: n, LiveMB: live} }
	nodes := []idleNode{
		{Opened: 1000, Before: nodeMemory{RSSKB: 20000, GC: gc(1, 2)}, Open: nodeMemory{RSSKB: 30000, GC: gc(5, 6)},
			Held: nodeMemory{RSSKB: 30100, GC: gc(6, 6)}, GCInHold: true},
		// No collection during its hold: its heap is left out.
		{Opened: 3000, Before: nodeMemory{RSSKB: 20000, GC: gc(1, 2)}, Open: nodeMemory{RSSKB: 50000, GC: gc(9, 10)},
			Held: nodeMemory{RSSKB: 50300, GC: gc(9, 10)}},
	}
	got := totalOf(nodes, []int64{80100, 79900, 80400})
	want := idleTotal{Opened: 4000, BeforeKB: 40000, OpenKB: 80000, HeldKB: 80400, HoldMinKB: 79900, HoldMaxKB: 80400,
		RSSPerConnBytes: 40000 * 1024 / 4000, HeldPerConnBytes: 40400 * 1024 / 4000,
		HeapPerConnBytes: 4 << 20 / 1000, HeapNodes: 1}
	if got != want {
		t.Errorf("totalOf =\n%+v, want\n%+v", got, want)
	}
	if got := totalOf(nil, nil); got != (idleTotal{}) {
		t.Errorf("totalOf(nothing) = %+v", got)
	}
}

func TestProbeSample(t *testing.T) {
	conns := make([]*loadConn, 10)
	for i := range conns {
		if i != 0 && i != 5 { // two failed to open
			conns[i] = &loadConn{idx: i}
		}
	}
	var got []int
	for _, lc := range probeSample(conns, 3) {
		got = append(got, lc.idx)
	}
	if want := []int{1, 3, 7}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("sample %v, want %v: spread over the open connections", got, want)
	}
	if got := probeSample(conns, 50); len(got) != 8 {
		t.Errorf("%d sampled of 8 open, want all", len(got))
	}
}

func TestIdleFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-mode", "idle", "-conns", "40000", "-nodes", "2"}, "-conns 40000: want 2 to 38000 with -nodes 2"},
		{[]string{"-mode", "idle", "-nodes", "0"}, "-nodes 0: want 1 to 16"},
		{[]string{"-mode", "idle", "-rate", "5"}, "-rate does not apply to -mode idle"},
		{[]string{"-mode", "idle", "-probes", "0"}, "-probes 0: want 1 to 19000"},
		{[]string{"-mode", "idle", "-open-rate", "-1"}, "-open-rate -1: must not be negative"},
		{[]string{"-mode", "load", "-nodes", "3"}, "-nodes applies to -mode idle"},
		{[]string{"-serve-flags", "--no-inspector"}, "-serve-flags applies to -mode idle or proxy"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), tt.args, &stdout, &stderr, nil); code != exitUsage || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, stderr.String(), exitUsage, tt.want)
		}
	}
}

// TestIdleMode runs -mode idle small: nats-server, two wsgw serve nodes and
// their client processes; every connection opens, the probes' echoes and
// cross-node posts come back, every $connect gets its $disconnect, and
// the memory of every process is read.
func TestIdleMode(t *testing.T) {
	nats := testtool.Need(t, "nats-server")
	bin := wsgwBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"-mode", "idle", "-json", "-wsgw", bin, "-nats", nats, "-nodes", "2", "-conns", "41",
		"-duration", "1s", "-probes", "3", "-open-rate", "400", "-serve-flags", "--no-inspector --no-tls"}, &stdout, &stderr, nil)
	if code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s\nstdout:\n%s", code, stderr.String(), stdout.String())
	}
	var rep idleReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, stdout.String())
	}
	if rep.Total.Opened != 41 || rep.Connects != 41 || rep.Disconnects != 41 || rep.Errors != 0 {
		t.Errorf("opened %d, $connect %d, $disconnect %d, errors %d %v; want 41, 41, 41, 0",
			rep.Total.Opened, rep.Connects, rep.Disconnects, rep.Errors, rep.FirstErrors)
	}
	if len(rep.Nodes) != 2 || rep.Nodes[0].Opened != 21 || rep.Nodes[1].Opened != 20 {
		t.Fatalf("nodes %+v: want 21 and 20 connections", rep.Nodes)
	}
	for _, n := range rep.Nodes {
		if n.Before.RSSKB <= 0 || n.Open.RSSKB <= 0 || n.Held.RSSKB <= 0 || n.HoldMinKB <= 0 || n.HoldMinKB > n.HoldMaxKB {
			t.Errorf("node %s memory %+v: want every resident set read", n.Name, n)
		}
	}
	for _, k := range []string{"echo", "post"} {
		if s := rep.Probe[k]; s.Sent != 6 || s.Received != 6 || s.Lost+s.Duplicated+s.Reordered != 0 {
			t.Errorf("probe %s %+v: want 6 sent, 6 back", k, s)
		}
	}
	if rep.NATSKB[0] <= 0 || rep.NATSKB[2] <= 0 {
		t.Errorf("nats-server rss %v: want it read", rep.NATSKB)
	}
	if want := []string{"--no-inspector", "--no-tls"}; len(rep.Config.ServeFlags) != 2 || rep.Config.ServeFlags[1] != want[1] {
		t.Errorf("serve flags %v, want %v", rep.Config.ServeFlags, want)
	}
}

func TestKernelCounters(t *testing.T) {
	softnet := "0908e9ee 0008ca12 00000030 00000000\n088a75f2 000717cb 00000033 00000000\n"
	if got, want := softnetDrops([]byte(softnet)), int64(0x8ca12+0x717cb); got != want {
		t.Errorf("softnetDrops = %d, want %d", got, want)
	}
	netstat := "TcpExt: SyncookiesSent TCPAbortOnData TCPAbortOnTimeout TCPAbortOnLinger\nTcpExt: 0 226645 18577 3\n" +
		"IpExt: InNoRoutes TCPAbortOnTimeout\nIpExt: 1 99\n"
	if got, ok := netstatValue([]byte(netstat), "TcpExt", "TCPAbortOnTimeout"); !ok || got != 18577 {
		t.Errorf("TCPAbortOnTimeout = %d, %v; want 18577", got, ok)
	}
	if got, ok := netstatValue([]byte(netstat), "TcpExt", "Nope"); ok {
		t.Errorf("a missing counter read as %d", got)
	}
	a, b := kernelCounters{BacklogDrops: 10, AbortOnTimeout: 4}, kernelCounters{BacklogDrops: 3, AbortOnTimeout: 1}
	if got := a.sub(b); got != (kernelCounters{7, 3}) {
		t.Errorf("sub = %+v", got)
	}
}
