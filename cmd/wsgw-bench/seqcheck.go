package main

// The kinds of frame a load connection receives, one per route of load.yaml:
// route responses of the two-way "echo" route, and @connections posts the
// backend of the one-way "post" route makes.
const (
	kindEcho = iota
	kindPost
	numKinds
)

var kindNames = [numKinds]string{"echo", "post"}

// seqCheck follows the sequence numbers one connection receives and tells
// lost, duplicated and reordered messages apart. Every message the
// connection sends gets the next sequence number (1, 2, ...) and comes back
// once, either as a route response or as a post; since a connection's
// messages are handled in order and its frames leave in the order accepted
// (SPEC ), they must come back in sequence order, whatever their kind.
//
//   - duplicated: a sequence number that came back before;
//   - reordered: one that comes back after a higher one did;
//   - lost: one sent that never came back (counted by lost, at the end).
//
// A reordered message is not also lost, and a lost one is not also reordered
// with respect to those after it: each fault counts once.
type seqCheck struct {
	seen     []uint64 // bitmap of the sequence numbers received
	maxSeen  int
	received int
}

// seqVerdict is what observe says of one sequence number.
type seqVerdict int

const (
	seqOK seqVerdict = iota
	seqDuplicate
	seqReordered
	seqInvalid // not a sequence number that can have been sent
)

// observe records the arrival of seq.
func (c *seqCheck) observe(seq int) seqVerdict {
	if seq < 1 {
		return seqInvalid
	}
	w, b := (seq-1)/64, uint64(1)<<((seq-1)%64)
	for len(c.seen) <= w {
		c.seen = append(c.seen, 0)
	}
	if c.seen[w]&b != 0 {
		return seqDuplicate
	}
	c.seen[w] |= b
	c.received++
	if seq < c.maxSeen {
		return seqReordered
	}
	c.maxSeen = seq
	return seqOK
}

// has reports whether seq was received.
func (c *seqCheck) has(seq int) bool {
	w := (seq - 1) / 64
	return seq >= 1 && w < len(c.seen) && c.seen[w]&(uint64(1)<<((seq-1)%64)) != 0
}

// lost calls f for each of the sequence numbers 1..sent never received.
func (c *seqCheck) lost(sent int, f func(seq int)) {
	for seq := 1; seq <= sent; seq++ {
		if !c.has(seq) {
			f(seq)
		}
	}
}
