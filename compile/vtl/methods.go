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
		if f := m.methods().loop; f != nil {
			return f(x)
		}
		return nil
	case entry:
		if f := m.methods().entry; f != nil {
			return f(s, x, m)
		}
		return nil
	}
	if items, ok := listItems(v); ok {
		return s.listMethod(v, items, m, args)
	}
	if keys, ok := mapKeys(v); ok {
		return s.mapMethod(v, keys, m, args)
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

// loopMethods are $foreach's methods (Velocity's ForeachScope).
var loopMethods = map[string]func(x *loop) any{
	"hasNext":    func(x *loop) any { return x.hasNext },
	"getHasNext": func(x *loop) any { return x.hasNext },
	"isLast":     func(x *loop) any { return !x.hasNext },
	"getLast":    func(x *loop) any { return !x.hasNext },
	"getIndex":   func(x *loop) any { return int64(x.index) },
	"getCount":   func(x *loop) any { return int64(x.count) },
	"isFirst":    func(x *loop) any { return x.index == 0 },
	"getFirst":   func(x *loop) any { return x.index == 0 },
	"getParent":  func(x *loop) any { return x.prop("parent") },
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

// stringMethod is $x.name(args) on a string: the java.lang.String methods
// of stringMethods, null for any other or for arguments that do not fit.
func (s *state) stringMethod(x string, m mod, args []any) any {
	s.step(m.pos, 1+len(x)/256)
	return m.methods().str.call(s, nil, x, m, args)
}

// listMethod is $v.name(args) on a list whose items are items: the
// java.util.List methods of listMethods, null for any other or for arguments
// that do not fit.
func (s *state) listMethod(v any, items []any, m mod, args []any) any {
	s.step(m.pos, 1)
	return m.methods().list.call(s, v, items, m, args)
}

// mapMethod is $v.name(args) on a map whose keys, in order, are keys: the
// java.util.Map methods of mapMethods, null for any other or for arguments
// that do not fit.
func (s *state) mapMethod(v any, keys []string, m mod, args []any) any {
	s.step(m.pos, 1)
	return m.methods().mp.call(s, v, keys, m, args)
}

// call calls f, or gives null when there is no f.
func (f method[R]) call(s *state, v any, r R, m mod, args []any) any {
	if f == nil {
		return nil
	}
	return f(s, v, r, m, args)
}

// methodFns are the methods one name has on strings, lists, maps,
// $foreach and map entries (nil where it has none).
type methodFns struct {
	str   method[string]
	list  method[[]any]
	mp    method[[]string]
	loop  func(x *loop) any
	entry func(s *state, x entry, m mod) any
}

// methodsByName holds the methodFns of every name some table has; other
// names have noMethods. Parse looks a call's name up once, not each time
// the call runs.
var (
	methodsByName map[string]*methodFns
	noMethods     = &methodFns{}
)

func methodsNamed(name string) *methodFns {
	if f := methodsByName[name]; f != nil {
		return f
	}
	return noMethods
}

// indexMethods fills methodsByName from the tables.
func indexMethods() {
	methodsByName = map[string]*methodFns{}
	at := func(name string) *methodFns {
		if methodsByName[name] == nil {
			methodsByName[name] = &methodFns{}
		}
		return methodsByName[name]
	}
	for name, f := range stringMethods {
		at(name).str = f
	}
	for name, f := range listMethods {
		at(name).list = f
	}
	for name, f := range mapMethods {
		at(name).mp = f
	}
	for name, f := range loopMethods {
		at(name).loop = f
	}
	for name, f := range entryMethods {
		at(name).entry = f
	}
}

// methods are m's functions, looked up by Parse.
func (m *mod) methods() *methodFns { return m.fns }

// A method is one method of a kind of value: v the value (nil for a
// string), r what the method reads (the string, a list's elements, a map's
// keys in order). It gives nil (null) when the arguments do not fit.
type method[R any] func(s *state, v any, r R, m mod, args []any) any

var (
	stringMethods map[string]method[string]
	listMethods   map[string]method[[]any]
	mapMethods    map[string]method[[]string]
	// entryMethods are the methods of a map's entry (java.util.Map.Entry).
	entryMethods map[string]func(s *state, x entry, m mod) any
)

// The tables are filled in init: their functions reach the evaluator,
// which reaches the tables.
func init() {
	entryMethods = map[string]func(s *state, x entry, m mod) any{
		"getKey":   func(_ *state, x entry, _ mod) any { return x.key },
		"getValue": func(_ *state, x entry, _ mod) any { return x.val },
		"toString": func(s *state, x entry, m mod) any { return s.str(m.pos, x) },
	}
	stringMethods = stringTable()
	listMethods = listTable()
	mapMethods = mapTable()
	indexMethods()
}

// arity is a method taking n arguments (null with more or fewer).
func arity[R any](n int, f method[R]) method[R] {
	return func(s *state, v any, r R, m mod, args []any) any {
		if len(args) != n {
			return nil
		}
		return f(s, v, r, m, args)
	}
}

// mutating is a method that changes its receiver, a *List or *Map (T): a
// read-only list or map (one the caller supplied) fails the render, whatever
// the arguments. It takes n arguments (-1: f checks them).
func mutating[T, R any](n int, f func(s *state, t T, m mod, args []any) any) method[R] {
	return func(s *state, v any, _ R, m mod, args []any) any {
		t, mutable := v.(T)
		if !mutable {
			s.readOnly(m)
		}
		if n >= 0 && len(args) != n {
			return nil
		}
		return f(s, t, m, args)
	}
}

// withString is a method of one string argument (null with another).
func withString(f func(s *state, x, a string, m mod) any) method[string] {
	return arity(1, func(s *state, _ any, x string, m mod, args []any) any {
		a, ok := args[0].(string)
		if !ok {
			return nil
		}
		return f(s, x, a, m)
	})
}

func stringTable() map[string]method[string] {
	return map[string]method[string]{
		"length":   arity(0, func(_ *state, _ any, x string, _ mod, _ []any) any { return int64(u16len(x)) }),
		"isEmpty":  arity(0, func(_ *state, _ any, x string, _ mod, _ []any) any { return len(x) == 0 }),
		"toString": arity(0, func(_ *state, _ any, x string, _ mod, _ []any) any { return x }),
		"trim": arity(0, func(_ *state, _ any, x string, _ mod, _ []any) any {
			return strings.TrimFunc(x, func(r rune) bool { return r <= ' ' })
		}),
		"toLowerCase": arity(0, func(s *state, _ any, x string, m mod, _ []any) any { return s.charged(m.pos, strings.ToLower(x)) }),
		"toUpperCase": arity(0, func(s *state, _ any, x string, m mod, _ []any) any { return s.charged(m.pos, strings.ToUpper(x)) }),
		"contains":    withString(func(_ *state, x, a string, _ mod) any { return strings.Contains(x, a) }),
		"startsWith":  strStartsWith,
		"endsWith":    withString(func(_ *state, x, a string, _ mod) any { return strings.HasSuffix(x, a) }),
		"equals": arity(1, func(_ *state, _ any, x string, _ mod, args []any) any {
			a, ok := args[0].(string)
			return ok && a == x
		}),
		"equalsIgnoreCase": arity(1, func(_ *state, _ any, x string, _ mod, args []any) any {
			a, ok := args[0].(string)
			return ok && strings.EqualFold(a, x)
		}),
		"compareTo":    withString(func(_ *state, x, a string, _ mod) any { return int64(compareUTF16(x, a)) }),
		"indexOf":      strIndexOf(false),
		"lastIndexOf":  strIndexOf(true),
		"substring":    strSubstring,
		"charAt":       arity(1, strCharAt),
		"concat":       withString(func(s *state, x, a string, m mod) any { return s.charged(m.pos, x+a) }),
		"replace":      arity(2, strReplace),
		"replaceAll":   arity(2, strReplaceRegexp(false)),
		"replaceFirst": arity(2, strReplaceRegexp(true)),
		"matches":      arity(1, strMatches),
		"split":        strSplit,
	}
}

func listTable() map[string]method[[]any] {
	return map[string]method[[]any]{
		"size":    arity(0, func(_ *state, _ any, items []any, _ mod, _ []any) any { return int64(len(items)) }),
		"isEmpty": arity(0, func(_ *state, _ any, items []any, _ mod, _ []any) any { return len(items) == 0 }),
		"get":     arity(1, listGet),
		"contains": arity(1, func(s *state, _ any, items []any, m mod, args []any) any {
			return s.find(m.pos, items, args[0], false) >= 0
		}),
		"indexOf": arity(1, func(s *state, _ any, items []any, m mod, args []any) any {
			return int64(s.find(m.pos, items, args[0], false))
		}),
		"lastIndexOf": arity(1, func(s *state, _ any, items []any, m mod, args []any) any {
			return int64(s.find(m.pos, items, args[0], true))
		}),
		"toString": arity(0, func(s *state, v any, _ []any, m mod, _ []any) any { return s.str(m.pos, v) }),
		"equals": arity(1, func(s *state, v any, _ []any, m mod, args []any) any {
			return s.equal(m.pos, v, args[0]) && kind(args[0]) == kindList
		}),
		"subList": arity(2, listSubList),
		"add":     mutating[*List, []any](-1, listAdd),
		"set":     mutating[*List, []any](2, listSet),
		"remove":  mutating[*List, []any](1, listRemove),
		"addAll":  mutating[*List, []any](1, listAddAll),
		"clear": mutating[*List, []any](0, func(_ *state, l *List, _ mod, _ []any) any {
			l.Items = l.Items[:0:0]
			return nil
		}),
	}
}

func mapTable() map[string]method[[]string] {
	return map[string]method[[]string]{
		"get": arity(1, func(s *state, v any, _ []string, m mod, args []any) any {
			k, ok := s.mapKey(m, args)
			if !ok {
				return nil
			}
			x, _, _ := mapGet(v, k)
			return x
		}),
		"getOrDefault": arity(2, mapGetOrDefault),
		"containsKey": arity(1, func(s *state, v any, _ []string, m mod, args []any) any {
			k, ok := s.mapKey(m, args)
			if !ok {
				return false
			}
			_, found, _ := mapGet(v, k)
			return found
		}),
		"containsValue": arity(1, mapContainsValue),
		"keySet":        arity(0, mapKeySet),
		"values":        arity(0, mapValues),
		"entrySet":      arity(0, mapEntrySet),
		"size":          arity(0, func(_ *state, _ any, keys []string, _ mod, _ []any) any { return int64(len(keys)) }),
		"isEmpty":       arity(0, func(_ *state, _ any, keys []string, _ mod, _ []any) any { return len(keys) == 0 }),
		"toString":      arity(0, func(s *state, v any, _ []string, m mod, _ []any) any { return s.str(m.pos, v) }),
		"equals": arity(1, func(s *state, v any, _ []string, m mod, args []any) any {
			return s.equal(m.pos, v, args[0]) && kind(args[0]) == kindMap
		}),
		"put": mutating[*Map, []string](2, func(s *state, mp *Map, m mod, args []any) any {
			k, ok := s.mapKey(m, args)
			if !ok {
				return nil
			}
			s.charge(m.pos, 32+len(k))
			return mp.Put(k, args[1])
		}),
		"remove": mutating[*Map, []string](1, func(s *state, mp *Map, m mod, args []any) any {
			k, ok := s.mapKey(m, args)
			if !ok {
				return nil
			}
			return mp.Remove(k)
		}),
		"putAll": mutating[*Map, []string](1, mapPutAll),
		"clear": mutating[*Map, []string](0, func(_ *state, mp *Map, _ mod, _ []any) any {
			*mp = *NewMap()
			return nil
		}),
	}
}

func strStartsWith(_ *state, _ any, x string, _ mod, args []any) any {
	a, ok := argStr(args, 0)
	if !ok {
		return nil
	}
	if len(args) == 1 {
		return strings.HasPrefix(x, a)
	}
	if off, ok := argInt(args, 1); ok && len(args) == 2 {
		if off < 0 || off > u16len(x) {
			return false
		}
		return strings.HasPrefix(x[u16byte(x, off):], a)
	}
	return nil
}

// strIndexOf is indexOf(a[, from]), or lastIndexOf when last.
func strIndexOf(last bool) method[string] {
	return func(_ *state, _ any, x string, _ mod, args []any) any {
		n := len(args)
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
		return int64(javaIndexOf(x, a, from, hasFrom, last))
	}
}

func strSubstring(s *state, _ any, x string, m mod, args []any) any {
	n := len(args)
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
}

func strCharAt(s *state, _ any, x string, m mod, args []any) any {
	i, ok := argInt(args, 0)
	if !ok {
		return nil
	}
	if i < 0 || i >= u16len(x) {
		s.fail(m.pos, "charAt(%d): index out of range for a string of length %d", i, u16len(x))
	}
	return u16slice(x, i, i+1)
}

func strReplace(s *state, _ any, x string, m mod, args []any) any {
	a, ok1 := argStr(args, 0)
	b, ok2 := argStr(args, 1)
	if !ok1 || !ok2 {
		return nil
	}
	if a != "" && !strings.Contains(x, a) {
		return x
	}
	s.step(m.pos, len(x)/64)
	s.charge(m.pos, len(x)+(len(x)+1)*len(b))
	return strings.ReplaceAll(x, a, b)
}

// strReplaceRegexp is replaceAll, or replaceFirst when first.
func strReplaceRegexp(first bool) method[string] {
	return func(s *state, _ any, x string, m mod, args []any) any {
		b, ok := argStr(args, 1)
		if !ok {
			return nil
		}
		re := s.regexp(m, args, false)
		if re == nil {
			return nil
		}
		out, err := javaReplace(re, x, b, first)
		if err != nil {
			s.fail(m.pos, "%s: %v", m.name, err)
		}
		s.step(m.pos, len(x)/64)
		return s.charged(m.pos, out)
	}
}

func strMatches(s *state, _ any, x string, m mod, args []any) any {
	re := s.regexp(m, args, true)
	if re == nil {
		return nil
	}
	s.step(m.pos, len(x)/64)
	return re.MatchString(x)
}

func strSplit(s *state, _ any, x string, m mod, args []any) any {
	n := len(args)
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

func listGet(s *state, _ any, items []any, m mod, args []any) any {
	i, ok := argInt(args, 0)
	if !ok {
		return nil
	}
	if i < 0 || i >= len(items) {
		s.fail(m.pos, "get(%d): index out of range for a list of %d", i, len(items))
	}
	return items[i]
}

func listSubList(s *state, _ any, items []any, m mod, args []any) any {
	from, ok1 := argInt(args, 0)
	to, ok2 := argInt(args, 1)
	if !ok1 || !ok2 {
		return nil
	}
	if from < 0 || to > len(items) || from > to {
		s.fail(m.pos, "subList(%d, %d): index out of range for a list of %d", from, to, len(items))
	}
	s.charge(m.pos, 16*(to-from))
	return &List{Items: append([]any(nil), items[from:to]...)}
}

func listAdd(s *state, l *List, m mod, args []any) any {
	s.charge(m.pos, 16)
	if len(args) == 1 {
		l.Items = append(l.Items, args[0])
		return true
	}
	if i, ok := argInt(args, 0); ok && len(args) == 2 {
		if i < 0 || i > len(l.Items) {
			s.fail(m.pos, "add(%d): index out of range for a list of %d", i, len(l.Items))
		}
		l.Items = append(l.Items, nil)
		copy(l.Items[i+1:], l.Items[i:])
		l.Items[i] = args[1]
	}
	return nil
}

func listSet(s *state, l *List, m mod, args []any) any {
	i, ok := argInt(args, 0)
	if !ok {
		return nil
	}
	if i < 0 || i >= len(l.Items) {
		s.fail(m.pos, "set(%d): index out of range for a list of %d", i, len(l.Items))
	}
	old := l.Items[i]
	l.Items[i] = args[1]
	return old
}

func listRemove(s *state, l *List, m mod, args []any) any {
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
}

func listAddAll(s *state, l *List, m mod, args []any) any {
	more, ok := listItems(args[0])
	if !ok {
		return nil
	}
	s.charge(m.pos, 16*len(more))
	s.step(m.pos, len(more))
	l.Items = append(l.Items, more...)
	return len(more) > 0
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

// mapKey is the key argument as a string; a null key finds nothing.
func (s *state) mapKey(m mod, args []any) (string, bool) {
	if len(args) < 1 || args[0] == nil {
		return "", false
	}
	return s.str(m.pos, args[0]), true
}

func mapGetOrDefault(s *state, v any, _ []string, m mod, args []any) any {
	k, ok := s.mapKey(m, args)
	if !ok {
		return args[1]
	}
	if x, found, _ := mapGet(v, k); found {
		return x
	}
	return args[1]
}

func mapContainsValue(s *state, v any, keys []string, m mod, args []any) any {
	vals := make([]any, len(keys))
	for i, k := range keys {
		vals[i], _, _ = mapGet(v, k)
	}
	return s.find(m.pos, vals, args[0], false) >= 0
}

func mapKeySet(s *state, _ any, keys []string, m mod, _ []any) any {
	s.charge(m.pos, 16*len(keys))
	l := &List{Items: make([]any, len(keys))}
	for i, k := range keys {
		l.Items[i] = k
	}
	return l
}

func mapValues(s *state, v any, keys []string, m mod, _ []any) any {
	s.charge(m.pos, 16*len(keys))
	l := &List{Items: make([]any, len(keys))}
	for i, k := range keys {
		l.Items[i], _, _ = mapGet(v, k)
	}
	return l
}

func mapEntrySet(s *state, v any, keys []string, m mod, _ []any) any {
	s.charge(m.pos, 32*len(keys))
	l := &List{Items: make([]any, len(keys))}
	for i, k := range keys {
		x, _, _ := mapGet(v, k)
		l.Items[i] = entry{key: k, val: x}
	}
	return l
}

func mapPutAll(s *state, mp *Map, m mod, args []any) any {
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
