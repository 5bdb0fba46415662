package compile

import (
	"fmt"
	"strconv"
	"strings"
)

// exprError is a mistake in an expression (a selection expression, a mapping
// source or target): Offset is the byte offset in the expression where it
// starts, Fix an optional suggestion.
type exprError struct {
	Offset int
	Msg    string
	Fix    string
}

func (e *exprError) Error() string { return e.Msg }

const bodyVar = "request.body"

// parseSelection compiles a route selection expression (SPEC) into
// parts: `$request.body.a.b` and `${request.body.a.b}` read the message body
// at a path, `\$` is a literal `$`, and any other text is literal. The whole
// expression may be one path, several paths combined with text
// (`${request.body.service}/${request.body.action}`), or static text.
//
// A `$` that starts neither form is an error: WebSocket route selection reads
// only the request body.
func parseSelection(expr string) (Selection, error) {
	if expr == "" {
		return Selection{}, &exprError{Msg: "route selection expression is empty"}
	}
	var parts []SelectionPart
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			parts = append(parts, SelectionPart{Text: text.String()})
			text.Reset()
		}
	}
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '\\' && i+1 < len(expr) && expr[i+1] == '$':
			text.WriteByte('$')
			i += 2
		case c == '$' && strings.HasPrefix(expr[i+1:], "{"):
			end := strings.IndexByte(expr[i:], '}')
			if end < 0 {
				return Selection{}, &exprError{Offset: i, Msg: fmt.Sprintf("%s has no closing }", expr[i:])}
			}
			inner := expr[i+2 : i+end]
			path, err := selectionPath(inner, expr[i:i+end+1], i+2)
			if err != nil {
				return Selection{}, err
			}
			flush()
			parts = append(parts, SelectionPart{Path: path})
			i += end + 1
		case c == '$' && strings.HasPrefix(expr[i+1:], bodyVar+"."):
			// The bare form runs as far as path characters go; a trailing dot is text.
			j := i + 1 + len(bodyVar) + 1
			for j < len(expr) && isBarePathChar(expr[j]) {
				if expr[j] == '[' {
					k := strings.IndexByte(expr[j:], ']')
					if k < 0 {
						return Selection{}, &exprError{Offset: j, Msg: fmt.Sprintf("%s has no closing ]", expr[j:])}
					}
					j += k + 1
					continue
				}
				j++
			}
			if expr[j-1] == '.' && j-1 > i+1+len(bodyVar) {
				j--
			}
			path, err := selectionPath(expr[i+1:j], expr[i:j], i+1)
			if err != nil {
				return Selection{}, err
			}
			flush()
			parts = append(parts, SelectionPart{Path: path})
			i = j
		case c == '$':
			name := expr[i+1:]
			if k := strings.IndexFunc(name, func(r rune) bool { return !isVarNameRune(r) }); k >= 0 {
				name = name[:k]
			}
			msg := fmt.Sprintf("$%s is not something a route selection expression can read; it can read only $request.body.<path> or ${request.body.<path>}", name)
			if name == "" {
				msg = "a lone $ in a route selection expression must be written \\$"
			}
			return Selection{}, &exprError{Offset: i, Msg: msg, Fix: `write \$ for a literal $`}
		default:
			text.WriteByte(c)
			i++
		}
	}
	flush()
	return Selection{Parts: parts}, nil
}

func isBarePathChar(c byte) bool {
	return c == '_' || c == '.' || c == '[' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isVarNameRune(r rune) bool {
	return r == '_' || r == '.' || r == '{' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
}

// selectionPath parses "request.body.<path>" (the inside of ${...} or what
// follows a bare $) written at offset off; shown is the variable as written,
// for messages.
func selectionPath(v, shown string, off int) ([]string, error) {
	rest, ok := strings.CutPrefix(v, bodyVar)
	if !ok || rest != "" && rest[0] != '.' && rest[0] != '[' {
		return nil, &exprError{Offset: off, Msg: fmt.Sprintf("%s is not something a route selection expression can read; it can read only ${request.body.<path>}", shown)}
	}
	if rest == "" || rest == "." {
		return nil, &exprError{Offset: off, Msg: fmt.Sprintf("%s needs the path of a field in the message body, as in ${request.body.action}", shown)}
	}
	if rest[0] == '.' {
		rest, off = rest[1:], off+1
	}
	return parsePath(rest, off+len(bodyVar))
}

// parsePath parses a JSONPath to one field of a JSON document, without the
// leading `$.`: names separated by dots, array indexes `[0]` and quoted names
// `['a.b']`. Wildcards, filters and recursive descent select several values
// and are refused. off is the path's offset in its expression, for errors.
func parsePath(s string, off int) ([]string, error) {
	if s == "" {
		return nil, &exprError{Offset: off, Msg: "the path is empty"}
	}
	var path []string
	i := 0
	for i < len(s) {
		switch s[i] {
		case '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return nil, &exprError{Offset: off + i, Msg: fmt.Sprintf("%s has no closing ]", s[i:])}
			}
			inner := s[i+1 : i+end]
			switch {
			case len(inner) >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[len(inner)-1] == inner[0]:
				path = append(path, inner[1:len(inner)-1])
			case inner != "" && strings.Trim(inner, "0123456789") == "":
				n, err := strconv.Atoi(inner)
				if err != nil {
					return nil, &exprError{Offset: off + i, Msg: fmt.Sprintf("index [%s] is too large", inner)}
				}
				path = append(path, strconv.Itoa(n))
			default:
				return nil, &exprError{Offset: off + i, Msg: fmt.Sprintf("[%s] must be an array index such as [0] or a quoted name such as ['key']; wildcards, slices and filters are not supported", inner)}
			}
			i += end + 1
			if i < len(s) && s[i] != '.' && s[i] != '[' {
				return nil, &exprError{Offset: off + i, Msg: fmt.Sprintf("expected . or [ after ]%s", s[i-1:i])}
			}
			if i < len(s) && s[i] == '.' {
				i++
				if i == len(s) {
					return nil, &exprError{Offset: off + i - 1, Msg: "the path ends with a dot"}
				}
			}
		case '.':
			return nil, &exprError{Offset: off + i, Msg: "the path has an empty name (two dots in a row); recursive descent is not supported"}
		default:
			j := i
			for j < len(s) && s[j] != '.' && s[j] != '[' {
				j++
			}
			name := s[i:j]
			if name == "*" {
				return nil, &exprError{Offset: off + i, Msg: "wildcards (*) are not supported; the path must name one field"}
			}
			if strings.ContainsAny(name, "]") {
				return nil, &exprError{Offset: off + i, Msg: fmt.Sprintf("%q is not a valid name in a path", name)}
			}
			path = append(path, name)
			i = j
			if i < len(s) && s[i] == '.' {
				i++
				if i == len(s) {
					return nil, &exprError{Offset: off + i - 1, Msg: "the path ends with a dot"}
				}
			}
		}
	}
	return path, nil
}

// String renders a compiled selection back in the ${...} form, for `wsgw plan`.
func (s Selection) String() string {
	var b strings.Builder
	for _, p := range s.Parts {
		if p.Path == nil {
			b.WriteString(strings.ReplaceAll(p.Text, "$", `\$`))
			continue
		}
		b.WriteString("${request.body")
		for _, seg := range p.Path {
			if isPlainName(seg) {
				b.WriteString("." + seg)
			} else {
				b.WriteString("['" + seg + "']")
			}
		}
		b.WriteString("}")
	}
	return b.String()
}

func isPlainName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isBarePathChar(s[i]) || s[i] == '.' || s[i] == '[' {
			return false
		}
	}
	return true
}
