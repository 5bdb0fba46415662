package runtime

import (
	"io"
	"log/slog"
	"time"
)

// Options configures a Gateway. A zero limit turns that limit off; start from
// DefaultOptions for the limits API Gateway applies (SPEC §10).
type Options struct {
	// Addr is the HOST:PORT of the first Api; each next Api listens on the
	// next port (SPEC ). With port 0 every Api gets its own free port.
	Addr string

	// MaxMessageBytes closes a connection sending a longer message with 1009
	// and bounds @connections POST bodies (413) (SPEC ).
	MaxMessageBytes int
	// MaxFrameBytes closes a connection sending a longer frame with 1009.
	MaxFrameBytes int
	// IdleTimeout closes a connection from which nothing arrived for that
	// long with 1001 "Going away" (SPEC ).
	IdleTimeout time.Duration
	// MaxConnDuration closes a connection open for that long with 1001.
	MaxConnDuration time.Duration
	// AllowBinary routes binary frames from clients to $default, base64-encoded
	// (our choice, for development). Off, as on API Gateway, a binary frame
	// closes the connection with 1003 (SPEC ).
	AllowBinary bool
	// Throttling applies the stage and route token buckets (SPEC ).
	Throttling bool

	// SendQueue and SendQueueBytes bound the frames waiting to be written to
	// one connection; past either, the connection is closed with 1008.
	SendQueue      int
	SendQueueBytes int
	// MessageQueue and MessageQueueBytes bound the messages read from one
	// connection and waiting for their turn (SPEC ): past either, the
	// gateway stops reading that connection until the message being handled
	// is done, so TCP pushes back on the client (pings then wait too). A
	// message always fits an empty queue.
	MessageQueue      int
	MessageQueueBytes int
	// WriteTimeout bounds the write of one frame; a client that does not
	// read for that long loses its connection.
	WriteTimeout time.Duration
	// CloseGrace is how long the gateway waits for the client's close frame
	// after sending its own before closing the TCP connection.
	CloseGrace time.Duration
	// MaxResponseBytes bounds the integration response body the gateway reads
	// for a two-way route; a longer one is an integration error (SPEC ).
	MaxResponseBytes int
	// MaxIdleConnsPerHost sizes the shared HTTP client's connection pool.
	MaxIdleConnsPerHost int

	// LogOutput receives one line per event (connect, message, disconnect)
	// and the gateway's warnings, in LogFormat ("text", the default, or
	// "json"). AccessLog receives the stages' AccessLogSettings.Format lines;
	// nil turns the access log off. Both are written by a goroutine of their
	// own through a queue of LogQueue lines (at least 1): an output that does not keep up
	// loses lines (counted, and reported in one warning by Shutdown, which
	// flushes both) instead of holding up connections.
	LogOutput io.Writer
	LogFormat string
	// LogLevel is the least level LogOutput gets (nil: info).
	LogLevel  slog.Leveler
	AccessLog io.Writer
	LogQueue  int
	// Lambda runs the functions of the template for AWS_PROXY integrations
	// and authorizers (SPEC, third way), typically runtime/lambda's
	// Runner. NewLambda, used when Lambda is nil, makes one once the gateway
	// listens: Start calls it with the environment the functions need to reach
	// the gateway (see Gateway.FunctionEnv), and Shutdown closes it (when it
	// has a Close method) after the last $disconnect.
	Lambda    Invoker
	NewLambda func(env map[string]string) (Invoker, error)
	// LambdaEndpoint is the Lambda Invoke API (--lambda-endpoint) Lambda
	// integrations and authorizers call, before any local runner.
	LambdaEndpoint string
	// APIKeys are the keys (--api-key) a $connect route with ApiKeyRequired
	// accepts in its x-api-key header.
	APIKeys []string
	// CA, when set, makes every Api's port answer TLS as well as plain
	// HTTP and WebSocket (https://, wss://), with a certificate for
	// 127.0.0.1, ::1, localhost and the Addr host that CA signs.
	CA *CA

	// Cluster, when set, makes the gateway a node of a cluster sharing its
	// connections through the NATS servers it lists (comma-separated
	// nats://HOST:PORT URLs, SPEC §12). NodeName names the node (default:
	// the host name and the port of Addr).
	Cluster  string
	NodeName string

	// Logger, when set, receives the event log instead of LogOutput. It is
	// called on the connections' goroutines: a handler that blocks holds them
	// up. Nil and no LogOutput discard the event log.
	Logger *slog.Logger

	// Observer, when set, receives every event of every connection (SPEC
	// the inspector, a recorder. Nil costs nothing per message.
	Observer Observer
	// LogBodies, when above 0, makes the event log lines show message
	// bodies and integration requests and responses, each cut to that many
	// bytes with its size.
	LogBodies int

	// lambda holds the gateway's Invoker (set by New and Start).
	lambda *lambdaHost
}

// DefaultOptions returns the limits of Amazon API Gateway (SPEC §10) and the
// gateway's own defaults, listening on 127.0.0.1:3001.
func DefaultOptions() Options {
	return Options{
		Addr:                "127.0.0.1:3001",
		MaxMessageBytes:     128 << 10,
		MaxFrameBytes:       32 << 10,
		IdleTimeout:         10 * time.Minute,
		MaxConnDuration:     2 * time.Hour,
		Throttling:          true,
		SendQueue:           1024,
		SendQueueBytes:      4 << 20,
		MessageQueue:        100,
		MessageQueueBytes:   1 << 20,
		WriteTimeout:        10 * time.Second,
		CloseGrace:          2 * time.Second,
		MaxResponseBytes:    128 << 10,
		MaxIdleConnsPerHost: 256,
		LogQueue:            4096,
	}
}
