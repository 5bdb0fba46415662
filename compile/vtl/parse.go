package vtl

import (
	"fmt"
	"strconv"
	"strings"
)

// Template is a parsed mapping template. It is immutable and safe for
// concurrent use by any number of Render calls.
type Template struct {
	name  string
	src   string
	nodes []node
}

// Name returns the name given to Parse.
func (t *Template) Name() string { return t.name }

// Source returns the template text given to Parse.
func (t *Template) Source() string { return t.src }

// maxNesting bounds how deeply blocks and expressions may nest, so that no
// input can exhaust the stack of the parser or the renderer.
const maxNesting = 256

// Parse parses a VTL template. A syntax error is returned as an *Error with
// the line and column of the offending text.
func Parse(name, src string) (t *Template, err error) {
	p := &parser{name: name, src: src, root: src, macros: map[string]*macro{}}
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			t, err = nil, pe
		}
	}()
	nodes, term, at := p.nodes()
	if term != "" {
		p.failAt(at, "#%s without a matching #if, #foreach, #macro or #define", term)
	}
	return &Template{name: name, src: src, nodes: nodes}, nil
}

type parser struct {
	name   string
	src    string // text being parsed: the template, or the unescaped content of a string literal
	root   string // the template, for positions
	pos    int
	depth  int
	macros map[string]*macro
	// afterRef is set while nothing but argument-less directives (#end,
	// #else, #break, #stop) has followed a reference not in braces. velocityjs's lexer is
	// then still in its reference state and trims after such a directive
	// only a newline that follows it at once; this parser does the same.
	afterRef bool
	// lenient makes an unterminated [index] end an escaped reference
	// instead of failing: \$a[$b renders as $a[ and then $b.
	lenient bool
	// For the parser of a string literal's content: where the content starts
	// in the parent and where unescaping removed a backslash.
	parent  *parser
	start   int
	removed []int
}

// abs maps an offset of p.src to an offset of the template.
func (p *parser) abs(i int) int {
	if p.parent == nil {
		return i
	}
	n := 0
	for _, r := range p.removed {
		if r <= i {
			n++
		}
	}
	return p.parent.abs(p.start + i + n)
}

func (p *parser) failAt(i int, format string, args ...any) {
	off := p.abs(i)
	line, col := position(p.root, off)
	panic(&Error{Name: p.name, Line: line, Col: col, Offset: off, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) enter(at int) {
	p.depth++
	if p.depth > maxNesting {
		p.failAt(at, "template nests more than %d levels deep", maxNesting)
	}
}

func (p *parser) leave() { p.depth-- }

func (p *parser) peek(off int) byte {
	if i := p.pos + off; i < len(p.src) {
		return p.src[i]
	}
	return 0
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isIdentChar(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' || c == '-' }

func isWordChar(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// refStart reports whether a reference starts at i: $name, $!name, ${name}, $!{name}.
func (p *parser) refStart(i int) bool {
	s := p.src
	if i >= len(s) || s[i] != '$' {
		return false
	}
	i++
	if i < len(s) && s[i] == '!' {
		i++
	}
	if i < len(s) && s[i] == '{' {
		i++
	}
	return i < len(s) && isIdentStart(s[i])
}

// directiveWord reads the word after a '#' at i: "#if" or "#{if}". It
// returns the word and the offset just past it (and past the closing brace).
func (p *parser) directiveWord(i int) (word string, end int) {
	s := p.src
	j := i + 1
	braced := j < len(s) && s[j] == '{'
	if braced {
		j++
	}
	k := j
	for k < len(s) && isWordChar(s[k]) {
		k++
	}
	if k == j || !isIdentStart(s[j]) {
		return "", i
	}
	word = s[j:k]
	if braced {
		if k >= len(s) || s[k] != '}' {
			return "", i
		}
		k++
	}
	return word, k
}

// isDirective reports whether word after '#' is something the parser acts on.
func (p *parser) isDirective(word string) bool {
	switch word {
	case "set", "if", "elseif", "else", "end", "foreach", "break", "stop", "macro", "define":
		return true
	}
	_, ok := p.macros[word]
	return ok
}

// trimLine drops the rest of a line after a directive when it holds only
// spaces and tabs, as velocityjs does: "#end   \n" leaves nothing behind.
func (p *parser) trimLine() {
	i := p.pos
	for i < len(p.src) && (p.src[i] == ' ' || p.src[i] == '\t') {
		i++
	}
	if i < len(p.src) && p.src[i] == '\n' {
		p.pos = i + 1
	}
}

// nodes parses template text up to the end of input or a block terminator
// (#else, #elseif, #end), which it returns with its offset, unconsumed
// except for #else and #end.
func (p *parser) nodes() (out []node, term string, at int) {
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			out = append(out, &textNode{s: text.String()})
			text.Reset()
			p.afterRef = false
		}
	}
	trim := func() {
		if p.afterRef {
			// In velocityjs's reference state the next token is either
			// whitespace up to a } (trimmed as usual) or a single character;
			// either ends the state, another directive does not.
			i := p.pos
			for i < len(p.src) && strings.IndexByte(" \t\n\r\f\v", p.src[i]) >= 0 {
				i++
			}
			if i < len(p.src) && p.src[i] == '}' {
				p.trimLine()
				p.afterRef = false
			} else if p.peek(0) == '\n' {
				p.pos++
				p.afterRef = false
			} else if p.peek(0) != '#' {
				p.afterRef = false
			}
			return
		}
		p.trimLine()
	}
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch c {
		case '\\':
			n := 0
			for p.pos+n < len(p.src) && p.src[p.pos+n] == '\\' {
				n++
			}
			j := p.pos + n
			switch {
			case p.refStart(j):
				text.WriteString(strings.Repeat(`\`, n/2))
				p.pos = j
				if n%2 == 1 { // \$x renders as $x, literally
					p.lenient = true
					r := p.ref()
					p.lenient = false
					text.WriteString(r.src)
					continue
				}
				flush()
				r := p.ref()
				out = append(out, &refNode{r: r})
				p.afterRef = !strings.HasSuffix(r.src, "}")
				continue
			case j < len(p.src) && p.src[j] == '#':
				if w, end := p.directiveWord(j); w != "" && p.isDirective(w) {
					text.WriteString(strings.Repeat(`\`, n/2))
					p.pos = j
					if n%2 == 1 { // \#if renders as #if
						text.WriteString(p.src[j:end])
						p.pos = end
					}
					continue
				}
			}
			text.WriteString(p.src[p.pos:j])
			p.pos = j
		case '$':
			if !p.refStart(p.pos) {
				text.WriteByte(c)
				p.pos++
				continue
			}
			flush()
			r := p.ref()
			out = append(out, &refNode{r: r})
			p.afterRef = !strings.HasSuffix(r.src, "}") // ${formal} references end velocityjs's reference state
		case '#':
			switch p.peek(1) {
			case '#': // ## line comment
				flush()
				p.afterRef = false
				end := strings.IndexByte(p.src[p.pos:], '\n')
				if end < 0 {
					p.pos = len(p.src)
				} else {
					p.pos += end
				}
				p.trimLine()
				continue
			case '*': // #* block comment *#
				flush()
				p.afterRef = false
				end := strings.Index(p.src[p.pos+2:], "*#")
				if end < 0 {
					p.failAt(p.pos, "unterminated comment: #* without *#")
				}
				p.pos += 2 + end + 2
				p.trimLine()
				continue
			case '[':
				if p.peek(2) == '[' { // #[[ unparsed ]]#
					end := strings.Index(p.src[p.pos+3:], "]]#")
					if end < 0 {
						p.failAt(p.pos, "unterminated unparsed block: #[[ without ]]#")
					}
					text.WriteString(p.src[p.pos+3 : p.pos+3+end])
					p.pos += 3 + end + 3
					continue
				}
			}
			word, end := p.directiveWord(p.pos)
			if word == "" || !p.isDirective(word) {
				text.WriteByte(c)
				p.pos++
				continue
			}
			start := p.pos
			switch word {
			case "else", "end":
				flush()
				p.pos = end
				trim()
				return out, word, start
			case "elseif":
				flush()
				p.pos = end
				return out, word, start
			case "break", "stop":
				flush()
				p.pos = end
				trim()
				if word == "break" {
					out = append(out, &breakNode{pos: start})
				} else {
					out = append(out, &stopNode{pos: start})
				}
				continue
			}
			flush()
			p.afterRef = false
			if n := p.directive(word, start, end); n != nil {
				out = append(out, n)
			}
		default:
			// Copy a run of plain text at once.
			j := p.pos + 1
			for j < len(p.src) && p.src[j] != '$' && p.src[j] != '#' && p.src[j] != '\\' {
				j++
			}
			text.WriteString(p.src[p.pos:j])
			p.pos = j
		}
	}
	flush()
	return out, "", p.pos
}

// directive parses the directive word that starts at start and whose name
// ends at end. It returns nil for directives that produce no node.
func (p *parser) directive(word string, start, end int) node {
	p.pos = end
	switch word {
	case "set":
		return p.setDirective(start)
	case "if":
		return p.ifDirective(start)
	case "foreach":
		return p.foreachDirective(start)
	case "macro":
		p.macroDirective(start)
		return nil
	case "define":
		return p.defineDirective(start)
	}
	return p.macroCall(word, start)
}

// setDirective parses #set($ref = value).
func (p *parser) setDirective(start int) node {
	p.open("set", start)
	p.ws()
	if !p.refStart(p.pos) {
		p.failAt(p.pos, "#set needs a reference on the left: #set($name = value)")
	}
	lhs := p.ref()
	if n := len(lhs.mods); n > 0 && lhs.mods[n-1].kind == modMethod {
		p.failAt(lhs.pos, "cannot assign to a method call")
	}
	p.ws()
	if p.peek(0) != '=' {
		p.failAt(p.pos, "expected = in #set")
	}
	p.pos++
	rhs := p.expr()
	p.close("set")
	p.trimLine()
	return &setNode{pos: start, lhs: lhs, rhs: rhs}
}

// ifDirective parses #if(cond) with its #elseif and #else branches.
func (p *parser) ifDirective(start int) node {
	n := &ifNode{}
	p.open("if", start)
	n.conds = append(n.conds, p.expr())
	p.close("if")
	p.trimLine()
	p.enter(start)
	defer p.leave()
	for {
		body, term, at := p.nodes()
		switch term {
		case "":
			p.failAt(start, "#if without #end")
		case "elseif":
			if n.els != nil {
				p.failAt(at, "#elseif after #else")
			}
			n.bodies = append(n.bodies, body)
			p.open("elseif", at)
			n.conds = append(n.conds, p.expr())
			p.close("elseif")
			p.trimLine()
		case "else":
			if n.els != nil {
				p.failAt(at, "second #else in #if")
			}
			n.bodies = append(n.bodies, body)
			els, term2, at2 := p.nodes()
			if els == nil {
				els = []node{}
			}
			n.els = els
			switch term2 {
			case "":
				p.failAt(start, "#if without #end")
			case "end":
				return n
			case "else":
				p.failAt(at2, "second #else in #if")
			default:
				p.failAt(at2, "#elseif after #else")
			}
		case "end":
			n.bodies = append(n.bodies, body)
			return n
		}
	}
}

// foreachDirective parses #foreach($item in list) and its body.
func (p *parser) foreachDirective(start int) node {
	p.open("foreach", start)
	p.ws()
	name := p.dollarIdent("#foreach needs a loop variable: #foreach($item in $list)")
	p.ws()
	if !p.word("in") {
		p.failAt(p.pos, "expected 'in' in #foreach")
	}
	iter := p.expr()
	p.close("foreach")
	p.trimLine()
	body := p.block("foreach", start)
	return &foreachNode{pos: start, name: name, iter: iter, body: body}
}

// macroDirective parses #macro(name $param ...) and its body, and defines
// the macro for what follows.
func (p *parser) macroDirective(start int) {
	p.open("macro", start)
	p.ws()
	if !isIdentStart(p.peek(0)) {
		p.failAt(p.pos, "#macro needs a name: #macro(name $arg)")
	}
	m := &macro{name: p.ident()}
	for {
		p.ws()
		if p.peek(0) == ',' {
			p.pos++
			continue
		}
		if p.peek(0) != '$' {
			break
		}
		if !isIdentStart(p.peek(1)) {
			p.failAt(p.pos, "bad macro parameter")
		}
		p.pos++
		m.params = append(m.params, p.ident())
	}
	p.close("macro")
	p.trimLine()
	p.macros[m.name] = m // visible inside its own body, for recursion
	m.body = p.block("macro", start)
}

// dollarIdent reads a reference's $name and returns the name, failing with
// msg when none is there.
func (p *parser) dollarIdent(msg string) string {
	if p.peek(0) != '$' || !isIdentStart(p.peek(1)) {
		p.failAt(p.pos, "%s", msg)
	}
	p.pos++
	return p.ident()
}

// defineDirective parses #define($name) and its body.
func (p *parser) defineDirective(start int) node {
	p.open("define", start)
	p.ws()
	name := p.dollarIdent("#define needs a reference: #define($name)")
	p.close("define")
	p.trimLine()
	return &defineNode{name: name, body: p.block("define", start)}
}

// macroCall parses #name(args), a call of a macro defined earlier in the
// template.
func (p *parser) macroCall(word string, start int) node {
	m := p.macros[word]
	if p.peek(0) != '(' {
		// Java Velocity renders "#name" without arguments literally.
		p.pos = start + 1
		return &textNode{s: "#"}
	}
	p.pos++
	call := &macroCallNode{pos: start, m: m}
	for {
		p.ws()
		if p.peek(0) == ',' {
			p.pos++
			continue
		}
		if p.peek(0) == ')' {
			p.pos++
			break
		}
		if p.pos >= len(p.src) {
			p.failAt(start, "unterminated call of macro %s", word)
		}
		call.args = append(call.args, p.unary())
	}
	p.trimLine()
	return call
}

// block parses a body up to its #end.
func (p *parser) block(word string, start int) []node {
	p.enter(start)
	defer p.leave()
	body, term, at := p.nodes()
	switch term {
	case "":
		p.failAt(start, "#%s without #end", word)
	case "else", "elseif":
		p.failAt(at, "#%s inside #%s", term, word)
	}
	return body
}

// open consumes the "(" after a directive name, allowing spaces before it.
func (p *parser) open(word string, start int) {
	for p.peek(0) == ' ' || p.peek(0) == '\t' {
		p.pos++
	}
	if p.peek(0) != '(' {
		p.failAt(start, "expected ( after #%s", word)
	}
	p.pos++
}

// close consumes the ")" that ends a directive's arguments.
func (p *parser) close(word string) {
	p.ws()
	if p.peek(0) != ')' {
		if p.pos >= len(p.src) {
			p.failAt(p.pos, "unterminated #%s: missing )", word)
		}
		p.failAt(p.pos, "unexpected %s in #%s, expected )", p.describe(), word)
	}
	p.pos++
}

func (p *parser) describe() string {
	if p.pos >= len(p.src) {
		return "end of template"
	}
	c := p.src[p.pos]
	if c < ' ' || c > '~' {
		return fmt.Sprintf("character %q", rune(c))
	}
	return fmt.Sprintf("%q", string(c))
}

// ws skips whitespace inside directives and expressions.
func (p *parser) ws() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// word consumes kw if it is next as a whole word.
func (p *parser) word(kw string) bool {
	if !strings.HasPrefix(p.src[p.pos:], kw) {
		return false
	}
	if i := p.pos + len(kw); i < len(p.src) && isWordChar(p.src[i]) {
		return false
	}
	p.pos += len(kw)
	return true
}

func (p *parser) ident() string {
	i := p.pos
	for p.pos < len(p.src) && isIdentChar(p.src[p.pos]) {
		p.pos++
	}
	return p.src[i:p.pos]
}

// ref parses a reference at p.pos, which refStart has approved.
func (p *parser) ref() *ref {
	start := p.pos
	r := &ref{pos: p.abs(start)}
	p.pos++ // $
	if p.peek(0) == '!' {
		r.quiet = true
		p.pos++
	}
	formal := p.peek(0) == '{'
	if formal {
		p.pos++
	}
	r.name = p.ident()
	for {
		c := p.peek(0)
		if c == '.' && isIdentStart(p.peek(1)) {
			at := p.pos
			p.pos++
			name := p.ident()
			if p.peek(0) == '(' && p.argsFollow() {
				p.pos++
				m := mod{kind: modMethod, pos: p.abs(at), name: name}
				var first int
				m.args, first = p.args(at)
				m.re = p.regexArg(name, m.args, first)
				m.fns = methodsNamed(name)
				r.mods = append(r.mods, m)
				continue
			}
			r.mods = append(r.mods, mod{kind: modProp, pos: p.abs(at), name: name})
			continue
		}
		if c == '[' && p.indexFollows() {
			at := p.pos
			var ix expr
			ok := p.try(p.lenient, func() {
				p.pos++
				ix = p.expr()
				p.ws()
				if p.peek(0) != ']' {
					p.failAt(p.pos, "unexpected %s in index, expected ]", p.describe())
				}
				p.pos++
			})
			if !ok {
				break
			}
			r.mods = append(r.mods, mod{kind: modIndex, pos: p.abs(at), index: ix})
			continue
		}
		break
	}
	if formal {
		if p.peek(0) != '}' {
			p.failAt(start, "unterminated reference: ${ without }")
		}
		p.pos++
	}
	r.src = p.src[start:p.pos]
	return r
}

// try runs f; when backtrack is set, a syntax error in f restores the
// position and makes try return false instead of failing the parse.
func (p *parser) try(backtrack bool, f func()) (ok bool) {
	if !backtrack {
		f()
		return true
	}
	pos, depth := p.pos, p.depth
	defer func() {
		if r := recover(); r != nil {
			if _, isErr := r.(*Error); !isErr {
				panic(r)
			}
			p.pos, p.depth, ok = pos, depth, false
		}
	}()
	f()
	return true
}

// argsFollow reports whether the '(' at p.pos opens method arguments, as
// velocityjs decides: "$a.b(x" is a call, "$a.b(;" is $a.b and text.
func (p *parser) argsFollow() bool {
	i := p.pos + 1
	for i < len(p.src) && strings.IndexByte(" \t\n\r\f\v", p.src[i]) >= 0 {
		i++
	}
	if i >= len(p.src) {
		return false
	}
	c := p.src[i]
	return isWordChar(c) || strings.IndexByte("$'\"[{-()!", c) >= 0
}

// indexFollows reports whether the '[' at p.pos starts an index, as in
// $list[0] or $map['key'], rather than text after a reference.
func (p *parser) indexFollows() bool {
	i := p.pos + 1
	for i < len(p.src) && (p.src[i] == ' ' || p.src[i] == '\t') {
		i++
	}
	if i >= len(p.src) {
		return false
	}
	switch c := p.src[i]; {
	case c == '-' || c == '$' || c == '"' || c == '\'' || c == '{' || c == '[' || c >= '0' && c <= '9':
		return true
	}
	return false
}

// args parses method arguments after "(" up to ")"; first is where the
// first argument starts.
func (p *parser) args(at int) (args []expr, first int) {
	p.ws()
	first = p.pos
	if p.peek(0) == ')' {
		p.pos++
		return args, first
	}
	for {
		args = append(args, p.expr())
		p.ws()
		switch p.peek(0) {
		case ',':
			p.pos++
		case ')':
			p.pos++
			return args, first
		default:
			if p.pos >= len(p.src) {
				p.failAt(at, "unterminated method call: missing )")
			}
			p.failAt(p.pos, "unexpected %s in method arguments, expected , or )", p.describe())
		}
	}
}

// Expressions, lowest precedence first: || && == != < <= > >= + - * / % ! -.

func (p *parser) expr() expr {
	p.enter(p.pos)
	defer p.leave()
	return p.or()
}

func (p *parser) or() expr {
	l := p.and()
	for {
		p.ws()
		at := p.pos
		if p.lit("||") || p.word("or") {
			l = &binExpr{pos: p.abs(at), op: "||", l: l, r: p.and()}
			continue
		}
		return l
	}
}

func (p *parser) and() expr {
	l := p.equality()
	for {
		p.ws()
		at := p.pos
		if p.lit("&&") || p.word("and") {
			l = &binExpr{pos: p.abs(at), op: "&&", l: l, r: p.equality()}
			continue
		}
		return l
	}
}

func (p *parser) equality() expr {
	l := p.relational()
	for {
		p.ws()
		at := p.pos
		switch {
		case p.lit("==") || p.word("eq"):
			l = &binExpr{pos: p.abs(at), op: "==", l: l, r: p.relational()}
		case p.lit("!=") || p.word("ne"):
			l = &binExpr{pos: p.abs(at), op: "!=", l: l, r: p.relational()}
		default:
			return l
		}
	}
}

func (p *parser) relational() expr {
	l := p.additive()
	for {
		p.ws()
		at := p.pos
		var op string
		switch {
		case p.lit("<=") || p.word("le"):
			op = "<="
		case p.lit(">=") || p.word("ge"):
			op = ">="
		case p.lit("<") || p.word("lt"):
			op = "<"
		case p.lit(">") || p.word("gt"):
			op = ">"
		default:
			return l
		}
		l = &binExpr{pos: p.abs(at), op: op, l: l, r: p.additive()}
	}
}

func (p *parser) additive() expr {
	l := p.multiplicative()
	for {
		p.ws()
		at := p.pos
		switch c := p.peek(0); c {
		case '+', '-':
			p.pos++
			l = &binExpr{pos: p.abs(at), op: string(c), l: l, r: p.multiplicative()}
		default:
			return l
		}
	}
}

func (p *parser) multiplicative() expr {
	l := p.unary()
	for {
		p.ws()
		at := p.pos
		switch c := p.peek(0); c {
		case '*', '/', '%':
			p.pos++
			l = &binExpr{pos: p.abs(at), op: string(c), l: l, r: p.unary()}
		default:
			return l
		}
	}
}

func (p *parser) unary() expr {
	p.ws()
	at := p.pos
	switch {
	case p.peek(0) == '!' && p.peek(1) != '=':
		p.pos++
		p.enter(at)
		defer p.leave()
		return &unExpr{pos: p.abs(at), op: "!", x: p.unary()}
	case p.word("not"):
		p.enter(at)
		defer p.leave()
		return &unExpr{pos: p.abs(at), op: "!", x: p.unary()}
	case p.peek(0) == '-':
		p.pos++
		if c := p.peek(0); c >= '0' && c <= '9' {
			return p.number(at)
		}
		p.enter(at)
		defer p.leave()
		return &unExpr{pos: p.abs(at), op: "-", x: p.unary()}
	}
	return p.primary()
}

// lit consumes s if it is next.
func (p *parser) lit(s string) bool {
	if strings.HasPrefix(p.src[p.pos:], s) {
		p.pos += len(s)
		return true
	}
	return false
}

func (p *parser) primary() expr {
	p.ws()
	at := p.pos
	c := p.peek(0)
	switch {
	case c == '(':
		p.pos++
		e := p.expr()
		p.ws()
		if p.peek(0) != ')' {
			p.failAt(p.pos, "unexpected %s, expected )", p.describe())
		}
		p.pos++
		return e
	case c == '"' || c == '\'':
		return p.str()
	case c >= '0' && c <= '9':
		return p.number(at)
	case c == '[':
		return p.list()
	case c == '{':
		return p.mapLit()
	case c == '$':
		if !p.refStart(p.pos) {
			p.failAt(p.pos, "bad reference")
		}
		return p.ref()
	case p.word("true"):
		return &lit{v: true}
	case p.word("false"):
		return &lit{v: false}
	case p.word("null"):
		return &lit{v: nil}
	}
	if p.pos >= len(p.src) {
		p.failAt(p.pos, "unexpected end of template in expression")
	}
	p.failAt(p.pos, "unexpected %s in expression", p.describe())
	return nil
}

// number parses an integer or decimal literal; the text starts at 'at',
// which may be a minus sign already consumed.
func (p *parser) number(at int) expr {
	for c := p.peek(0); c >= '0' && c <= '9'; c = p.peek(0) {
		p.pos++
	}
	isFloat := false
	if p.peek(0) == '.' && p.peek(1) >= '0' && p.peek(1) <= '9' {
		isFloat = true
		p.pos++
		for c := p.peek(0); c >= '0' && c <= '9'; c = p.peek(0) {
			p.pos++
		}
	}
	s := p.src[at:p.pos]
	if !isFloat {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return &lit{v: i}
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		p.failAt(at, "bad number %s", s)
	}
	return &lit{v: f}
}

// str parses a string literal. Double-quoted strings interpolate
// references and directives; \" and \' escape the quote.
func (p *parser) str() expr {
	q := p.src[p.pos]
	start := p.pos
	i := p.pos + 1
	var b strings.Builder
	var removed []int
	for {
		if i >= len(p.src) {
			p.failAt(start, "unterminated string")
		}
		c := p.src[i]
		if c == q {
			break
		}
		if c == '\\' && i+1 < len(p.src) && p.src[i+1] == q {
			removed = append(removed, b.Len())
			b.WriteByte(q)
			i += 2
			continue
		}
		b.WriteByte(c)
		i++
	}
	p.pos = i + 1
	s := b.String()
	if q == '\'' || !strings.ContainsAny(s, "$#") {
		return &lit{v: s}
	}
	sub := &parser{name: p.name, src: s, root: p.root, macros: p.macros, parent: p, start: start + 1, removed: removed, depth: p.depth}
	nodes, term, at := sub.nodes()
	if term != "" {
		sub.failAt(at, "#%s without a matching directive in string", term)
	}
	return &interp{pos: p.abs(start), nodes: nodes}
}

// list parses [a, b], [] or a range [from..to].
func (p *parser) list() expr {
	start := p.pos
	p.pos++
	p.ws()
	if p.peek(0) == ']' {
		p.pos++
		return &listExpr{}
	}
	first := p.expr()
	p.ws()
	if p.lit("..") {
		to := p.expr()
		p.ws()
		if p.peek(0) != ']' {
			p.failAt(p.pos, "unexpected %s in range, expected ]", p.describe())
		}
		p.pos++
		return &rangeExpr{pos: p.abs(start), from: first, to: to}
	}
	l := &listExpr{items: []expr{first}}
	for {
		p.ws()
		switch p.peek(0) {
		case ',':
			p.pos++
			l.items = append(l.items, p.expr())
		case ']':
			p.pos++
			return l
		default:
			if p.pos >= len(p.src) {
				p.failAt(start, "unterminated list: missing ]")
			}
			p.failAt(p.pos, "unexpected %s in list, expected , or ]", p.describe())
		}
	}
}

// mapLit parses {key: value, ...}.
func (p *parser) mapLit() expr {
	start := p.pos
	p.pos++
	m := &mapExpr{}
	p.ws()
	if p.peek(0) == '}' {
		p.pos++
		return m
	}
	for {
		k := p.expr()
		p.ws()
		if p.peek(0) != ':' {
			p.failAt(p.pos, "unexpected %s in map, expected :", p.describe())
		}
		p.pos++
		v := p.expr()
		m.keys = append(m.keys, k)
		m.vals = append(m.vals, v)
		p.ws()
		switch p.peek(0) {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return m
		default:
			if p.pos >= len(p.src) {
				p.failAt(start, "unterminated map: missing }")
			}
			p.failAt(p.pos, "unexpected %s in map, expected , or }", p.describe())
		}
	}
}
