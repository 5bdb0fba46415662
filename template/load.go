package template

import (
	"cmp"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// topLevel lists the sections a template may have.
var topLevel = []string{"AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Rules",
	"Mappings", "Conditions", "Transform", "Resources", "Outputs", "Globals"}

// resourceAttrs lists the keys a resource may have besides Type.
var resourceAttrs = []string{"Type", "Properties", "DependsOn", "Condition", "Metadata", "DeletionPolicy",
	"UpdateReplacePolicy", "CreationPolicy", "UpdatePolicy"}

// samResourceAttrs are the attributes of a SAM resource: CloudFormation's and IgnoreGlobals.
var samResourceAttrs = append(slices.Clone(resourceAttrs), "IgnoreGlobals")

// checkResourceAttrs reports the attributes of resource id (n, of type typ)
// that are not resource attributes (SAM resources also take IgnoreGlobals).
func (r *resolver) checkResourceAttrs(id string, n *Node, typ string) {
	attrs := resourceAttrs
	if strings.HasPrefix(typ, "AWS::Serverless::") {
		attrs = samResourceAttrs
	}
	for _, a := range n.Fields {
		if !slices.Contains(attrs, a.Key) {
			r.errorFix(RuleUnknownProp, a.KeyRange, DidYouMean(a.Key, attrs), "resource %s has no attribute %s (properties go under Properties)", id, a.Key)
		}
	}
}

var pseudoNames = []string{"AWS::Region", "AWS::AccountId", "AWS::StackName", "AWS::StackId", "AWS::Partition",
	"AWS::URLSuffix", "AWS::NoValue", "AWS::NotificationARNs"}

var logicalIDPattern = regexp.MustCompile(`^[A-Za-z0-9]+$`)

// Load parses src (the contents of file) and resolves it into a Stack. It
// collects every problem it finds; the Stack is nil only when the file could
// not be parsed at all. Callers must not compile a Stack loaded with errors.
func Load(file string, src []byte, opts Options) (*Stack, Diagnostics) {
	root, diags := Parse(file, src)
	if root == nil || diags.HasErrors() {
		return nil, diags
	}
	r := newResolver(file, root, opts)
	r.run()
	// A SAM node used in several generated resources is reported once (Collector).
	diags = append(diags, r.diags.Diagnostics()...)
	diags.Sort()
	return r.st, diags
}

type dep struct {
	to string
	at Range
}

type resolver struct {
	opts  Options
	st    *Stack
	diags Collector

	params    map[string]*Param
	pseudo    map[string]string
	condNodes map[string]*Node
	condState map[string]int
	mappings  *Node
	// paramsNode is the Parameters section, nil when absent.
	paramsNode *Node
	// declared holds every resource of the template, existing or not.
	declared map[string]*Resource
	exists   map[string]bool
	// implicit holds resources SAM creates that templates may refer to (FnRole).
	implicit map[string]string
	deps     map[string][]dep
	cur      string
	depth    int

	// The evaluation budget (budget.go): what evaluation has spent, mapping
	// indexes, the weights of parameter values, suggestion work done.
	spent       int
	index       map[*Node]map[string]*Node
	paramWeight map[string]int
	suggestWork int
	nameList    []string
}

func newResolver(file string, root *Node, opts Options) *resolver {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:3001"
	}
	st := &Stack{File: file, Root: root, Conditions: map[string]bool{}, byID: map[string]*Resource{},
		Region: "us-east-1", AccountID: "123456789012", Name: stackName(file)}
	return &resolver{opts: opts, st: st, params: map[string]*Param{}, condNodes: map[string]*Node{},
		condState: map[string]int{}, declared: map[string]*Resource{}, exists: map[string]bool{},
		implicit: map[string]string{}, deps: map[string][]dep{}}
}

// add records d; once the evaluation budget is gone (spend), only its own
// diagnostic is, since what follows comes from placeholders.
func (r *resolver) add(d Diagnostic) {
	if r.over() && d.Rule != RuleBudget.ID {
		return
	}
	r.diags.Add(d)
}

func (r *resolver) errorf(rule Rule, at Range, format string, args ...any) {
	r.add(rule.Diag(at, format, args...))
}

func (r *resolver) errorFix(rule Rule, at Range, fix, format string, args ...any) {
	d := rule.Diag(at, format, args...)
	d.Fix = fix
	r.add(d)
}

func (r *resolver) run() {
	root := r.st.Root
	if root.Kind != Map {
		r.errorf(RuleStructure, root.Range, "template must be a mapping of sections (Resources, Parameters, ...), not a %s", root.Kind)
		return
	}
	for _, f := range root.Fields {
		if !slices.Contains(topLevel, f.Key) {
			r.errorFix(RuleStructure, f.KeyRange, DidYouMean(f.Key, topLevel), "unknown top-level section %s", f.Key)
		}
	}
	r.readTransform(root.Get("Transform"))
	r.readPseudo()
	r.readParams(root.Get("Parameters"))
	r.mappings = root.Get("Mappings")
	if m := r.mappings; m != nil && m.Kind != Map {
		r.errorf(RuleStructure, m.Range, "Mappings must be a mapping")
		r.mappings = nil
	}
	if c := root.Get("Conditions"); c != nil {
		if c.Kind != Map {
			r.errorf(RuleStructure, c.Range, "Conditions must be a mapping")
		} else {
			for _, f := range c.Fields {
				r.condNodes[f.Key] = f.Value
			}
			for _, f := range c.Fields {
				r.st.Conditions[f.Key] = r.condition(f.Key, f.KeyRange)
			}
		}
	}
	res, ok := root.Field("Resources")
	switch {
	case !ok:
		r.errorf(RuleStructure, Range{File: r.st.File, Line: 1, Col: 1}, "template has no Resources section")
		return
	case res.Value.Kind != Map:
		r.errorf(RuleStructure, res.Value.Range, "Resources must be a mapping of logical IDs to resources, not a %s", res.Value.Kind)
		return
	case len(res.Value.Fields) == 0:
		r.errorf(RuleStructure, res.KeyRange, "Resources is empty; a template needs at least one resource")
		return
	}
	// SAM's WebSocketApi is expanded as its translator does, before anything is declared (SPEC ).
	res.Value = r.expandSAM(root, res.Value)
	r.st.Expanded = res.Value
	r.declareResources(res.Value)
	r.checkParamNames()
	globals := r.samGlobals(root.Get("Globals"))
	for _, rs := range r.st.Resources {
		r.resolveResource(rs, globals)
	}
	r.checkCycles()
	r.resolveOutputs(root.Get("Outputs"))
}

func (r *resolver) readTransform(t *Node) {
	if t == nil {
		return
	}
	items := []*Node{t}
	if t.Kind == List {
		items = t.Items
	}
	for _, it := range items {
		if it.Kind == String {
			r.st.Transforms = append(r.st.Transforms, it.Value)
		} else if name, _, ok := it.Intrinsic(); !ok || name != "Fn::Transform" {
			r.errorf(RuleStructure, it.Range, "Transform must be a transform name or a list of them")
		}
	}
}

// IsSAM reports whether the template uses the AWS::Serverless transform.
func (s *Stack) IsSAM() bool {
	return slices.ContainsFunc(s.Transforms, func(t string) bool { return strings.HasPrefix(t, "AWS::Serverless") })
}

func (r *resolver) readPseudo() {
	o := r.opts.Params
	r.st.Region = cmp.Or(o["AWS::Region"], r.st.Region)
	r.st.AccountID = cmp.Or(o["AWS::AccountId"], r.st.AccountID)
	r.st.Name = cmp.Or(o["AWS::StackName"], r.st.Name)
	// One partition for ${AWS::Partition} and the ARNs SAM generates: the
	// region's (aws-cn for cn-*, aws-us-gov for us-gov-*), unless given.
	partition := cmp.Or(o["AWS::Partition"], partitionOf(r.st.Region))
	r.st.Partition = partition
	defSuffix := "amazonaws.com"
	if partition == "aws-cn" {
		defSuffix = "amazonaws.com.cn"
	}
	suffix := cmp.Or(o["AWS::URLSuffix"], defSuffix)
	r.pseudo = map[string]string{
		"AWS::Region": r.st.Region, "AWS::AccountId": r.st.AccountID, "AWS::StackName": r.st.Name,
		"AWS::StackId":   fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/00000000-0000-0000-0000-000000000000", partition, r.st.Region, r.st.AccountID, r.st.Name),
		"AWS::Partition": partition, "AWS::URLSuffix": suffix,
	}
}

// ---- parameters ----

func (r *resolver) readParams(ps *Node) {
	if ps != nil {
		if ps.Kind != Map {
			r.errorf(RuleStructure, ps.Range, "Parameters must be a mapping")
			ps = nil
		}
	}
	if ps != nil {
		for _, f := range ps.Fields {
			r.readParam(f)
		}
	}
	r.paramsNode = ps
}

// checkParamNames reports --param names that are neither parameters nor
// resources whose values wsgw makes up (Name or Name.Attribute, SPEC );
// it runs once resources are declared.
func (r *resolver) checkParamNames() {
	ps := r.paramsNode
	at := Range{File: r.st.File, Line: 1, Col: 1}
	if ps != nil {
		at = ps.Range
	}
	var candidates []string
	for _, name := range mapKeys(r.opts.Params) {
		if _, ok := r.params[name]; ok || r.pseudo[name] != "" || slices.Contains(pseudoNames, name) {
			continue
		}
		id, _, _ := strings.Cut(name, ".")
		if rs, ok := r.declared[id]; ok {
			if Runs(rs.Type) {
				r.errorf(RuleParamValue, at, "--param %s: wsgw runs %s (%s), so its values are not made up and cannot be set", name, id, rs.Type)
			}
			continue
		}
		if t, ok := r.implicit[id]; ok && !Runs(t) {
			continue
		}
		if candidates == nil {
			candidates = mapKeys(r.params)
			for _, rid := range mapKeys(r.declared) {
				if !Runs(r.declared[rid].Type) {
					candidates = append(candidates, rid)
				}
			}
		}
		if id != name {
			r.errorFix(RuleParamValue, at, r.didYouMean(id, candidates), "--param %s: the template has no resource %s", name, id)
			continue
		}
		r.errorFix(RuleParamValue, at, r.didYouMean(name, candidates), "--param %s: the template has no parameter %s", name, name)
	}
}

func (r *resolver) readParam(f Field) {
	p := &Param{Name: f.Key, Range: f.KeyRange}
	r.params[f.Key] = p
	r.st.Params = append(r.st.Params, p)
	def := f.Value
	if def.Kind != Map {
		r.errorf(RuleStructure, def.Range, "parameter %s must be a mapping with a Type", f.Key)
		p.Value = scalar(String, "", f.KeyRange)
		return
	}
	known := []string{"Type", "Default", "AllowedValues", "AllowedPattern", "ConstraintDescription", "Description",
		"MaxLength", "MaxValue", "MinLength", "MinValue", "NoEcho"}
	for _, k := range def.Fields {
		if !slices.Contains(known, k.Key) {
			r.errorFix(RuleUnknownProp, k.KeyRange, DidYouMean(k.Key, known), "parameter %s has no attribute %s", f.Key, k.Key)
		}
	}
	typ := def.Get("Type")
	if typ == nil || typ.Kind != String {
		r.errorf(RuleStructure, f.KeyRange, "parameter %s needs a Type (String, Number, CommaDelimitedList, ...)", f.Key)
		p.Type = "String"
	} else {
		p.Type = typ.Value
	}
	var raw string
	var at Range
	if v, ok := r.opts.Params[f.Key]; ok {
		raw, at, p.Source = v, f.KeyRange, "override"
	} else if d := def.Get("Default"); d != nil {
		if !d.IsScalar() {
			r.errorf(RuleValueType, d.Range, "Default of parameter %s must be a string or number", f.Key)
		}
		raw, at, p.Source = d.Value, d.Range, "default"
	} else {
		rule := RuleParamMissing
		if r.opts.RequireParams {
			rule.Severity = Error
		}
		d := rule.Diag(f.KeyRange, "parameter %s has no Default; give it a value with --param %s=VALUE", f.Key, f.Key)
		r.add(d)
		at = f.KeyRange
	}
	p.Value = r.paramValue(p, def, raw, at)
}

func (r *resolver) paramValue(p *Param, def *Node, raw string, at Range) *Node {
	who := "Default"
	if p.Source == "override" {
		who = "--param " + p.Name + "=" + raw + ":"
	}
	fail := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if c := def.Get("ConstraintDescription"); c != nil && c.Kind == String {
			msg += " (" + c.Value + ")"
		}
		if p.Source == "override" {
			r.errorf(RuleParamValue, at, "%s value %s", who, msg)
		} else {
			r.errorf(RuleParamValue, at, "%s of parameter %s %s", who, p.Name, msg)
		}
	}
	isList := p.Type == "CommaDelimitedList" || strings.HasPrefix(p.Type, "List<") ||
		strings.HasPrefix(p.Type, "AWS::SSM::Parameter::Value<List<") || p.Type == "AWS::SSM::Parameter::Value<CommaDelimitedList>"
	values := []string{raw}
	if isList {
		values = strings.Split(raw, ",")
		for i := range values {
			values[i] = strings.TrimSpace(values[i])
		}
	}
	if p.Source != "" {
		for _, v := range values {
			r.checkParamValue(p, def, v, who, at, fail)
		}
	}
	if isList {
		n := &Node{Kind: List, Range: at}
		for _, v := range values {
			n.Items = append(n.Items, scalar(String, v, at))
		}
		return n
	}
	return scalar(String, raw, at)
}

// checkParamValue checks one value v of parameter p (declared as def)
// against its type and constraints; fail reports what breaks one, who names
// where the value comes from.
func (r *resolver) checkParamValue(p *Param, def *Node, v, who string, at Range, fail func(format string, args ...any)) {
	if p.Type == "Number" || p.Type == "List<Number>" {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			fail("is %q, not a number", v)
			return
		}
		if mv := numAttr(def, "MinValue"); !math.IsNaN(mv) && n < mv {
			fail("is %s, below MinValue %s", v, def.Get("MinValue").Value)
		}
		if mv := numAttr(def, "MaxValue"); !math.IsNaN(mv) && n > mv {
			fail("is %s, above MaxValue %s", v, def.Get("MaxValue").Value)
		}
	}
	if ml := numAttr(def, "MinLength"); !math.IsNaN(ml) && float64(utf8.RuneCountInString(v)) < ml {
		fail("is shorter than MinLength %s", def.Get("MinLength").Value)
	}
	if ml := numAttr(def, "MaxLength"); !math.IsNaN(ml) && float64(utf8.RuneCountInString(v)) > ml {
		fail("is longer than MaxLength %s", def.Get("MaxLength").Value)
	}
	if pat := def.Get("AllowedPattern"); pat != nil && pat.Kind == String {
		re, err := regexp.Compile("^(?:" + pat.Value + ")$")
		if err != nil {
			r.errorf(RuleParamValue, pat.Range, "AllowedPattern of parameter %s is not a valid pattern: %v", p.Name, err)
		} else if !re.MatchString(v) {
			fail("%q does not match AllowedPattern %s", v, pat.Value)
		}
	}
	if av := def.Get("AllowedValues"); av != nil {
		if av.Kind != List {
			r.errorf(RuleValueType, av.Range, "AllowedValues of parameter %s must be a list", p.Name)
		} else if !slices.ContainsFunc(av.Items, func(n *Node) bool { return n.Value == v }) {
			allowed := make([]string, len(av.Items))
			for i, it := range av.Items {
				allowed[i] = it.Value
			}
			d := RuleParamValue.Diag(at, "%s of parameter %s is %q, not one of AllowedValues (%s)", who, p.Name, v, strings.Join(allowed, ", "))
			if p.Source == "override" {
				d.Message = fmt.Sprintf("%s value is not one of AllowedValues (%s)", who, strings.Join(allowed, ", "))
			}
			d.Fix = DidYouMean(v, allowed)
			r.add(d)
		}
	}
}

func numAttr(def *Node, name string) float64 {
	n := def.Get(name)
	if n == nil {
		return math.NaN()
	}
	f, err := strconv.ParseFloat(n.Value, 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

// ---- conditions ----

func (r *resolver) condition(name string, at Range) bool {
	n, ok := r.condNodes[name]
	if !ok {
		r.errorFix(RuleUndefinedName, at, DidYouMean(name, mapKeys(r.condNodes)), "condition %s is not defined in Conditions", name)
		return false
	}
	switch r.condState[name] {
	case 1:
		r.errorf(RuleCycle, at, "condition %s depends on itself", name)
		return false
	case 2:
		return r.st.Conditions[name]
	}
	r.condState[name] = 1
	v := r.evalCond(n)
	r.condState[name] = 2
	r.st.Conditions[name] = v
	return v
}

func mapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// evalCond evaluates a condition function: Fn::Equals, Fn::And, Fn::Or, Fn::Not or a Condition reference.
func (r *resolver) evalCond(n *Node) bool {
	if r.over() || !r.enter(n) {
		return false
	}
	defer r.leave()
	name, arg, ok := n.Intrinsic()
	if !ok {
		r.errorf(RuleIntrinsic, n.Range, "a condition must be Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition")
		return false
	}
	switch name {
	case "Condition":
		if arg.Kind != String {
			r.errorf(RuleIntrinsic, arg.Range, "Condition needs the name of a condition")
			return false
		}
		return r.condition(arg.Value, arg.Range)
	case "Fn::Equals":
		if arg.Kind != List || len(arg.Items) != 2 {
			r.errorf(RuleIntrinsic, arg.Range, "Fn::Equals needs a list of two values")
			return false
		}
		a, b := r.resolve(arg.Items[0]), r.resolve(arg.Items[1])
		if !a.IsScalar() || !b.IsScalar() {
			// Comparing lists or mappings prints them.
			if !r.spend(r.weight(a)+r.weight(b), arg.Range) {
				return false
			}
		}
		return equalValues(a, b)
	case "Fn::And", "Fn::Or":
		if arg.Kind != List || len(arg.Items) < 2 || len(arg.Items) > 10 {
			r.errorf(RuleIntrinsic, arg.Range, "%s needs a list of 2 to 10 conditions", name)
			return false
		}
		res := name == "Fn::And"
		for _, it := range arg.Items {
			v := r.evalCond(it)
			if name == "Fn::And" {
				res = res && v
			} else {
				res = res || v
			}
		}
		return res
	case "Fn::Not":
		if arg.Kind != List || len(arg.Items) != 1 {
			r.errorf(RuleIntrinsic, arg.Range, "Fn::Not needs a list of one condition")
			return false
		}
		return !r.evalCond(arg.Items[0])
	}
	r.errorf(RuleIntrinsic, n.Range, "%s cannot be used as a condition", name)
	return false
}

func equalValues(a, b *Node) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.IsScalar() && b.IsScalar() {
		return a.Value == b.Value
	}
	return fmt.Sprint(a.Interface()) == fmt.Sprint(b.Interface())
}

// enter guards recursion depth so that no template can exhaust the stack.
func (r *resolver) enter(n *Node) bool {
	r.depth++
	if r.depth > maxDepth*2 {
		r.depth--
		r.errorf(RuleIntrinsic, n.Range, "intrinsic functions nest too deeply")
		return false
	}
	return true
}

func (r *resolver) leave() { r.depth-- }
