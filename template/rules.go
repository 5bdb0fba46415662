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

	// SAM's AWS::Serverless::WebSocketApi, as SAM's translator checks it.
	RuleSAMUnknownProp   = Rule{"WSGW1101", Error, "a WebSocketApi, its Auth, Routes, Domain and Route53, Globals.WebSocketApi and IgnoreGlobals take only the properties SAM defines"}
	RuleSAMPropertyType  = Rule{"WSGW1102", Error, "WebSocketApi properties must have the kind SAM expects (AccessLogSettings, DefaultRouteSettings, RouteSettings, StageVariables, Tags, Auth, Domain and Routes are mappings)"}
	RuleSAMRequired      = Rule{"WSGW1103", Error, "a WebSocketApi needs Routes and RouteSelectionExpression"}
	RuleSAMNoRoutes      = Rule{"WSGW1104", Error, "a WebSocketApi needs at least one route"}
	RuleSAMRouteKey      = Rule{"WSGW1105", Error, "WebSocketApi route keys must be alphanumeric or $connect, $disconnect, $default, and distinct once SAM capitalises them"}
	RuleSAMRouteFunction = Rule{"WSGW1106", Error, "every route of a WebSocketApi is a mapping with a FunctionArn"}
	RuleSAMRouteParams   = Rule{"WSGW1107", Error, "RequestParameters of a WebSocketApi route are allowed only on $connect"}
	RuleSAMAuthConnect   = Rule{"WSGW1108", Error, "Auth on a WebSocketApi needs a $connect route"}
	RuleSAMAuthType      = Rule{"WSGW1109", Error, "Auth of a WebSocketApi needs an AuthType of AWS_IAM, CUSTOM or NONE"}
	RuleSAMAuthArn       = Rule{"WSGW1110", Error, "AuthType CUSTOM needs an AuthArn"}
	RuleSAMAuthExtra     = Rule{"WSGW1111", Error, "AuthType AWS_IAM and NONE take no other Auth settings"}
	RuleSAMIpAddressType = Rule{"WSGW1112", Error, "IpAddressType of a WebSocketApi must be ipv4 or dualstack"}
	RuleSAMStageName     = Rule{"WSGW1113", Error, "a WebSocketApi's StageName cannot be $default"}
	RuleSAMDomain        = Rule{"WSGW1114", Error, "Domain of a WebSocketApi needs DomainName and CertificateArn, a REGIONAL endpoint, string BasePaths of letters, digits, /, - and _, no mutual TLS, and Route53 with a hosted zone"}
	RuleSAMCollision     = Rule{"WSGW1115", Error, "the logical IDs a WebSocketApi generates must not be those of other resources"}
	RuleSAMDropped       = Rule{"WSGW1116", Warning, "SAM does not pass Condition, DeletionPolicy or UpdateReplacePolicy of a WebSocketApi on to what it generates"}
	RuleSAMAuthCase      = Rule{"WSGW1117", Warning, "write AuthType in capitals: SAM builds the $connect route from AuthType case-sensitively"}
)

// Rules lists the rules of this package in ID order.
func Rules() []Rule {
	return []Rule{RuleSyntax, RuleStructure, RuleResourceType, RuleUnknownProp, RuleValueType, RuleUndefinedName,
		RuleSubEscape, RuleCycle, RuleIntrinsic, RuleParamMissing, RuleParamValue, RuleRequired, RuleNotEvaluated, RuleBudget,
		RuleSAMUnknownProp, RuleSAMPropertyType, RuleSAMRequired, RuleSAMNoRoutes, RuleSAMRouteKey, RuleSAMRouteFunction,
		RuleSAMRouteParams, RuleSAMAuthConnect, RuleSAMAuthType, RuleSAMAuthArn, RuleSAMAuthExtra, RuleSAMIpAddressType,
		RuleSAMStageName, RuleSAMDomain, RuleSAMCollision, RuleSAMDropped, RuleSAMAuthCase}
}
