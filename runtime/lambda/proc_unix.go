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
