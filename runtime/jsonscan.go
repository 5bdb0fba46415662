package runtime

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// maxJSONDepth is encoding/json's nesting limit: a value nested deeper is
// not JSON to its Decoder, so it is not to jsonValid either.
const maxJSONDepth = 10000

// jsonValid reports whether b is exactly one JSON value with only
// whitespace around it: what encoding/json's Decoder accepts followed by
// io.EOF (the same as json.Valid). Strings are not checked for valid UTF-8
// (encoding/json replaces bad bytes with U+FFFD). It allocates nothing
// unless the nesting is deeper than 64.
func jsonValid(b []byte) bool {
	var buf [64]byte
	open := buf[:0] // '{' or '[' per open container
	i := skipJSONSpace(b, 0)
	for {
		// A value starts at i.
		if i >= len(b) {
			return false
		}
		switch c := b[i]; c {
		case '{', '[':
			if len(open) >= maxJSONDepth {
				return false
			}
			end := byte('}')
			if c == '[' {
				end = ']'
			}
			i = skipJSONSpace(b, i+1)
			if i < len(b) && b[i] == end {
				i++
				break
			}
			open = append(open, c)
			if c == '{' {
				var ok bool
				if i, ok = jsonMemberKey(b, i); !ok {
					return false
				}
			}
			continue
		case '"':
			var ok bool
			if i, ok = skipString(b, i); !ok {
				return false
			}
		case 't':
			if !bytes.HasPrefix(b[i:], []byte("true")) {
				return false
			}
			i += 4
		case 'f':
			if !bytes.HasPrefix(b[i:], []byte("false")) {
				return false
			}
			i += 5
		case 'n':
			if !bytes.HasPrefix(b[i:], []byte("null")) {
				return false
			}
			i += 4
		default:
			var ok bool
			if i, ok = skipNumber(b, i); !ok {
				return false
			}
		}
		// A value ended at i: close containers until one continues.
		for {
			i = skipJSONSpace(b, i)
			if len(open) == 0 {
				return i == len(b)
			}
			if i >= len(b) {
				return false
			}
			top := open[len(open)-1]
			if b[i] == ',' {
				i = skipJSONSpace(b, i+1)
				if top == '{' {
					var ok bool
					if i, ok = jsonMemberKey(b, i); !ok {
						return false
					}
				}
				break
			}
			if top == '{' && b[i] == '}' || top == '[' && b[i] == ']' {
				open = open[:len(open)-1]
				i++
				continue
			}
			return false
		}
	}
}

// jsonMemberKey skips an object member's `"key" :` at i, and the space after
// it.
func jsonMemberKey(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false
	}
	i, ok := skipString(b, i)
	if !ok {
		return i, false
	}
	i = skipJSONSpace(b, i)
	if i >= len(b) || b[i] != ':' {
		return i, false
	}
	return skipJSONSpace(b, i+1), true
}

// skipJSONSpace returns the index of the first byte at or after i that is not
// JSON white space.
func skipJSONSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"';
// ok is false when it is not a valid JSON string (a control character, a bad
// escape, no end).
func skipString(b []byte, i int) (int, bool) {
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return i, false
		case c == '\\':
			i++
			if i >= len(b) {
				return i, false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) {
					return i, false
				}
				for _, h := range b[i+1 : i+5] {
					if !isHex(h) {
						return i, false
					}
				}
				i += 4
			default:
				return i, false
			}
		}
	}
	return i, false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// skipNumber returns the index after the number at b[i]: -?int frac? exp?.
func skipNumber(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = skipDigits(b, i)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		j := skipDigits(b, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := skipDigits(b, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

// skipValue returns the index after the value at b[i] in valid JSON.
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		i, _ = skipString(b, i)
		return i
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i, _ = skipString(b, i)
				i-- // the loop's i++ steps past the quote
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return i
	case 't', 'n':
		return i + 4
	case 'f':
		return i + 5
	}
	i, _ = skipNumber(b, i)
	return i
}

// find returns the JSON text of the value at path in b, which jsonValid
// accepted, without decoding the rest: an object's member by its decoded key
// (the last of duplicate keys, as encoding/json keeps), an array's element by
// index. ok is false when a step is missing.
func (path jsonPath) find(b []byte) (raw []byte, ok bool) {
	i := skipJSONSpace(b, 0)
	for _, p := range path {
		if i >= len(b) {
			return nil, false
		}
		switch b[i] {
		case '{':
			found := -1
			i = skipJSONSpace(b, i+1)
			for i < len(b) && b[i] == '"' {
				k := i
				i, _ = skipString(b, i)
				match := keyEquals(b[k:i], p.key)
				i = skipJSONSpace(b, i)
				i = skipJSONSpace(b, i+1) // the ':'
				if match {
					found = i
				}
				i = skipJSONSpace(b, skipValue(b, i))
				if i < len(b) && b[i] == ',' {
					i = skipJSONSpace(b, i+1)
				}
			}
			if found < 0 {
				return nil, false
			}
			i = found
		case '[':
			if p.index < 0 {
				return nil, false
			}
			i = skipJSONSpace(b, i+1)
			for n := 0; ; n++ {
				if i >= len(b) || b[i] == ']' {
					return nil, false
				}
				if n == p.index {
					break
				}
				i = skipJSONSpace(b, skipValue(b, i))
				if i < len(b) && b[i] == ',' {
					i = skipJSONSpace(b, i+1)
				}
			}
		default:
			return nil, false
		}
	}
	if i >= len(b) {
		return nil, false
	}
	return b[i:skipValue(b, i)], true
}

// keyEquals reports whether the quoted JSON string q decodes to key. Keys
// without escapes and with valid UTF-8 (the common case) are compared as
// they are; others are decoded as encoding/json decodes them.
func keyEquals(q []byte, key string) bool {
	s := q[1 : len(q)-1]
	if plainString(s) {
		return string(s) == key
	}
	return unquoteJSON(q) == key
}

// plainString reports whether a string's inside needs no decoding: no
// escapes and valid UTF-8.
func plainString(s []byte) bool {
	return bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s)
}

// unquoteJSON decodes a valid quoted JSON string as encoding/json does
// (invalid UTF-8 and lone surrogates become U+FFFD).
func unquoteJSON(q []byte) string {
	var s string
	_ = json.Unmarshal(q, &s)
	return s
}

// rawValue renders the JSON text of a value as route selection does
// (SPEC ): strings decoded, numbers and booleans as their text, arrays
// and objects as writeValue writes them; null has no value.
func rawValue(raw []byte) (string, bool) {
	switch raw[0] {
	case '"':
		if s := raw[1 : len(raw)-1]; plainString(s) {
			return string(s), true
		}
		return unquoteJSON(raw), true
	case 'n':
		return "", false
	case 't':
		return "true", true
	case 'f':
		return "false", true
	case '[', '{': // rare: decode it and write it as before
		v, _ := parseBody(raw)
		var sb strings.Builder
		writeValue(&sb, v)
		return sb.String(), true
	}
	return string(raw), true // a number: its JSON text, as json.Number keeps it
}
