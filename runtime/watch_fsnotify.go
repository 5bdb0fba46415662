//go:build !linux

package runtime

import (
	"path/filepath"
	"slices"
	"sync/atomic"

	"github.com/fsnotify/fsnotify"
)

// fsnotifyWatch is the dirWatch of systems other than Linux: fsnotify
// delivers every event of the directory, and a goroutine keeps those of the
// template and of the directory itself.
type fsnotifyWatch struct {
	fw            *fsnotify.Watcher
	path, dir     string
	changes, lost chan struct{}
	errs          chan error
	delivered     atomic.Int64
}

var _ dirWatch = (*fsnotifyWatch)(nil)

func newDirWatch(path string) (dirWatch, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	w := &fsnotifyWatch{fw: fw, path: path, dir: filepath.Dir(path), changes: make(chan struct{}, 1),
		lost: make(chan struct{}, 1), errs: make(chan error, 1)}
	go w.loop()
	return w, nil
}

func (w *fsnotifyWatch) Changes() <-chan struct{} { return w.changes }
func (w *fsnotifyWatch) Lost() <-chan struct{}    { return w.lost }
func (w *fsnotifyWatch) Errors() <-chan error     { return w.errs }
func (w *fsnotifyWatch) Delivered() int64         { return w.delivered.Load() }
func (w *fsnotifyWatch) Close() error             { return w.fw.Close() }
func (w *fsnotifyWatch) Watch() error             { return w.fw.Add(w.dir) }
func (w *fsnotifyWatch) Watching() bool           { return slices.Contains(w.fw.WatchList(), w.dir) }

func (w *fsnotifyWatch) loop() {
	for {
		select {
		case ev, ok := <-w.fw.Events:
			if !ok {
				return
			}
			w.delivered.Add(1)
			switch name := filepath.Clean(ev.Name); {
			case name == w.dir && ev.Has(fsnotify.Remove|fsnotify.Rename):
				// The watch went with the directory (fsnotify dropped it).
				_ = w.fw.Remove(w.dir)
				signal(w.lost)
			case name == w.path && ev.Op != fsnotify.Chmod:
				signal(w.changes)
			}
		case err, ok := <-w.fw.Errors:
			if !ok {
				return
			}
			select {
			case w.errs <- err:
			default:
			}
		}
	}
}
