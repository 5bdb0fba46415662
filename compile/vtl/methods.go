package vtl

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// call is $v.name(args): the java.lang.String, java.util.List and
// java.util.Map methods templates use, $foreach's, and the methods of
// caller-supplied Objects. An unknown method is null, as in Velocity.
func (s *state) call(v any, m mod, args []any) any {
	switch x := v.(type) {
	case string:
		return s.stringMethod(x, m, args)
	case Object:
		res, err := x.Call(m.name, args)
		if errors.Is(err, ErrNoMethod) {
			return nil
		}
		if err != nil {
			s.fail(m.pos, "%s(): %v", m.name, err)
		}
		res = norm(res)
		if str, ok := res.(string); ok {
			s.charge(m.pos, len(str))
		}
		return res
	case *loop:
		switch m.name {
		case "hasNext", "getHasNext":
			return x.hasNext
		case "isLast", "getLast":
			return !x.hasNext
		case "getIndex":
			return int64(x.index)
		case "getCount":
			return int64(x.count)
		case "isFirst", "getFirst":
			return x.index == 0
		case "getParent":
			return x.prop("parent")
		}
		return nil
	case entry:
		switch m.name {
		case "getKey":
			return x.key
		case "getValue":
			return x.val
		case "toString":
			return s.str(m.pos, x)
		}
		return nil
	}
	if _, ok := listItems(v); ok {
		return s.listMethod(v, m, args)
	}
	if _, ok := mapKeys(v); ok {
		return s.mapMethod(v, m, args)
	}
	switch m.name {
	case "toString":
		if len(args) == 0 {
			return s.str(m.pos, v)
		}
	case "equals":
		if len(args) == 1 {
			return deepEqual(v, args[0], 0, &budget{n: 1})
		}
	}
	return nil
}

// argInt returns args[i] as an int when it is an integer.
func argInt(args []any, i int) (int, bool) {
	if i >= len(args) {
		return 0, false
	}
	n, ok := args[i].(int64)
	if !ok || n > 1<<31-1 || n < -1<<31 {
		return 0, false
	}
	return int(n), true
}

func argStr(args []any, i int) (string, bool) {
	if i >= len(args) {
		return "", false
	}
	s, ok := args[i].(string)
	return s, ok
}

// Java strings index UTF-16 code units; these helpers translate for
// strings that are not ASCII.

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func u16len(s string) int {
	if isASCII(s) {
		return len(s)
	}
	n := 0
	for _, r := range s {
		n += len(utf16.Encode([]rune{r}))
	}
	return n
}

// u16index converts a byte index of s into a UTF-16 index.
func u16index(s string, byteIdx int) int {
	if byteIdx < 0 {
		return byteIdx
	}
	return u16len(s[:byteIdx])
}

// u16slice returns s[from:to] in UTF-16 units.
func u16slice(s string, from, to int) string {
	if isASCII(s) {
		return s[from:to]
	}
	u := utf16.Encode([]rune(s))
	return string(utf16.Decode(u[from:to]))
}

// u16byte converts a UTF-16 index of s into a byte index (clamped).
func u16byte(s string, idx int) int {
	if isASCII(s) {
		return min(max(idx, 0), len(s))
	}
	n := 0
	for i, r := range s {
		if n >= idx {
			return i
		}
		n += len(utf16.Encode([]rune{r}))
	}
	return len(s)
}

func (s *state) stringMethod(x string, m mod, args []any) any {
	s.step(m.pos, 1+len(x)/256)
	n := len(args)
	switch m.name {
	case "length":
		if n == 0 {
			return int64(u16len(x))
		}
	case "isEmpty":
		if n == 0 {
			return len(x) == 0
		}
	case "toString", "trim", "toLowerCase", "toUpperCase":
		if n != 0 {
			return nil
		}
		switch m.name {
		case "toString":
			return x
		case "trim":
			return strings.TrimFunc(x, func(r rune) bool { return r <= ' ' })
		case "toLowerCase":
			return s.charged(m.pos, strings.ToLower(x))
		}
		return s.charged(m.pos, strings.ToUpper(x))
	case "contains":
		if a, ok := argStr(args, 0); ok && n == 1 {
			return strings.Contains(x, a)
		}
	case "startsWith":
		a, ok := argStr(args, 0)
		if !ok {
			return nil
		}
		if n == 1 {
			return strings.HasPrefix(x, a)
		}
		if off, ok := argInt(args, 1); ok && n == 2 {
			if off < 0 || off > u16len(x) {
				return false
			}
			return strings.HasPrefix(x[u16byte(x, off):], a)
		}
	case "endsWith":
		if a, ok := argStr(args, 0); ok && n == 1 {
			return strings.HasSuffix(x, a)
		}
	case "equals":
		if n == 1 {
			a, ok := args[0].(string)
			return ok && a == x
		}
	case "equalsIgnoreCase":
		if n == 1 {
			a, ok := args[0].(string)
			return ok && strings.EqualFold(a, x)
		}
	case "compareTo":
		if a, ok := argStr(args, 0); ok && n == 1 {
			return int64(compareUTF16(x, a))
		}
	case "indexOf", "lastIndexOf":
		a, ok := argStr(args, 0)
		if !ok || n > 2 {
			return nil
		}
		from, hasFrom := 0, n == 2
		if hasFrom {
			if from, ok = argInt(args, 1); !ok {
				return nil
			}
		}
		return int64(javaIndexOf(x, a, from, hasFrom, m.name == "lastIndexOf"))
	case "substring":
		begin, ok := argInt(args, 0)
		if !ok || n > 2 {
			return nil
		}
		end := u16len(x)
		if n == 2 {
			if end, ok = argInt(args, 1); !ok {
				return nil
			}
		}
		if begin < 0 || end > u16len(x) || begin > end {
			s.fail(m.pos, "substring(%d, %d): index out of range for a string of length %d", begin, end, u16len(x))
		}
		return u16slice(x, begin, end)
	case "charAt":
		i, ok := argInt(args, 0)
		if !ok || n != 1 {
			return nil
		}
		if i < 0 || i >= u16len(x) {
			s.fail(m.pos, "charAt(%d): index out of range for a string of length %d", i, u16len(x))
		}
		return u16slice(x, i, i+1)
	case "concat":
		if a, ok := argStr(args, 0); ok && n == 1 {
			return s.charged(m.pos, x+a)
		}
	case "replace":
		a, ok1 := argStr(args, 0)
		b, ok2 := argStr(args, 1)
		if ok1 && ok2 && n == 2 {
			if a != "" && !strings.Contains(x, a) {
				return x
			}
			s.step(m.pos, len(x)/64)
			s.charge(m.pos, len(x)+(len(x)+1)*len(b))
			return strings.ReplaceAll(x, a, b)
		}
	case "replaceAll", "replaceFirst":
		b, ok := argStr(args, 1)
		if !ok || n != 2 {
			return nil
		}
		re := s.regexp(m, args, false)
		if re == nil {
			return nil
		}
		out, err := javaReplace(re, x, b, m.name == "replaceFirst")
		if err != nil {
			s.fail(m.pos, "%s: %v", m.name, err)
		}
		s.step(m.pos, len(x)/64)
		return s.charged(m.pos, out)
	case "matches":
		if n != 1 {
			return nil
		}
		re := s.regexp(m, args, true)
		if re == nil {
			return nil
		}
		s.step(m.pos, len(x)/64)
		return re.MatchString(x)
	case "split":
		if n < 1 || n > 2 {
			return nil
		}
		limit := 0
		if n == 2 {
			var ok bool
			if limit, ok = argInt(args, 1); !ok {
				return nil
			}
		}
		re := s.regexp(m, args, false)
		if re == nil {
			return nil
		}
		s.step(m.pos, len(x)/64)
		parts := javaSplit(re, x, limit)
		s.charge(m.pos, len(x)+16*len(parts))
		l := &List{Items: make([]any, len(parts))}
		for i, p := range parts {
			l.Items[i] = p
		}
		return l
	}
	return nil
}

func (s *state) charged(pos int, str string) string {
	s.charge(pos, len(str))
	return str
}

// regexp returns the compiled pattern of args[0]: precompiled by Parse for
// a literal, compiled now (and failing the render if invalid) otherwise.
func (s *state) regexp(m mod, args []any, anchored bool) *regexp.Regexp {
	if m.re != nil {
		return m.re
	}
	pat, ok := argStr(args, 0)
	if !ok {
		return nil
	}
	re, err := compileJava(pat, anchored)
	if err != nil {
		s.fail(m.pos, "%s: %v", m.name, err)
	}
	return re
}

// regexArg precompiles the literal pattern of replaceAll, replaceFirst,
// matches and split, so that rendering compiles nothing, and reports a
// pattern this engine cannot run as a syntax error.
func (p *parser) regexArg(name string, args []expr, at int) *regexp.Regexp {
	switch name {
	case "replaceAll", "replaceFirst", "matches", "split":
	default:
		return nil
	}
	if len(args) == 0 {
		return nil
	}
	l, ok := args[0].(*lit)
	if !ok {
		return nil
	}
	pat, ok := l.v.(string)
	if !ok {
		return nil
	}
	re, err := compileJava(pat, name == "matches")
	if err != nil {
		p.failAt(at, "%s: %v", name, err)
	}
	return re
}

// compileJava compiles a java.util.regex pattern with Go's RE2 engine,
// which runs in linear time. Java features RE2 lacks (look-around,
// back-references, possessive quantifiers) are reported as errors.
func compileJava(pat string, anchored bool) (*regexp.Regexp, error) {
	expr := pat
	if anchored {
		expr = `\A(?:` + pat + `)\z`
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		msg := err.Error()
		if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, "error parsing regexp") {
			msg = msg[i+2:]
		}
		return nil, fmt.Errorf("unsupported or invalid regular expression %q: %s", pat, msg)
	}
	return re, nil
}

// javaSplit is String.split(regex, limit).
func javaSplit(re *regexp.Regexp, s string, limit int) []string {
	matches := re.FindAllStringIndex(s, -1)
	var out []string
	index := 0
	for _, m := range matches {
		if limit > 0 && len(out) == limit-1 {
			break
		}
		if m[1] == 0 { // a zero-width match at the start yields no empty leading string
			continue
		}
		if m[0] == m[1] && m[0] == len(s) {
			continue
		}
		out = append(out, s[index:m[0]])
		index = m[1]
	}
	if index == 0 && len(out) == 0 {
		return []string{s}
	}
	out = append(out, s[index:])
	if limit == 0 {
		for len(out) > 0 && out[len(out)-1] == "" {
			out = out[:len(out)-1]
		}
	}
	return out
}

// javaReplace is replaceAll/replaceFirst with Java's replacement syntax:
// $1 or ${name} for groups, \ to quote the next character.
func javaReplace(re *regexp.Regexp, s, repl string, first bool) (string, error) {
	n := -1
	if first {
		n = 1
	}
	matches := re.FindAllStringSubmatchIndex(s, n)
	if len(matches) == 0 {
		return s, nil
	}
	var b strings.Builder
	last := 0
	for _, m := range matches {
		b.WriteString(s[last:m[0]])
		if err := javaExpand(&b, re, repl, s, m); err != nil {
			return "", err
		}
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String(), nil
}

func javaExpand(b *strings.Builder, re *regexp.Regexp, repl, s string, m []int) error {
	groups := re.NumSubexp()
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		switch c {
		case '\\':
			i++
			if i >= len(repl) {
				return errors.New("character to be escaped is missing")
			}
			b.WriteByte(repl[i])
		case '$':
			i++
			if i >= len(repl) {
				return errors.New("illegal group reference: group index is missing")
			}
			if repl[i] == '{' {
				end := strings.IndexByte(repl[i:], '}')
				if end < 0 {
					return errors.New("named capturing group is missing trailing '}'")
				}
				name := repl[i+1 : i+end]
				g := re.SubexpIndex(name)
				if g < 0 {
					return fmt.Errorf("no group with name {%s}", name)
				}
				writeGroup(b, s, m, g)
				i += end
				continue
			}
			if repl[i] < '0' || repl[i] > '9' {
				return errors.New("illegal group reference")
			}
			g := int(repl[i] - '0')
			if g > groups {
				return fmt.Errorf("no group %d", g)
			}
			// Java takes more digits while they still name a group.
			for i+1 < len(repl) && repl[i+1] >= '0' && repl[i+1] <= '9' {
				ng := g*10 + int(repl[i+1]-'0')
				if ng > groups {
					break
				}
				g = ng
				i++
			}
			writeGroup(b, s, m, g)
		default:
			b.WriteByte(c)
		}
	}
	return nil
}

func writeGroup(b *strings.Builder, s string, m []int, g int) {
	if m[2*g] >= 0 {
		b.WriteString(s[m[2*g]:m[2*g+1]])
	}
}

// javaIndexOf is indexOf/lastIndexOf(a[, from]) in UTF-16 units.
func javaIndexOf(x, a string, from int, hasFrom, last bool) int {
	n := u16len(x)
	if !last {
		if from < 0 {
			from = 0
		}
		if from > n {
			if a == "" {
				return n
			}
			return -1
		}
		b := u16byte(x, from)
		i := strings.Index(x[b:], a)
		if i < 0 {
			return -1
		}
		return u16index(x, b+i)
	}
	limit := len(x)
	if hasFrom {
		if from < 0 {
			return -1
		}
		if from < n {
			limit = min(u16byte(x, from)+len(a), len(x))
		}
	}
	i := strings.LastIndex(x[:limit], a)
	if i < 0 {
		return -1
	}
	return u16index(x, i)
}

func compareUTF16(a, b string) int {
	ua, ub := utf16.Encode([]rune(a)), utf16.Encode([]rune(b))
	for i := 0; i < len(ua) && i < len(ub); i++ {
		if ua[i] != ub[i] {
			return int(ua[i]) - int(ub[i])
		}
	}
	return len(ua) - len(ub)
}

func (s *state) readOnly(m mod) {
	s.fail(m.pos, "%s(): the list or map is read-only", m.name)
}

func (s *state) listMethod(v any, m mod, args []any) any {
	items, _ := listItems(v)
	l, mutable := v.(*List)
	n := len(args)
	s.step(m.pos, 1)
	switch m.name {
	case "size":
		if n == 0 {
			return int64(len(items))
		}
	case "isEmpty":
		if n == 0 {
			return len(items) == 0
		}
	case "get":
		i, ok := argInt(args, 0)
		if !ok || n != 1 {
			return nil
		}
		if i < 0 || i >= len(items) {
			s.fail(m.pos, "get(%d): index out of range for a list of %d", i, len(items))
		}
		return items[i]
	case "contains":
		if n == 1 {
			return s.find(m.pos, items, args[0], false) >= 0
		}
	case "indexOf", "lastIndexOf":
		if n == 1 {
			return int64(s.find(m.pos, items, args[0], m.name == "lastIndexOf"))
		}
	case "toString":
		if n == 0 {
			return s.str(m.pos, v)
		}
	case "equals":
		if n == 1 {
			return s.equal(m.pos, v, args[0]) && kind(args[0]) == kindList
		}
	case "subList":
		from, ok1 := argInt(args, 0)
		to, ok2 := argInt(args, 1)
		if !ok1 || !ok2 || n != 2 {
			return nil
		}
		if from < 0 || to > len(items) || from > to {
			s.fail(m.pos, "subList(%d, %d): index out of range for a list of %d", from, to, len(items))
		}
		s.charge(m.pos, 16*(to-from))
		return &List{Items: append([]any(nil), items[from:to]...)}
	case "add", "set", "remove", "addAll", "clear":
		if !mutable {
			s.readOnly(m)
		}
		return s.listMutate(l, m, args)
	}
	return nil
}

func (s *state) listMutate(l *List, m mod, args []any) any {
	n := len(args)
	switch m.name {
	case "add":
		s.charge(m.pos, 16)
		if n == 1 {
			l.Items = append(l.Items, args[0])
			return true
		}
		if i, ok := argInt(args, 0); ok && n == 2 {
			if i < 0 || i > len(l.Items) {
				s.fail(m.pos, "add(%d): index out of range for a list of %d", i, len(l.Items))
			}
			l.Items = append(l.Items, nil)
			copy(l.Items[i+1:], l.Items[i:])
			l.Items[i] = args[1]
			return nil
		}
	case "set":
		if i, ok := argInt(args, 0); ok && n == 2 {
			if i < 0 || i >= len(l.Items) {
				s.fail(m.pos, "set(%d): index out of range for a list of %d", i, len(l.Items))
			}
			old := l.Items[i]
			l.Items[i] = args[1]
			return old
		}
	case "remove":
		if n != 1 {
			return nil
		}
		if i, ok := argInt(args, 0); ok { // remove(int index)
			if i < 0 || i >= len(l.Items) {
				s.fail(m.pos, "remove(%d): index out of range for a list of %d", i, len(l.Items))
			}
			old := l.Items[i]
			l.Items = append(l.Items[:i], l.Items[i+1:]...)
			return old
		}
		i := s.find(m.pos, l.Items, args[0], false)
		if i < 0 {
			return false
		}
		l.Items = append(l.Items[:i], l.Items[i+1:]...)
		return true
	case "addAll":
		if n == 1 {
			more, ok := listItems(args[0])
			if !ok {
				return nil
			}
			s.charge(m.pos, 16*len(more))
			s.step(m.pos, len(more))
			l.Items = append(l.Items, more...)
			return len(more) > 0
		}
	case "clear":
		if n == 0 {
			l.Items = l.Items[:0:0]
			return nil
		}
	}
	return nil
}

// find returns the index of the first (or last) element equal to x.
func (s *state) find(pos int, items []any, x any, last bool) int {
	for k := range items {
		i := k
		if last {
			i = len(items) - 1 - k
		}
		s.step(pos, 1)
		bud := &budget{n: s.lim.MaxSteps - s.steps}
		eq := deepEqual(items[i], x, 0, bud)
		s.step(pos, s.lim.MaxSteps-s.steps-bud.n)
		if eq {
			return i
		}
	}
	return -1
}

func (s *state) mapMethod(v any, m mod, args []any) any {
	mp, mutable := v.(*Map)
	keys, _ := mapKeys(v)
	n := len(args)
	s.step(m.pos, 1)
	key := func() (string, bool) {
		if n < 1 || args[0] == nil {
			return "", false
		}
		return s.str(m.pos, args[0]), true
	}
	switch m.name {
	case "get":
		if n == 1 {
			k, ok := key()
			if !ok {
				return nil
			}
			x, _, _ := mapGet(v, k)
			return x
		}
	case "getOrDefault":
		if n == 2 {
			k, ok := key()
			if !ok {
				return args[1]
			}
			if x, found, _ := mapGet(v, k); found {
				return x
			}
			return args[1]
		}
	case "containsKey":
		if n == 1 {
			k, ok := key()
			if !ok {
				return false
			}
			_, found, _ := mapGet(v, k)
			return found
		}
	case "containsValue":
		if n == 1 {
			vals := make([]any, len(keys))
			for i, k := range keys {
				vals[i], _, _ = mapGet(v, k)
			}
			return s.find(m.pos, vals, args[0], false) >= 0
		}
	case "keySet":
		if n == 0 {
			s.charge(m.pos, 16*len(keys))
			l := &List{Items: make([]any, len(keys))}
			for i, k := range keys {
				l.Items[i] = k
			}
			return l
		}
	case "values":
		if n == 0 {
			s.charge(m.pos, 16*len(keys))
			l := &List{Items: make([]any, len(keys))}
			for i, k := range keys {
				l.Items[i], _, _ = mapGet(v, k)
			}
			return l
		}
	case "entrySet":
		if n == 0 {
			s.charge(m.pos, 32*len(keys))
			l := &List{Items: make([]any, len(keys))}
			for i, k := range keys {
				x, _, _ := mapGet(v, k)
				l.Items[i] = entry{key: k, val: x}
			}
			return l
		}
	case "size":
		if n == 0 {
			return int64(len(keys))
		}
	case "isEmpty":
		if n == 0 {
			return len(keys) == 0
		}
	case "toString":
		if n == 0 {
			return s.str(m.pos, v)
		}
	case "equals":
		if n == 1 {
			return s.equal(m.pos, v, args[0]) && kind(args[0]) == kindMap
		}
	case "put", "remove", "putAll", "clear":
		if !mutable {
			s.readOnly(m)
		}
		switch m.name {
		case "put":
			if n == 2 {
				k, ok := key()
				if !ok {
					return nil
				}
				s.charge(m.pos, 32+len(k))
				return mp.Put(k, args[1])
			}
		case "remove":
			if n == 1 {
				k, ok := key()
				if !ok {
					return nil
				}
				return mp.Remove(k)
			}
		case "putAll":
			if n == 1 {
				more, ok := mapKeys(args[0])
				if !ok {
					return nil
				}
				s.step(m.pos, len(more))
				s.charge(m.pos, 32*len(more))
				for _, k := range more {
					x, _, _ := mapGet(args[0], k)
					mp.Put(k, x)
				}
				return nil
			}
		case "clear":
			if n == 0 {
				*mp = *NewMap()
				return nil
			}
		}
	}
	return nil
}
