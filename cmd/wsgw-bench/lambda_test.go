package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgw/wsgw/compile"
	"github.com/wsgw/wsgw/template"
)

func TestParseProcStat(t *testing.T) {
	cases := []struct {
		name string
		line string
		want procStat
		ok   bool
	}{
		{"plain", "1234 (node) S 1200 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0", procStat{pid: 1234, ppid: 1200, cpu: 300 * clockTick}, true},
		{"name with spaces and parentheses", "77 (a (b) c) R 1 77 77 0 -1 0 0 0 0 0 3 4 0 0", procStat{pid: 77, ppid: 1, cpu: 7 * clockTick}, true},
		{"truncated", "77 (x) R 1 77", procStat{}, false},
		{"garbage", "not a stat line", procStat{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := parseProcStat([]byte(c.line))
			if ok != c.ok || got != c.want {
				t.Errorf("parseProcStat = %+v, %v; want %+v, %v", got, ok, c.want, c.ok)
			}
		})
	}
}

// The gateway's CPU is its own; the functions' is that of every process
// below it, grandchildren included, and nothing else.
func TestTreeCPU(t *testing.T) {
	procs := map[int]procStat{
		10: {pid: 10, ppid: 1, cpu: 5 * time.Second},
		11: {pid: 11, ppid: 10, cpu: 2 * time.Second},
		12: {pid: 12, ppid: 11, cpu: time.Second},
		13: {pid: 13, ppid: 1, cpu: 9 * time.Second},
	}
	self, kids, pids := treeCPU(procs, 10)
	if self != 5*time.Second || kids != 3*time.Second || len(pids) != 2 {
		t.Errorf("treeCPU = %s, %s, %v; want 5s, 3s and 2 descendants", self, kids, pids)
	}
}

// The flags of -mode lambda and -mode proxy.
func TestRoundsFlags(t *testing.T) {
	cases := []struct {
		name string
		args []string
		err  string // "" when valid
	}{
		{"defaults", []string{"-mode", "lambda"}, ""},
		{"targets and counts", []string{"-mode", "lambda", "-targets", "node,sls", "-conns-list", "1, 32", "-rounds", "5"}, ""},
		{"unknown target", []string{"-mode", "lambda", "-targets", "node,java"}, `"java" is not one of`},
		{"bad count", []string{"-mode", "lambda", "-conns-list", "1,0"}, "-conns-list"},
		{"gateway", []string{"-mode", "lambda", "-gateway", "ws://127.0.0.1:1/x"}, "-gateway does not apply to -mode lambda"},
		{"rounds", []string{"-mode", "lambda", "-rounds", "0"}, "-rounds 0"},
		{"lambda flag in echo mode", []string{"-rounds", "2"}, "-rounds applies to -mode lambda or proxy"},
		{"lambda flag in load mode", []string{"-mode", "load", "-targets", "node"}, "-targets applies to -mode lambda"},
		{"load flag in lambda mode", []string{"-mode", "lambda", "-rate", "5"}, "-rate applies to -mode load"},
		{"proxy", []string{"-mode", "proxy"}, ""},
		{"proxy counts and compare", []string{"-mode", "proxy", "-conns-list", "32,1", "-rounds", "5", "-wsgw-compare", "/tmp/old", "-json"}, ""},
		{"proxy targets", []string{"-mode", "proxy", "-targets", "node"}, "-targets applies to -mode lambda"},
		{"proxy gateway", []string{"-mode", "proxy", "-gateway", "ws://127.0.0.1:1/x"}, "-gateway does not apply to -mode proxy"},
		{"load flag in proxy mode", []string{"-mode", "proxy", "-rate", "5"}, "-rate applies to -mode load"},
		{"rounds in load mode", []string{"-mode", "load", "-rounds", "2"}, "-rounds applies to -mode lambda or proxy"},
		{"proxy bad count", []string{"-mode", "proxy", "-conns-list", "0"}, "-conns-list"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseFlags(c.args, io.Discard)
			switch {
			case c.err == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Errorf("error %v, want one saying %q", err, c.err)
			}
		})
	}
}

// The Lambda templates -mode lambda serves compile without diagnostics, and
// their one function runs with the handler written next to it.
func TestLambdaTemplates(t *testing.T) {
	cases := []struct{ runtime, handler, file string }{
		{"nodejs20.x", "index.handler", "fn/index.js"},
		{"python3.12", "app.handler", "fn/app.py"},
		{"provided.al2023", "bootstrap", "fn/bootstrap"},
	}
	for _, c := range cases {
		t.Run(c.runtime, func(t *testing.T) {
			dir := t.TempDir()
			if err := writeFiles(dir, map[string]string{c.file: "x"}); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, "template.yaml")
			src := lambdaTemplate(c.runtime, c.handler)
			if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			plan, ds := compile.Build(file, []byte(src), template.Options{Addr: "127.0.0.1:0"}, compile.Options{})
			if plan == nil || len(ds) > 0 {
				t.Fatalf("diagnostics: %v", ds)
			}
			fn := plan.Functions["Echo"]
			if fn == nil || fn.Runtime != c.runtime || fn.Handler != c.handler || fn.CodeDir != filepath.Join(dir, "fn") {
				t.Errorf("function %+v", fn)
			}
		})
	}
}

// A chat session sends the message as the data of a sendmessage action.
func TestChatSession(t *testing.T) {
	rec := &recordingSession{}
	s := chatSession{rec}
	if _, err := s.roundTrip(t.Context(), []byte(`{"conn":1,"pad":"a\"b"}`)); err != nil {
		t.Fatal(err)
	}
	want := `{"action":"sendmessage","data":"{\"conn\":1,\"pad\":\"a\\\"b\"}"}`
	if rec.sent != want {
		t.Errorf("sent %s, want %s", rec.sent, want)
	}
}

type recordingSession struct{ sent string }

func (r *recordingSession) roundTrip(_ context.Context, msg []byte) ([]byte, error) {
	r.sent = string(msg)
	return msg, nil
}
func (r *recordingSession) close() error { return nil }
