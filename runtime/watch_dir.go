package runtime

import "errors"

// dirWatch watches a template file through its directory (STYLE: editors
// save by rename, so the directory is what is watched) and reports only what
// matters for reloading the file. On Linux it asks the kernel for exactly
// that (watch_inotify_linux.go): the directory's entries coming and going,
// and writes to the template itself, so that another program writing a log
// file next to the template costs nothing, not an event per write (issue 12:
// 1.7 s of CPU in 45 s for someone else's log). Elsewhere fsnotify delivers
// every event of the directory and the filter runs in the process
// (watch_fsnotify.go).
type dirWatch interface {
	// Changes receives a value when the file may have changed: written,
	// created, renamed over or away, or removed. A burst may come as one.
	Changes() <-chan struct{}
	// Lost receives a value when the directory itself went away (removed or
	// renamed): nothing is watched until Watch succeeds again.
	Lost() <-chan struct{}
	// Errors receives problems of the watch itself, such as an overflow of
	// the system's event queue (events, perhaps the template's, were lost).
	Errors() <-chan error
	// Watch starts watching the directory (and the file), or again after Lost.
	Watch() error
	// Watching reports whether the directory is watched.
	Watching() bool
	// Delivered counts the events the operating system delivered to the
	// process so far, whatever they were about (tests: writes to other
	// files of the directory must deliver none).
	Delivered() int64
	// Close stops watching.
	Close() error
}

// errWatchOverflow reports lost events.
var errWatchOverflow = errors.New("the system's queue of file events overflowed; some were lost")

// signal sends on a channel of capacity 1 without waiting: a value already
// pending says the same.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
