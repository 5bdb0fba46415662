package template

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

// MaxTemplateSize is the largest template CloudFormation accepts (a template
// body in S3, 1 MB); wsgw refuses bigger files rather than spend time on them.
const MaxTemplateSize = 1 << 20

// maxDepth bounds the nesting of a template; real templates stay far below it.
const maxDepth = 512

// shortTags maps CloudFormation's YAML short tags to the key of their long form.
var shortTags = map[string]string{
	"!Ref": "Ref", "!Condition": "Condition",
	"!GetAtt": "Fn::GetAtt", "!Sub": "Fn::Sub", "!Join": "Fn::Join", "!Select": "Fn::Select",
	"!Split": "Fn::Split", "!If": "Fn::If", "!Equals": "Fn::Equals", "!And": "Fn::And",
	"!Or": "Fn::Or", "!Not": "Fn::Not", "!FindInMap": "Fn::FindInMap", "!Base64": "Fn::Base64",
	"!GetAZs": "Fn::GetAZs", "!ImportValue": "Fn::ImportValue", "!Cidr": "Fn::Cidr",
	"!Transform": "Fn::Transform", "!Length": "Fn::Length", "!ToJsonString": "Fn::ToJsonString",
}

// Parse reads a YAML or JSON template into a node tree. file names the source
// in ranges. JSON is recognised by its first non-blank character.
func Parse(file string, src []byte) (*Node, Diagnostics) {
	at := Range{File: file, Line: 1, Col: 1}
	switch {
	case len(src) > MaxTemplateSize:
		return nil, Diagnostics{RuleSyntax.Diag(at, "template is %.1f MB; CloudFormation accepts at most 1 MB", float64(len(src))/(1<<20))}
	case len(bytes.TrimSpace(src)) == 0:
		return nil, Diagnostics{RuleSyntax.Diag(at, "template is empty")}
	case !utf8.Valid(src) || bytes.IndexByte(src, 0) >= 0:
		return nil, Diagnostics{RuleSyntax.Diag(at, "template is not UTF-8 text")}
	}
	trimmed := bytes.TrimLeft(src, " \t\r\n\ufeff")
	if trimmed[0] == '{' {
		return parseJSON(file, src)
	}
	return parseYAML(file, src)
}

// ---- YAML ----

var yamlLineErr = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func parseYAML(file string, src []byte) (*Node, Diagnostics) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(&doc); err != nil {
		return nil, Diagnostics{yamlError(file, src, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		line := extra.Line
		if err != nil {
			return nil, Diagnostics{yamlError(file, src, err)}
		}
		return nil, Diagnostics{RuleSyntax.Diag(Range{File: file, Line: line, Col: 1}, "template holds more than one YAML document")}
	}
	if len(doc.Content) == 0 {
		return nil, Diagnostics{RuleSyntax.Diag(Range{File: file, Line: 1, Col: 1}, "template is empty")}
	}
	c := yamlConv{file: file, lines: bytes.Split(src, []byte("\n"))}
	n := c.node(doc.Content[0], 0)
	if c.aliases > 1 {
		more := "aliases"
		if c.aliases == 2 {
			more = "alias"
		}
		c.diags[c.aliasDiag].Message += fmt.Sprintf(" (and %d more %s)", c.aliases-1, more)
	}
	return n, c.diags
}

// yamlError turns a yaml decoding error into a diagnostic at the problem.
//
// go.yaml.in/yaml/v3 says "line N" where N is, for parser errors, the
// 0-based line of the context (the construct being parsed: the mapping whose
// key is badly indented, the flow sequence left open), one line before that
// construct and often far before the problem, and it keeps no column. So
// yamlProblem finds the position again: the shortest prefix of src on which
// the decoder fails with the very same error ends at the first byte of the
// token that caused it (the decoder reads a stream and fails on that token,
// whatever follows; a flow collection left open fails the same way at the
// end of any prefix that holds its opening bracket, which is then where the
// problem is reported).
func yamlError(file string, src []byte, err error) Diagnostic {
	msg := err.Error()
	r := Range{File: file, Line: 1, Col: 1}
	reported := 0
	if m := yamlLineErr.FindStringSubmatch(msg); m != nil {
		reported, _ = strconv.Atoi(m[1])
		r.Line = max(reported, 1)
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	if line, col, ok := yamlProblem(src, err.Error(), reported); ok {
		r.Line, r.Col = line, col
	}
	// yaml reports a tab used as indentation as "found character that cannot start any token";
	// say what to fix instead.
	lines := bytes.Split(src, []byte("\n"))
	for i := max(r.Line-2, 0); i < min(r.Line+1, len(lines)); i++ {
		if strings.Contains(msg, "cannot start any token") || strings.Contains(msg, "tab") {
			if t := bytes.IndexByte(lines[i], '\t'); t >= 0 && len(bytes.TrimLeft(lines[i][:t], " ")) == 0 {
				return RuleSyntax.Diag(Range{File: file, Line: i + 1, Col: t + 1}, "tab used for indentation; YAML allows only spaces")
			}
		}
	}
	return RuleSyntax.Diag(r, "invalid YAML: %s", msg)
}

// yamlDecodeErr decodes src as parseYAML does (a first document, then
// whether there is a second) and returns the first error.
func yamlDecodeErr(src []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return err
	}
	if err := dec.Decode(&doc); err != nil && err != io.EOF {
		return err
	}
	return nil
}

// yamlProblem returns the 1-based line and column of the token at which
// decoding src fails with the error text want: the end of the shortest
// prefix that fails with it (see yamlError). The problem is at or after the
// context line yaml reported (fromLine, 0-based for parser errors). ok is
// false when no prefix reproduces the error.
func yamlProblem(src []byte, want string, fromLine int) (line, col int, ok bool) {
	fails := func(n int) bool {
		err := yamlDecodeErr(src[:n])
		return err != nil && err.Error() == want
	}
	if !fails(len(src)) {
		return 0, 0, false
	}
	// ends[i] is the length of the prefix holding lines 1..i+1, newline included.
	var ends []int
	for i, b := range src {
		if b == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(ends) == 0 || ends[len(ends)-1] != len(src) {
		ends = append(ends, len(src))
	}
	// The first line whose end fails, searched from the context line on.
	lo := min(max(fromLine-1, 0), len(ends)-1)
	k := lo + sort.Search(len(ends)-lo, func(i int) bool { return fails(ends[lo+i]) })
	if k >= len(ends) {
		return 0, 0, false
	}
	start := 0
	if k > 0 {
		start = ends[k-1]
	}
	// The first byte of line k+1 whose prefix fails.
	n := start + 1 + sort.Search(ends[k]-start, func(i int) bool { return fails(start + 1 + i) })
	if n > ends[k] {
		n = ends[k]
	}
	at := n - 1 // the byte the failing prefix ends with
	switch {
	case src[at] == '\n':
		// Only the line's end shows the problem: point just past its text.
		at = start + len(bytes.TrimRight(src[start:at], " \t\r"))
	case src[at] == ':' && !strings.Contains(want, "mapping values are not allowed"):
		// The ':' made the text before it a key, and the key is the
		// problem (a key where a '-' entry was expected): point at the key.
		key := bytes.TrimRight(src[start:at], " ")
		at = start + max(bytes.LastIndexAny(key, " ,[{")+1, 0)
	}
	return k + 1, utf8.RuneCount(src[start:at]) + 1, true
}

type yamlConv struct {
	file  string
	lines [][]byte
	// runeOffsets caches, per line with non-ASCII characters, the byte offset
	// of each character (byteOffset); ASCII lines map to nil.
	runeOffsets map[int][]int
	diags       Diagnostics
	// aliases counts YAML aliases; only the first gets a diagnostic, at aliasDiag.
	aliases, aliasDiag int
}

// afterTag returns the range of the scalar that follows a short tag (the
// `x` of `!Ref x`): yaml reports the tag's position for both.
func (c *yamlConv) afterTag(y *yaml.Node, r Range) Range {
	if y.Kind != yaml.ScalarNode || y.Line < 1 || y.Line > len(c.lines) || strings.Contains(y.Value, "\n") {
		return r
	}
	line := []rune(string(c.lines[y.Line-1]))
	i := y.Column - 1
	if i < 0 || i+len(y.Tag) > len(line) || string(line[i:i+len(y.Tag)]) != y.Tag {
		return r
	}
	i += len(y.Tag)
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	if i >= len(line) {
		return r // the value is on a later line
	}
	w := r.EndCol - r.Col
	r.Col = i + 1
	if r.EndLine != 0 {
		r.EndCol = r.Col + w
	}
	return r
}

// literalIndent returns the indentation of a literal block scalar's content
// (its first non-blank line), or 0 when it cannot be known for sure: an
// explicit indentation indicator (|2), or no content.
func (c *yamlConv) literalIndent(y *yaml.Node) int {
	if y.Line < 1 || y.Line > len(c.lines) {
		return 0
	}
	ind := c.lines[y.Line-1]
	i, ok := c.byteOffset(y.Line, y.Column)
	if !ok || i >= len(ind) || ind[i] != '|' {
		return 0
	}
	for _, r := range ind[i+1:] {
		if r >= '1' && r <= '9' {
			return 0
		}
		if r != '+' && r != '-' {
			break
		}
	}
	for _, l := range c.lines[y.Line:] {
		t := bytes.TrimRight(l, " \r")
		if len(t) == 0 {
			continue
		}
		return len(t) - len(bytes.TrimLeft(t, " "))
	}
	return 0
}

// verbatim reports whether a single-line scalar is written in the source
// exactly as its value reads: plain, or quoted without escapes.
func (c *yamlConv) verbatim(y *yaml.Node) bool {
	if y.Line < 1 || y.Line > len(c.lines) || strings.Contains(y.Value, "\n") || y.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return false
	}
	want := y.Value
	if y.Style&yaml.SingleQuotedStyle != 0 {
		want = "'" + want + "'"
	} else if y.Style&yaml.DoubleQuotedStyle != 0 {
		want = `"` + want + `"`
	}
	line := c.lines[y.Line-1]
	i, ok := c.byteOffset(y.Line, y.Column)
	return ok && i+len(want) <= len(line) && string(line[i:i+len(want)]) == want
}

// byteOffset converts a 1-based line and column (in characters) into a byte
// offset in that line. Lines with non-ASCII characters get their offsets
// computed once, so that a long line with many scalars costs linear time.
func (c *yamlConv) byteOffset(line, col int) (int, bool) {
	l := c.lines[line-1]
	if col < 1 {
		return 0, false
	}
	offs, ok := c.runeOffsets[line]
	if !ok {
		if hasNonASCII(l) {
			offs = make([]int, 0, len(l))
			for i := range string(l) {
				offs = append(offs, i)
			}
		}
		if c.runeOffsets == nil {
			c.runeOffsets = map[int][]int{}
		}
		c.runeOffsets[line] = offs
	}
	if offs == nil {
		return col - 1, col-1 <= len(l)
	}
	if col-1 >= len(offs) {
		return len(l), col-1 == len(offs)
	}
	return offs[col-1], true
}

func hasNonASCII(b []byte) bool {
	for _, x := range b {
		if x >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

func (c *yamlConv) rng(y *yaml.Node) Range {
	r := Range{File: c.file, Line: y.Line, Col: y.Column}
	if y.Kind == yaml.ScalarNode && !strings.Contains(y.Value, "\n") {
		w := utf8.RuneCountInString(y.Value)
		if y.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0 {
			w += 2
		}
		r.EndLine, r.EndCol = y.Line, y.Column+w
	}
	return r
}

func (c *yamlConv) node(y *yaml.Node, depth int) *Node {
	r := c.rng(y)
	if depth > maxDepth {
		c.diags = append(c.diags, RuleSyntax.Diag(r, "template nests deeper than %d levels", maxDepth))
		return scalar(Null, "", r)
	}
	if y.Kind == yaml.AliasNode {
		// One diagnostic for the first alias is enough: an alias bomb has thousands.
		if c.aliases == 0 {
			c.diags = append(c.diags, RuleSyntax.Diag(r, "YAML alias *%s is not supported by CloudFormation; write the value out", y.Value))
			c.aliasDiag = len(c.diags) - 1
		}
		c.aliases++
		return scalar(Null, "", r)
	}
	tag := y.Tag
	if tag != "" && !strings.HasPrefix(tag, "!!") {
		key, ok := shortTags[tag]
		if !ok {
			c.diags = append(c.diags, RuleSyntax.Diag(r, "unknown tag %s", tag))
			return scalar(Null, "", r)
		}
		inner := *y
		inner.Tag = ""
		if y.Kind == yaml.ScalarNode {
			inner.Tag = "!!str"
		}
		arg := c.node(&inner, depth+1)
		if y.Kind == yaml.ScalarNode {
			arg.Range = c.afterTag(y, arg.Range)
		}
		return &Node{Kind: Map, Range: r, Fields: []Field{{Key: key, KeyRange: r, Value: arg}}}
	}
	switch y.Kind {
	case yaml.DocumentNode:
		if len(y.Content) == 0 {
			return scalar(Null, "", r)
		}
		return c.node(y.Content[0], depth)
	case yaml.SequenceNode:
		n := &Node{Kind: List, Range: r, Items: make([]*Node, 0, len(y.Content))}
		for _, it := range y.Content {
			n.Items = append(n.Items, c.node(it, depth+1))
		}
		return n
	case yaml.MappingNode:
		return c.mapping(y, r, depth)
	default:
		return c.scalar(y, r)
	}
}

// mapping converts a YAML mapping at r, refusing keys CloudFormation does
// not take (not plain strings, merge keys, duplicates).
func (c *yamlConv) mapping(y *yaml.Node, r Range, depth int) *Node {
	n := &Node{Kind: Map, Range: r, Fields: make([]Field, 0, len(y.Content)/2)}
	seen := map[string]Range{}
	for i := 0; i+1 < len(y.Content); i += 2 {
		k, v := y.Content[i], y.Content[i+1]
		kr := c.rng(k)
		if k.Kind != yaml.ScalarNode {
			c.diags = append(c.diags, RuleSyntax.Diag(kr, "mapping keys must be plain strings"))
			continue
		}
		if k.Value == "<<" && k.Tag == "!!merge" {
			c.diags = append(c.diags, RuleSyntax.Diag(kr, "YAML merge keys (<<) are not supported by CloudFormation"))
			continue
		}
		if prev, dup := seen[k.Value]; dup {
			c.diags = append(c.diags, RuleSyntax.Diag(kr, "duplicate key %q (first defined at line %d)", k.Value, prev.Line))
			continue
		}
		seen[k.Value] = kr
		n.Fields = append(n.Fields, Field{Key: k.Value, KeyRange: kr, Value: c.node(v, depth+1)})
	}
	return n
}

// scalar converts a YAML scalar at r, keeping how it was written (its style)
// for the positions of errors inside it.
func (c *yamlConv) scalar(y *yaml.Node, r Range) *Node {
	n := scalar(String, y.Value, r)
	if y.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0 {
		n.style = styleQuoted
	} else if y.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		n.style = styleBlock
		if y.Style&yaml.LiteralStyle != 0 {
			n.blockIndent = c.literalIndent(y)
		}
	}
	n.verbatim = c.verbatim(y)
	switch y.ShortTag() {
	case "!!null":
		n.Kind = Null
	case "!!bool":
		n.Kind, n.Value = Bool, strconv.FormatBool(strings.EqualFold(y.Value, "true"))
	case "!!int", "!!float":
		n.Kind = Number
	case "!!str":
	default:
		if y.Tag != "" && y.Tag != "!" {
			c.diags = append(c.diags, RuleSyntax.Diag(r, "YAML tag %s is not supported by CloudFormation", y.ShortTag()))
		}
	}
	return n
}

// ---- JSON ----

// parseJSON reads JSON with encoding/json's tokenizer, turning byte offsets into
// line and column.
func parseJSON(file string, src []byte) (*Node, Diagnostics) {
	p := &jsonParser{file: file, src: src, dec: json.NewDecoder(bytes.NewReader(src))}
	p.dec.UseNumber()
	n, err := p.value(0)
	if err == nil {
		if _, e := p.dec.Token(); e != io.EOF {
			err = p.errAt(int(p.dec.InputOffset()), "unexpected content after the top-level value")
		}
	}
	if err != nil {
		var d diagErr
		if errors.As(err, &d) {
			return nil, Diagnostics{Diagnostic(d)}
		}
		var se *json.SyntaxError
		off := int(p.dec.InputOffset())
		msg := err.Error()
		if errors.As(err, &se) {
			// Decoder.Token places some errors at the bad character and others
			// past it; a full Unmarshal always reports the offset just past it.
			var v any
			var full *json.SyntaxError
			if errors.As(json.Unmarshal(src, &v), &full) && full.Offset < int64(len(src)) {
				se = full
			}
			off = int(se.Offset) - 1
			msg = se.Error()
		} else if err == io.ErrUnexpectedEOF || err == io.EOF {
			off, msg = len(src), "unexpected end of file"
		}
		return nil, Diagnostics{RuleSyntax.Diag(p.rangeAt(max(off, 0)), "invalid JSON: %s", strings.TrimPrefix(msg, "json: "))}
	}
	return n, nil
}

type diagErr Diagnostic

func (d diagErr) Error() string { return d.Message }

type jsonParser struct {
	file string
	src  []byte
	dec  *json.Decoder
	// lineStarts caches the byte offset of each line start.
	lineStarts []int
	// The last position rangeAt computed: offsets come in increasing order,
	// so a column is counted from there rather than from the line's start
	// (a minified template is one line of up to 1 MB).
	lastLine, lastOff, lastCol int
}

func (p *jsonParser) rangeAt(off int) Range {
	if p.lineStarts == nil {
		p.lineStarts = []int{0}
		for i, b := range p.src {
			if b == '\n' {
				p.lineStarts = append(p.lineStarts, i+1)
			}
		}
	}
	lo, hi := 0, len(p.lineStarts)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if p.lineStarts[mid] <= off {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	off = min(off, len(p.src))
	start, col := p.lineStarts[lo], 1
	if p.lastLine == lo+1 && p.lastOff <= off {
		start, col = p.lastOff, p.lastCol
	}
	col += utf8.RuneCount(p.src[start:off])
	p.lastLine, p.lastOff, p.lastCol = lo+1, off, col
	return Range{File: p.file, Line: lo + 1, Col: col}
}

func (p *jsonParser) errAt(off int, format string, args ...any) error {
	return diagErr(RuleSyntax.Diag(p.rangeAt(off), format, args...))
}

// next reads a token and returns it with the byte offset where it starts.
func (p *jsonParser) next() (json.Token, int, int, error) {
	off := int(p.dec.InputOffset())
	tok, err := p.dec.Token()
	end := int(p.dec.InputOffset())
	for off < len(p.src) && strings.IndexByte(" \t\r\n,:\ufeff", p.src[off]) >= 0 {
		off++
	}
	if off < len(p.src) && p.src[off] == 0xEF { // a byte-order mark
		off += 3
	}
	return tok, off, end, err
}

func (p *jsonParser) value(depth int) (*Node, error) {
	tok, off, end, err := p.next()
	if err != nil {
		return nil, err
	}
	return p.valueFrom(tok, off, end, depth)
}

func (p *jsonParser) valueFrom(tok json.Token, off, end, depth int) (*Node, error) {
	r := p.rangeAt(off)
	if depth > maxDepth {
		return nil, p.errAt(off, "template nests deeper than %d levels", maxDepth)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '[':
			n := &Node{Kind: List, Range: r}
			for p.dec.More() {
				it, err := p.value(depth + 1)
				if err != nil {
					return nil, err
				}
				n.Items = append(n.Items, it)
			}
			_, _, _, err := p.next()
			return n, err
		case '{':
			n := &Node{Kind: Map, Range: r}
			seen := map[string]int{}
			for p.dec.More() {
				ktok, koff, kend, err := p.next()
				if err != nil {
					return nil, err
				}
				key, _ := ktok.(string)
				kr := p.rangeAt(koff)
				kr.EndLine, kr.EndCol = kr.Line, kr.Col+utf8.RuneCount(p.src[koff:kend])
				v, err := p.value(depth + 1)
				if err != nil {
					return nil, err
				}
				if prev, dup := seen[key]; dup {
					return nil, p.errAt(koff, "duplicate key %q (first defined at line %d)", key, prev)
				}
				seen[key] = kr.Line
				n.Fields = append(n.Fields, Field{Key: key, KeyRange: kr, Value: v})
			}
			_, _, _, err := p.next()
			return n, err
		}
		return nil, p.errAt(off, "unexpected %q", string(t))
	case string:
		n := scalar(String, t, r)
		n.style = styleQuoted
		n.verbatim = end-off == len(t)+2 && !strings.Contains(t, "\n")
		n.Range.EndLine, n.Range.EndCol = r.Line, r.Col+utf8.RuneCount(p.src[off:end])
		return n, nil
	case json.Number:
		return scalar(Number, t.String(), r), nil
	case bool:
		return scalar(Bool, strconv.FormatBool(t), r), nil
	case nil:
		return scalar(Null, "", r), nil
	}
	return nil, p.errAt(off, "unexpected token %v", fmt.Sprint(tok))
}
