package runtime

import (
	"fmt"
	"io"
	"net"
	"sort"

	"github.com/wsgw/wsgw/compile"
)

// setupLambda prepares what Lambda integrations need before the first plan
// is provisioned: the Invoker holder and, with a CA, the TLS configuration.
func (g *Gateway) setupLambda() error {
	g.opts.lambda = &lambdaHost{}
	if g.opts.Lambda != nil {
		g.opts.lambda.inv.Store(&invokerBox{g.opts.Lambda})
	}
	if g.opts.CA != nil {
		host, _, _ := net.SplitHostPort(g.opts.Addr)
		cfg, err := g.opts.CA.serverConfig(host)
		if err != nil {
			return fmt.Errorf("TLS certificate: %w", err)
		}
		g.tlsConfig = cfg
	}
	return nil
}

// startLambda makes the Invoker with Options.NewLambda once the gateway
// listens, so that it can tell the functions where the gateway is. g.mu is held.
func (g *Gateway) startLambda() error {
	if g.opts.Lambda != nil || g.opts.NewLambda == nil {
		return nil
	}
	inv, err := g.opts.NewLambda(g.functionEnv(g.servers))
	if err != nil {
		return fmt.Errorf("Lambda runner: %w", err)
	}
	if inv != nil {
		g.lambdaOwned = inv
		g.opts.lambda.inv.Store(&invokerBox{inv})
	}
	return nil
}

// retainer is an Invoker that keeps functions warm (the local runner):
// Retain stops those whose logical IDs are not listed.
type retainer interface {
	Retain(logicalIDs []string)
}

// retainFunctions tells the Invoker, when it keeps functions warm, which
// functions p has, so that the processes of those a reload renamed or
// removed stop.
func (g *Gateway) retainFunctions(p *compile.Plan) {
	r, ok := g.opts.lambda.get().(retainer)
	if !ok {
		return
	}
	ids := make([]string, 0, len(p.Functions))
	for id := range p.Functions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	r.Retain(ids)
}

// closeLambda closes the Invoker NewLambda made (its processes end).
func (g *Gateway) closeLambda() {
	switch c := g.lambdaOwned.(type) {
	case io.Closer:
		_ = c.Close()
	case interface{ Close() }:
		c.Close()
	}
}

// FunctionEnv returns the environment variables the functions the gateway
// runs need to reach it (after Start): AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI,
// the @connections endpoint of the first stage of the first Api (so that SDK
// clients made without an endpoint post to it), and, when the gateway has a
// CA, NODE_EXTRA_CA_CERTS, SSL_CERT_FILE and AWS_CA_BUNDLE naming the CA's
// certificate, so that Node.js, Python, Go and the AWS SDKs trust the
// gateway's https:// endpoint (built from requestContext.domainName).
func (g *Gateway) FunctionEnv() map[string]string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.functionEnv(g.servers)
}

func (g *Gateway) functionEnv(servers []*apiServer) map[string]string {
	env := map[string]string{}
	scheme := "http"
	if g.opts.CA != nil {
		scheme = "https"
		for _, k := range []string{"NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "AWS_CA_BUNDLE"} {
			env[k] = g.opts.CA.CertFile
		}
	}
	plan := g.snap.Load().plan
	for _, api := range plan.Apis {
		for _, s := range servers {
			if s.apiLogicalID != api.LogicalID || len(api.Stages) == 0 {
				continue
			}
			path := ""
			if seg := stageSegment(api.Stages[0]); seg != "" {
				path = "/" + seg
			}
			env["AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI"] = scheme + "://" + s.domainName + path
			return env
		}
	}
	return env
}
