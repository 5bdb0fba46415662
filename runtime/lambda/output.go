package lambda

import (
	"bytes"
	"strings"
	"sync"
	"unicode/utf8"
)

const (
	maxLine   = 64 << 10 // longer lines are cut
	tailLines = 8        // lines kept for the error of a process that dies
)

// lineWriter splits a process's output (stdout and stderr share it) into
// lines, hands each to emit and keeps the last few for error messages.
// exec.Cmd calls Write from one goroutine at a time.
type lineWriter struct {
	emit func(line string)
	buf  []byte
	skip bool // dropping the rest of a line cut at maxLine

	mu   sync.Mutex
	tail []string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		if !w.skip {
			if room := maxLine - len(w.buf); len(chunk) > room {
				// Cut the line here and drop the rest of it.
				w.buf = append(w.buf, chunk[:room]...)
				w.line(w.buf)
				w.buf = w.buf[:0]
				w.skip = true
			} else {
				w.buf = append(w.buf, chunk...)
			}
		}
		if i < 0 {
			break
		}
		if !w.skip {
			w.line(w.buf)
		}
		w.buf = w.buf[:0]
		w.skip = false
		p = p[i+1:]
	}
	return n, nil
}

// flush emits a last line without a newline.
func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.line(w.buf)
		w.buf = w.buf[:0]
	}
}

func (w *lineWriter) line(b []byte) {
	s := strings.TrimSuffix(string(b), "\r")
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	w.mu.Lock()
	if len(w.tail) == tailLines {
		copy(w.tail, w.tail[1:])
		w.tail = w.tail[:tailLines-1]
	}
	w.tail = append(w.tail, s)
	w.mu.Unlock()
	w.emit(s)
}

// lastLines returns the last lines written, for error messages.
func (w *lineWriter) lastLines() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.tail...)
}
