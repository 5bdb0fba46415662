//go:build !unix || aix

package runtime

import "net"

// h1Peekable says that h1Peek can tell a closed connection from an open one:
// not here, so h1Transport hands every call to net/http's Transport.
const h1Peekable = false

func h1Peek(net.Conn) bool { return false }
