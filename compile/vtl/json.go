package vtl

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// ParseJSON decodes JSON text into template values as API Gateway's JSON
// library does: objects become *Map in document order, arrays *List
// rendering as JSON, integers int64, other numbers float64.
func ParseJSON(data []byte) (any, error) {
	d := &jsonDecoder{s: data}
	d.ws()
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.ws()
	if d.i < len(d.s) {
		return nil, d.errorf("unexpected %q after the JSON value", d.s[d.i])
	}
	return v, nil
}

const maxJSONDepth = 1000

type jsonDecoder struct {
	s []byte
	i int
	// Scratch stacks for the members of the objects and arrays being
	// decoded, so that each gets slices of its exact size.
	keys  []string
	vals  []any
	items []any
}

func (d *jsonDecoder) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid JSON at offset %d: %s", d.i, fmt.Sprintf(format, args...))
}

func (d *jsonDecoder) ws() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value(depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, d.errorf("nested more than %d levels", maxJSONDepth)
	}
	if d.i >= len(d.s) {
		return nil, d.errorf("unexpected end of input")
	}
	switch c := d.s[d.i]; {
	case c == '{':
		d.i++
		d.ws()
		if d.i < len(d.s) && d.s[d.i] == '}' {
			d.i++
			return NewMap(), nil
		}
		base := len(d.keys)
		for {
			d.ws()
			if d.i >= len(d.s) || d.s[d.i] != '"' {
				return nil, d.errorf("expected a string key")
			}
			k, err := d.str()
			if err != nil {
				return nil, err
			}
			d.ws()
			if d.i >= len(d.s) || d.s[d.i] != ':' {
				return nil, d.errorf("expected :")
			}
			d.i++
			d.ws()
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			d.keys = append(d.keys, k)
			d.vals = append(d.vals, v)
			d.ws()
			if d.i < len(d.s) && d.s[d.i] == ',' {
				d.i++
				continue
			}
			if d.i < len(d.s) && d.s[d.i] == '}' {
				d.i++
				n := len(d.keys) - base
				m := &Map{keys: make([]string, 0, n), vals: make([]any, 0, n)}
				for j := base; j < len(d.keys); j++ {
					m.Put(d.keys[j], d.vals[j])
				}
				d.keys, d.vals = d.keys[:base], d.vals[:base]
				return m, nil
			}
			return nil, d.errorf("expected , or }")
		}
	case c == '[':
		d.i++
		d.ws()
		if d.i < len(d.s) && d.s[d.i] == ']' {
			d.i++
			return &List{JSON: true}, nil
		}
		base := len(d.items)
		for {
			d.ws()
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			d.items = append(d.items, v)
			d.ws()
			if d.i < len(d.s) && d.s[d.i] == ',' {
				d.i++
				continue
			}
			if d.i < len(d.s) && d.s[d.i] == ']' {
				d.i++
				l := &List{JSON: true, Items: append([]any(nil), d.items[base:]...)}
				d.items = d.items[:base]
				return l, nil
			}
			return nil, d.errorf("expected , or ]")
		}
	case c == '"':
		return d.str()
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	}
	for _, w := range []struct {
		text string
		v    any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if len(d.s)-d.i >= len(w.text) && string(d.s[d.i:d.i+len(w.text)]) == w.text {
			d.i += len(w.text)
			return w.v, nil
		}
	}
	return nil, d.errorf("unexpected %q", d.s[d.i])
}

func (d *jsonDecoder) number() (any, error) {
	start := d.i
	if d.s[d.i] == '-' {
		d.i++
	}
	digits := func() int {
		n := 0
		for d.i < len(d.s) && d.s[d.i] >= '0' && d.s[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	intStart := d.i
	if digits() == 0 {
		return nil, d.errorf("bad number")
	}
	if d.s[intStart] == '0' && d.i-intStart > 1 {
		return nil, d.errorf("bad number: leading zero")
	}
	isFloat := false
	if d.i < len(d.s) && d.s[d.i] == '.' {
		isFloat = true
		d.i++
		if digits() == 0 {
			return nil, d.errorf("bad number")
		}
	}
	if d.i < len(d.s) && (d.s[d.i] == 'e' || d.s[d.i] == 'E') {
		isFloat = true
		d.i++
		if d.i < len(d.s) && (d.s[d.i] == '+' || d.s[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return nil, d.errorf("bad number")
		}
	}
	text := string(d.s[start:d.i])
	if !isFloat {
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			return n, nil
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, d.errorf("bad number %s", text)
	}
	return f, nil
}

func (d *jsonDecoder) str() (string, error) {
	d.i++ // "
	start := d.i
	// Fast path: no escapes.
	for d.i < len(d.s) && d.s[d.i] != '"' && d.s[d.i] != '\\' && d.s[d.i] >= 0x20 {
		d.i++
	}
	if d.i < len(d.s) && d.s[d.i] == '"' {
		s := d.s[start:d.i]
		d.i++
		if utf8.Valid(s) {
			return string(s), nil
		}
		return string([]rune(string(s))), nil
	}
	buf := append([]byte(nil), d.s[start:d.i]...)
	for {
		if d.i >= len(d.s) {
			return "", d.errorf("unterminated string")
		}
		c := d.s[d.i]
		switch {
		case c == '"':
			d.i++
			return string([]rune(string(buf))), nil
		case c < 0x20:
			return "", d.errorf("control character in string")
		case c == '\\':
			d.i++
			if d.i >= len(d.s) {
				return "", d.errorf("unterminated string")
			}
			e := d.s[d.i]
			d.i++
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := d.hex4()
				if !ok {
					return "", d.errorf("bad \\u escape")
				}
				if utf16.IsSurrogate(r) {
					if d.i+1 < len(d.s) && d.s[d.i] == '\\' && d.s[d.i+1] == 'u' {
						save := d.i
						d.i += 2
						if r2, ok := d.hex4(); ok {
							if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
								buf = utf8.AppendRune(buf, dec)
								continue
							}
						}
						d.i = save
					}
					r = utf8.RuneError
				}
				buf = utf8.AppendRune(buf, r)
			default:
				return "", d.errorf("bad escape \\%c", e)
			}
		default:
			buf = append(buf, c)
			d.i++
		}
	}
}

func (d *jsonDecoder) hex4() (rune, bool) {
	if d.i+4 > len(d.s) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(d.s[d.i:d.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	d.i += 4
	return rune(n), true
}
