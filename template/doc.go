// Package template reads CloudFormation templates (YAML or JSON, plain, SAM or
// CDK-synthesized) into a Stack: a node tree that keeps the line and column of
// every value, parameters and conditions evaluated, every intrinsic function
// resolved, and the resources wsgw reads decoded into typed values.
//
// Positions are born here, so this package owns Range and Diagnostic. It knows
// nothing of plans or sockets.
package template
