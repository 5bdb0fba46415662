package template

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/awslabs/goformation/v7/cloudformation/apigateway"
	"github.com/awslabs/goformation/v7/cloudformation/apigatewayv2"
	"github.com/awslabs/goformation/v7/cloudformation/lambda"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
)

// typed maps the resource types wsgw reads to goformation's structs. Their
// structs are the schema the properties are checked against (required and
// unknown names, value types); nothing is decoded into them.
var typed = map[string]reflect.Type{
	TypeApi: reflect.TypeFor[apigatewayv2.Api](),
	"AWS::ApiGatewayV2::ApiGatewayManagedOverrides": reflect.TypeFor[apigatewayv2.ApiGatewayManagedOverrides](),
	"AWS::ApiGatewayV2::ApiMapping":                 reflect.TypeFor[apigatewayv2.ApiMapping](),
	TypeAuthorizer:                                  reflect.TypeFor[apigatewayv2.Authorizer](),
	TypeDeployment:                                  reflect.TypeFor[apigatewayv2.Deployment](),
	"AWS::ApiGatewayV2::DomainName":                 reflect.TypeFor[apigatewayv2.DomainName](),
	TypeIntegration:                                 reflect.TypeFor[apigatewayv2.Integration](),
	TypeIntegrationResponse:                         reflect.TypeFor[apigatewayv2.IntegrationResponse](),
	TypeModel:                                       reflect.TypeFor[apigatewayv2.Model](),
	TypeRoute:                                       reflect.TypeFor[apigatewayv2.Route](),
	TypeRouteResponse:                               reflect.TypeFor[apigatewayv2.RouteResponse](),
	TypeStage:                                       reflect.TypeFor[apigatewayv2.Stage](),
	TypeVpcLinkV2:                                   reflect.TypeFor[apigatewayv2.VpcLink](),
	TypeVpcLinkV1:                                   reflect.TypeFor[apigateway.VpcLink](),
	"AWS::Lambda::Alias":                            reflect.TypeFor[lambda.Alias](),
	"AWS::Lambda::CodeSigningConfig":                reflect.TypeFor[lambda.CodeSigningConfig](),
	"AWS::Lambda::EventInvokeConfig":                reflect.TypeFor[lambda.EventInvokeConfig](),
	"AWS::Lambda::EventSourceMapping":               reflect.TypeFor[lambda.EventSourceMapping](),
	TypeLambdaFunction:                              reflect.TypeFor[lambda.Function](),
	"AWS::Lambda::LayerVersion":                     reflect.TypeFor[lambda.LayerVersion](),
	"AWS::Lambda::LayerVersionPermission":           reflect.TypeFor[lambda.LayerVersionPermission](),
	"AWS::Lambda::Permission":                       reflect.TypeFor[lambda.Permission](),
	"AWS::Lambda::Url":                              reflect.TypeFor[lambda.Url](),
	"AWS::Lambda::Version":                          reflect.TypeFor[lambda.Version](),
	"AWS::Serverless::Api":                          reflect.TypeFor[serverless.Api](),
	"AWS::Serverless::Application":                  reflect.TypeFor[serverless.Application](),
	TypeSAMFunction:                                 reflect.TypeFor[serverless.Function](),
	"AWS::Serverless::HttpApi":                      reflect.TypeFor[serverless.HttpApi](),
	"AWS::Serverless::LayerVersion":                 reflect.TypeFor[serverless.LayerVersion](),
	"AWS::Serverless::SimpleTable":                  reflect.TypeFor[serverless.SimpleTable](),
	"AWS::Serverless::StateMachine":                 reflect.TypeFor[serverless.StateMachine](),
}

// required lists the properties each type needs, from the CloudFormation reference.
var required = map[string][]string{
	TypeRoute:                 {"ApiId", "RouteKey"},
	TypeIntegration:           {"ApiId", "IntegrationType"},
	TypeStage:                 {"ApiId", "StageName"},
	TypeDeployment:            {"ApiId"},
	TypeRouteResponse:         {"ApiId", "RouteId", "RouteResponseKey"},
	TypeIntegrationResponse:   {"ApiId", "IntegrationId", "IntegrationResponseKey"},
	TypeAuthorizer:            {"ApiId", "AuthorizerType", "Name"},
	TypeModel:                 {"ApiId", "Name", "Schema"},
	TypeVpcLinkV1:             {"Name", "TargetArns"},
	TypeVpcLinkV2:             {"Name", "SubnetIds"},
	TypeLambdaFunction:        {"Code", "Role"},
	"AWS::Lambda::Permission": {"Action", "FunctionName", "Principal"},
}

var knownTypeList = func() []string {
	out := make([]string, 0, len(typed)+1)
	for t := range typed {
		out = append(out, t)
	}
	// Expanded before declaration (SPEC ), and a name typos are compared with.
	out = append(out, TypeSAMWebSocketApi)
	slices.Sort(out)
	return out
}()

func knownTypes() []string { return knownTypeList }

// Typed reports the Go type whose fields are the schema of resources of type t, or nil.
func Typed(t string) reflect.Type { return typed[t] }

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
)

// checkProps checks rs.Properties against the resource type's struct: the
// required properties, unknown names and value types. The node tree stays the
// only form of the properties wsgw reads (goformation's structs drop Refs);
// the structs serve as the schema.
func (r *resolver) checkProps(rs *Resource) {
	t, ok := typed[rs.Type]
	if !ok {
		return
	}
	if rs.Type == TypeApi && (rs.Prop("Body") != nil || rs.Prop("BodyS3Location") != nil) {
		// An OpenAPI import defines the API elsewhere; Name and ProtocolType come from it.
	} else if rs.Type == TypeApi {
		for _, p := range []string{"Name", "ProtocolType"} {
			if rs.Prop(p) == nil {
				r.errorf(RuleRequired, rs.Range, "%s (%s) needs the property %s", rs.LogicalID, rs.Type, p)
			}
		}
	}
	for _, p := range required[rs.Type] {
		if rs.Prop(p) == nil {
			r.errorf(RuleRequired, rs.Range, "%s (%s) needs the property %s", rs.LogicalID, rs.Type, p)
		}
	}
	props := rs.Properties
	if rs.Type == TypeLambdaFunction {
		props = withoutLocalCode(props)
	}
	props = withoutNewerProps(rs.Type, props)
	r.checkValue(props, t, rs.LogicalID)
}

// newerProps lists properties CloudFormation added after the goformation
// release wsgw decodes with; they are kept in Properties but not decoded.
var newerProps = map[string][]string{
	TypeApi:                         {"IpAddressType"},
	"AWS::ApiGatewayV2::DomainName": {"RoutingMode"},
}

func withoutNewerProps(t string, props *Node) *Node {
	names := newerProps[t]
	if len(names) == 0 || !slices.ContainsFunc(props.Fields, func(f Field) bool { return slices.Contains(names, f.Key) }) {
		return props
	}
	out := *props
	out.Fields = slices.DeleteFunc(slices.Clone(props.Fields), func(f Field) bool { return slices.Contains(names, f.Key) })
	return &out
}

// withoutLocalCode returns the properties of an AWS::Lambda::Function without
// a Code given as a string: a local path, which `aws cloudformation package`
// accepts (and replaces with the S3 location it uploads to) but goformation's
// Code struct does not. Properties keeps it; the decoded Value has no Code.
func withoutLocalCode(props *Node) *Node {
	code := props.Get("Code")
	if code == nil || code.Kind != String {
		return props
	}
	out := *props
	out.Fields = make([]Field, 0, len(props.Fields)-1)
	for _, f := range props.Fields {
		if f.Key != "Code" {
			out.Fields = append(out.Fields, f)
		}
	}
	return &out
}

// checkValue walks a resolved node along the Go type of goformation's
// schema: it reports unknown properties and wrong value types at the value's
// position. Scalars are taken as CloudFormation takes them ("30" for a
// number, 5 for a string).
func (r *resolver) checkValue(n *Node, t reflect.Type, path string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Interface || reflect.PointerTo(t).Implements(jsonUnmarshaler) && t.Kind() == reflect.Struct && !hasJSONFields(t) {
		return
	}
	wrong := func(want string) {
		r.errorf(RuleValueType, n.Range, "%s must be %s, not a %s", path, want, describe(n))
	}
	switch t.Kind() {
	case reflect.String:
		if !n.IsScalar() || n.Kind == Null {
			wrong("a string")
		}
	case reflect.Bool:
		if !(n.Kind == Bool || n.Kind == String && (n.Value == "true" || n.Value == "false")) {
			wrong("a boolean (true or false)")
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		if n.Kind == Number || n.Kind == String {
			if _, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
				return
			}
		}
		wrong("an integer")
	case reflect.Float64, reflect.Float32:
		if n.Kind == Number || n.Kind == String {
			if _, err := strconv.ParseFloat(n.Value, 64); err == nil {
				return
			}
		}
		wrong("a number")
	case reflect.Slice:
		if n.Kind != List {
			wrong("a list")
			return
		}
		for i, it := range n.Items {
			r.checkValue(it, t.Elem(), path+"["+strconv.Itoa(i)+"]")
		}
	case reflect.Map:
		if n.Kind != Map {
			wrong("a mapping")
			return
		}
		for _, f := range n.Fields {
			r.checkValue(f.Value, t.Elem(), path+"."+f.Key)
		}
	case reflect.Struct:
		if n.Kind != Map {
			wrong("a mapping")
			return
		}
		fields := jsonFields(t)
		var names []string
		for _, f := range n.Fields {
			ft, ok := fields[f.Key]
			if !ok {
				if names == nil {
					names = slices.Sorted(maps.Keys(fields))
				}
				where := path
				if !strings.Contains(path, ".") {
					where = "resource " + path
				}
				r.errorFix(RuleUnknownProp, f.KeyRange, DidYouMean(f.Key, names), "%s has no property %s", where, f.Key)
				continue
			}
			r.checkValue(f.Value, ft, path+"."+f.Key)
		}
	}
}

func describe(n *Node) string {
	if n.IsScalar() && n.Kind != Null {
		return n.Kind.String() + " (" + strconv.Quote(n.Value) + ")"
	}
	return n.Kind.String()
}

// fieldsOf caches jsonFields by struct type.
var fieldsOf sync.Map // reflect.Type -> map[string]reflect.Type

// jsonFields maps the JSON names of a struct's fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldsOf.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	fieldsOf.Store(t, out)
	return out
}

// hasJSONFields reports whether a struct with its own UnmarshalJSON is
// resource-shaped (every field tagged, so its properties can be checked) rather
// than one of goformation's union types (String or S3Location, untagged).
func hasJSONFields(t reflect.Type) bool {
	for i := range t.NumField() {
		if _, ok := t.Field(i).Tag.Lookup("json"); !ok {
			return false
		}
	}
	return t.NumField() > 0
}
