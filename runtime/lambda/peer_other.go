//go:build !linux

package lambda

import "net"

// peerCheck: only Linux tells who holds the other end of a local TCP
// connection; elsewhere every connection to the Runtime API is let through.
func peerCheck(net.Conn, int) (ok, known bool) { return false, false }
