package template

import (
	"fmt"
	"slices"
	"strings"
)

// Resource types whose Ref is an id of the given length (SPEC ).
const (
	TypeApi                 = "AWS::ApiGatewayV2::Api"
	TypeRoute               = "AWS::ApiGatewayV2::Route"
	TypeIntegration         = "AWS::ApiGatewayV2::Integration"
	TypeStage               = "AWS::ApiGatewayV2::Stage"
	TypeDeployment          = "AWS::ApiGatewayV2::Deployment"
	TypeRouteResponse       = "AWS::ApiGatewayV2::RouteResponse"
	TypeIntegrationResponse = "AWS::ApiGatewayV2::IntegrationResponse"
	TypeAuthorizer          = "AWS::ApiGatewayV2::Authorizer"
	TypeModel               = "AWS::ApiGatewayV2::Model"
	TypeVpcLinkV1           = "AWS::ApiGateway::VpcLink"
	TypeVpcLinkV2           = "AWS::ApiGatewayV2::VpcLink"
	TypeLambdaFunction      = "AWS::Lambda::Function"
	TypeSAMFunction         = "AWS::Serverless::Function"
)

// attributes lists the GetAtt attributes of the types wsgw reads.
var attributes = map[string][]string{
	TypeApi:                 {"ApiEndpoint", "ApiId"},
	TypeRoute:               {"RouteId"},
	TypeIntegration:         {"IntegrationId"},
	TypeDeployment:          {"DeploymentId"},
	TypeRouteResponse:       {"RouteResponseId"},
	TypeIntegrationResponse: {"IntegrationResponseId"},
	TypeAuthorizer:          {"AuthorizerId"},
	TypeModel:               {"ModelId"},
	TypeVpcLinkV1:           {"VpcLinkId"},
	TypeVpcLinkV2:           {"VpcLinkId"},
	TypeStage:               {},
	TypeLambdaFunction:      {"Arn", "SnapStartResponse", "SnapStartResponse.ApplyOn", "SnapStartResponse.OptimizationStatus"},
	TypeSAMFunction:         {"Arn"},
}

func (r *resolver) declareResources(res *Node) {
	for _, f := range res.Fields {
		id := f.Key
		rs := &Resource{LogicalID: id, Range: f.KeyRange, Node: f.Value}
		if !logicalIDPattern.MatchString(id) {
			r.errorf(RuleStructure, f.KeyRange, "logical ID %q must contain only letters and digits", id)
		}
		if f.Value.Kind != Map {
			r.errorf(RuleStructure, f.Value.Range, "resource %s must be a mapping with a Type, not a %s", id, f.Value.Kind)
			continue
		}
		r.checkResourceAttrs(id, f.Value, f.Value.Get("Type").Str())
		t := f.Value.Get("Type")
		switch {
		case t == nil:
			r.errorf(RuleResourceType, f.KeyRange, "resource %s has no Type", id)
			continue
		case t.Kind != String:
			r.errorf(RuleResourceType, t.Range, "Type of resource %s must be a string", id)
			continue
		}
		rs.Type = t.Value
		if checkedNamespace(rs.Type) && !slices.Contains(knownTypes(), rs.Type) {
			r.errorFix(RuleResourceType, t.Range, DidYouMean(rs.Type, knownTypes()), "unknown resource type %s", rs.Type)
		}
		r.declared[id] = rs
		exists := true
		if c := f.Value.Get("Condition"); c != nil {
			if c.Kind != String {
				r.errorf(RuleIntrinsic, c.Range, "Condition of resource %s must be the name of a condition", id)
			} else {
				rs.Condition = c.Value
				exists = r.condition(c.Value, c.Range)
			}
		}
		if d := f.Value.Get("DependsOn"); d != nil {
			items := []*Node{d}
			if d.Kind == List {
				items = d.Items
			}
			for _, it := range items {
				if it.Kind != String {
					r.errorf(RuleValueType, it.Range, "DependsOn must name resources by logical ID")
					continue
				}
				rs.DependsOn = append(rs.DependsOn, it.Value)
			}
		}
		if exists {
			r.exists[id] = true
			r.st.Resources = append(r.st.Resources, rs)
			r.st.byID[id] = rs
		}
		if rs.Type == TypeSAMFunction && f.Value.Get("Properties").Get("Role") == nil {
			r.implicit[id+"Role"] = "AWS::IAM::Role"
		}
	}
	// Physical IDs come before any property is resolved, since a Ref needs only them.
	for _, rs := range r.declared {
		rs.PhysicalID = r.physicalIDOf(rs)
	}
	// DependsOn names are checked once every resource is declared.
	for _, rs := range r.st.Resources {
		d := rs.Node.Get("DependsOn")
		items := []*Node{d}
		if d != nil && d.Kind == List {
			items = d.Items
		}
		for _, it := range items {
			if it == nil || it.Kind != String {
				continue
			}
			if _, ok := r.declared[it.Value]; !ok {
				r.errorFix(RuleUndefinedName, it.Range, DidYouMean(it.Value, mapKeys(r.declared)), "DependsOn names %s, which is not a resource of this template", it.Value)
				continue
			}
			r.deps[rs.LogicalID] = append(r.deps[rs.LogicalID], dep{it.Value, it.Range})
		}
	}
}

// Runs reports whether wsgw runs (serves, or runs the code of) resources of
// type t, so that their Ref and GetAtt values are the ones it uses; the
// values of other resources (load balancers, queues, tables, roles, VPC
// links) are made up and can be set with --param (SPEC ).
func Runs(t string) bool {
	switch t {
	case TypeVpcLinkV1, TypeVpcLinkV2:
		return false
	case TypeLambdaFunction, TypeSAMFunction:
		return true
	}
	return strings.HasPrefix(t, "AWS::ApiGatewayV2::")
}

// checkedNamespace reports whether wsgw knows every resource type of t's namespace (SPEC ).
func checkedNamespace(t string) bool {
	for _, ns := range []string{"AWS::ApiGatewayV2::", "AWS::Lambda::", "AWS::Serverless::"} {
		if strings.HasPrefix(t, ns) {
			return true
		}
	}
	return t == TypeVpcLinkV1
}

func (r *resolver) physicalIDOf(rs *Resource) string {
	switch rs.Type {
	case TypeApi:
		return physicalID(rs.LogicalID, 10)
	case TypeStage:
		if n := rs.Node.Get("Properties").Get("StageName"); n != nil {
			saved := r.cur
			r.cur = rs.LogicalID
			v := r.resolve(n)
			r.cur = saved
			if v != nil && v.IsScalar() {
				return v.Value
			}
		}
		return rs.LogicalID
	case TypeLambdaFunction, TypeSAMFunction:
		if n := rs.Node.Get("Properties").Get("FunctionName"); n != nil && n.Kind == String {
			return n.Value
		}
		return rs.LogicalID
	}
	if strings.HasPrefix(rs.Type, "AWS::ApiGatewayV2::") || rs.Type == TypeVpcLinkV1 {
		return physicalID(rs.LogicalID, 7)
	}
	return rs.LogicalID
}

// arn returns the ARN of a resource, for GetAtt X.Arn.
func (r *resolver) arn(rs *Resource) string {
	p, region, acct := r.pseudo["AWS::Partition"], r.st.Region, r.st.AccountID
	switch {
	case rs.Type == TypeLambdaFunction || rs.Type == TypeSAMFunction:
		return fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", p, region, acct, rs.PhysicalID)
	case rs.Type == "AWS::IAM::Role":
		return fmt.Sprintf("arn:%s:iam::%s:role/%s", p, acct, rs.PhysicalID)
	}
	svc := "unknown"
	if parts := strings.Split(rs.Type, "::"); len(parts) == 3 {
		svc = strings.ToLower(parts[1])
	}
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", p, svc, region, acct, rs.PhysicalID)
}

func (r *resolver) resolveResource(rs *Resource, globals *Node) {
	if r.over() {
		// Evaluation stopped (RuleBudget): the rest is left unresolved.
		rs.Properties = &Node{Kind: Map, Range: rs.Range}
		return
	}
	r.cur = rs.LogicalID
	defer func() { r.cur = "" }()
	props := rs.Node.Get("Properties")
	if props != nil && props.Kind != Map {
		if name, _, ok := props.Intrinsic(); !ok || name != "Fn::If" {
			r.errorf(RuleValueType, props.Range, "Properties of %s must be a mapping, not a %s", rs.LogicalID, props.Kind)
			props = nil
		}
	}
	if rs.Type == TypeSAMFunction && globals != nil {
		if g := r.ignoreGlobals(rs.LogicalID, rs.Node.Get("IgnoreGlobals"), globals, "Function"); g != nil {
			props = mergeGlobals(props, g)
		}
	}
	resolved := r.resolve(props)
	if resolved == nil || resolved.Kind != Map {
		resolved = &Node{Kind: Map, Range: rs.Range}
	}
	rs.Properties = resolved
	if !r.over() {
		r.checkProps(rs)
	}
}

// samGlobals returns the Globals.Function section of a SAM template.
func (r *resolver) samGlobals(g *Node) *Node {
	if g == nil {
		return nil
	}
	if g.Kind != Map {
		r.errorf(RuleStructure, g.Range, "Globals must be a mapping")
		return nil
	}
	known := []string{"Function", "Api", "HttpApi", "SimpleTable", "StateMachine", "LayerVersion", "WebSocketApi", "CapacityProvider"}
	for _, f := range g.Fields {
		if !slices.Contains(known, f.Key) {
			r.errorFix(RuleStructure, f.KeyRange, DidYouMean(f.Key, known), "unknown Globals section %s", f.Key)
		}
	}
	fn := g.Get("Function")
	if fn != nil && fn.Kind != Map {
		r.errorf(RuleStructure, fn.Range, "Globals.Function must be a mapping")
		return nil
	}
	return fn
}

// mergeGlobals applies SAM's Globals to a function's properties as SAM's
// globals plugin does (samMerge): the function's own values win, mappings
// (Environment.Variables, Tags) are merged key by key, lists (Layers) appended.
func mergeGlobals(props, globals *Node) *Node {
	if props == nil {
		props = &Node{Kind: Map, Range: globals.Range}
	}
	return samMerge(globals, props)
}

func (r *resolver) resolveOutputs(outs *Node) {
	if outs == nil {
		return
	}
	if outs.Kind != Map {
		r.errorf(RuleStructure, outs.Range, "Outputs must be a mapping")
		return
	}
	for _, f := range outs.Fields {
		if c := f.Value.Get("Condition"); c != nil && c.Kind == String && !r.condition(c.Value, c.Range) {
			continue
		}
		v := f.Value.Get("Value")
		if v == nil {
			r.errorf(RuleStructure, f.KeyRange, "output %s needs a Value", f.Key)
			continue
		}
		r.st.Outputs = append(r.st.Outputs, Output{Name: f.Key, Value: r.resolve(v)})
	}
}

// checkCycles reports every circle of resources that depend on each other.
func (r *resolver) checkCycles() {
	const (
		unvisited = iota
		onPath
		finished
	)
	state := map[string]int{}
	var path []string
	var visit func(id string)
	visit = func(id string) {
		state[id] = onPath
		path = append(path, id)
		for _, d := range r.deps[id] {
			switch state[d.to] {
			case onPath:
				i := slices.Index(path, d.to)
				circle := append(slices.Clone(path[i:]), d.to)
				r.errorf(RuleCycle, d.at, "circular dependency: %s", strings.Join(circle, " -> "))
			case unvisited:
				visit(d.to)
			}
		}
		path = path[:len(path)-1]
		state[id] = finished
	}
	for _, rs := range r.st.Resources {
		if state[rs.LogicalID] == unvisited {
			visit(rs.LogicalID)
		}
	}
}
