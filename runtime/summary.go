package runtime

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/wsgw/wsgw/compile"
)

// Endpoint is where one stage is served.
type Endpoint struct {
	Api   string // logical ID
	Stage string
	// WebSocketURL is ws://ADDR/<stage>; ConnectionsURL http://ADDR/<stage>/@connections.
	WebSocketURL   string
	ConnectionsURL string
}

// Endpoints lists every stage served, in plan order (after Start).
func (g *Gateway) Endpoints() []Endpoint {
	g.mu.Lock()
	servers := g.servers
	g.mu.Unlock()
	snap := g.snap.Load()
	var out []Endpoint
	for _, s := range servers {
		as := snap.apis[s.apiLogicalID]
		if as == nil {
			continue
		}
		for _, st := range as.api.Stages {
			seg := stageSegment(st)
			if as.stages[seg] == nil {
				continue
			}
			base := s.addr + "/" + seg
			conns := s.addr + "/" + seg + "/@connections"
			if seg == "" {
				conns = s.addr + "/@connections"
			}
			out = append(out, Endpoint{Api: as.api.LogicalID, Stage: st.Name, WebSocketURL: "ws://" + base, ConnectionsURL: "http://" + conns})
		}
	}
	return out
}

// WriteSummary prints, for every stage served, its WebSocket URL and
// @connections URL, then one line per route: key, integration type, target,
// and why the gateway cannot run it when it cannot (SPEC ).
func (g *Gateway) WriteSummary(w io.Writer) {
	snap := g.snap.Load()
	if ci, ok := g.Cluster(); ok {
		state := "connected to " + ci.ConnectedURL
		if !ci.Connected {
			state = "not connected yet: serving its own connections, retrying"
		}
		fmt.Fprintf(w, "Cluster  %s as node %s (connection ids end with %s; %s)\n", ci.URLs, ci.Node, ci.Tag, state)
	}
	for _, ep := range g.Endpoints() {
		as := snap.apis[ep.Api]
		var st *stageState
		for _, ss := range as.stages {
			if ss.stage.Name == ep.Stage {
				st = ss
			}
		}
		fmt.Fprintf(w, "%s stage %s\n", ep.Api, ep.Stage)
		fmt.Fprintf(w, "  WebSocket     %s\n", ep.WebSocketURL)
		fmt.Fprintf(w, "  @connections  %s\n", ep.ConnectionsURL)
		if g.tlsConfig != nil {
			fmt.Fprintf(w, "  TLS           %s and %s too (CA %s)\n",
				"wss"+strings.TrimPrefix(ep.WebSocketURL, "ws"), "https"+strings.TrimPrefix(ep.ConnectionsURL, "http"), g.opts.CA.CertFile)
		}
		var table strings.Builder
		tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
		for _, key := range routeKeys(st.routes) {
			fmt.Fprintf(tw, "  %s\t%s\n", key, describeRoute(st.routes[key]))
		}
		tw.Flush()
		for line := range strings.Lines(table.String()) {
			fmt.Fprintln(w, strings.TrimRight(line, " \n"))
		}
	}
}

// routeKeys orders $connect, $disconnect, $default first, then the custom keys.
func routeKeys(routes map[string]*routeState) []string {
	keys := make([]string, 0, len(routes))
	for k := range routes {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compile.CompareRouteKeys)
	return keys
}

// describeRoute is a route's line: integration, type, target, notes.
func describeRoute(rs *routeState) string {
	in := rs.route.Integration
	if in == nil {
		return "-\t-\t-\tno integration: messages answer Internal server error"
	}
	var notes []string
	if au := rs.auth; au != nil {
		if au.caller == nil {
			notes = append(notes, "authorizer "+au.a.LogicalID+" not runnable: "+au.why)
		} else if au.a.Overridden {
			notes = append(notes, "authorizer "+au.a.LogicalID+" at "+au.a.URI+" (--integration)")
		} else {
			notes = append(notes, "authorizer "+au.a.LogicalID)
		}
	}
	if rs.route.IAM {
		notes = append(notes, "AWS_IAM: SigV4-signed handshake required")
	}
	if rs.route.ApiKeyRequired {
		notes = append(notes, "API key required")
	}
	if rs.route.TwoWay {
		notes = append(notes, "two-way")
	}
	if nr, ok := rs.integ.(*notRunnable); ok {
		notes = append(notes, "not runnable: "+nr.reason)
	}
	return in.LogicalID + "\t" + in.Type + "\t" + cmp.Or(in.Target(), "-") + "\t" + strings.Join(notes, "; ")
}
