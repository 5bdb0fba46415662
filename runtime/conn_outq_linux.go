package runtime

import (
	"syscall"
	"unsafe"
)

// initBacklog finds the socket under w, for backlogged.
func (w *wire) initBacklog() {
	sc := socketOf(w.Conn)
	if sc == nil {
		return
	}
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
