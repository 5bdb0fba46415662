package main

import (
	"context"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/wsgw/wsgw/compile"
	"github.com/wsgw/wsgw/runtime"
	"github.com/wsgw/wsgw/template"
)

// TestLoadCluster drives two nodes of a cluster (a NATS server in the test
// process): connections spread over both, and every post goes through the
// second node, so the first node's connections get theirs across NATS; none
// is lost, duplicated or reordered.
func TestLoadCluster(t *testing.T) {
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(ns.Shutdown)
	backendAddr := freeAddr(t)
	plan, ds := compile.Build("load.yaml", loadTemplate, template.Options{
		Params: map[string]string{"BackendUrl": "http://" + backendAddr}, Addr: "127.0.0.1:0", RequireParams: true}, compile.Options{})
	if plan == nil || ds.HasErrors() {
		t.Fatal(diagError(ds))
	}
	var urls []string
	for _, name := range []string{"a", "b"} {
		o := runtime.DefaultOptions()
		o.Addr, o.Throttling, o.Cluster, o.NodeName = "127.0.0.1:0", false, ns.ClientURL(), name
		g, err := runtime.New(plan, o)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = g.Shutdown(context.Background()) })
		urls = append(urls, "ws://"+g.Addrs()[0]+"/"+loadStage)
	}
	via := "http://" + strings.TrimPrefix(urls[1], "ws://") + "/@connections"
	code, rep, stderr := runLoadJSON(t, loadHooks{}, "-conns", "4", "-conn-rate", "40", "-duration", "400ms", "-warmup", "0s",
		"-timeout", "3s", "-route", "post", "-gateway", strings.Join(urls, ","), "-post-via", via, "-backend-listen", backendAddr)
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s\nerrors: %v", code, stderr, rep.FirstErrors)
	}
	s := rep.Streams["post"]
	if s.Sent < 40 || s.Received != s.Sent || s.Lost+s.Duplicated+s.Reordered != 0 || rep.PostErrors != 0 {
		t.Errorf("posts %+v, post errors %d", s, rep.PostErrors)
	}
	if rep.Config.PostVia != via {
		t.Errorf("config %+v", rep.Config)
	}
}
