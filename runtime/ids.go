package runtime

import "crypto/rand"

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// newID returns 15 random letters and digits followed by "=", the shape of
// API Gateway connection, request and message ids (SPEC ): about 89
// bits from crypto/rand, without modulo bias (bytes ≥ 248 are redrawn).
func newID() string {
	var out [16]byte
	var buf [24]byte
	n := 0
	for n < 15 {
		if _, err := rand.Read(buf[:]); err != nil {
			panic("wsgw: crypto/rand failed: " + err.Error())
		}
		for _, c := range buf {
			if c >= 248 { // 248 = 4*62
				continue
			}
			out[n] = idAlphabet[c%62]
			n++
			if n == 15 {
				break
			}
		}
	}
	out[15] = '='
	return string(out[:])
}
