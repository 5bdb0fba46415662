package template

import (
	"encoding/base64"
	"encoding/json"
	"iter"
	"slices"
	"strconv"
	"strings"
)

var intrinsicNames = []string{"Ref", "Fn::GetAtt", "Fn::Sub", "Fn::Join", "Fn::Select", "Fn::Split", "Fn::If",
	"Fn::FindInMap", "Fn::Base64", "Fn::GetAZs", "Fn::ImportValue", "Fn::Length", "Fn::ToJsonString",
	"Fn::Cidr", "Fn::Transform", "Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not"}

// apiGatewayVars are the prefixes of API Gateway's own ${...} variables, which
// CloudFormation's Fn::Sub would read as references.
var apiGatewayVars = []string{"stageVariables", "context", "request", "route", "integration", "input", "util", "method"}

// resolve returns n with every intrinsic function evaluated; nil means the value
// is AWS::NoValue and its property is removed (SPEC ).
func (r *resolver) resolve(n *Node) *Node {
	if n == nil {
		return nil
	}
	if r.over() {
		return bad(n)
	}
	switch n.Kind {
	case Map:
		if name, arg, ok := n.Intrinsic(); ok && name != "Condition" {
			if !r.enter(n) {
				return scalar(Null, "", n.Range)
			}
			defer r.leave()
			return r.call(name, arg, n)
		}
		if !r.spend(nodeCost+len(n.Fields)*fieldCost, n.Range) {
			return bad(n)
		}
		out := &Node{Kind: Map, Range: n.Range, Fields: make([]Field, 0, len(n.Fields))}
		for _, f := range n.Fields {
			if v := r.resolve(f.Value); v != nil {
				out.Fields = append(out.Fields, Field{Key: f.Key, KeyRange: f.KeyRange, Value: v})
			}
		}
		return out
	case List:
		if !r.spend(nodeCost+len(n.Items)*itemCost, n.Range) {
			return bad(n)
		}
		out := &Node{Kind: List, Range: n.Range, Items: make([]*Node, 0, len(n.Items))}
		for _, it := range n.Items {
			if v := r.resolve(it); v != nil {
				out.Items = append(out.Items, v)
			}
		}
		return out
	}
	// A scalar is shared, not copied, but later stages copy it.
	r.spend(nodeCost+len(n.Value), n.Range)
	return n
}

// bad returns a placeholder for a value that could not be resolved; an error has been reported.
func bad(at *Node) *Node { return scalar(String, "", at.Range) }

// intrinsic evaluates one intrinsic function: name is the function, arg its
// argument as written, at the whole {name: arg} node.
type intrinsic func(r *resolver, name string, arg, at *Node) *Node

// intrinsics maps the intrinsic functions to their evaluation (set in init:
// they call back into resolve, which reads the table).
var intrinsics map[string]intrinsic

func init() {
	intrinsics = map[string]intrinsic{
		"Ref":              (*resolver).refCall,
		"Fn::GetAtt":       argAt((*resolver).getAttCall),
		"Fn::Sub":          argAt((*resolver).sub),
		"Fn::Join":         (*resolver).join,
		"Fn::Select":       (*resolver).selectCall,
		"Fn::Split":        (*resolver).split,
		"Fn::If":           (*resolver).ifCall,
		"Fn::FindInMap":    argAt((*resolver).findInMap),
		"Fn::Base64":       (*resolver).base64,
		"Fn::GetAZs":       (*resolver).getAZs,
		"Fn::ImportValue":  (*resolver).importValue,
		"Fn::Length":       (*resolver).length,
		"Fn::ToJsonString": (*resolver).toJSONString,
		"Fn::Cidr":         (*resolver).notEvaluated,
		"Fn::Transform":    (*resolver).notEvaluated,
		"Fn::Equals":       (*resolver).conditionOnly,
		"Fn::And":          (*resolver).conditionOnly,
		"Fn::Or":           (*resolver).conditionOnly,
		"Fn::Not":          (*resolver).conditionOnly,
	}
}

// argAt adapts an evaluation that needs no name.
func argAt(f func(r *resolver, arg, at *Node) *Node) intrinsic {
	return func(r *resolver, _ string, arg, at *Node) *Node { return f(r, arg, at) }
}

// call evaluates the intrinsic function name.
func (r *resolver) call(name string, arg, at *Node) *Node {
	if f, ok := intrinsics[name]; ok {
		return f(r, name, arg, at)
	}
	r.errorFix(RuleIntrinsic, at.Fields[0].KeyRange, DidYouMean(name, intrinsicNames), "unknown intrinsic function %s", name)
	return bad(at)
}

func (r *resolver) refCall(_ string, arg, at *Node) *Node {
	a := r.resolve(arg)
	if a == nil || a.Kind != String {
		r.errorf(RuleIntrinsic, arg.Range, "Ref needs the name of a parameter or resource")
		return bad(at)
	}
	return r.ref(a.Value, at.Range)
}

// join evaluates Fn::Join [delimiter, [values...]].
func (r *resolver) join(_ string, arg, at *Node) *Node {
	a := r.resolve(arg)
	if a == nil || a.Kind != List || len(a.Items) != 2 || a.Items[0].Kind != String && a.Items[0].Kind != Null {
		r.errorf(RuleIntrinsic, arg.Range, "Fn::Join needs [delimiter, [values...]]")
		return bad(at)
	}
	list := a.Items[1]
	if list.Kind != List {
		r.errorf(RuleIntrinsic, list.Range, "Fn::Join needs a list of values to join, not a %s", list.Kind)
		return bad(at)
	}
	parts := make([]string, 0, len(list.Items))
	out := scalar(String, "", at.Range)
	size := 0
	for i, it := range list.Items {
		if !it.IsScalar() {
			r.errorf(RuleIntrinsic, it.Range, "Fn::Join can only join strings, not a %s", it.Kind)
			return bad(at)
		}
		parts = append(parts, it.Value)
		out.Links = append(out.Links, it.Links...)
		if size += len(it.Value); i > 0 {
			size += len(a.Items[0].Value)
		}
	}
	if r.tooLong("Fn::Join", size, at.Range) || !r.spend(nodeCost+size, at.Range) {
		return bad(at)
	}
	out.Value = strings.Join(parts, a.Items[0].Value)
	return out
}

// selectCall evaluates Fn::Select [index, [values...]].
func (r *resolver) selectCall(_ string, arg, at *Node) *Node {
	a := r.resolve(arg)
	if a == nil || a.Kind != List || len(a.Items) != 2 {
		r.errorf(RuleIntrinsic, arg.Range, "Fn::Select needs [index, [values...]]")
		return bad(at)
	}
	i, err := strconv.Atoi(a.Items[0].Value)
	list := a.Items[1]
	if err != nil || list.Kind != List || i < 0 || i >= len(list.Items) {
		r.errorf(RuleIntrinsic, a.Items[0].Range, "Fn::Select index %s is outside the list of %d values", a.Items[0].Value, len(list.Items))
		return bad(at)
	}
	return list.Items[i]
}

// split evaluates Fn::Split [delimiter, string].
func (r *resolver) split(_ string, arg, at *Node) *Node {
	a := r.resolve(arg)
	if a == nil || a.Kind != List || len(a.Items) != 2 || !a.Items[0].IsScalar() || !a.Items[1].IsScalar() || a.Items[0].Value == "" {
		r.errorf(RuleIntrinsic, arg.Range, "Fn::Split needs [delimiter, string]")
		return bad(at)
	}
	// The parts share the string's bytes; each is a node.
	n := strings.Count(a.Items[1].Value, a.Items[0].Value) + 1
	if !r.spend(nodeCost+n*(itemCost+nodeCost), at.Range) {
		return bad(at)
	}
	out := &Node{Kind: List, Range: at.Range, Items: make([]*Node, 0, n)}
	for _, p := range strings.Split(a.Items[1].Value, a.Items[0].Value) {
		it := scalar(String, p, at.Range)
		it.Links = a.Items[1].Links
		out.Items = append(out.Items, it)
	}
	return out
}

// ifCall evaluates Fn::If [condition name, value if true, value if false].
func (r *resolver) ifCall(_ string, arg, at *Node) *Node {
	if arg.Kind != List || len(arg.Items) != 3 || arg.Items[0].Kind != String {
		r.errorf(RuleIntrinsic, arg.Range, "Fn::If needs [condition name, value if true, value if false]")
		return bad(at)
	}
	// Only the branch the condition picks is evaluated, as in
	// CloudFormation: the other may name resources that do not exist
	// under the current conditions (SPEC ). Its names must still
	// be names of the template.
	if r.condition(arg.Items[0].Value, arg.Items[0].Range) {
		r.checkNames(arg.Items[2])
		return r.resolve(arg.Items[1])
	}
	r.checkNames(arg.Items[1])
	return r.resolve(arg.Items[2])
}

// base64 evaluates Fn::Base64 string.
func (r *resolver) base64(_ string, arg, at *Node) *Node {
	a := r.resolve(arg)
	if a == nil || !a.IsScalar() {
		r.errorf(RuleIntrinsic, arg.Range, "Fn::Base64 needs a string")
		return bad(at)
	}
	size := base64.StdEncoding.EncodedLen(len(a.Value))
	if r.tooLong("Fn::Base64", size, at.Range) || !r.spend(nodeCost+size, at.Range) {
		return bad(at)
	}
	out := scalar(String, base64.StdEncoding.EncodeToString([]byte(a.Value)), at.Range)
	out.Links = a.Links
	return out
}

// getAZs evaluates Fn::GetAZs region: three zones of the region.
func (r *resolver) getAZs(_ string, arg, at *Node) *Node {
	a := r.resolve(arg)
	region := r.st.Region
	if a != nil && a.Value != "" {
		region = a.Value
	}
	if !r.spend(4*nodeCost+3*(itemCost+len(region)+1), at.Range) {
		return bad(at)
	}
	out := &Node{Kind: List, Range: at.Range}
	for _, z := range []string{"a", "b", "c"} {
		out.Items = append(out.Items, scalar(String, region+z, at.Range))
	}
	return out
}

// importValue evaluates Fn::ImportValue name: the name, with a warning.
func (r *resolver) importValue(_ string, arg, at *Node) *Node {
	a := r.resolve(arg)
	if a == nil || !a.IsScalar() {
		r.errorf(RuleIntrinsic, arg.Range, "Fn::ImportValue needs the name of an export")
		return bad(at)
	}
	r.errorf(RuleNotEvaluated, at.Range, "Fn::ImportValue %s is another stack's export, which wsgw cannot read; the value is the export name", a.Value)
	r.spend(nodeCost+len(a.Value), at.Range)
	return scalar(String, a.Value, at.Range)
}

// length evaluates Fn::Length list.
func (r *resolver) length(_ string, arg, at *Node) *Node {
	a := r.resolve(arg)
	if a == nil || a.Kind != List {
		r.errorf(RuleIntrinsic, arg.Range, "Fn::Length needs a list")
		return bad(at)
	}
	return scalar(Number, strconv.Itoa(len(a.Items)), at.Range)
}

// toJSONString evaluates Fn::ToJsonString value.
func (r *resolver) toJSONString(_ string, arg, at *Node) *Node {
	a := r.resolve(arg)
	// The JSON text is at least as long as the text it holds: refuse
	// before printing a tree whose text alone is too long.
	if r.tooLong("Fn::ToJsonString", textSize(a, MaxValueBytes), at.Range) {
		return bad(at)
	}
	b, _ := json.Marshal(a.Interface())
	if r.tooLong("Fn::ToJsonString", len(b), at.Range) || !r.spend(nodeCost+len(b), at.Range) {
		return bad(at)
	}
	return scalar(String, string(b), at.Range)
}

// notEvaluated stands for Fn::Cidr and Fn::Transform: their argument is
// resolved (for its names), the value left empty.
func (r *resolver) notEvaluated(name string, arg, at *Node) *Node {
	r.resolve(arg)
	r.errorf(RuleNotEvaluated, at.Range, "wsgw does not evaluate %s; the value is left empty", name)
	return scalar(String, "", at.Range)
}

// conditionOnly stands for the condition functions outside Conditions.
func (r *resolver) conditionOnly(name string, _, at *Node) *Node {
	r.errorf(RuleIntrinsic, at.Range, "%s can only be used in Conditions or as the condition of Fn::If", name)
	return bad(at)
}

// ref resolves Ref name written at at: a parameter, a pseudo parameter or a resource.
func (r *resolver) ref(name string, at Range) *Node {
	if p, ok := r.params[name]; ok {
		// The value is shared by every Ref, and weighed at each.
		w, ok := r.paramWeight[name]
		if !ok {
			w = weigh(p.Value, MaxEvalBytes)
			if r.paramWeight == nil {
				r.paramWeight = map[string]int{}
			}
			r.paramWeight[name] = w
		}
		if !r.spend(w, at) {
			return scalar(String, "", at)
		}
		v := *p.Value
		v.Range = at
		return &v
	}
	if name == "AWS::NoValue" {
		return nil
	}
	if v, ok := r.pseudo[name]; ok {
		return scalar(String, v, at)
	}
	if name == "AWS::NotificationARNs" {
		return &Node{Kind: List, Range: at}
	}
	if rs := r.resourceRef(name, at); rs != nil {
		v, placeholder := r.placeholder(rs.Type, name, rs.PhysicalID)
		r.spend(nodeCost+len(v), at)
		n := scalar(String, v, at)
		n.Links = []Link{{LogicalID: name, Range: at, Placeholder: placeholder}}
		return n
	}
	if t, ok := r.implicit[name]; ok {
		v, placeholder := r.placeholder(t, name, name)
		n := scalar(String, v, at)
		n.Links = []Link{{LogicalID: name, Range: at, Placeholder: placeholder}}
		return n
	}
	r.undefined(name, at)
	return scalar(String, "", at)
}

// resourceRef returns the declared resource id, recording the dependency; it
// reports a resource that exists only under a false condition.
func (r *resolver) resourceRef(id string, at Range) *Resource {
	rs, ok := r.declared[id]
	if !ok {
		return nil
	}
	if !r.exists[id] {
		r.errorf(RuleUndefinedName, at, "%s is referenced here but does not exist, because its condition %s is false", id, rs.Condition)
	}
	if r.cur != "" {
		r.deps[r.cur] = append(r.deps[r.cur], dep{id, at})
	}
	return rs
}

// names lists what a Ref may name, for suggestions; resources are declared
// before anything is resolved, so the list is built once.
func (r *resolver) names() []string {
	if r.nameList == nil {
		names := mapKeys(r.declared)
		names = append(names, mapKeys(r.params)...)
		r.nameList = append(names, pseudoNames...)
	}
	return r.nameList
}

func (r *resolver) undefined(name string, at Range) {
	r.errorFix(RuleUndefinedName, at, r.didYouMean(name, r.names()), "%s is not a parameter or resource of this template", name)
}

func (r *resolver) getAttCall(arg, at *Node) *Node {
	a := r.resolve(arg)
	var id, attr string
	switch {
	case a != nil && a.Kind == String && strings.Contains(a.Value, "."):
		id, attr, _ = strings.Cut(a.Value, ".")
	case a != nil && a.Kind == List && len(a.Items) == 2 && a.Items[0].IsScalar() && a.Items[1].IsScalar():
		id, attr = a.Items[0].Value, a.Items[1].Value
	default:
		r.errorf(RuleIntrinsic, arg.Range, "Fn::GetAtt needs [LogicalId, Attribute] or LogicalId.Attribute")
		return bad(at)
	}
	return r.getAtt(id, attr, at.Range)
}

func (r *resolver) getAtt(id, attr string, at Range) *Node {
	rs := r.resourceRef(id, at)
	if rs == nil {
		if t, ok := r.implicit[id]; ok {
			v, placeholder := r.placeholder(t, id+"."+attr, "arn:aws:iam::"+r.st.AccountID+":role/"+id)
			n := scalar(String, v, at)
			n.Links = []Link{{LogicalID: id, Attr: attr, Range: at, Placeholder: placeholder}}
			return n
		}
		r.errorFix(RuleUndefinedName, at, DidYouMean(id, mapKeys(r.declared)), "GetAtt names %s, which is not a resource of this template", id)
		return scalar(String, "", at)
	}
	var v string
	if attrs, known := attributes[rs.Type]; known && !slices.Contains(attrs, attr) {
		d := RuleUndefinedName.Diag(at, "%s (%s) has no attribute %s", id, rs.Type, attr)
		d.Fix = DidYouMean(attr, attrs)
		r.add(d)
	}
	switch {
	case rs.Type == TypeApi && attr == "ApiEndpoint":
		v = "ws://" + r.opts.Addr
	case attr == "Arn":
		v = r.arn(rs)
	case strings.HasSuffix(attr, "Id") && strings.HasPrefix(rs.Type, "AWS::ApiGateway"):
		v = rs.PhysicalID
	default:
		v = rs.PhysicalID + "." + attr
	}
	v, placeholder := r.placeholder(rs.Type, id+"."+attr, v)
	r.spend(nodeCost+len(v), at)
	n := scalar(String, v, at)
	n.Links = []Link{{LogicalID: id, Attr: attr, Range: at, Placeholder: placeholder}}
	return n
}

// placeholder returns the value of a Ref or GetAtt (name spelled as in
// Fn::Sub) of a resource of type t whose value wsgw makes up as made: the
// --param of that name when given, else made itself, returned a second time
// as the placeholder when wsgw does not run resources of type t (SPEC ).
func (r *resolver) placeholder(t, name, made string) (value, placeholder string) {
	if Runs(t) {
		return made, ""
	}
	if v, ok := r.opts.Params[name]; ok {
		return v, ""
	}
	return made, made
}

func (r *resolver) findInMap(arg, at *Node) *Node {
	a := r.resolve(arg)
	if a == nil || a.Kind != List || len(a.Items) < 3 || len(a.Items) > 4 {
		r.errorf(RuleIntrinsic, arg.Range, "Fn::FindInMap needs [MapName, TopLevelKey, SecondLevelKey]")
		return bad(at)
	}
	var def *Node
	if len(a.Items) == 4 {
		def = a.Items[3].Get("DefaultValue")
	}
	m := r.lookup(r.mappings, a.Items[0].Value)
	if m == nil {
		r.errorFix(RuleUndefinedName, a.Items[0].Range, r.suggestKey(a.Items[0].Value, r.mappings), "mapping %s is not defined in Mappings", a.Items[0].Value)
		return bad(at)
	}
	for _, key := range a.Items[1:3] {
		next := r.lookup(m, key.Value)
		if next == nil {
			if def != nil {
				return def
			}
			r.errorFix(RuleUndefinedName, key.Range, r.suggestKey(key.Value, m), "mapping %s has no key %s", a.Items[0].Value, key.Value)
			return bad(at)
		}
		m = next
	}
	return r.resolve(m)
}

// subRef is one ${...} of a Fn::Sub string: the name inside, trimmed, and
// the offsets of the whole ${...}.
type subRef struct {
	name       string
	start, end int
}

// literal reports a ${!Text}, which stands for the text ${Text}.
func (s subRef) literal() bool { return strings.HasPrefix(s.name, "!") }

// subRefs yields the ${...} of a Fn::Sub string in order; a ${ without a
// closing } is text, and so is all that follows it.
func subRefs(s string) iter.Seq[subRef] {
	return func(yield func(subRef) bool) {
		for i := 0; i < len(s); {
			j := strings.Index(s[i:], "${")
			if j < 0 {
				return
			}
			j += i
			end := strings.IndexByte(s[j:], '}')
			if end < 0 {
				return
			}
			end += j
			if !yield(subRef{name: strings.TrimSpace(s[j+2 : end]), start: j, end: end + 1}) {
				return
			}
			i = end + 1
		}
	}
}

// sub evaluates Fn::Sub: "${Name}" is a parameter, resource or variable;
// "${Res.Attr}" a GetAtt; "${!Text}" the literal "${Text}".
func (r *resolver) sub(arg, at *Node) *Node {
	tmpl, vars := arg, (*Node)(nil)
	if arg.Kind == List {
		if len(arg.Items) != 2 {
			r.errorf(RuleIntrinsic, arg.Range, "Fn::Sub needs a string or [string, {variables}]")
			return bad(at)
		}
		tmpl, vars = arg.Items[0], r.resolve(arg.Items[1])
		if vars == nil || vars.Kind != Map {
			r.errorf(RuleIntrinsic, arg.Items[1].Range, "the variables of Fn::Sub must be a mapping")
			vars = nil
		}
	}
	if tmpl.Kind != String {
		r.errorf(RuleIntrinsic, tmpl.Range, "Fn::Sub needs a string template, not a %s", tmpl.Kind)
		return bad(at)
	}
	s := tmpl.Value
	firstNL := strings.IndexByte(s, '\n')
	out := scalar(String, "", at.Range)
	var b strings.Builder
	// write appends to the result within the budget: false stops the Sub,
	// which has reported why (the string grew over 1 MB, or the budget is gone).
	write := func(p ...string) bool {
		n := 0
		for _, x := range p {
			n += len(x)
		}
		if r.tooLong("Fn::Sub", b.Len()+n, at.Range) || !r.spend(n, at.Range) {
			return false
		}
		for _, x := range p {
			b.WriteString(x)
		}
		return true
	}
	i := 0
	for ref := range subRefs(s) {
		if !write(s[i:ref.start]) {
			return bad(at)
		}
		i = ref.end
		name := ref.name
		pos := tmpl.posIn(ref.start, firstNL)
		if ref.literal() {
			if !write("${", name[1:], "}") {
				return bad(at)
			}
			continue
		}
		var v *Node
		if vars != nil {
			v = r.lookup(vars, name)
		}
		if v == nil {
			v = r.subName(name, pos)
		}
		if v == nil {
			continue
		}
		if !v.IsScalar() {
			r.errorf(RuleIntrinsic, pos, "${%s} is a %s; Fn::Sub can only insert strings", name, v.Kind)
			continue
		}
		if !write(v.Value) {
			return bad(at)
		}
		out.Links = append(out.Links, v.Links...)
	}
	if !write(s[i:]) {
		return bad(at)
	}
	if !r.spend(nodeCost, at.Range) {
		return bad(at)
	}
	out.Value = b.String()
	return out
}

func (r *resolver) subName(name string, at Range) *Node {
	if _, ok := r.params[name]; ok {
		return r.ref(name, at)
	}
	if _, ok := r.pseudo[name]; ok {
		return r.ref(name, at)
	}
	if _, ok := r.declared[name]; ok {
		return r.ref(name, at)
	}
	if id, attr, ok := strings.Cut(name, "."); ok {
		if _, known := r.declared[id]; known {
			return r.getAtt(id, attr, at)
		}
		if _, known := r.implicit[id]; known {
			return r.getAtt(id, attr, at)
		}
		if slices.Contains(apiGatewayVars, id) {
			d := RuleSubEscape.Diag(at, "${%s} inside Fn::Sub is read by CloudFormation as a reference to a resource %s", name, id)
			d.Fix = "write ${!" + name + "} to pass it to API Gateway"
			r.add(d)
			return scalar(String, "${"+name+"}", at)
		}
	}
	if _, ok := r.implicit[name]; ok {
		return r.ref(name, at)
	}
	r.undefined(name, at)
	return scalar(String, "", at)
}

// checkNames checks, without evaluating n (a branch Fn::If does not pick),
// that the names its Ref, Fn::GetAtt and Fn::Sub use are parameters,
// pseudo parameters or resources of the template, whatever their
// conditions, and that its Fn::If conditions are defined (SPEC ). Nothing else is reported, and no dependency is
// recorded.
func (r *resolver) checkNames(n *Node) {
	if n == nil || !r.spend(nodeCost, n.Range) {
		return
	}
	switch n.Kind {
	case List:
		for _, it := range n.Items {
			r.checkNames(it)
		}
		return
	case Map:
	default:
		return
	}
	name, arg, ok := n.Intrinsic()
	if !ok {
		for _, f := range n.Fields {
			r.checkNames(f.Value)
		}
		return
	}
	switch {
	case name == "Ref" && arg.Kind == String:
		if !r.knownName(arg.Value) {
			r.undefined(arg.Value, n.Range)
		}
		return
	case name == "Fn::GetAtt" && arg.Kind == String:
		id, _, _ := strings.Cut(arg.Value, ".")
		r.checkGetAttName(id, n.Range)
		return
	case name == "Fn::GetAtt" && arg.Kind == List && len(arg.Items) == 2 && arg.Items[0].Kind == String:
		r.checkGetAttName(arg.Items[0].Value, n.Range)
		r.checkNames(arg.Items[1])
		return
	case name == "Fn::If" && arg.Kind == List && len(arg.Items) == 3 && arg.Items[0].Kind == String:
		if c := arg.Items[0]; r.condNodes[c.Value] == nil {
			r.errorFix(RuleUndefinedName, c.Range, DidYouMean(c.Value, mapKeys(r.condNodes)), "condition %s is not defined in Conditions", c.Value)
		}
		r.checkNames(arg.Items[1])
		r.checkNames(arg.Items[2])
		return
	case name == "Fn::Sub":
		tmpl, vars := arg, (*Node)(nil)
		if arg.Kind == List && len(arg.Items) == 2 {
			tmpl, vars = arg.Items[0], arg.Items[1]
			r.checkNames(vars)
		}
		if tmpl.Kind != String {
			r.checkNames(tmpl)
			return
		}
		s := tmpl.Value
		firstNL := strings.IndexByte(s, '\n')
		for ref := range subRefs(s) {
			v := ref.name
			if ref.literal() || vars != nil && vars.Kind == Map && vars.Get(v) != nil {
				continue
			}
			if r.knownName(v) {
				continue
			}
			if id, _, ok := strings.Cut(v, "."); ok {
				if _, known := r.declared[id]; known {
					continue
				}
				if _, known := r.implicit[id]; known || slices.Contains(apiGatewayVars, id) {
					continue
				}
			}
			r.undefined(v, tmpl.posIn(ref.start, firstNL))
		}
		return
	}
	r.checkNames(arg)
}

// knownName reports whether a Ref may name name in this template, whatever
// the conditions.
func (r *resolver) knownName(name string) bool {
	if _, ok := r.params[name]; ok {
		return true
	}
	if _, ok := r.pseudo[name]; ok {
		return true
	}
	if _, ok := r.declared[name]; ok {
		return true
	}
	if _, ok := r.implicit[name]; ok {
		return true
	}
	return name == "AWS::NoValue" || name == "AWS::NotificationARNs"
}

// checkGetAttName reports a GetAtt in an untaken Fn::If branch naming no
// resource of the template.
func (r *resolver) checkGetAttName(id string, at Range) {
	if _, ok := r.declared[id]; ok {
		return
	}
	if _, ok := r.implicit[id]; ok {
		return
	}
	r.errorFix(RuleUndefinedName, at, DidYouMean(id, mapKeys(r.declared)), "GetAtt names %s, which is not a resource of this template", id)
}
