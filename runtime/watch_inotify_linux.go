//go:build linux

package runtime

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The inotify events watched. On the directory: entries created, removed or
// renamed (the template saved by rename, or removed) and the directory's own
// removal or renaming, but not writes to the files in it. On the template:
// writes (and the close after them), through the path, so a template that is
// a symbolic link is watched at its target.
const (
	inotifyDirMask = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO |
		unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR
	inotifyFileMask = unix.IN_MODIFY | unix.IN_CLOSE_WRITE
)

// inotifyWatch is the Linux dirWatch: one inotify instance with a watch on
// the directory and one on the template, read through the runtime's poller.
type inotifyWatch struct {
	path, dir, base string
	fd              int
	f               *os.File
	changes, lost   chan struct{}
	errs            chan error
	delivered       atomic.Int64

	mu            sync.Mutex
	dirWd, fileWd int // -1 when not watched
}

var _ dirWatch = (*inotifyWatch)(nil)

func newDirWatch(path string) (dirWatch, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, os.NewSyscallError("inotify_init1", err)
	}
	w := &inotifyWatch{path: path, dir: filepath.Dir(path), base: filepath.Base(path), fd: fd,
		f: os.NewFile(uintptr(fd), "inotify"), changes: make(chan struct{}, 1), lost: make(chan struct{}, 1),
		errs: make(chan error, 1), dirWd: -1, fileWd: -1}
	go w.read()
	return w, nil
}

func (w *inotifyWatch) Changes() <-chan struct{} { return w.changes }
func (w *inotifyWatch) Lost() <-chan struct{}    { return w.lost }
func (w *inotifyWatch) Errors() <-chan error     { return w.errs }
func (w *inotifyWatch) Delivered() int64         { return w.delivered.Load() }
func (w *inotifyWatch) Close() error             { return w.f.Close() }

func (w *inotifyWatch) Watching() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dirWd >= 0
}

func (w *inotifyWatch) Watch() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	wd, err := unix.InotifyAddWatch(w.fd, w.dir, inotifyDirMask)
	if err != nil {
		return &os.PathError{Op: "watch", Path: w.dir, Err: err}
	}
	w.dirWd = wd
	w.watchFile()
	return nil
}

// watchFile watches the template as it is now (a new file after a save by
// rename), dropping the watch of the one it replaced. w.mu is held.
func (w *inotifyWatch) watchFile() {
	wd, err := unix.InotifyAddWatch(w.fd, w.path, inotifyFileMask)
	if err != nil {
		wd = -1 // not there (yet): its creation in the directory brings it back
	}
	if w.fileWd >= 0 && w.fileWd != wd {
		_, _ = unix.InotifyRmWatch(w.fd, uint32(w.fileWd))
	}
	w.fileWd = wd
}

// read reads events until Close.
func (w *inotifyWatch) read() {
	buf := make([]byte, 64<<10)
	for {
		n, err := w.f.Read(buf)
		if err != nil {
			if !errors.Is(err, os.ErrClosed) {
				select {
				case w.errs <- err:
				default:
				}
			}
			return
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := buf[off+unix.SizeofInotifyEvent : min(n, off+unix.SizeofInotifyEvent+int(ev.Len))]
			off += unix.SizeofInotifyEvent + int(ev.Len)
			w.delivered.Add(1)
			w.handle(int(ev.Wd), ev.Mask, string(bytes.TrimRight(name, "\x00")))
		}
	}
}

func (w *inotifyWatch) handle(wd int, mask uint32, name string) {
	if mask&unix.IN_Q_OVERFLOW != 0 {
		select {
		case w.errs <- errWatchOverflow:
		default:
		}
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case wd == w.dirWd && mask&(unix.IN_DELETE_SELF|unix.IN_MOVE_SELF|unix.IN_IGNORED) != 0:
		// The directory went away (renamed: the watch would follow it).
		_, _ = unix.InotifyRmWatch(w.fd, uint32(w.dirWd))
		if w.fileWd >= 0 {
			_, _ = unix.InotifyRmWatch(w.fd, uint32(w.fileWd))
		}
		w.dirWd, w.fileWd = -1, -1
		signal(w.lost)
	case wd == w.dirWd && name == w.base:
		if mask&(unix.IN_CREATE|unix.IN_MOVED_TO) != 0 {
			w.watchFile()
		}
		signal(w.changes)
	case wd == w.fileWd && mask&unix.IN_IGNORED != 0:
		w.fileWd = -1 // removed: the directory's event said so
	case wd == w.fileWd && mask&(unix.IN_MODIFY|unix.IN_CLOSE_WRITE) != 0:
		signal(w.changes)
	}
}
