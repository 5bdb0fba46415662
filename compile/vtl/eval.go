package vtl

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// Limits bound what one Render may do, so that no template can hang or
// exhaust memory. A zero field takes its value from DefaultLimits.
type Limits struct {
	// MaxOutput is the largest output in bytes.
	MaxOutput int
	// MaxSteps bounds evaluation work: every node rendered, loop
	// iteration, method call and collection element visited is a step.
	MaxSteps int
	// MaxAlloc bounds the bytes of strings and collection slots a template
	// creates while rendering (concatenations, literals, add, put, ranges).
	MaxAlloc int
	// MaxDepth bounds macro calls and #define expansions nested in each other.
	MaxDepth int
	// Timeout bounds the wall-clock time of one Render.
	Timeout time.Duration
}

// DefaultLimits are the limits Render uses. API Gateway caps mapping
// templates at 300 KB and WebSocket messages at 128 KB; these leave room
// for templates that loop over large payloads.
var DefaultLimits = Limits{
	MaxOutput: 10 << 20,
	MaxSteps:  2_000_000,
	MaxAlloc:  64 << 20,
	MaxDepth:  64,
	Timeout:   5 * time.Second,
}

// Errors a Render returns (wrapped in an *Error) when a limit is reached.
var (
	ErrOutputLimit = errors.New("output limit reached")
	ErrStepLimit   = errors.New("step limit reached")
	ErrAllocLimit  = errors.New("memory limit reached")
	ErrDepthLimit  = errors.New("nesting limit reached")
	ErrTimeout     = errors.New("time limit reached")
)

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxOutput <= 0 {
		l.MaxOutput = d.MaxOutput
	}
	if l.MaxSteps <= 0 {
		l.MaxSteps = d.MaxSteps
	}
	if l.MaxAlloc <= 0 {
		l.MaxAlloc = d.MaxAlloc
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.Timeout <= 0 {
		l.Timeout = d.Timeout
	}
	return l
}

// Render renders the template with vars into w, within DefaultLimits.
// Nothing is written to w when rendering fails.
func (t *Template) Render(w io.Writer, vars Vars) error {
	return t.RenderLimits(w, vars, DefaultLimits)
}

// RenderString renders the template with vars and returns the output.
func (t *Template) RenderString(vars Vars) (string, error) {
	s := t.newState(vars, DefaultLimits)
	if err := s.run(); err != nil {
		return "", err
	}
	return s.out.String(), nil
}

// RenderLimits is Render with explicit limits.
func (t *Template) RenderLimits(w io.Writer, vars Vars, lim Limits) error {
	s := t.newState(vars, lim)
	if err := s.run(); err != nil {
		return err
	}
	_, err := io.WriteString(w, s.out.String())
	return err
}

// state is one rendering.
type state struct {
	t        *Template
	lim      Limits
	out      *strings.Builder
	vars     Vars
	globals  map[string]any
	scopes   []*scope
	steps    int
	alloc    int
	depth    int
	deadline time.Time
	stopped  bool // #stop
	breaking bool // #break, until the innermost #foreach takes it
	// outMax bounds s.out: the output limit for the output, the memory
	// left for a string being built (interpolation, #define).
	outMax int
	outErr error
}

// scope holds the variables of a #foreach iteration or a macro call.
type scope struct {
	vars  map[string]any
	macro bool
}

// loop is the value of $foreach.
type loop struct {
	index, count int
	hasNext      bool
	parent       *loop
}

// failure is a render error on its way up; run turns it into an *Error.
type failure struct {
	pos int
	msg string
	err error
}

func (t *Template) newState(vars Vars, lim Limits) *state {
	lim = lim.withDefaults()
	out := &strings.Builder{}
	out.Grow(len(t.src))
	return &state{t: t, lim: lim, out: out, vars: vars, globals: map[string]any{}, deadline: time.Now().Add(lim.Timeout),
		outMax: lim.MaxOutput, outErr: ErrOutputLimit}
}

func (s *state) run() (err error) {
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(*failure)
			if !ok {
				panic(r)
			}
			line, col := position(s.t.src, f.pos)
			err = &Error{Name: s.t.name, Line: line, Col: col, Offset: f.pos, Msg: f.msg, Err: f.err}
		}
	}()
	s.render(s.t.nodes)
	return nil
}

func (s *state) fail(pos int, format string, args ...any) {
	panic(&failure{pos: pos, msg: fmt.Sprintf(format, args...)})
}

func (s *state) limit(pos int, err error) {
	panic(&failure{pos: pos, msg: err.Error(), err: err})
}

// step counts n units of work.
func (s *state) step(pos, n int) {
	s.steps += n
	if s.steps > s.lim.MaxSteps {
		s.limit(pos, ErrStepLimit)
	}
	if s.steps&1023 < n && time.Now().After(s.deadline) {
		s.limit(pos, ErrTimeout)
	}
}

// charge counts n bytes of memory the template allocates.
func (s *state) charge(pos, n int) {
	s.alloc += n
	if s.alloc > s.lim.MaxAlloc {
		s.limit(pos, ErrAllocLimit)
	}
}

func (s *state) emit(pos int, str string) {
	if s.out.Len()+len(str) > s.outMax {
		s.limit(pos, s.outErr)
	}
	s.out.WriteString(str)
}

// capture renders into a new string, for interpolated strings and #define
// blocks, within the memory left.
func (s *state) capture(pos int, f func()) string {
	out, max, err := s.out, s.outMax, s.outErr
	s.out, s.outMax, s.outErr = &strings.Builder{}, s.lim.MaxAlloc-s.alloc, ErrAllocLimit
	defer func() { s.out, s.outMax, s.outErr = out, max, err }()
	f()
	str := s.out.String()
	s.charge(pos, len(str))
	return str
}

// lookup finds a variable: innermost scope first, then #set variables,
// then the caller's.
func (s *state) lookup(name string) (any, bool) {
	for i := len(s.scopes) - 1; i >= 0; i-- {
		if v, ok := s.scopes[i].vars[name]; ok {
			return v, true
		}
	}
	if v, ok := s.globals[name]; ok {
		return v, true
	}
	v, ok := s.vars[name]
	return norm(v), ok
}

func (s *state) render(nodes []node) {
	for _, n := range nodes {
		if s.stopped || s.breaking {
			return
		}
		switch n := n.(type) {
		case *textNode:
			s.step(0, 1)
			s.emit(0, n.s)
		case *refNode:
			s.step(n.r.pos, 1)
			v := s.refValue(n.r)
			s.write(n.r.pos, v)
		case *setNode:
			s.step(n.pos, 1)
			s.set(n)
		case *ifNode:
			s.step(0, 1)
			for i, c := range n.conds {
				if truthy(s.eval(c)) {
					s.render(n.bodies[i])
					break
				}
				if i == len(n.conds)-1 && n.els != nil {
					s.render(n.els)
				}
			}
		case *foreachNode:
			s.foreach(n)
		case *breakNode:
			s.breaking = true
			if !s.inLoop() {
				s.stopped = true
			}
		case *stopNode:
			s.stopped = true
		case *macroCallNode:
			s.callMacro(n)
		case *defineNode:
			s.globals[n.name] = &block{body: n.body}
		}
	}
}

func (s *state) inLoop() bool {
	for _, sc := range s.scopes {
		if _, ok := sc.vars["foreach"]; ok && !sc.macro {
			return true
		}
	}
	return false
}

// write renders a reference's value: null renders as nothing, as API
// Gateway does, and a #define'd block renders its body.
func (s *state) write(pos int, v any) {
	switch x := v.(type) {
	case nil:
	case string:
		s.emit(pos, x)
	case *block:
		s.expand(pos, x)
	default:
		s.emit(pos, s.str(pos, v))
	}
}

// str converts v to its Java string form within the output limit.
func (s *state) str(pos int, v any) string {
	if str, ok := v.(string); ok {
		return str
	}
	if b, ok := v.(*block); ok {
		return s.blockString(pos, b)
	}
	bud := &budget{n: s.lim.MaxSteps - s.steps, max: s.lim.MaxOutput}
	var sb strings.Builder
	writeStringB(&sb, v, 0, bud)
	s.step(pos, s.lim.MaxSteps-s.steps-bud.n)
	if bud.over {
		s.limit(pos, ErrOutputLimit)
	}
	return sb.String()
}

func (s *state) expand(pos int, b *block) {
	s.depth++
	if s.depth > s.lim.MaxDepth {
		s.limit(pos, ErrDepthLimit)
	}
	s.render(b.body)
	s.depth--
}

// blockString renders a #define'd block into a string.
func (s *state) blockString(pos int, b *block) string {
	return s.capture(pos, func() { s.expand(pos, b) })
}

func (s *state) foreach(n *foreachNode) {
	s.step(n.pos, 1)
	it := s.eval(n.iter)
	var items []any
	switch x := it.(type) {
	case *List:
		items = x.Items[:len(x.Items):len(x.Items)]
	default:
		if l, ok := listItems(it); ok {
			items = l
		} else if keys, ok := mapKeys(it); ok {
			items = make([]any, len(keys))
			for i, k := range keys {
				items[i], _, _ = mapGet(it, k)
			}
		}
	}
	if len(items) == 0 {
		return
	}
	var parent *loop
	if v, ok := s.lookup("foreach"); ok {
		parent, _ = v.(*loop)
	}
	sc := &scope{vars: make(map[string]any, 3)}
	s.scopes = append(s.scopes, sc)
	defer func() { s.scopes = s.scopes[:len(s.scopes)-1] }()
	for i, item := range items {
		s.step(n.pos, 1)
		sc.vars[n.name] = item
		sc.vars["foreach"] = &loop{index: i, count: i + 1, hasNext: i+1 < len(items), parent: parent}
		sc.vars["velocityCount"] = int64(i + 1)
		s.render(n.body)
		if s.breaking {
			s.breaking = false
			break
		}
		if s.stopped {
			break
		}
	}
}

func (s *state) callMacro(n *macroCallNode) {
	s.step(n.pos, 1)
	s.depth++
	if s.depth > s.lim.MaxDepth {
		s.limit(n.pos, ErrDepthLimit)
	}
	sc := &scope{vars: make(map[string]any, len(n.m.params)), macro: true}
	for i, name := range n.m.params {
		var v any
		if i < len(n.args) {
			v = s.eval(n.args[i])
		}
		sc.vars[name] = v
	}
	s.scopes = append(s.scopes, sc)
	s.render(n.m.body)
	s.scopes = s.scopes[:len(s.scopes)-1]
	s.depth--
}

// set runs #set. A null value leaves the target unchanged, as in
// Velocity 1.7.
func (s *state) set(n *setNode) {
	v := s.eval(n.rhs)
	if v == nil {
		return
	}
	lhs := n.lhs
	if len(lhs.mods) == 0 {
		for i := len(s.scopes) - 1; i >= 0; i-- {
			sc := s.scopes[i]
			if _, ok := sc.vars[lhs.name]; ok {
				sc.vars[lhs.name] = v
				return
			}
			if sc.macro {
				break
			}
		}
		s.globals[lhs.name] = v
		return
	}
	base, ok := s.lookup(lhs.name)
	if !ok || base == nil {
		return
	}
	for _, m := range lhs.mods[:len(lhs.mods)-1] {
		base = s.apply(base, m)
		if base == nil {
			return
		}
	}
	last := lhs.mods[len(lhs.mods)-1]
	var key any
	if last.kind == modIndex {
		key = s.eval(last.index)
	} else {
		key = last.name
	}
	switch b := base.(type) {
	case *Map:
		s.charge(last.pos, 16)
		b.Put(s.str(last.pos, key), v)
	case *List:
		i, ok := key.(int64)
		if !ok {
			return
		}
		if i < 0 {
			i += int64(len(b.Items))
		}
		if i < 0 || i >= int64(len(b.Items)) {
			s.fail(last.pos, "index %d out of bounds for list of %d", i, len(b.Items))
		}
		b.Items[i] = v
	case map[string]any, map[string]string, []any, []string:
		s.fail(last.pos, "cannot modify %s: it is read-only", strings.TrimPrefix(lhs.src, "$"))
	}
}

// refValue evaluates a reference.
func (s *state) refValue(r *ref) any {
	v, _ := s.lookup(r.name)
	for _, m := range r.mods {
		if v == nil {
			return nil
		}
		v = s.apply(v, m)
	}
	return v
}

// apply evaluates one .property, .method() or [index] on v.
func (s *state) apply(v any, m mod) any {
	s.step(m.pos, 1)
	if b, ok := v.(*block); ok {
		v = s.blockString(m.pos, b)
	}
	switch m.kind {
	case modProp:
		return s.property(v, m.name)
	case modIndex:
		return s.indexOf(v, s.eval(m.index))
	}
	args := make([]any, len(m.args))
	for i, a := range m.args {
		args[i] = s.eval(a)
		if b, ok := args[i].(*block); ok {
			args[i] = s.blockString(m.pos, b)
		}
	}
	return s.call(v, m, args)
}

// property is $v.name: a map's entry, an object's property, or the
// getter-like properties Velocity finds on Java objects.
func (s *state) property(v any, name string) any {
	if x, found, isMap := mapGet(v, name); isMap {
		if !found {
			return nil
		}
		return x
	}
	switch x := v.(type) {
	case Object:
		p, _ := x.Property(name)
		return norm(p)
	case *loop:
		return x.prop(name)
	case entry:
		switch name {
		case "key":
			return x.key
		case "value":
			return x.val
		}
	case string:
		if name == "empty" {
			return len(x) == 0
		}
	case *List:
		if name == "empty" {
			return len(x.Items) == 0
		}
	default:
		if items, ok := listItems(v); ok && name == "empty" {
			return len(items) == 0
		}
	}
	return nil
}

func (l *loop) prop(name string) any {
	switch name {
	case "index":
		return int64(l.index)
	case "count":
		return int64(l.count)
	case "hasNext":
		return l.hasNext
	case "first":
		return l.index == 0
	case "last":
		return !l.hasNext
	case "parent":
		if l.parent == nil {
			return nil
		}
		return l.parent
	}
	return nil
}

// indexOf is $v[i]: list elements (negative counts from the end, out of
// range is null) and map entries.
func (s *state) indexOf(v, i any) any {
	if items, ok := listItems(v); ok {
		n, ok := i.(int64)
		if !ok {
			return nil
		}
		if n < 0 {
			n += int64(len(items))
		}
		if n < 0 || n >= int64(len(items)) {
			return nil
		}
		return items[n]
	}
	if i == nil {
		return nil
	}
	if _, _, isMap := mapGet(v, ""); isMap {
		x, _, _ := mapGet(v, s.str(0, i))
		return x
	}
	if o, ok := v.(Object); ok {
		if k, ok := i.(string); ok {
			p, _ := o.Property(k)
			return norm(p)
		}
	}
	return nil
}

// eval evaluates an expression.
func (s *state) eval(e expr) any {
	switch e := e.(type) {
	case *lit:
		return e.v
	case *ref:
		return s.refValue(e)
	case *interp:
		return s.capture(e.pos, func() { s.render(e.nodes) })
	case *listExpr:
		l := &List{Items: make([]any, len(e.items))}
		s.charge(0, 16*len(e.items)+32)
		for i, x := range e.items {
			l.Items[i] = s.eval(x)
		}
		return l
	case *rangeExpr:
		return s.rangeList(e)
	case *mapExpr:
		m := NewMap()
		s.charge(0, 32*len(e.keys)+48)
		for i, k := range e.keys {
			kv := s.eval(k)
			if kv == nil {
				continue
			}
			m.Put(s.str(0, kv), s.eval(e.vals[i]))
		}
		return m
	case *unExpr:
		x := s.eval(e.x)
		if e.op == "!" {
			return !truthy(x)
		}
		switch n := x.(type) {
		case int64:
			if n == math.MinInt64 {
				return -float64(n)
			}
			return -n
		case float64:
			return -n
		}
		return nil
	case *binExpr:
		return s.binary(e)
	}
	panic(fmt.Sprintf("vtl: unknown expression %T", e))
}

func (s *state) rangeList(e *rangeExpr) any {
	from, ok1 := s.eval(e.from).(int64)
	to, ok2 := s.eval(e.to).(int64)
	if !ok1 || !ok2 {
		return nil
	}
	n := to - from
	if n < 0 {
		n = -n
	}
	if n >= int64(s.lim.MaxAlloc/8) {
		s.limit(e.pos, ErrAllocLimit)
	}
	s.charge(e.pos, 8*int(n+1))
	s.step(e.pos, int(n+1))
	l := &List{Items: make([]any, 0, n+1)}
	step := int64(1)
	if to < from {
		step = -1
	}
	for i := from; ; i += step {
		l.Items = append(l.Items, i)
		if i == to {
			break
		}
	}
	return l
}

func (s *state) binary(e *binExpr) any {
	switch e.op {
	case "||":
		return truthy(s.eval(e.l)) || truthy(s.eval(e.r))
	case "&&":
		return truthy(s.eval(e.l)) && truthy(s.eval(e.r))
	}
	l, r := s.eval(e.l), s.eval(e.r)
	switch e.op {
	case "==":
		return s.equal(e.pos, l, r)
	case "!=":
		return !s.equal(e.pos, l, r)
	case "<", "<=", ">", ">=":
		c, ok := compareNumbers(norm(l), norm(r))
		if !ok {
			return false
		}
		switch e.op {
		case "<":
			return c < 0
		case "<=":
			return c <= 0
		case ">":
			return c > 0
		}
		return c >= 0
	case "+":
		if _, ok := l.(string); ok {
			return s.concat(e, l, r)
		}
		if _, ok := r.(string); ok {
			return s.concat(e, l, r)
		}
	}
	return arith(e.op, norm(l), norm(r))
}

// concat is + with a string operand. A null operand contributes its
// reference as written, as in Velocity 1.7.
func (s *state) concat(e *binExpr, l, r any) any {
	ls := s.operandString(e.l, l)
	rs := s.operandString(e.r, r)
	s.charge(e.pos, len(ls)+len(rs))
	return ls + rs
}

func (s *state) operandString(x expr, v any) string {
	if v == nil {
		if r, ok := x.(*ref); ok {
			return r.src
		}
		return "null"
	}
	return s.str(0, v)
}

func (s *state) equal(pos int, a, b any) bool {
	bud := &budget{n: s.lim.MaxSteps - s.steps}
	eq := valuesEqualB(a, b, bud)
	s.step(pos, s.lim.MaxSteps-s.steps-bud.n)
	return eq
}

// arith is Velocity 1.7's arithmetic: integer operations on integers
// (5 / 2 is 2), floating point as soon as one operand is a decimal, null
// for anything else and for a division by zero.
func arith(op string, l, r any) any {
	if li, ok := l.(int64); ok {
		if ri, ok := r.(int64); ok {
			return intArith(op, li, ri)
		}
	}
	lf, ok1 := toFloat(l)
	rf, ok2 := toFloat(r)
	if !ok1 || !ok2 {
		return nil
	}
	switch op {
	case "+":
		return lf + rf
	case "-":
		return lf - rf
	case "*":
		return lf * rf
	case "/":
		if rf == 0 {
			return nil
		}
		return lf / rf
	case "%":
		if rf == 0 {
			return nil
		}
		return math.Mod(lf, rf)
	}
	return nil
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// intArith computes on int64, falling back to float64 on overflow where
// Java would widen to BigInteger.
func intArith(op string, a, b int64) any {
	switch op {
	case "+":
		c := a + b
		if (c > a) == (b > 0) {
			return c
		}
		return float64(a) + float64(b)
	case "-":
		c := a - b
		if (c < a) == (b > 0) {
			return c
		}
		return float64(a) - float64(b)
	case "*":
		if a == 0 || b == 0 {
			return int64(0)
		}
		c := a * b
		if c/b == a && !(a == -1 && b == math.MinInt64) && !(b == -1 && a == math.MinInt64) {
			return c
		}
		return float64(a) * float64(b)
	case "/":
		if b == 0 {
			return nil
		}
		if a == math.MinInt64 && b == -1 {
			return -float64(a)
		}
		return a / b
	case "%":
		if b == 0 {
			return nil
		}
		if b == -1 {
			return int64(0)
		}
		return a % b
	}
	return nil
}
