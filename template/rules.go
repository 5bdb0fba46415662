package template

// The rules this package reports. Their IDs are stable: tools and users match on them.
var (
	RuleSyntax        = Rule{"WSGW1001", Error, "the file must be well-formed YAML or JSON that CloudFormation accepts (no tabs for indentation, aliases or duplicate keys)"}
	RuleStructure     = Rule{"WSGW1002", Error, "the template must be a mapping with a Resources mapping and known top-level sections"}
	RuleResourceType  = Rule{"WSGW1003", Error, "every resource needs a Type, and types in the AWS::ApiGatewayV2, AWS::Lambda and AWS::Serverless namespaces must exist"}
	RuleUnknownProp   = Rule{"WSGW1004", Error, "properties and resource attributes must exist on the resource type"}
	RuleValueType     = Rule{"WSGW1005", Error, "property values must have the type the resource type expects"}
	RuleUndefinedName = Rule{"WSGW1006", Error, "Ref, GetAtt, Sub, Condition and FindInMap must name something the template defines"}
	RuleSubEscape     = Rule{"WSGW1007", Error, "API Gateway variables such as ${stageVariables.x} inside !Sub must be escaped as ${!stageVariables.x}"}
	RuleCycle         = Rule{"WSGW1008", Error, "resources must not depend on each other in a circle (Ref, GetAtt, Sub or DependsOn)"}
	RuleIntrinsic     = Rule{"WSGW1009", Error, "intrinsic functions must get the arguments CloudFormation expects"}
	RuleParamMissing  = Rule{"WSGW1010", Warning, "a parameter needs a Default or a --param value (an error for serve)"}
	RuleParamValue    = Rule{"WSGW1011", Error, "parameter values must satisfy Type, AllowedValues, AllowedPattern, MinLength/MaxLength and MinValue/MaxValue"}
	RuleRequired      = Rule{"WSGW1012", Error, "properties the resource type requires must be present"}
	RuleNotEvaluated  = Rule{"WSGW1013", Warning, "intrinsic functions wsgw cannot evaluate locally (Fn::ImportValue, Fn::Cidr, Fn::Transform) get a placeholder value"}
	RuleBudget        = Rule{"WSGW1014", Error, "evaluating intrinsic functions must stay within wsgw's budget: no string over 1 MB, at most 32 MB produced in all"}
)

// Rules lists the rules of this package in ID order.
func Rules() []Rule {
	return []Rule{RuleSyntax, RuleStructure, RuleResourceType, RuleUnknownProp, RuleValueType, RuleUndefinedName,
		RuleSubEscape, RuleCycle, RuleIntrinsic, RuleParamMissing, RuleParamValue, RuleRequired, RuleNotEvaluated, RuleBudget}
}
