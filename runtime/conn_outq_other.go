//go:build !linux

package runtime

// initBacklog does nothing: outside Linux the send queue's depth is not
// read, and every frame goes through the send queue.
func (w *wire) initBacklog() {}

// backlogged is always true outside Linux (see initBacklog).
func (w *wire) backlogged(int) bool { return true }

// waitReadable does nothing outside Linux: the reader waits in the
// WebSocket reader.
func (w *wire) waitReadable(int64) {}
