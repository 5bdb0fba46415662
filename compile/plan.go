package compile

import (
	"encoding/json"
	"io"
)

// Plan is the compiled form of a template: what the gateway runs. It is
// immutable once built; the runtime swaps whole plans, never edits one.
//
// A plan is plain data: everything the gateway needs is in exported fields
// that WriteJSON writes and encoding/json reads back, so a plan decoded from
// `wsgw plan --format json` serves as the plan it was written from. What
// runs (parsed templates, compiled patterns and schemas) is built from it
// once per plan when the gateway provisions it (ParseTemplate,
// ResponseKeyPattern, Model.Compile), never kept in the plan.
type Plan struct {
	// Source is the template file the plan was compiled from.
	Source string `json:"source"`
	// Apis lists the WebSocket APIs in template order. The first is served on
	// --addr, each next one on the next port (SPEC ).
	Apis []*Api `json:"apis"`
	// Functions holds the Lambda functions of the template that integrations
	// or authorizers invoke, keyed by logical ID (SPEC ).
	Functions map[string]*Function `json:"functions,omitempty"`
}

// Function is a Lambda function of the template (AWS::Lambda::Function or
// AWS::Serverless::Function, SAM Globals merged), as the gateway runs it.
type Function struct {
	LogicalID string `json:"logicalId"`
	// Name is the function name (FunctionName, else the logical ID): the name
	// the Lambda Invoke API is called with (--lambda-endpoint).
	Name string `json:"name"`
	// Arn is arn:aws:lambda:REGION:ACCOUNT:function:NAME.
	Arn     string `json:"arn"`
	Runtime string `json:"runtime,omitempty"`
	Handler string `json:"handler,omitempty"`
	// CodeDir is the absolute path of the function's code on disk (SAM
	// CodeUri, a local Code path, or a CDK asset path), or "" when the code is
	// not on disk (S3, inline, image).
	CodeDir string `json:"codeDir,omitempty"`
	// InlineCode is the function's source when the template holds it (SAM
	// InlineCode, Lambda Code.ZipFile); InlineFile the file Lambda puts it in
	// (index.js, index.py). The gateway writes it to a private temporary
	// directory, which becomes CodeDir (compile.Options.WriteInline).
	InlineCode string `json:"inlineCode,omitempty"`
	InlineFile string `json:"inlineFile,omitempty"`
	// Unreachable says why the code is nowhere wsgw can run it (in S3, a
	// container image); NeedsBuild why the code on disk cannot run before
	// `sam build` (a Metadata BuildMethod or TypeScript, and no handler file).
	Unreachable string `json:"unreachable,omitempty"`
	NeedsBuild  string `json:"needsBuild,omitempty"`
	// Environment holds Environment.Variables.
	Environment   map[string]string `json:"environment,omitempty"`
	TimeoutMillis int               `json:"timeoutMillis"`
	MemoryMB      int               `json:"memoryMB"`
	Architecture  string            `json:"architecture,omitempty"`
	// ReservedConcurrency is ReservedConcurrentExecutions: the most
	// instances the function runs at once (0: it is throttled); nil when
	// the template does not set it.
	ReservedConcurrency *int `json:"reservedConcurrency,omitempty"`
}

// WriteJSON writes the plan as indented JSON, the stable form `wsgw plan
// --format json` prints and golden tests compare: object keys sorted, slices
// in template order, and URLs left readable (no HTML escaping of &, < and >).
func (p *Plan) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(p)
}

// Api is one AWS::ApiGatewayV2::Api of protocol WEBSOCKET.
type Api struct {
	LogicalID string `json:"logicalId"`
	// ID is the Api's Ref value (SPEC ), used as $context.apiId.
	ID   string `json:"id"`
	Name string `json:"name"`
	// ApiKeySelectionExpression is where the API key of a route with
	// ApiKeyRequired comes from: $request.header.x-api-key (the default) or
	// $context.authorizer.usageIdentifierKey.
	ApiKeySelectionExpression string `json:"apiKeySelectionExpression,omitempty"`
	// RouteSelectionExpression is the expression as written; Selection its compiled parts.
	RouteSelectionExpression string    `json:"routeSelectionExpression"`
	Selection                Selection `json:"selection"`
	// Stages lists the stages served (a single "local" stage when the template has none).
	Stages []*Stage `json:"stages"`
}

// Stage is one stage of an Api, with its routes compiled for its stage
// variables (target URLs are substituted per stage).
type Stage struct {
	LogicalID string            `json:"logicalId,omitempty"`
	Name      string            `json:"name"`
	Variables map[string]string `json:"variables,omitempty"`
	// Path is the URL path the stage is served at: "/dev", or "/" for $default.
	Path string `json:"path"`
	// AccessLogFormat is AccessLogSettings.Format, rendered per request.
	AccessLogFormat string `json:"accessLogFormat,omitempty"`
	// Throttle is the stage's default route throttling (nil: not throttled).
	Throttle *Throttle `json:"throttle,omitempty"`
	// Routes is the route table keyed by route key ($connect, $default, ...).
	Routes map[string]*Route `json:"routes"`
}

// Throttle is a token bucket: Rate tokens per second, Burst at most.
type Throttle struct {
	Rate  float64 `json:"rate"`
	Burst int     `json:"burst"`
}

// Route is one route of a stage.
type Route struct {
	Key       string `json:"key"`
	LogicalID string `json:"logicalId"`
	// TwoWay routes send the integration's response back to the client (SPEC ).
	TwoWay bool `json:"twoWay"`
	// Throttle overrides the stage's throttling for this route (RouteSettings).
	Throttle *Throttle `json:"throttle,omitempty"`
	// ApiKeyRequired ($connect only) makes the handshake need an x-api-key
	// header holding one of the keys the gateway was given (--api-key).
	ApiKeyRequired bool `json:"apiKeyRequired,omitempty"`
	// IAM ($connect only) is AuthorizationType AWS_IAM: the handshake must be
	// signed with Signature Version 4 (an Authorization header or a presigned
	// query string); the signature itself is not checked (SPEC ).
	IAM bool `json:"iam,omitempty"`
	// Authorizer is the Lambda REQUEST authorizer of a $connect route whose
	// AuthorizationType is CUSTOM, compiled for the stage; nil otherwise.
	Authorizer *Authorizer `json:"authorizer,omitempty"`
	// Integration is nil for a route without Target.
	Integration *Integration `json:"integration,omitempty"`
	// ModelSelectionExpression, compiled into ModelSelection, selects the
	// RequestModels entry ($default as fallback) whose schema messages must
	// satisfy (SPEC ); no expression, no validation.
	ModelSelectionExpression string             `json:"modelSelectionExpression,omitempty"`
	ModelSelection           *TemplateSelection `json:"modelSelection,omitempty"`
	RequestModels            map[string]*Model  `json:"requestModels,omitempty"`
}

// Integration is a route's backend, compiled for one stage.
type Integration struct {
	LogicalID string `json:"logicalId"`
	ID        string `json:"id"`
	// Type is AWS, AWS_PROXY, HTTP, HTTP_PROXY or MOCK.
	Type   string `json:"type"`
	Method string `json:"method,omitempty"`
	// URL is the target with stage variables substituted (after --integration overrides).
	URL            string `json:"url,omitempty"`
	ConnectionType string `json:"connectionType,omitempty"`
	// VpcLink is the logical ID of the VPC link for ConnectionType VPC_LINK.
	VpcLink       string `json:"vpcLink,omitempty"`
	TimeoutMillis int    `json:"timeoutMillis"`
	// Function is the logical ID of the Lambda function (AWS::Lambda::Function or
	// AWS::Serverless::Function) an AWS_PROXY or AWS integration's URI invokes,
	// when the URI was built from the function's Arn; "" otherwise.
	Function string `json:"function,omitempty"`
	// FunctionName is what the Lambda Invoke API is called with for an
	// AWS_PROXY integration (--lambda-endpoint): the function's name, from the
	// template's function or from the ARN in the IntegrationUri, with
	// FunctionQualifier the version or alias the ARN ends with, if any.
	FunctionName      string `json:"functionName,omitempty"`
	FunctionQualifier string `json:"functionQualifier,omitempty"`
	// Overridden reports that URL comes from --integration rather than IntegrationUri.
	Overridden bool `json:"overridden,omitempty"`
	// Mapping is the compiled RequestParameters, applied to every call (SPEC §6),
	// sorted by Target then Name.
	Mapping []Step `json:"mapping,omitempty"`
	// TemplateSelectionExpression and RequestTemplates are kept as written, for
	// non-proxy (HTTP, MOCK, AWS) integrations (SPEC ); the compiler
	// checks that the templates parse, and the gateway parses them once per
	// plan (ParseTemplate).
	TemplateSelectionExpression string            `json:"templateSelectionExpression,omitempty"`
	RequestTemplates            map[string]string `json:"requestTemplates,omitempty"`
	// TemplateSelection is TemplateSelectionExpression compiled (nil: none).
	TemplateSelection *TemplateSelection `json:"templateSelection,omitempty"`
	// PassthroughBehavior (WHEN_NO_MATCH when not set), ContentHandlingStrategy
	// and the IntegrationResponses, in template order, of a non-proxy integration.
	PassthroughBehavior     string                 `json:"passthroughBehavior,omitempty"`
	ContentHandlingStrategy string                 `json:"contentHandlingStrategy,omitempty"`
	Responses               []*IntegrationResponse `json:"responses,omitempty"`
	// NotRunnable, when set, says why the gateway cannot run this integration
	// yet; such routes answer with the Internal server error frame.
	NotRunnable string `json:"notRunnable,omitempty"`
}

// Authorizer is a Lambda REQUEST authorizer (AWS::ApiGatewayV2::Authorizer)
// of a $connect route, compiled for one stage.
type Authorizer struct {
	LogicalID string `json:"logicalId"`
	ID        string `json:"id"`
	Name      string `json:"name"`
	// Type is REQUEST (the only type WebSocket APIs have).
	Type string `json:"type"`
	// IdentitySources are the request values that must all be present and
	// non-empty, else the handshake is refused with 401 without calling the
	// function: route.request.header.<name>, route.request.querystring.<name>,
	// stageVariables.<name> or context.<var>.
	IdentitySources []Source `json:"identitySources,omitempty"`
	// MethodArn is the event's methodArn:
	// arn:aws:execute-api:REGION:ACCOUNT:APIID/STAGE/$connect.
	MethodArn string `json:"methodArn"`
	// Function, FunctionName and FunctionQualifier name the function
	// AuthorizerUri invokes, as for Integration.
	Function          string `json:"function,omitempty"`
	FunctionName      string `json:"functionName,omitempty"`
	FunctionQualifier string `json:"functionQualifier,omitempty"`
	// URI is AuthorizerUri with stage variables substituted, or, when
	// Overridden, the --integration URL the event is POSTed to (SPEC ).
	URI string `json:"uri,omitempty"`
	// Overridden reports that URI comes from --integration rather than AuthorizerUri.
	Overridden bool `json:"overridden,omitempty"`
	// NotRunnable, when set, says why the gateway cannot run the authorizer;
	// every handshake is then refused with 500.
	NotRunnable string `json:"notRunnable,omitempty"`
}

// Selection is a compiled selection expression: its value is the
// concatenation of its parts.
type Selection struct {
	Parts []SelectionPart `json:"parts"`
}

// SelectionPart is literal Text, or (when Path is set) the JSON value at Path in the message body.
// Path segments are object keys; an index written [n] is the segment "n", which
// selects element n of an array (and the key "n" of an object).
type SelectionPart struct {
	Text string   `json:"text,omitempty"`
	Path []string `json:"path,omitempty"`
}

// Step is one compiled mapping: read Source, write it to the Target's Name.
type Step struct {
	// Target is "header" or "querystring".
	Target string `json:"target"`
	Name   string `json:"name"`
	Source Source `json:"source"`
}

// SourceKind says where a mapping step reads its value.
type SourceKind string

// The sources of SPEC.
const (
	SourceContext            SourceKind = "context"
	SourceStageVariable      SourceKind = "stageVariables"
	SourceBody               SourceKind = "body"
	SourceHeader             SourceKind = "header"
	SourceQueryString        SourceKind = "querystring"
	SourceMultiValueHeader   SourceKind = "multivalueheader"
	SourceMultiValueQueryStr SourceKind = "multivaluequerystring"
	SourceLiteral            SourceKind = "literal"
)

// Source is a mapping source: a context variable (Name, such as "connectionId"
// or "identity.sourceIp"), a body path (Path, segments as in SelectionPart), a
// request header or query string (Name), or a Literal.
//
// Stage variables are resolved while compiling, since a plan's integrations are
// compiled per stage: a `stageVariables.x` source becomes Kind literal with
// Name "x", Literal the stage's value and Expr as written. A step whose stage
// variable the stage lacks is left out of the plan (SPEC ), so mapping
// steps never have Kind stageVariables; an authorizer's identity sources keep
// it, and the gateway reads the stage's variable when it provisions the plan.
type Source struct {
	Kind    SourceKind `json:"kind"`
	Name    string     `json:"name,omitempty"`
	Path    []string   `json:"path,omitempty"`
	Literal string     `json:"literal,omitempty"`
	// Expr is the source as written in the template, for messages and `wsgw plan`.
	Expr string `json:"expr"`
}
