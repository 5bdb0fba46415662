//go:build unix && !aix

package runtime

import (
	"net"
	"syscall"
)

// h1Peekable says that h1Peek can tell a closed connection from an open one.
const h1Peekable = true

// h1Peek reports whether a kept connection is still open with nothing to
// read: one recv with MSG_PEEK|MSG_DONTWAIT, which net/http learns from a
// reader goroutine per connection instead.
func h1Peek(nc net.Conn) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	open := false
	err = rc.Read(func(fd uintptr) bool {
		err := peekSocket(fd)
		open = err == syscall.EAGAIN || err == syscall.EWOULDBLOCK
		return true
	})
	return err == nil && open
}

// peekSocket looks at the socket fd without waiting or reading: EAGAIN
// (EWOULDBLOCK) when it has nothing to read, nil when it has a byte or the
// peer closed it, else the socket's error.
func peekSocket(fd uintptr) error {
	var b [1]byte
	_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return err
}
