package template

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// CloudFormation returns the resources wsgw serves as CloudFormation writes
// them after SAM's transform, before intrinsics are resolved (SPEC ):
// every AWS::ApiGatewayV2 resource, the Lambda permissions and Route53 record
// set groups SAM generates for a WebSocketApi (and Lambda permissions for API
// Gateway written in the template), and, transitively, every resource they
// reference by Ref, GetAtt, Sub or DependsOn. SAM functions and simple tables
// among them are written as SAM expands them (an AWS::Lambda::Function with the
// execution role SAM generates, an AWS::DynamoDB::Table), other resources as
// the template writes them. The template's other sections come along as SAM
// keeps them (Parameters, Conditions, Mappings, Metadata, ...), except Outputs,
// which may name resources left out. Notes says what was left out, one line each.
func (s *Stack) CloudFormation() (tmpl map[string]any, notes []string) {
	res := s.Expanded
	if res == nil {
		return map[string]any{"Resources": map[string]any{}}, nil
	}
	declared := map[string]*Node{}
	for _, f := range res.Fields {
		declared[f.Key] = f.Value
	}
	c := &cfnWriter{s: s, declared: declared, out: map[string]any{}}
	var queue []string
	for _, f := range res.Fields {
		t := f.Value.Get("Type").Str()
		switch {
		case strings.HasPrefix(t, "AWS::ApiGatewayV2::"),
			s.Generated[f.Key] != "",
			t == "AWS::Lambda::Permission" && f.Value.Get("Properties").Get("Principal").Str() == "apigateway.amazonaws.com":
			queue = append(queue, f.Key)
		}
	}
	seen := map[string]bool{}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if seen[id] {
			continue
		}
		seen[id] = true
		n := declared[id]
		if n == nil {
			continue
		}
		queue = append(queue, c.write(id, n)...)
	}
	// The other sections SAM keeps, as written; Outputs are left out, since they
	// may name resources this selection leaves out.
	tmpl = map[string]any{"Resources": c.out}
	for _, f := range s.Root.Fields {
		switch f.Key {
		case "Resources", "Transform", "Globals", "Outputs":
		default:
			tmpl[f.Key] = cfnValue(f.Value)
		}
	}
	slices.Sort(c.notes)
	return tmpl, c.notes
}

type cfnWriter struct {
	s        *Stack
	declared map[string]*Node
	out      map[string]any
	notes    []string
}

// write adds resource id to the output and returns the resources it references.
func (c *cfnWriter) write(id string, n *Node) []string {
	t := n.Get("Type").Str()
	var refs []string
	switch t {
	case TypeSAMFunction:
		fn, role, note := c.samFunction(id, n)
		if note != "" {
			c.notes = append(c.notes, note)
		}
		c.out[id] = cfnValue(fn)
		refs = append(refs, c.refs(fn)...)
		if role != nil {
			c.out[id+"Role"] = cfnValue(role)
			refs = append(refs, c.refs(role)...)
		}
		return refs
	case "AWS::Serverless::SimpleTable":
		tbl := c.simpleTable(n)
		c.out[id] = cfnValue(tbl)
		return c.refs(tbl)
	}
	if strings.HasPrefix(t, "AWS::Serverless::") {
		c.notes = append(c.notes, fmt.Sprintf("%s (%s) is referenced but left out: wsgw does not translate that SAM type", id, t))
		return nil
	}
	c.out[id] = cfnValue(n)
	return c.refs(n)
}

// refs returns the resources n references.
func (c *cfnWriter) refs(n *Node) []string {
	var out []string
	name := func(s string) {
		if _, ok := c.declared[s]; ok {
			out = append(out, s)
		}
	}
	var walk func(n *Node)
	walk = func(n *Node) {
		if n == nil {
			return
		}
		switch n.Kind {
		case List:
			for _, it := range n.Items {
				walk(it)
			}
			return
		case Map:
		default:
			return
		}
		if fn, arg, ok := n.Intrinsic(); ok {
			switch fn {
			case "Ref":
				name(arg.Str())
			case "Fn::GetAtt":
				if arg.Kind == String {
					id, _, _ := strings.Cut(arg.Value, ".")
					name(id)
				} else if arg.Kind == List && len(arg.Items) > 0 {
					name(arg.Items[0].Str())
				}
			case "Fn::Sub":
				tmpl, vars := arg, (*Node)(nil)
				if arg.Kind == List && len(arg.Items) == 2 {
					tmpl, vars = arg.Items[0], arg.Items[1]
				}
				for ref := range subRefs(tmpl.Str()) {
					v := ref.name
					if ref.literal() || v == "" || vars.Get(v) != nil {
						continue
					}
					id, _, _ := strings.Cut(v, ".")
					name(id)
				}
			}
		}
		for _, f := range n.Fields {
			switch f.Key {
			case "DependsOn":
				if f.Value.Kind == String {
					name(f.Value.Value)
				}
				for _, it := range f.Value.Items {
					name(it.Str())
				}
			}
			walk(f.Value)
		}
	}
	walk(n)
	return out
}

// cfnValue converts a template node into the JSON value CloudFormation reads,
// short forms turned into long ones as SAM writes them (!GetAtt A.B -> ["A", "B"]).
func cfnValue(n *Node) any {
	if n == nil {
		return nil
	}
	switch n.Kind {
	case Null:
		return nil
	case Bool:
		return n.Value == "true"
	case Number:
		if json.Valid([]byte(n.Value)) {
			return json.Number(n.Value)
		}
		return n.Value
	case String:
		return n.Value
	case List:
		out := make([]any, len(n.Items))
		for i, it := range n.Items {
			out[i] = cfnValue(it)
		}
		return out
	}
	if name, arg, ok := n.Intrinsic(); ok && name == "Fn::GetAtt" && arg.Kind == String {
		id, attr, found := strings.Cut(arg.Value, ".")
		if found {
			return map[string]any{name: []any{id, attr}}
		}
	}
	out := make(map[string]any, len(n.Fields))
	for _, f := range n.Fields {
		out[f.Key] = cfnValue(f.Value)
	}
	return out
}

// ---- AWS::Serverless::Function ----

// samFunctionProps maps the properties SAM copies onto the Lambda function (_construct_lambda_function).
var samFunctionProps = []string{"FunctionName", "Handler", "Runtime", "Description", "MemorySize", "Timeout", "VpcConfig",
	"Role", "Environment", "KmsKeyArn", "ReservedConcurrentExecutions", "Layers", "FileSystemConfigs", "ImageConfig",
	"PackageType", "Architectures", "SnapStart", "EphemeralStorage", "CodeSigningConfigArn", "RuntimeManagementConfig",
	"LoggingConfig", "TenancyConfig", "RecursiveLoop", "DurableConfig", "FunctionScalingConfig", "PublishToLatestPublished"}

// samFunctionUnsupported lists function properties whose SAM output this
// writer does not reproduce (they generate or change other resources).
var samFunctionUnsupported = []string{"AutoPublishAlias", "DeploymentPreference", "FunctionUrlConfig", "EventInvokeConfig",
	"ProvisionedConcurrencyConfig", "CapacityProviderConfig", "DeadLetterQueue"}

// serviceRolePolicies are AWS managed policies under the service-role/ path.
var serviceRolePolicies = []string{"AWSLambdaBasicExecutionRole", "AWSLambdaVPCAccessExecutionRole", "AWSLambdaRole",
	"AWSLambdaDynamoDBExecutionRole", "AWSLambdaKinesisExecutionRole", "AWSLambdaSQSQueueExecutionRole",
	"AWSLambdaMSKExecutionRole", "AWSLambdaBasicDurableExecutionRolePolicy"}

// samFunction expands a SAM function as SAM's translator does for the
// Lambda function and its generated execution role.
func (c *cfnWriter) samFunction(id string, n *Node) (fn, role *Node, note string) {
	at := n.Range
	props := n.Get("Properties")
	if props == nil || props.Kind != Map {
		props = &Node{Kind: Map, Range: at}
	}
	if g := c.s.Root.Get("Globals").Get("Function"); g != nil && g.Kind == Map {
		// As the resolver merges them (resolveResource), on the template as
		// written: this writes functions whatever their conditions.
		if g, _, _ := keptGlobals(n.Get("IgnoreGlobals"), g); g != nil {
			props = mergeGlobals(props, g)
		}
	}
	var notes []string
	for _, p := range samFunctionUnsupported {
		if props.Get(p) != nil {
			notes = append(notes, p)
		}
	}
	out := &Node{Kind: Map, Range: props.Range}
	for _, p := range samFunctionProps {
		if v := props.Get(p); v != nil && (p != "FunctionName" || truthy(v)) {
			setField(out, p, v, at)
		}
	}
	if code := c.samCode(props, at); code != nil {
		setField(out, "Code", code, at)
	}
	if tr := props.Get("Tracing"); truthy(tr) && tr.Str() != "Disabled" {
		setField(out, "TracingConfig", gmap(at, "Mode", tr), at)
	}
	tags := samTagList(props.Get("Tags"), at)
	setField(out, "Tags", tags, at)
	if out.Get("Role") == nil {
		setField(out, "Role", ggetatt(id+"Role", "Arn", at), at)
		var why string
		role, why = c.samRole(id, props, tags, at)
		if why != "" {
			notes = append(notes, why)
		}
	}
	kv := []any{"Type", gstr(TypeLambdaFunction, at)}
	for _, a := range []string{"DependsOn", "Condition", "DeletionPolicy", "UpdatePolicy", "UpdateReplacePolicy", "Metadata"} {
		kv = append(kv, a, n.Get(a))
	}
	fn = gmap(at, append(kv, "Properties", out)...)
	if role != nil {
		kv := []any{"Type", gstr("AWS::IAM::Role", at)}
		for _, a := range []string{"Condition", "DeletionPolicy", "UpdateReplacePolicy"} {
			kv = append(kv, a, n.Get(a))
		}
		role = gmap(at, append(kv, "Properties", role)...)
	}
	if len(notes) > 0 {
		note = fmt.Sprintf("%s: SAM generates more from %s than wsgw writes here", id, strings.Join(notes, ", "))
	}
	return fn, role, note
}

// samCode is the Code of the Lambda function: InlineCode as ZipFile, an S3
// CodeUri as its bucket and key, ImageUri; a local CodeUri is kept as the path
// `sam package` would upload.
func (c *cfnWriter) samCode(props *Node, at Range) *Node {
	if v := props.Get("InlineCode"); v != nil {
		return gmap(at, "ZipFile", v)
	}
	if v := props.Get("ImageUri"); v != nil {
		return gmap(at, "ImageUri", v)
	}
	v := props.Get("CodeUri")
	switch {
	case v == nil:
		return nil
	case v.Kind == String && strings.HasPrefix(v.Value, "s3://"):
		u, err := url.Parse(v.Value)
		if err != nil {
			return v
		}
		m := gmap(v.Range, "S3Bucket", gstr(u.Host, v.Range), "S3Key", gstr(strings.TrimPrefix(u.Path, "/"), v.Range))
		if ver := u.Query().Get("versionId"); ver != "" {
			setField(m, "S3ObjectVersion", gstr(ver, v.Range), v.Range)
		}
		return m
	case v.Kind == Map:
		if _, _, intr := v.Intrinsic(); !intr {
			return gmap(v.Range, "S3Bucket", v.Get("Bucket"), "S3Key", v.Get("Key"), "S3ObjectVersion", v.Get("Version"))
		}
	}
	return v
}

// samTagList is SAM's tag list of a function and its role: its own tag first.
func samTagList(tags *Node, at Range) *Node {
	list := &Node{Kind: List, Range: at, Items: []*Node{gmap(at, "Key", gstr("lambda:createdBy", at), "Value", gstr("SAM", at))}}
	for _, f := range tags.fieldsOrNil() {
		list.Items = append(list.Items, gmap(f.KeyRange, "Key", gstr(f.Key, f.KeyRange), "Value", f.Value))
	}
	return list
}

// samRole is the execution role SAM generates for a function without Role
// (_construct_role), or nil with the reason when its Policies use SAM policy
// templates, which wsgw does not expand.
func (c *cfnWriter) samRole(id string, props *Node, tags *Node, at Range) (*Node, string) {
	managed := func(name string) *Node {
		path := name
		if slices.Contains(serviceRolePolicies, name) {
			path = "service-role/" + name
		}
		return gstr("arn:"+c.s.Partition+":iam::aws:policy/"+path, at)
	}
	assume := props.Get("AssumeRolePolicyDocument")
	if assume == nil {
		assume = gmap(at, "Version", gstr("2012-10-17", at), "Statement", &Node{Kind: List, Range: at, Items: []*Node{
			gmap(at, "Action", &Node{Kind: List, Range: at, Items: []*Node{gstr("sts:AssumeRole", at)}},
				"Effect", gstr("Allow", at),
				"Principal", gmap(at, "Service", &Node{Kind: List, Range: at, Items: []*Node{gstr("lambda.amazonaws.com", at)}}))}})
	}
	basic := "AWSLambdaBasicExecutionRole"
	if props.Get("DurableConfig") != nil {
		basic = "AWSLambdaBasicDurableExecutionRolePolicy"
	}
	arns := &Node{Kind: List, Range: at, Items: []*Node{managed(basic)}}
	if tr := props.Get("Tracing"); truthy(tr) && tr.Str() != "Disabled" {
		name := "AWSXrayWriteOnlyAccess"
		if c.s.Partition != "aws" {
			name = "AWSXRayDaemonWriteAccess"
		}
		arns.Items = append(arns.Items, managed(name))
	}
	if truthy(props.Get("VpcConfig")) {
		arns.Items = append(arns.Items, managed("AWSLambdaVPCAccessExecutionRole"))
	}
	inline := &Node{Kind: List, Range: at}
	pols := props.Get("Policies")
	var items []*Node
	switch {
	case pols == nil:
	case pols.Kind == List:
		items = pols.Items
	default:
		items = []*Node{pols}
	}
	has := func(v string) bool {
		return slices.ContainsFunc(arns.Items, func(n *Node) bool { return n.Kind == String && n.Value == v })
	}
	for i, p := range items {
		switch {
		case p.Kind == String:
			v := p
			if !strings.HasPrefix(p.Value, "arn:") {
				v = managed(p.Value)
			}
			if !has(v.Value) {
				arns.Items = append(arns.Items, v)
			}
		case p.Kind == Map && p.Get("Statement") != nil:
			inline.Items = append(inline.Items, gmap(p.Range, "PolicyName", gstr(fmt.Sprintf("%sRolePolicy%d", id, i), p.Range), "PolicyDocument", p))
		default:
			if _, _, intr := p.Intrinsic(); intr {
				arns.Items = append(arns.Items, p)
				continue
			}
			return nil, "Policies with SAM policy templates"
		}
	}
	out := gmap(at, "AssumeRolePolicyDocument", assume, "ManagedPolicyArns", arns, "Tags", tags)
	if len(inline.Items) > 0 {
		setField(out, "Policies", inline, at)
	}
	if v := props.Get("RolePath"); v != nil {
		setField(out, "Path", v, at)
	}
	if v := props.Get("PermissionsBoundary"); v != nil {
		setField(out, "PermissionsBoundary", v, at)
	}
	return out, ""
}

// simpleTable expands AWS::Serverless::SimpleTable as SAM does.
func (c *cfnWriter) simpleTable(n *Node) *Node {
	at := n.Range
	props := n.Get("Properties")
	name, typ := gstr("id", at), gstr("S", at)
	if pk := props.Get("PrimaryKey"); pk != nil && pk.Kind == Map {
		if v := pk.Get("Name"); v != nil {
			name = v
		}
		if v := pk.Get("Type"); v != nil {
			conv := map[string]string{"String": "S", "Number": "N", "Binary": "B"}[v.Str()]
			typ = gstr(cmp.Or(conv, v.Str()), v.Range)
		}
	}
	out := gmap(at,
		"AttributeDefinitions", &Node{Kind: List, Range: at, Items: []*Node{gmap(at, "AttributeName", name, "AttributeType", typ)}},
		"KeySchema", &Node{Kind: List, Range: at, Items: []*Node{gmap(at, "AttributeName", name, "KeyType", gstr("HASH", at))}},
		"PointInTimeRecoverySpecification", props.Get("PointInTimeRecoverySpecification"))
	if v := props.Get("ProvisionedThroughput"); truthy(v) {
		setField(out, "ProvisionedThroughput", v, at)
	} else {
		setField(out, "BillingMode", gstr("PAY_PER_REQUEST", at), at)
	}
	for _, p := range []string{"SSESpecification", "TableName"} {
		if v := props.Get(p); truthy(v) {
			setField(out, p, v, at)
		}
	}
	if tags := props.Get("Tags"); truthy(tags) {
		list := &Node{Kind: List, Range: at}
		for _, f := range tags.fieldsOrNil() {
			list.Items = append(list.Items, gmap(f.KeyRange, "Key", gstr(f.Key, f.KeyRange), "Value", f.Value))
		}
		setField(out, "Tags", list, at)
	}
	kv := []any{"Type", gstr("AWS::DynamoDB::Table", at)}
	for _, a := range []string{"DependsOn", "Condition", "DeletionPolicy", "UpdatePolicy", "UpdateReplacePolicy", "Metadata"} {
		kv = append(kv, a, n.Get(a))
	}
	return gmap(at, append(kv, "Properties", out)...)
}
