package runtime

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi/types"
	"github.com/gorilla/websocket"
	natsserver "github.com/nats-io/nats-server/v2/server"
)

// startNATS runs a NATS server in the test process on 127.0.0.1 (port 0: a
// free one) until the test ends, and returns it.
func startNATS(t *testing.T, port int) *natsserver.Server {
	t.Helper()
	if port == 0 {
		port = -1 // nats-server's "any free port"
	}
	s, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(s.Shutdown)
	return s
}

func natsPort(s *natsserver.Server) int { return s.Addr().(*net.TCPAddr).Port }

// clusterNode is one gateway of a test cluster and the ids its $connect saw.
type clusterNode struct {
	*Gateway
	ids chan string
	sdk *apigatewaymanagementapi.Client
}

// startNode serves p as a node named name of the cluster at url.
func startNode(t *testing.T, url, name string) *clusterNode {
	t.Helper()
	n := &clusterNode{ids: make(chan string, 100)}
	connect := newBackend(t, nil)
	go func() {
		for r := range connect.reqs {
			n.ids <- r.Header.Get("X-Id")
		}
	}()
	p := testPlan(actionSel, route("$connect", httpInteg("C", connect.URL, header("X-Id", ctxVar("connectionId")))))
	n.Gateway = startGateway(t, p, func(o *Options) { o.Cluster, o.NodeName = url, name })
	return n
}

// connect opens a WebSocket to the node and returns it with its id.
func (n *clusterNode) connect(t *testing.T) (*websocket.Conn, string) {
	t.Helper()
	ws := dial(t, n.Gateway, "/dev")
	select {
	case id := <-n.ids:
		return ws, id
	case <-time.After(5 * time.Second):
		t.Fatal("no $connect")
		return nil, ""
	}
}

// api is the @connections client of the node.
func (n *clusterNode) api() *apigatewaymanagementapi.Client {
	if n.sdk == nil {
		n.sdk = sdkClient("http://" + n.Addrs()[0] + "/dev")
	}
	return n.sdk
}

func post(n *clusterNode, id, data string) error {
	_, err := n.api().PostToConnection(context.Background(), &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte(data)})
	return err
}

func getConn(n *clusterNode, id string) (*apigatewaymanagementapi.GetConnectionOutput, error) {
	return n.api().GetConnection(context.Background(), &apigatewaymanagementapi.GetConnectionInput{ConnectionId: aws.String(id)})
}

func isGone(err error) bool {
	var gone *types.GoneException
	return errors.As(err, &gone)
}

// eventually waits until cond holds, polling, and fails after 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// SPEC: POST, GET and DELETE on a node that does not hold the
// connection answer as on the node that does; ids are the node's own.
func TestClusterConnectionsAcrossNodes(t *testing.T) {
	ns := startNATS(t, 0)
	url := ns.ClientURL()
	a, b, c := startNode(t, url, "a"), startNode(t, url, "b"), startNode(t, url, "c")
	ws, id := a.connect(t)
	_, idC := c.connect(t)
	ca, _ := a.Cluster()
	cb, _ := b.Cluster()
	if !idPattern.MatchString(id) || ca.Tag == cb.Tag || idTag(id) != ca.Tag || !ca.Connected || ca.Node != "a" {
		t.Fatalf("node a %+v, node b %+v, id %s", ca, cb, id)
	}
	if id == idC || idTag(idC) == ca.Tag {
		t.Fatalf("ids of a and c: %s %s", id, idC)
	}

	if err := post(b, id, `{"via":"b"}`); err != nil {
		t.Fatalf("post through b: %v", err)
	}
	if typ, data, err := ws.ReadMessage(); err != nil || typ != websocket.TextMessage || string(data) != `{"via":"b"}` {
		t.Fatalf("client got %d %q %v", typ, data, err)
	}
	bin := []byte{0xff, 0, 0xfe}
	if _, err := b.api().PostToConnection(context.Background(), &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: bin}); err != nil {
		t.Fatal(err)
	}
	if typ, data, err := ws.ReadMessage(); err != nil || typ != websocket.BinaryMessage || string(data) != string(bin) {
		t.Fatalf("client got %d %q %v", typ, data, err)
	}

	local, err := getConn(a, id)
	if err != nil {
		t.Fatal(err)
	}
	remote, err := getConn(c, id)
	if err != nil {
		t.Fatalf("get through c: %v", err)
	}
	if !remote.ConnectedAt.Equal(*local.ConnectedAt) || aws.ToString(remote.Identity.SourceIp) != "127.0.0.1" ||
		aws.ToString(remote.Identity.UserAgent) != aws.ToString(local.Identity.UserAgent) {
		t.Errorf("get through c %+v %+v, on a %+v %+v", remote.ConnectedAt, remote.Identity, local.ConnectedAt, local.Identity)
	}
	if info, err := b.reg.Lookup(context.Background(), "", id); err != nil || info.Node != "a" {
		t.Errorf("lookup on b: %+v %v, want node a", info, err)
	}
	// The holder checks the Api in the same round trip.
	if _, err := b.reg.Lookup(context.Background(), "other00000", id); !errors.Is(err, ErrGone) {
		t.Errorf("lookup for another Api: %v, want ErrGone", err)
	}

	if _, err := b.api().DeleteConnection(context.Background(), &apigatewaymanagementapi.DeleteConnectionInput{ConnectionId: aws.String(id)}); err != nil {
		t.Fatalf("delete through b: %v", err)
	}
	if ce := recvClose(t, ws); ce.Code != 1000 || ce.Text != reasonDeleted {
		t.Errorf("close %d %q", ce.Code, ce.Text)
	}
	for _, n := range []*clusterNode{a, b, c} {
		if err := post(n, id, "late"); !isGone(err) {
			t.Errorf("post to a deleted connection through %s: %v, want GoneException", n.Node(), err)
		}
		if _, err := getConn(n, id); !isGone(err) {
			t.Errorf("get of a deleted connection through %s: %v, want GoneException", n.Node(), err)
		}
	}
	if err := post(a, "AAAAAAAAAAAZZZZ=", "x"); !isGone(err) {
		t.Errorf("post to an id no node gave: %v", err)
	}
	if err := post(a, "a.b*c>d e......=", "x"); !isGone(err) {
		t.Errorf("post to an id that is no subject: %v", err)
	}
}

// SPEC: posts of one sender reach the client in order, whichever
// node each goes through.
func TestClusterPostOrder(t *testing.T) {
	ns := startNATS(t, 0)
	a, b, c := startNode(t, ns.ClientURL(), "a"), startNode(t, ns.ClientURL(), "b"), startNode(t, ns.ClientURL(), "c")
	ws, id := a.connect(t)
	const n = 150
	via := []*clusterNode{b, c, a}
	got := make(chan error, 1)
	go func() {
		for i := range n {
			_, data, err := ws.ReadMessage()
			if err != nil {
				got <- err
				return
			}
			if string(data) != strconv.Itoa(i) {
				got <- fmt.Errorf("frame %d is %q", i, data)
				return
			}
		}
		got <- nil
	}()
	for i := range n {
		if err := post(via[i%3], id, strconv.Itoa(i)); err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}

// SPEC: a node that dies (its link to NATS cut, sockets left open) or
// stops takes its connections with it: the others answer 410 at once, and
// its own connections keep working locally.
func TestClusterNodeGone(t *testing.T) {
	ns := startNATS(t, 0)
	a, b := startNode(t, ns.ClientURL(), "a"), startNode(t, ns.ClientURL(), "b")
	wsA, idA := a.connect(t)
	if err := post(b, idA, "before"); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, wsA); got != "before" {
		t.Fatalf("got %q", got)
	}

	a.cluster.nc.Close() // a dies as far as the cluster knows
	if err := post(b, idA, "after"); !isGone(err) {
		t.Errorf("post through b to a dead node's connection: %v, want GoneException", err)
	}
	if _, err := getConn(b, idA); !isGone(err) {
		t.Errorf("get through b: %v, want GoneException", err)
	}
	if err := post(a, idA, "local"); err != nil {
		t.Fatalf("local post on the cut node: %v", err)
	}
	if got := recv(t, wsA); got != "local" {
		t.Fatalf("got %q", got)
	}

	c := startNode(t, ns.ClientURL(), "c")
	wsC, idC := c.connect(t)
	if err := post(b, idC, "hi"); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, wsC); got != "hi" {
		t.Fatalf("got %q", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if ce := recvClose(t, wsC); ce.Code != 1001 {
		t.Errorf("close %d", ce.Code)
	}
	if err := post(b, idC, "after"); !isGone(err) {
		t.Errorf("post through b to a stopped node's connection: %v, want GoneException", err)
	}
}

// SPEC: NATS going away stops no local traffic, remote ids answer 410
// at once, and the nodes reconnect by themselves when it is back. A node
// started while NATS is away serves its own connections and joins later.
func TestClusterNATSOutage(t *testing.T) {
	ns := startNATS(t, 0)
	port := natsPort(ns)
	url := ns.ClientURL()
	a, b := startNode(t, url, "a"), startNode(t, url, "b")
	wsA, idA := a.connect(t)
	wsB, idB := b.connect(t)

	ns.Shutdown()
	eventually(t, "both nodes see NATS gone", func() bool {
		ca, _ := a.Cluster()
		cb, _ := b.Cluster()
		return !ca.Connected && !cb.Connected
	})
	for _, tc := range []struct {
		name string
		via  *clusterNode
		ws   *websocket.Conn
		id   string
	}{{"a", a, wsA, idA}, {"b", b, wsB, idB}} {
		if err := post(tc.via, tc.id, "local "+tc.name); err != nil {
			t.Fatalf("local post on %s during the outage: %v", tc.name, err)
		}
		if got := recv(t, tc.ws); got != "local "+tc.name {
			t.Fatalf("got %q", got)
		}
	}
	if err := post(a, idB, "x"); !isGone(err) {
		t.Errorf("remote post during the outage: %v, want GoneException", err)
	}
	if _, err := getConn(b, idA); !isGone(err) {
		t.Errorf("remote get during the outage: %v, want GoneException", err)
	}
	// New connections open and a node starts while NATS is away.
	wsA2, idA2 := a.connect(t)
	c := startNode(t, url, "c")
	wsC, idC := c.connect(t)
	if err := post(c, idC, "c alone"); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, wsC); got != "c alone" {
		t.Fatalf("got %q", got)
	}
	if cc, _ := c.Cluster(); cc.Connected {
		t.Fatal("c connected with NATS down")
	}

	startNATS(t, port)
	for _, n := range []*clusterNode{a, b, c} {
		eventually(t, n.Node()+" reconnected", func() bool { ci, _ := n.Cluster(); return ci.Connected })
		// Once NATS answers a ping, it has the node's subscriptions.
		if err := n.cluster.nc.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		via *clusterNode
		ws  *websocket.Conn
		id  string
	}{{b, wsA, idA}, {c, wsA2, idA2}, {a, wsB, idB}, {b, wsC, idC}} {
		if err := post(tc.via, tc.id, "back"); err != nil {
			t.Fatalf("post through %s to %s after the outage: %v", tc.via.Node(), tc.id, err)
		}
		if got := recv(t, tc.ws); got != "back" {
			t.Fatalf("got %q", got)
		}
	}
}

// The banner names the cluster and the node.
func TestClusterSummary(t *testing.T) {
	ns := startNATS(t, 0)
	a := startNode(t, ns.ClientURL(), "node-a")
	var out syncBuffer
	a.WriteSummary(&out)
	want := "Cluster  " + ns.ClientURL() + " as node node-a (connection ids end with " + a.cluster.tag + "; connected to "
	if !strings.HasPrefix(out.String(), want) {
		t.Errorf("summary:\n%s\nwant it to start with %q", out.String(), want)
	}
	if _, err := New(testPlan(actionSel), Options{Cluster: "http://127.0.0.1:1"}); err == nil {
		t.Error("an http:// cluster URL was accepted")
	}
}
