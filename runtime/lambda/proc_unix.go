//go:build unix

package lambda

import (
	"io/fs"
	"os"
	"os/exec"
	"syscall"
)

// setProcAttrs puts the function process in its own process group, so that a
// timeout or Close kills whatever it started too.
func setProcAttrs(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	setParentDeathSignal(cmd.SysProcAttr)
}

// killGroup kills the process group led by p.
func killGroup(p *os.Process) {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil {
		_ = p.Kill()
	}
}

func isExecutable(st fs.FileInfo) bool { return st.Mode()&0o111 != 0 }

// socketPair returns the two ends of a connected Unix stream socket, both
// close-on-exec: the frame channel of the runtime loops wsgw writes itself
// (the child's end is passed to it with exec.Cmd.ExtraFiles, which clears
// the flag on the child's copy).
func socketPair() (parent, child *os.File, err error) {
	syscall.ForkLock.RLock()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fds[0])
		syscall.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, nil, err
	}
	return os.NewFile(uintptr(fds[0]), "wsgw-runtime-channel"), os.NewFile(uintptr(fds[1]), "function-runtime-channel"), nil
}
