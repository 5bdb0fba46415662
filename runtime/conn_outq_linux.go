package runtime

import (
	"syscall"
	"unsafe"
)

// initBacklog finds the socket under w, for backlogged and waitReadable.
func (w *wire) initBacklog() {
	sc, tls := socketOf(w.Conn)
	if sc == nil {
		return
	}
	w.canWait = !tls
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	w.rc = rc
	w.outqFn = func(fd uintptr) {
		_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&w.outq)))
		if errno != 0 {
			w.outq = -1
		}
	}
}

// backlogged reports whether a frame of n bytes may have to wait for the
// client to read: the kernel's send queue (SIOCOUTQ: bytes not yet
// acknowledged) and n together pass directWriteMax. Only the holder of the
// writer role calls it.
func (w *wire) backlogged(n int) bool {
	if w.rc == nil || n > directWriteMax {
		return true
	}
	if err := w.rc.Control(w.outqFn); err != nil || w.outq < 0 {
		return true
	}
	return int(w.outq)+n > directWriteMax
}

// waitReadable waits until the socket has something to read, when the
// WebSocket reader holds nothing read and not yet used (it has returned
// msgs messages and the frame limiter saw them end the stream), so that an
// idle connection's reader blocks here, a few frames deep, rather than deep
// in the WebSocket reader: its goroutine keeps the smallest stack. A TLS
// connection, whose own buffer may hold bytes, does not wait here. Errors
// (a deadline, a closed connection) are left to the next read.
func (w *wire) waitReadable(msgs int64) {
	fl, ok := w.Conn.(*frameLimiter)
	if !ok || !w.canWait || !fl.atMessageEnd(msgs) {
		return
	}
	_ = w.rc.Read(peekReadable)
}

// peekReadable is done (true) once the socket has a byte to read, or an
// error to give.
func peekReadable(fd uintptr) bool {
	return peekSocket(fd) != syscall.EAGAIN
}
