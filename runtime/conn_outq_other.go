//go:build !linux

package runtime

// initBacklog does nothing: outside Linux the send queue's depth is not
// read, and every frame goes through the send queue.
func (w *wire) initBacklog() {}

// backlogged is always true outside Linux (see initBacklog).
func (w *wire) backlogged(int) bool { return true }
