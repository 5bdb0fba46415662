// Package runtime is the local API Gateway WebSocket gateway: it serves a
// compiled *compile.Plan and never reads a template.
//
// A Gateway runs one HTTP server per Api (SPEC ). Each server answers
// WebSocket handshakes on the stage paths (ws://ADDR/<stage>, ws://ADDR/ for a
// $default stage) and the @connections management API on
// /<stage>/@connections/<id> (SPEC §8).
//
// # Plans
//
// The current plan and everything provisioned from it (stage and route
// indexes, prepared integrations, access log formats, throttling buckets) is
// one immutable snapshot held in an atomic pointer; every message loads it
// once, and Swap replaces it without touching sockets, because connections
// belong to the gateway, not to a plan. Throttling buckets start full again
// after a Swap. An Api a Swap adds is served on the next free port; one it
// removes keeps its port, answering 403, until it comes back. A Swap also
// tells the Invoker, when it keeps functions warm (the local runner's
// Retain), which functions the new plan has, so that the processes of those
// it renamed or removed stop.
//
// A plan is plain data, and what runs is built from it once, when it is
// provisioned: selection expressions and body paths compiled, the $context
// variables of mappings, identity sources and access logs resolved to
// accessors, mapping templates parsed, response patterns and model schemas
// compiled, URLs parsed and HTTP calls prepared. Nothing on the per-message
// path parses an expression or a template, and a plan read back from `wsgw
// plan --format json` serves as the plan it was written from. A message is
// not decoded either: jsonValid checks it is one JSON value (what
// encoding/json accepts) and each body path reads its value straight from
// the text (jsonscan.go); only model validation decodes the whole message.
//
// A Reloader (SPEC §9) watches the template's directory (inotify on Linux,
// asking only for the events about the template; fsnotify elsewhere),
// debounces the events for the template's name, rebuilds the plan through a
// BuildFunc the command passes in (so this package never reads templates),
// and swaps a good plan in; a template with errors leaves the plan serving.
// compile.Diff names what a reload changed.
//
// # Connections
//
// A connection is three parts with a lock each (conn.go): its lifecycle
// (connecting → open → closing → closed, changed in one place, conn.move),
// its inbox and its send queue. One reader goroutine reads frames, so that
// pings are answered and close frames seen as they come. A message that
// finds the inbox empty and no handler running is handled by the reader
// itself, and its answer written by it too when nothing else is being
// written and the socket's send queue is near empty: a message then costs
// no goroutine hand-off. When a backend call outlasts 20 ms, a new goroutine
// takes over the reading, so pings and closes are still answered while the
// call runs; the old one stays the handler until the inbox is empty. The
// handler handles messages one at a time, in the order they arrived (SPEC
// When the inbox is full (Options.MessageQueue messages or
// Options.MessageQueueBytes bytes) the reader waits for room and stops
// reading: TCP then pushes back on the client, and its pings wait too. An
// idle connection holds just the reader, blocked a few frames deep (2 KB of
// stack), and a 512-byte read buffer. One writer at a time: a frame that
// finds the send queue busy waits in it, and a writer goroutine runs only
// while frames wait, so route responses and @connections posts leave in
// the order they were accepted. The send queue is bounded
// (Options.SendQueue frames, Options.SendQueueBytes bytes): a client that
// does not read makes it overflow, and the connection is then closed with
// 1008 "Slow consumer" and its queued frames dropped, so a slow reader never
// makes the gateway buffer without bound. Each write has a deadline
// (Options.WriteTimeout); a write that misses it drops the connection.
//
// Closing: whoever closes, the connection leaves the registry at once (so
// @connections answers 410), the messages in the inbox that have not started
// are dropped, the close frame is queued behind the frames already accepted,
// the reader waits Options.CloseGrace for the client's close frame, then the
// TCP connection is closed and $disconnect runs at once (SPEC ). An
// integration call in flight goes on to its end or its timeout, as on AWS,
// where the message's integration request and $disconnect's are independent;
// its answer reaches no one. So a client that leaves during a 29 s call gets
// its $disconnect at once, and a backend that deletes the connection while
// answering sees its request complete normally (our choice). A lost TCP
// connection is reported to $disconnect as 1006. $disconnect runs from the
// connection's stage in the current plan or, when a Swap dropped the stage
// (and closed the connection with 1001, SPEC ), from the stage as the
// last plan that had it compiled it.
//
// # Limits
//
// gorilla/websocket reads whole messages and does not expose frame sizes, so
// the gateway wraps the hijacked net.Conn in a frame-header parser
// (frameLimiter) that follows the client→gateway byte stream, decodes each
// frame header (RFC 6455 §5.2) and skips its payload by count. A data or
// continuation frame longer than Options.MaxFrameBytes, or one that makes its
// message longer than Options.MaxMessageBytes, stops the stream at that
// frame's first byte: the messages before it are still handled, then the
// connection is closed with 1009. Both limits are checked on declared
// lengths, before any payload is buffered.
//
// Idle means nothing (data, ping or pong) arrived from the client for
// Options.IdleTimeout; frames the gateway sends do not count (our choice).
// Idle and Options.MaxConnDuration both close with 1001 "Going away".
// Throttling gives every route its own token bucket with the route's
// Throttle, else its stage's (RouteSettings and DefaultRouteSettings are
// per-route limits on API Gateway); it applies to messages, not to $connect.
// The template's values are taken literally: the burst is the bucket's size,
// so a burst of 0 throttles every message whatever the rate.
//
// # Logs
//
// The event log (Options.LogOutput) and the access log (Options.AccessLog)
// are written by a goroutine each, which writes the lines waiting in one
// write (after letting them gather for 2 ms), through a queue of
// Options.LogQueue lines, so an output that does not keep up (a pipe nobody
// reads) never holds up a connection: lines that find the queue full are
// dropped and counted, and Shutdown writes out the queues (for at most 2 s) and reports
// the drops in one warning line. A request for a stage the Api does not have
// answers 403 with a JSON message naming the stages served, and logs it as a
// warning.
//
// # Lambda
//
// AWS_PROXY integrations and $connect REQUEST authorizers invoke their
// function one of the ways of SPEC, chosen when a plan is provisioned:
// an --integration URL (the event POSTed as JSON), the Lambda Invoke API at
// Options.LambdaEndpoint, or Options.Lambda (runtime/lambda's Runner, which
// Start makes through Options.NewLambda once it knows the addresses the
// functions must reach). Events are built per call from the event (see
// lambda_event.go); the Lambda answer is parsed into the same result an HTTP
// integration gives, with the headers a $connect response adds to the
// handshake. An authorizer runs before $connect's integration; what it allowed
// is kept with the connection (connMeta.auth) for $context.authorizer.* and
// requestContext.authorizer.
//
// With Options.CA, every port answers TLS too: a demultiplexing listener
// reads each connection's first byte (0x16, a TLS handshake record, or not)
// and hands it to one of two listeners the same http.Server serves.
//
// Options.Observer (the inspector of runtime/inspect, a recorder) sees every
// event of every connection (SPEC) through one hook, observe.go: each
// connection carries a *tracer that is nil when there is no observer and no
// body logging, so the per-message cost then is a nil check at each point
// (handshake, message in, route, integration request and response, frame
// out, @connections call, error, disconnect), and no allocation.
//
// # Clusters
//
// With Options.Cluster the gateway is one node of several sharing their
// connections through NATS (SPEC §12, cluster.go): its Registry keeps the
// node's own connections in memory and subscribes each connection's id as
// the NATS subject wsgw.conn.<id>; @connections calls for an id held
// elsewhere are NATS requests to that subject, answered by the holder, and
// "no responders" (no holder, a dead node, NATS away) is 410. Connection
// ids end with the node's tag. Nothing on the message path touches NATS,
// so an outage stops no local traffic; Gateway.Cluster and Gateway.Node
// describe the node (for the inspector).
//
// # Choices the SPEC leaves open
//
//   - @connections posts, and two-way responses, are sent as text frames when
//     they are valid UTF-8, else as binary frames.
//   - The @connections API of an Api reaches only that Api's connections
//     (another Api's ids are gone); any stage of the Api may address them.
//   - A two-way response body longer than Options.MaxResponseBytes is an
//     integration error (SPEC ).
//   - In route selection a JSON null is missing (empty), and an object is
//     written {a=1, b=2} with sorted keys.
//   - A Lambda answer of null, or without statusCode, is 200; one that is
//     not a JSON object, or whose body is not a string, is malformed.
//   - An authorizer's function error (other than "Unauthorized"), timeout or
//     answer without policyDocument refuses the handshake with 500, as API
//     Gateway's AUTHORIZER_FAILURE and AUTHORIZER_CONFIGURATION_ERROR do for
//     REST APIs; context values reach events as strings.
package runtime
