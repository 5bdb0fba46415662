package inspect

import (
	"hash/maphash"
	"sync"
)

// connMap maps connection ids to their records. It is sharded so that
// readers of different connections rarely share a lock's counter, and its
// entries cost a map slot each (about 40 bytes with the map's room to grow;
// a sync.Map's cost about 130, SPEC ).
type connMap struct {
	seed   maphash.Seed
	shards [connShards]connShard
}

const connShards = 64

type connShard struct {
	mu sync.RWMutex
	m  map[string]*record
	_  [64 - 24 - 8]byte // a cache line each
}

func (m *connMap) shard(id string) *connShard {
	return &m.shards[maphash.String(m.seed, id)%connShards]
}

// init readies m (New calls it).
func (m *connMap) init() {
	m.seed = maphash.MakeSeed()
	for i := range m.shards {
		m.shards[i].m = map[string]*record{}
	}
}

// Load returns the record of id, or nil.
func (m *connMap) Load(id string) *record {
	s := m.shard(id)
	s.mu.RLock()
	r := s.m[id]
	s.mu.RUnlock()
	return r
}

// Store makes r the record of id.
func (m *connMap) Store(id string, r *record) {
	s := m.shard(id)
	s.mu.Lock()
	s.m[id] = r
	s.mu.Unlock()
}

// CompareAndDelete deletes id's record if it is r, and says whether it was.
func (m *connMap) CompareAndDelete(id string, r *record) bool {
	s := m.shard(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m[id] != r {
		return false
	}
	delete(s.m, id)
	return true
}

// each calls f with each record, from a copy of each shard's records taken
// under its lock (f may lock the record).
func (m *connMap) each(f func(*record)) {
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.RLock()
		rs := make([]*record, 0, len(s.m))
		for _, r := range s.m {
			rs = append(rs, r)
		}
		s.mu.RUnlock()
		for _, r := range rs {
			f(r)
		}
	}
}
