package vtl

import (
	"fmt"
	"regexp"
	"unicode/utf8"
)

// Error is a syntax error found by Parse or a failure while rendering. Line
// and Col (1-based, Col counted in characters) locate it in the template
// source; Offset is the byte offset of the same place.
type Error struct {
	Name   string // template name given to Parse
	Line   int
	Col    int
	Offset int
	Msg    string // lowercase, no trailing period
	Err    error  // the limit error (ErrOutputLimit...) when one was hit
}

func (e *Error) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.Name, e.Line, e.Col, e.Msg)
}

// Unwrap returns the limit error behind a render failure, if any.
func (e *Error) Unwrap() error { return e.Err }

// position converts a byte offset of src into a 1-based line and column.
func position(src string, off int) (line, col int) {
	if off > len(src) {
		off = len(src)
	}
	line, col = 1, 1
	for i := 0; i < off; {
		r, size := utf8.DecodeRuneInString(src[i:])
		i += size
		if r == '\n' {
			line++
			col = 1
			continue
		}
		col++
	}
	return line, col
}

// Template nodes. Each keeps the byte offset where it starts in the
// template source, for render errors.
type node interface{}

type textNode struct{ s string }

type refNode struct{ r *ref }

type setNode struct {
	pos int
	lhs *ref
	rhs expr
}

type ifNode struct {
	conds  []expr
	bodies [][]node
	els    []node // nil when there is no #else
}

type foreachNode struct {
	pos  int
	name string // loop variable, without $
	iter expr
	body []node
}

type breakNode struct{ pos int }

type stopNode struct{ pos int }

type macroCallNode struct {
	pos  int
	m    *macro
	args []expr
}

type defineNode struct {
	name string
	body []node
}

type macro struct {
	name   string
	params []string
	body   []node
}

// block is the value of a #define'd reference: its body, rendered when used.
type block struct{ body []node }

// Expressions.
type expr interface{}

type lit struct{ v any } // nil, bool, int64, float64 or string

type interp struct { // a double-quoted string with references or directives
	pos   int
	nodes []node
}

type listExpr struct{ items []expr }

type rangeExpr struct {
	pos      int
	from, to expr
}

type mapExpr struct{ keys, vals []expr }

type binExpr struct {
	pos  int
	op   string
	l, r expr
}

type unExpr struct {
	pos int
	op  string // "!" or "-"
	x   expr
}

// ref is a reference: $name followed by .property, .method(args) and [index].
type ref struct {
	pos   int
	src   string // the reference as written, the operand text Velocity uses for a null in +
	quiet bool   // $!name
	name  string
	mods  []mod
}

type modKind uint8

const (
	modProp modKind = iota
	modMethod
	modIndex
)

type mod struct {
	kind  modKind
	pos   int
	name  string         // property or method name
	args  []expr         // method arguments
	index expr           // [index]
	re    *regexp.Regexp // first argument precompiled for replaceAll, replaceFirst, matches and split
	fns   *methodFns     // the method's functions, looked up by Parse (noMethods: none)
}
