package lambda

import (
	"errors"
	"io/fs"
	"path/filepath"
	"sync"
	"syscall"
)

// inotifyWatch watches every directory of a function's code but those of
// skipDirs (node_modules itself is watched, so that installing or removing a
// package is noticed, not its contents). Any event means a change: the
// generation goes up and the watches are set up again from a fresh walk at
// the next call, which also covers directories created meanwhile. Processes
// started after that walk load the code as it is then, so no save is missed.
type inotifyWatch struct {
	dir string

	mu     sync.Mutex
	fd     int // -1: to be set up
	closed bool
	gen    uint64
	buf    [4096]byte
	// walk answers while the directory cannot be watched (gone, or out of
	// inotify watches).
	walk walkWatch
}

const inotifyMask = syscall.IN_MODIFY | syscall.IN_ATTRIB | syscall.IN_CLOSE_WRITE | syscall.IN_CREATE |
	syscall.IN_DELETE | syscall.IN_DELETE_SELF | syscall.IN_MOVED_FROM | syscall.IN_MOVED_TO | syscall.IN_MOVE_SELF

func newInotifyWatch(dir string) (*inotifyWatch, error) {
	w := &inotifyWatch{dir: dir, fd: -1, gen: 1, walk: walkWatch{dir: dir}}
	if err := w.setUp(); err != nil {
		return nil, err
	}
	return w, nil
}

// setUp makes a new inotify descriptor watching the directories of w.dir.
func (w *inotifyWatch) setUp() error {
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	if err != nil {
		return err
	}
	n := 0
	err = filepath.WalkDir(w.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == w.dir {
				return err
			}
			return nil
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != w.dir && skipDirs[name] && name != "node_modules" {
			return filepath.SkipDir
		}
		if n++; n > maxFingerprintEntries {
			return errors.New("too many directories")
		}
		if _, err := syscall.InotifyAddWatch(fd, path, inotifyMask); err != nil {
			return err
		}
		if path != w.dir && name == "node_modules" {
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		syscall.Close(fd)
		return err
	}
	w.fd = fd
	return nil
}

func (w *inotifyWatch) generation() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return w.gen
	}
	if w.fd < 0 {
		if err := w.setUp(); err != nil {
			return w.walk.generation()
		}
	}
	changed := false
	for {
		n, err := syscall.Read(w.fd, w.buf[:])
		if n > 0 {
			changed = true
			continue
		}
		if err == syscall.EINTR {
			continue
		}
		break // EAGAIN: nothing (more) pending
	}
	if changed {
		w.gen++
		syscall.Close(w.fd)
		w.fd = -1
		if err := w.setUp(); err != nil {
			return w.walk.generation()
		}
	}
	return w.gen
}

func (w *inotifyWatch) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	if w.fd >= 0 {
		syscall.Close(w.fd)
		w.fd = -1
	}
}
