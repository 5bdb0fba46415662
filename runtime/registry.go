package runtime

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrGone is returned for a connection id that is unknown, closed, or whose
// $connect has not finished (SPEC ).
var ErrGone = errors.New("connection is gone")

// errIDInUse is returned by Register for an id already registered.
var errIDInUse = errors.New("connection id in use")

// ConnInfo describes a connection for the @connections API (SPEC ).
type ConnInfo struct {
	ID string
	// ApiID is the Api's id ($context.apiId) and Stage the stage name.
	ApiID, Stage string
	ConnectedAt  time.Time
	LastActiveAt time.Time
	SourceIP     string
	UserAgent    string
}

// Peer is a connection as the registry sees it. Its methods answer ErrGone
// once the connection is closing or while its $connect runs.
type Peer interface {
	ID() string
	Info() (ConnInfo, error)
	// Send queues one frame behind those already accepted and returns once it
	// is written (or failed).
	Send(ctx context.Context, data []byte) error
	// Close sends a close frame with code and reason behind the frames
	// already accepted and returns once it is written.
	Close(ctx context.Context, code int, reason string) error
}

// Registry holds the open connections by id. The gateway registers a peer
// when its handshake starts (reserving the id) and unregisters it when it
// closes; the @connections API goes through Lookup, Send and Close only, so a
// registry shared by several gateway processes (on Redis or NATS, forwarding
// to the process that holds the socket) can replace the in-memory one.
type Registry interface {
	Register(p Peer) error
	Unregister(id string)
	Lookup(id string) (ConnInfo, error)
	Send(ctx context.Context, id string, data []byte) error
	Close(ctx context.Context, id string, code int, reason string) error
}

// memRegistry is the in-process Registry.
type memRegistry struct {
	mu    sync.RWMutex
	peers map[string]Peer
}

var _ Registry = (*memRegistry)(nil)

func newMemRegistry() *memRegistry { return &memRegistry{peers: map[string]Peer{}} }

func (r *memRegistry) Register(p Peer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.peers[p.ID()]; ok {
		return errIDInUse
	}
	r.peers[p.ID()] = p
	return nil
}

func (r *memRegistry) Unregister(id string) {
	r.mu.Lock()
	delete(r.peers, id)
	r.mu.Unlock()
}

func (r *memRegistry) peer(id string) (Peer, error) {
	r.mu.RLock()
	p, ok := r.peers[id]
	r.mu.RUnlock()
	if !ok {
		return nil, ErrGone
	}
	return p, nil
}

func (r *memRegistry) Lookup(id string) (ConnInfo, error) {
	p, err := r.peer(id)
	if err != nil {
		return ConnInfo{}, err
	}
	return p.Info()
}

func (r *memRegistry) Send(ctx context.Context, id string, data []byte) error {
	p, err := r.peer(id)
	if err != nil {
		return err
	}
	return p.Send(ctx, data)
}

func (r *memRegistry) Close(ctx context.Context, id string, code int, reason string) error {
	p, err := r.peer(id)
	if err != nil {
		return err
	}
	return p.Close(ctx, code, reason)
}
