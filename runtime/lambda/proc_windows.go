package lambda

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
)

func setProcAttrs(*exec.Cmd) {}

// killGroup kills p (Windows has no process groups to kill with one call;
// children a function starts may outlive it).
func killGroup(p *os.Process) { _ = p.Kill() }

func isExecutable(fs.FileInfo) bool { return true }

// socketPair: on Windows the runtime loops use the Runtime API over HTTP.
func socketPair() (parent, child *os.File, err error) { return nil, nil, errors.ErrUnsupported }
