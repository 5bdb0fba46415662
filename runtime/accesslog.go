package runtime

import (
	"io"
	"strings"
)

// accessFormat is a stage's AccessLogSettings.Format split once into text
// and $context.<name> variables.
type accessFormat []accessPart

type accessPart struct {
	text string
	name string      // context variable; "" for text
	get  contextFunc // reads the variable named
}

const contextPrefix = "$context."

// parseAccessFormat splits f into parts. A variable name runs over letters,
// digits, '_' and '.', without a trailing '.'.
func parseAccessFormat(f string) accessFormat {
	if f == "" {
		return nil
	}
	var parts accessFormat
	for f != "" {
		i := strings.Index(f, contextPrefix)
		if i < 0 {
			parts = append(parts, accessPart{text: f})
			break
		}
		if i > 0 {
			parts = append(parts, accessPart{text: f[:i]})
		}
		rest := f[i+len(contextPrefix):]
		j := 0
		for j < len(rest) && isVarChar(rest[j]) {
			j++
		}
		for j > 0 && rest[j-1] == '.' {
			j--
		}
		if j == 0 {
			parts = append(parts, accessPart{text: contextPrefix})
		} else {
			parts = append(parts, accessPart{name: rest[:j], get: contextAccessor(rest[:j])})
		}
		f = rest[j:]
	}
	return parts
}

func isVarChar(c byte) bool {
	return c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// render writes the line for e; variables without a value are "-", as in
// API Gateway's access logs.
func (f accessFormat) render(sb *strings.Builder, e *event) {
	for _, p := range f {
		if p.name == "" {
			sb.WriteString(p.text)
			continue
		}
		if v, ok := p.get(e); ok && v != "" {
			sb.WriteString(v)
		} else {
			sb.WriteByte('-')
		}
	}
	sb.WriteByte('\n')
}

// accessLog renders the stages' access log lines and hands them to the
// gateway's asynchronous log writer (nil: no access log).
type accessLog struct {
	w *logWriter
}

func (a *accessLog) write(e *event) {
	if a == nil || a.w == nil || len(e.stage.access) == 0 {
		return
	}
	var sb strings.Builder
	e.stage.access.render(&sb, e)
	_, _ = io.WriteString(a.w, sb.String())
}
