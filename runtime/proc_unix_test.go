//go:build unix

package runtime

import "syscall"

// processAlive reports whether pid exists (a process the runner reaped does not).
func processAlive(pid int) bool { return syscall.Kill(pid, 0) == nil }
