package template

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Helpers of the SAM WebSocketApi expansion: generated nodes, SAM's logical ID
// hash, the parameters SAM resolves and the references it rewrites.

// partitionOf returns the AWS partition of a region.
func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// truthy reports whether Python would find the value true: SAM tests many
// optional settings with `if value:`.
func truthy(n *Node) bool {
	if n == nil {
		return false
	}
	switch n.Kind {
	case Null:
		return false
	case Bool:
		return n.Value == "true"
	case Number:
		return strings.Trim(n.Value, "0.+-") != ""
	case String:
		return n.Value != ""
	case List:
		return len(n.Items) > 0
	}
	return len(n.Fields) > 0
}

// sanitizeRouteKey turns a route key into the part of a logical ID SAM makes
// of it: $connect -> Connect, sendMessage -> Sendmessage (Python's capitalize).
func sanitizeRouteKey(k string) (string, bool) {
	if slices.Contains(wsSpecialKeys, k) {
		return capitalize(strings.ReplaceAll(k, "$", "")), true
	}
	if k == "" || !logicalIDPattern.MatchString(k) {
		return "", false
	}
	return capitalize(k), true
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + strings.ToLower(s[1:])
}

// ---- generated nodes ----

// gstr is a generated string at at; its text cannot be placed inside the
// source, so positions inside it fall back to at.
func gstr(v string, at Range) *Node {
	return &Node{Kind: String, Value: v, Range: at, style: styleBlock}
}

func gref(id string, at Range) *Node {
	return &Node{Kind: Map, Range: at, Fields: []Field{{Key: "Ref", KeyRange: at, Value: gstr(id, at)}}}
}

func ggetatt(id, attr string, at Range) *Node {
	return &Node{Kind: Map, Range: at, Fields: []Field{{Key: "Fn::GetAtt", KeyRange: at,
		Value: &Node{Kind: List, Range: at, Items: []*Node{gstr(id, at), gstr(attr, at)}}}}}
}

// gsub is Fn::Sub of s, with vars (name, value pairs) when given.
func gsub(s string, at Range, vars ...any) *Node {
	arg := gstr(s, at)
	if len(vars) > 0 {
		m := &Node{Kind: Map, Range: at}
		for i := 0; i+1 < len(vars); i += 2 {
			m.Fields = append(m.Fields, Field{Key: vars[i].(string), KeyRange: at, Value: vars[i+1].(*Node)})
		}
		arg = &Node{Kind: List, Range: at, Items: []*Node{arg, m}}
	}
	return &Node{Kind: Map, Range: at, Fields: []Field{{Key: "Fn::Sub", KeyRange: at, Value: arg}}}
}

// gmap builds a mapping of key, value pairs, leaving out nil and null values
// (SAM leaves out properties that are None).
func gmap(at Range, kv ...any) *Node {
	m := &Node{Kind: Map, Range: at}
	for i := 0; i+1 < len(kv); i += 2 {
		if v, _ := kv[i+1].(*Node); v != nil && v.Kind != Null {
			m.Fields = append(m.Fields, Field{Key: kv[i].(string), KeyRange: at, Value: v})
		}
	}
	return m
}

func setField(m *Node, key string, v *Node, at Range) {
	for i, f := range m.Fields {
		if f.Key == key {
			m.Fields[i].Value = v
			return
		}
	}
	m.Fields = append(m.Fields, Field{Key: key, KeyRange: at, Value: v})
}

// resource builds a generated resource of type t at at.
func resource(id, t string, at Range, props *Node, attrs ...any) Field {
	kv := append([]any{"Type", gstr(t, at)}, attrs...)
	kv = append(kv, "Properties", props)
	return Field{Key: id, KeyRange: at, Value: gmap(at, kv...)}
}

// samHash is the hash SAM's LogicalIdGenerator appends to a logical ID: the
// first 10 hex digits of the SHA-1 of the value (a string as is, anything else
// as compact JSON with sorted keys, as Python's json.dumps writes it).
func samHash(n *Node) string {
	if !truthy(n) {
		return ""
	}
	s := n.Value
	if n.Kind != String {
		s = pyJSON(n)
	}
	sum := sha1.Sum([]byte(s))
	return hex.EncodeToString(sum[:])[:10]
}

// pyJSON renders n as json.dumps(n, separators=(",", ":"), sort_keys=True).
func pyJSON(n *Node) string {
	var b strings.Builder
	var walk func(n *Node)
	walk = func(n *Node) {
		switch n.Kind {
		case Null:
			b.WriteString("null")
		case Bool, Number:
			b.WriteString(n.Value)
		case String:
			b.WriteString(pyQuote(n.Value))
		case List:
			b.WriteByte('[')
			for i, it := range n.Items {
				if i > 0 {
					b.WriteByte(',')
				}
				walk(it)
			}
			b.WriteByte(']')
		case Map:
			fields := slices.Clone(n.Fields)
			slices.SortFunc(fields, func(x, y Field) int { return strings.Compare(x.Key, y.Key) })
			b.WriteByte('{')
			for i, f := range fields {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(pyQuote(f.Key))
				b.WriteByte(':')
				walk(f.Value)
			}
			b.WriteByte('}')
		}
	}
	walk(n)
	return b.String()
}

// pyQuote quotes s as Python's json module does (ensure_ascii).
func pyQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || r > 0x7e && r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		case r >= 0x10000:
			r -= 0x10000
			fmt.Fprintf(&b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// resolveParams replaces references to parameters that have a value (their
// Default or a --param) and to AWS::Region and AWS::Partition, as SAM's
// resolve_parameter_refs does in Auth, Domain and Routes.
func (e *wsExpander) resolveParams(n *Node) *Node {
	if n == nil {
		return nil
	}
	switch n.Kind {
	case List:
		out := *n
		out.Items = make([]*Node, len(n.Items))
		for i, it := range n.Items {
			out.Items[i] = e.resolveParams(it)
		}
		return &out
	case Map:
		out := *n
		out.Fields = make([]Field, len(n.Fields))
		for i, f := range n.Fields {
			out.Fields[i] = Field{Key: f.Key, KeyRange: f.KeyRange, Value: e.resolveParams(f.Value)}
		}
		name, arg, ok := out.Intrinsic()
		if !ok {
			return &out
		}
		switch name {
		case "Ref":
			if arg.Kind == String {
				if v := e.paramValue(arg.Value, n.Range); v != nil {
					return v
				}
			}
		case "Fn::Sub":
			tmpl := arg
			if arg.Kind == List && len(arg.Items) > 0 {
				tmpl = arg.Items[0]
			}
			if tmpl.Kind != String {
				return &out
			}
			s := samSubRef.ReplaceAllStringFunc(tmpl.Value, func(m string) string {
				name := m[2 : len(m)-1]
				if v := e.paramValue(name, tmpl.Range); v != nil && v.IsScalar() {
					return v.Value
				}
				return m
			})
			if s == tmpl.Value {
				return &out
			}
			t := *tmpl
			t.Value, t.style = s, styleBlock
			if arg.Kind == List {
				l := *arg
				l.Items = append([]*Node{&t}, arg.Items[1:]...)
				out.Fields = []Field{{Key: name, KeyRange: out.Fields[0].KeyRange, Value: &l}}
			} else {
				out.Fields = []Field{{Key: name, KeyRange: out.Fields[0].KeyRange, Value: &t}}
			}
		}
		return &out
	}
	return n
}

// samSubRef is what SAM reads as a reference inside Fn::Sub (SubAction._sub_all_refs).
var samSubRef = regexp.MustCompile(`\$\{([A-Za-z0-9.]+|AWS::[A-Z][A-Za-z]*)\}`)

// paramValue is the value SAM knows for name, placed at at: a parameter's Default or
// --param value, AWS::Region or AWS::Partition; nil when it knows none.
func (e *wsExpander) paramValue(name string, at Range) *Node {
	if p, ok := e.r.params[name]; ok && p.Source != "" && p.Value != nil {
		v := *p.Value
		v.Range = at
		return &v
	}
	switch name {
	case "AWS::Region":
		return gstr(e.r.st.Region, at)
	case "AWS::Partition":
		return gstr(e.r.st.Partition, at)
	}
	return nil
}

// rewrite replaces SAM's resource references (Ref Api.Stage, ${Api.Stage},
// GetAtt Api.Stage.Attr, and the same with DomainName) by the generated
// logical IDs, everywhere under n.
func (e *wsExpander) rewrite(n *Node) {
	if n == nil || len(e.refs) == 0 {
		return
	}
	switch n.Kind {
	case List:
		for _, it := range n.Items {
			e.rewrite(it)
		}
	case Map:
		if name, arg, ok := n.Intrinsic(); ok {
			switch {
			case name == "Ref" && arg.Kind == String:
				if id, ok := e.refs[arg.Value]; ok {
					n.Fields[0].Value = &Node{Kind: String, Value: id, Range: arg.Range, style: styleBlock}
				}
				return
			case name == "Fn::GetAtt":
				// SAM joins the argument with dots and splits it again (GetAttAction.resolve_resource_refs).
				var parts []string
				switch {
				case arg.Kind == String:
					parts = strings.Split(arg.Value, ".")
				case arg.Kind == List && !slices.ContainsFunc(arg.Items, func(it *Node) bool { return it.Kind != String }):
					for _, it := range arg.Items {
						parts = append(parts, strings.Split(it.Value, ".")...)
					}
				}
				if len(parts) >= 2 {
					if id, ok := e.refs[parts[0]+"."+parts[1]]; ok {
						l := &Node{Kind: List, Range: arg.Range, Items: []*Node{{Kind: String, Value: id, Range: arg.Range, style: styleBlock}}}
						for _, p := range parts[2:] {
							l.Items = append(l.Items, &Node{Kind: String, Value: p, Range: arg.Range, style: styleBlock})
						}
						n.Fields[0].Value = l
					}
				}
				return
			case name == "Fn::Sub":
				tmpl := arg
				if arg.Kind == List && len(arg.Items) > 0 {
					tmpl = arg.Items[0]
				}
				if tmpl.Kind == String {
					s := samSubRef.ReplaceAllStringFunc(tmpl.Value, func(m string) string {
						ref := m[2 : len(m)-1]
						for k, id := range e.refs {
							if ref == k {
								return "${" + id + "}"
							}
							if rest, ok := strings.CutPrefix(ref, k+"."); ok {
								return "${" + id + "." + rest + "}"
							}
						}
						return m
					})
					if s != tmpl.Value {
						tmpl.Value, tmpl.style, tmpl.verbatim, tmpl.blockIndent = s, styleBlock, false, 0
					}
				}
			}
		}
		for _, f := range n.Fields {
			e.rewrite(f.Value)
		}
	}
}

// literalMap reports whether n is a mapping written out, not an intrinsic function.
func literalMap(n *Node) bool {
	_, _, intr := n.Intrinsic()
	return n != nil && n.Kind == Map && !intr
}
