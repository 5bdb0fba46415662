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
	// Node is the name of the cluster node holding the connection (SPEC
	// §12); empty when the gateway is not part of a cluster.
	Node         string
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
// registry shared by several gateway processes (the NATS one, forwarding to
// the process that holds the socket) replaces the in-memory one.
//
// Lookup, Send and Close find the connection id of the Api with id api (any
// Api when api is empty) and answer ErrGone when there is none: a connection
// of another Api is gone for this one (SPEC ). They take the api and a
// context so that a remote holder checks the Api in the same round trip and
// a caller bounds the wait.
type Registry interface {
	Register(p Peer) error
	Unregister(id string)
	Lookup(ctx context.Context, api, id string) (ConnInfo, error)
	Send(ctx context.Context, api, id string, data []byte) error
	Close(ctx context.Context, api, id string, code int, reason string) error
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

// peer finds the open connection id of the Api api (any when empty).
func (r *memRegistry) peer(api, id string) (Peer, error) {
	r.mu.RLock()
	p, ok := r.peers[id]
	r.mu.RUnlock()
	if !ok {
		return nil, ErrGone
	}
	if api != "" {
		info, err := p.Info()
		if err != nil {
			return nil, err
		}
		if info.ApiID != api {
			return nil, ErrGone
		}
	}
	return p, nil
}

// has reports whether id is registered here (open or not).
func (r *memRegistry) has(id string) bool {
	r.mu.RLock()
	_, ok := r.peers[id]
	r.mu.RUnlock()
	return ok
}

func (r *memRegistry) Lookup(_ context.Context, api, id string) (ConnInfo, error) {
	p, err := r.peer(api, id)
	if err != nil {
		return ConnInfo{}, err
	}
	return p.Info()
}

func (r *memRegistry) Send(ctx context.Context, api, id string, data []byte) error {
	p, err := r.peer(api, id)
	if err != nil {
		return err
	}
	return p.Send(ctx, data)
}

func (r *memRegistry) Close(ctx context.Context, api, id string, code int, reason string) error {
	p, err := r.peer(api, id)
	if err != nil {
		return err
	}
	return p.Close(ctx, code, reason)
}
