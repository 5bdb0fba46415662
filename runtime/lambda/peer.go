package lambda

import (
	"log/slog"
	"net"
)

// peerListener is the Runtime API listener of one process: it closes the
// connections another local process opens (see peerCheck), so that only the
// function's own process group can take and answer its invocations.
type peerListener struct {
	net.Listener
	pgid     int
	function string
	log      *slog.Logger
}

func (l *peerListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if ok, known := peerCheck(c, l.pgid); ok || !known {
			return c, nil
		}
		l.log.Warn("lambda runtime API: refused a connection from a process outside the function", "function", l.function, "from", c.RemoteAddr().String())
		c.Close()
	}
}
