package runtime

import (
	"crypto/rand"
	"encoding/binary"
	"sync/atomic"
)

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

var (
	idCounter atomic.Uint64
	idKeys    = func() (k [2]uint64) {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			panic("wsgw: crypto/rand failed: " + err.Error())
		}
		return [2]uint64{binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])}
	}()
)

// newID returns 15 letters and digits followed by "=", the shape of API
// Gateway connection, request and message ids (SPEC ). The first 11
// characters encode a process-wide counter through a keyed bijection of
// 64-bit integers, so no two ids of one process are equal; the last 4 mix the
// counter with a second key. Ids look random and cost no system call.
func newID() string {
	n := idCounter.Add(1)
	var out [16]byte
	encode62(out[:11], mix(n^idKeys[0]))
	encode62(out[11:15], mix(n+idKeys[1]))
	out[15] = '='
	return string(out[:])
}

// newIDPair returns two ids of newID's shape in one allocation: a message's
// request and message ids.
func newIDPair() (string, string) {
	var out [32]byte
	for i := 0; i < 32; i += 16 {
		n := idCounter.Add(1)
		encode62(out[i:i+11], mix(n^idKeys[0]))
		encode62(out[i+11:i+15], mix(n+idKeys[1]))
		out[i+15] = '='
	}
	s := string(out[:])
	return s[:16], s[16:]
}

// mix is a bijection on uint64 (xor-shifts and multiplications by odd
// constants, from splitmix64), so distinct inputs give distinct outputs.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// encode62 writes x in base 62 into dst, least significant digit last; 11
// digits hold any uint64 (62^11 > 2^64).
func encode62(dst []byte, x uint64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = idAlphabet[x%62]
		x /= 62
	}
}

// newNodeID returns an id of the shape of newID whose last 4 characters are
// tag, a cluster node's own (SPEC ): the first 11 are unique within the
// process, so ids of nodes with different tags never meet.
func newNodeID(tag string) string {
	id := []byte(newID())
	copy(id[11:15], tag)
	return string(id)
}

// nodeTagLen is the length of a node tag, the end of its connection ids.
const nodeTagLen = 4

// idTag returns the node tag an id ends with ("" when it has not the shape
// of a connection id).
func idTag(id string) string {
	if len(id) != 16 || id[15] != '=' {
		return ""
	}
	return id[11:15]
}

// newNodeTag returns nodeTagLen random letters and digits.
func newNodeTag() string {
	var b [nodeTagLen]byte
	var r [8]byte
	if _, err := rand.Read(r[:]); err != nil {
		panic("wsgw: crypto/rand failed: " + err.Error())
	}
	encode62(b[:], binary.LittleEndian.Uint64(r[:]))
	return string(b[:])
}
