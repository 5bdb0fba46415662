// Package compile checks a resolved template against the rules of API Gateway
// WebSocket APIs (SPEC §3) and compiles it into a Plan (SPEC §4): immutable,
// JSON-serializable data in which everything the gateway needs per message
// (route selection parts, mapping steps, target URLs) is precompiled. The
// plan is plain data: executable forms (parsed templates, compiled patterns
// and schemas) are built from it by the gateway when it provisions the plan
// (ParseTemplate, ResponseKeyPattern, Model.Compile), never kept in it.
//
// It imports template and never runtime.
package compile
