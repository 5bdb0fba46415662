package lambda

import "syscall"

// setParentDeathSignal makes the kernel kill the function process if wsgw dies
// without running Close.
func setParentDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
