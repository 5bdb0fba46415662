package compile

import "github.com/wsgw/wsgw/template"

// The WebSocket API rules of SPEC §3. IDs are stable: WSGW2xxx Api, WSGW3xxx
// Route (and RouteResponse), WSGW4xxx Integration, WSGW5xxx Stage and
// Deployment, WSGW6xxx unused things, WSGW7xxx limits. Summaries are what
// `wsgw validate --list-rules` prints.
var (
	// Api
	RuleSelectionRequired = template.Rule{ID: "WSGW2001", Severity: template.Error, Summary: "a WEBSOCKET Api needs a RouteSelectionExpression"}
	RuleSelectionSyntax   = template.Rule{ID: "WSGW2002", Severity: template.Error, Summary: "RouteSelectionExpression must combine $request.body.<path>, ${request.body.<path>} and static text (\\$ for a literal $)"}
	RuleProtocolType      = template.Rule{ID: "WSGW2003", Severity: template.Error, Summary: "ProtocolType must be WEBSOCKET or HTTP"}
	RuleHTTPOnlyApiProp   = template.Rule{ID: "WSGW2004", Severity: template.Error, Summary: "BasePath, Body, BodyS3Location, CorsConfiguration, CredentialsArn, RouteKey and Target are for HTTP APIs only"}
	RuleApiKeySelection   = template.Rule{ID: "WSGW2005", Severity: template.Error, Summary: "ApiKeySelectionExpression must be $request.header.x-api-key or $context.authorizer.usageIdentifierKey"}
	RuleApiWithoutRoutes  = template.Rule{ID: "WSGW2006", Severity: template.Error, Summary: "a WEBSOCKET Api needs at least one Route"}
	RuleOtherApiID        = template.Rule{ID: "WSGW2007", Severity: template.Error, Summary: "ApiId of a RouteResponse, IntegrationResponse, Authorizer or Model must reference an Api of the template"}
	RuleModelSchema       = template.Rule{ID: "WSGW2008", Severity: template.Error, Summary: "a Model's Schema must be a valid JSON Schema (draft 4), written as an object or a JSON string"}
	RuleModelDraft        = template.Rule{ID: "WSGW2009", Severity: template.Warning, Summary: "a Model's $schema should name JSON Schema draft 4, the only draft API Gateway supports (wsgw checks every schema as draft 4)"}

	// Route
	RuleRouteApiID         = template.Rule{ID: "WSGW3001", Severity: template.Error, Summary: "ApiId of a Route must reference an Api of the template"}
	RuleRouteKeyUnique     = template.Rule{ID: "WSGW3002", Severity: template.Error, Summary: "RouteKey must be unique within an Api"}
	RuleRouteKeyDollar     = template.Rule{ID: "WSGW3003", Severity: template.Error, Summary: "route keys must not be empty, and custom route keys must not start with $; only $connect, $disconnect and $default do"}
	RuleTargetForm         = template.Rule{ID: "WSGW3004", Severity: template.Error, Summary: "Target must have the form integrations/<IntegrationId>"}
	RuleTargetIntegration  = template.Rule{ID: "WSGW3005", Severity: template.Error, Summary: "Target must name an Integration of the template"}
	RuleTargetSameApi      = template.Rule{ID: "WSGW3006", Severity: template.Error, Summary: "a Route's Target must be an Integration of the same Api"}
	RuleAuthOnlyConnect    = template.Rule{ID: "WSGW3007", Severity: template.Error, Summary: "AuthorizationType other than NONE and AuthorizerId are allowed only on the $connect route"}
	RuleAuthorizationType  = template.Rule{ID: "WSGW3008", Severity: template.Error, Summary: "AuthorizationType must be NONE, AWS_IAM or CUSTOM"}
	RuleCustomAuthorizer   = template.Rule{ID: "WSGW3009", Severity: template.Error, Summary: "AuthorizationType CUSTOM needs an AuthorizerId naming an Authorizer of the same Api"}
	RuleRouteResponseExpr  = template.Rule{ID: "WSGW3010", Severity: template.Error, Summary: "RouteResponseSelectionExpression must be $default"}
	RuleRouteParamsConnect = template.Rule{ID: "WSGW3011", Severity: template.Error, Summary: "route RequestParameters are allowed only on the $connect route"}
	RuleRouteParamsForm    = template.Rule{ID: "WSGW3012", Severity: template.Error, Summary: "route RequestParameters must map route.request.header.<name> or route.request.querystring.<name> to {Required: true|false}"}
	RuleRouteResponseRoute = template.Rule{ID: "WSGW3013", Severity: template.Error, Summary: "RouteId of a RouteResponse must reference a Route of the same Api"}
	RuleRouteResponseKey   = template.Rule{ID: "WSGW3014", Severity: template.Error, Summary: "RouteResponseKey must be $default"}
	RuleRequestModels      = template.Rule{ID: "WSGW3015", Severity: template.Error, Summary: "RequestModels must map model keys to the Name of a Model of the route's Api"}
	RuleModelSelection     = template.Rule{ID: "WSGW3016", Severity: template.Error, Summary: "ModelSelectionExpression must combine ${request.body.<path>} and static text (\\$ for a literal $)"}
	RuleAuthorizerType     = template.Rule{ID: "WSGW3017", Severity: template.Error, Summary: "a WebSocket Api's Authorizer must be of AuthorizerType REQUEST with an AuthorizerUri invoking a Lambda function"}
	RuleIdentitySource     = template.Rule{ID: "WSGW3018", Severity: template.Error, Summary: "IdentitySource of a WebSocket Authorizer must list route.request.header.<name>, route.request.querystring.<name>, stageVariables.<name> or context.<var>"}

	// Integration
	RuleIntegrationApiID  = template.Rule{ID: "WSGW4001", Severity: template.Error, Summary: "ApiId of an Integration must reference an Api of the template"}
	RuleIntegrationType   = template.Rule{ID: "WSGW4002", Severity: template.Error, Summary: "IntegrationType must be AWS, AWS_PROXY, HTTP, HTTP_PROXY or MOCK"}
	RuleIntegrationURI    = template.Rule{ID: "WSGW4003", Severity: template.Error, Summary: "IntegrationUri is required for every IntegrationType but MOCK"}
	RuleHTTPURI           = template.Rule{ID: "WSGW4004", Severity: template.Error, Summary: "HTTP and HTTP_PROXY IntegrationUri must be an absolute http(s) URL (${stageVariables.name} allowed)"}
	RuleLambdaURI         = template.Rule{ID: "WSGW4005", Severity: template.Error, Summary: "Lambda IntegrationUri must be an invocation ARN arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations"}
	RuleAWSURI            = template.Rule{ID: "WSGW4006", Severity: template.Error, Summary: "AWS IntegrationUri must be an API Gateway service ARN arn:aws:apigateway:REGION:SERVICE:path|action/PATH"}
	RuleConnectionType    = template.Rule{ID: "WSGW4007", Severity: template.Error, Summary: "ConnectionType must be INTERNET or VPC_LINK"}
	RuleVpcLink           = template.Rule{ID: "WSGW4008", Severity: template.Error, Summary: "ConnectionType VPC_LINK needs a ConnectionId naming an AWS::ApiGateway::VpcLink"}
	RuleTimeout           = template.Rule{ID: "WSGW4009", Severity: template.Error, Summary: "TimeoutInMillis must be between 50 and 29000"}
	RuleMappingTarget     = template.Rule{ID: "WSGW4010", Severity: template.Error, Summary: "RequestParameters keys must be integration.request.header.<name> or integration.request.querystring.<name>"}
	RuleMappingSource     = template.Rule{ID: "WSGW4011", Severity: template.Error, Summary: "RequestParameters values must be context.<var>, stageVariables.<name>, route.request.body.<path>, route.request.(multivalue)header|querystring.<name> or a 'static value'"}
	RuleContextVariable   = template.Rule{ID: "WSGW4012", Severity: template.Error, Summary: "context.<var> mapping sources must name a context variable of WebSocket APIs"}
	RuleConnectOnlySource = template.Rule{ID: "WSGW4013", Severity: template.Error, Summary: "header and query string mapping sources are allowed only on integrations used by $connect"}
	RuleUndeclaredParam   = template.Rule{ID: "WSGW4014", Severity: template.Warning, Summary: "header and query string mapping sources should be declared in the $connect route's RequestParameters"}
	RuleTemplatesOnProxy  = template.Rule{ID: "WSGW4015", Severity: template.Error, Summary: "TemplateSelectionExpression and RequestTemplates are allowed only on AWS, HTTP and MOCK integrations"}
	RulePassthrough       = template.Rule{ID: "WSGW4016", Severity: template.Error, Summary: "PassthroughBehavior must be WHEN_NO_MATCH, WHEN_NO_TEMPLATES or NEVER"}
	RuleContentHandling   = template.Rule{ID: "WSGW4017", Severity: template.Error, Summary: "ContentHandlingStrategy must be CONVERT_TO_BINARY or CONVERT_TO_TEXT"}
	RuleIntegrationMethod = template.Rule{ID: "WSGW4018", Severity: template.Error, Summary: "IntegrationMethod must be an HTTP method (GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or ANY)"}
	RuleLambdaMethod      = template.Rule{ID: "WSGW4019", Severity: template.Error, Summary: "Lambda integrations must use IntegrationMethod POST"}
	RuleHTTPOnlyIntegProp = template.Rule{ID: "WSGW4020", Severity: template.Error, Summary: "IntegrationSubtype, ResponseParameters and TlsConfig are for HTTP APIs only"}
	RuleTemplateSyntax    = template.Rule{ID: "WSGW4021", Severity: template.Error, Summary: "RequestTemplates and ResponseTemplates must map keys to valid Velocity (VTL) mapping templates"}
	RuleTemplateSelection = template.Rule{ID: "WSGW4022", Severity: template.Error, Summary: "TemplateSelectionExpression must combine ${request.body.<path>} (on an IntegrationResponse also ${integration.response.statuscode}, .header.<name>, .multivalueheader.<name>) and static text"}
	RuleResponseIntegID   = template.Rule{ID: "WSGW4023", Severity: template.Error, Summary: "IntegrationId of an IntegrationResponse must reference an Integration of the same Api"}
	RuleResponseKey       = template.Rule{ID: "WSGW4024", Severity: template.Error, Summary: "IntegrationResponseKey must be $default or a /regular expression/ on the status code"}
	RuleResponseOnProxy   = template.Rule{ID: "WSGW4025", Severity: template.Warning, Summary: "IntegrationResponses of AWS_PROXY and HTTP_PROXY integrations are never used: proxies pass responses through"}

	// Stage and Deployment
	RuleStageApiID        = template.Rule{ID: "WSGW5001", Severity: template.Error, Summary: "ApiId of a Stage must reference an Api of the template"}
	RuleStageDeployment   = template.Rule{ID: "WSGW5002", Severity: template.Error, Summary: "DeploymentId of a Stage must reference a Deployment of the template"}
	RuleDeploymentSameApi = template.Rule{ID: "WSGW5003", Severity: template.Error, Summary: "a Stage's Deployment must belong to the Stage's Api"}
	RuleStageVarName      = template.Rule{ID: "WSGW5004", Severity: template.Error, Summary: "stage variable names may contain only letters, digits and underscores"}
	RuleStageVarValue     = template.Rule{ID: "WSGW5005", Severity: template.Error, Summary: "stage variable values must match [A-Za-z0-9-._~:/?#&=,]+"}
	RuleRouteSettingsKey  = template.Rule{ID: "WSGW5006", Severity: template.Error, Summary: "RouteSettings keys must be route keys of the Stage's Api"}
	RuleAccessLogFormat   = template.Rule{ID: "WSGW5007", Severity: template.Error, Summary: "AccessLogSettings Format must contain $context.requestId or $context.extendedRequestId"}
	RuleStageName         = template.Rule{ID: "WSGW5008", Severity: template.Error, Summary: "StageName must be $default or up to 128 letters, digits, hyphens and underscores"}
	RuleStageNameUnique   = template.Rule{ID: "WSGW5009", Severity: template.Error, Summary: "StageName must be unique within an Api"}
	RuleDeploymentApiID   = template.Rule{ID: "WSGW5010", Severity: template.Error, Summary: "ApiId of a Deployment must reference an Api of the template"}
	RuleUndefinedStageVar = template.Rule{ID: "WSGW5011", Severity: template.Warning, Summary: "stage variables a mapping reads should be defined on every stage of the Api (else the target is left out)"}
	RuleStageVarURI       = template.Rule{ID: "WSGW5012", Severity: template.Error, Summary: "stage variables an IntegrationUri uses must be defined on every stage of the Api"}

	// Unused
	RuleUnusedIntegration = template.Rule{ID: "WSGW6001", Severity: template.Warning, Summary: "an Integration that no Route targets is never called"}
	RuleRouteNoTarget     = template.Rule{ID: "WSGW6002", Severity: template.Warning, Summary: "a Route without Target has no integration to call"}
	RuleHalfTwoWay        = template.Rule{ID: "WSGW6003", Severity: template.Warning, Summary: "a two-way route needs both RouteResponseSelectionExpression $default and a $default RouteResponse"}
	RuleUnusedAuthorizer  = template.Rule{ID: "WSGW6004", Severity: template.Warning, Summary: "AuthorizerId is ignored unless AuthorizationType is CUSTOM"}
	RuleModelsUnused      = template.Rule{ID: "WSGW6005", Severity: template.Warning, Summary: "RequestModels are used only with a ModelSelectionExpression, and an expression without models rejects every message"}

	// Limits
	RuleTooManyRoutes       = template.Rule{ID: "WSGW7001", Severity: template.Warning, Summary: "API Gateway allows at most 300 routes per Api"}
	RuleTooManyIntegrations = template.Rule{ID: "WSGW7002", Severity: template.Warning, Summary: "API Gateway allows at most 300 integrations per Api"}
	RuleTooManyStages       = template.Rule{ID: "WSGW7003", Severity: template.Warning, Summary: "API Gateway allows at most 10 stages per Api"}
)

// apiRules are the rules of SPEC §3 that this package checks, in ID order.
var apiRules = []template.Rule{
	RulePlanBudget, RulePlaceholder,
	RuleSelectionRequired, RuleSelectionSyntax, RuleProtocolType, RuleHTTPOnlyApiProp, RuleApiKeySelection,
	RuleApiWithoutRoutes, RuleOtherApiID, RuleModelSchema, RuleModelDraft,
	RuleRouteApiID, RuleRouteKeyUnique, RuleRouteKeyDollar, RuleTargetForm, RuleTargetIntegration, RuleTargetSameApi,
	RuleAuthOnlyConnect, RuleAuthorizationType, RuleCustomAuthorizer, RuleRouteResponseExpr, RuleRouteParamsConnect,
	RuleRouteParamsForm, RuleRouteResponseRoute, RuleRouteResponseKey, RuleRequestModels, RuleModelSelection,
	RuleAuthorizerType, RuleIdentitySource,
	RuleIntegrationApiID, RuleIntegrationType, RuleIntegrationURI, RuleHTTPURI, RuleLambdaURI, RuleAWSURI,
	RuleConnectionType, RuleVpcLink, RuleTimeout, RuleMappingTarget, RuleMappingSource, RuleContextVariable,
	RuleConnectOnlySource, RuleUndeclaredParam, RuleTemplatesOnProxy, RulePassthrough, RuleContentHandling,
	RuleIntegrationMethod, RuleLambdaMethod, RuleHTTPOnlyIntegProp,
	RuleTemplateSyntax, RuleTemplateSelection, RuleResponseIntegID, RuleResponseKey, RuleResponseOnProxy,
	RuleStageApiID, RuleStageDeployment, RuleDeploymentSameApi, RuleStageVarName, RuleStageVarValue,
	RuleRouteSettingsKey, RuleAccessLogFormat, RuleStageName, RuleStageNameUnique, RuleDeploymentApiID,
	RuleUndefinedStageVar, RuleStageVarURI,
	RuleUnusedIntegration, RuleRouteNoTarget, RuleHalfTwoWay, RuleUnusedAuthorizer, RuleModelsUnused,
	RuleTooManyRoutes, RuleTooManyIntegrations, RuleTooManyStages,
}
