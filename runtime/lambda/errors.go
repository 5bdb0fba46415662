package lambda

import (
	"encoding/json"
	"errors"
	"fmt"
)

// FunctionError is an error the function itself reported: its handler threw or
// returned an error (the runtime posted to /invocation/{id}/error), or its
// initialization failed (/init/error). It has the fields of the Lambda error
// document, which is what the Lambda Invoke API answers in such a case.
type FunctionError struct {
	// Type is errorType ("Error", "ValueError", "Runtime.ImportModuleError" ...),
	// else the Lambda-Runtime-Function-Error-Type header, else "Unhandled".
	Type    string
	Message string
	// Trace is the stack trace, one entry per line or frame: Node's "trace",
	// Python's "stackTrace" strings, or aws-lambda-go's frames written as
	// "path:line label".
	Trace []string
	// Payload is the error document as the runtime posted it (a JSON object
	// with errorType and errorMessage when the runtime sent none).
	Payload []byte
}

// Error returns "Type: Message".
func (e *FunctionError) Error() string {
	if e.Message == "" {
		return e.Type
	}
	return e.Type + ": " + e.Message
}

// Errors other than *FunctionError wrap one of these, so callers can tell with
// errors.Is what went wrong.
var (
	// ErrTimeout: the invocation ran past the function's Timeout; the process
	// was killed.
	ErrTimeout = errors.New("task timed out")
	// ErrExited: the process exited before or during the invocation.
	ErrExited = errors.New("process exited")
	// ErrStart: the process could not be started, or it did not poll the
	// Runtime API within the init timeout.
	ErrStart = errors.New("process did not start")
	// ErrProtocol: the process made a request the Runtime API does not allow
	// (unknown path or request ID, a second /next before answering); the
	// process was killed.
	ErrProtocol = errors.New("runtime API protocol error")
	// ErrNotRunnable: CanRun says no.
	ErrNotRunnable = errors.New("function cannot run locally")
	// ErrThrottled: the function's ReservedConcurrentExecutions is 0, so
	// Lambda throttles every invocation (TooManyRequestsException).
	ErrThrottled = errors.New("function throttled")
	// ErrClosed: the Runner was closed.
	ErrClosed = errors.New("lambda runner closed")
)

// errorDoc is the Lambda error document. Node's runtime calls the stack
// "trace", Python's and Go's "stackTrace" (strings in Python, frames in Go).
type errorDoc struct {
	Message    string            `json:"errorMessage"`
	Type       string            `json:"errorType"`
	StackTrace []json.RawMessage `json:"stackTrace"`
	Trace      []json.RawMessage `json:"trace"`
}

// parseFunctionError builds the FunctionError of an /error or /init/error
// request from its body and its Lambda-Runtime-Function-Error-Type header.
func parseFunctionError(body []byte, headerType string) *FunctionError {
	fe := &FunctionError{Payload: body}
	var doc errorDoc
	if err := json.Unmarshal(body, &doc); err == nil {
		fe.Type, fe.Message = doc.Type, doc.Message
		for _, raw := range append(doc.StackTrace, doc.Trace...) {
			fe.Trace = append(fe.Trace, frameString(raw))
		}
	} else if len(body) > 0 {
		fe.Message = string(body)
	}
	if fe.Type == "" {
		fe.Type = headerType
	}
	if fe.Type == "" {
		fe.Type = "Unhandled"
	}
	if err := json.Unmarshal(body, new(map[string]any)); err != nil {
		// No error document: make one, as Lambda does from the header.
		fe.Payload, _ = json.Marshal(map[string]string{"errorType": fe.Type, "errorMessage": fe.Message})
	}
	return fe
}

// frameString renders one stack entry: a string as is, an aws-lambda-go frame
// {path, line, label} as "path:line label".
func frameString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var f struct {
		Path  string `json:"path"`
		Line  int    `json:"line"`
		Label string `json:"label"`
	}
	if json.Unmarshal(raw, &f) == nil && (f.Path != "" || f.Label != "") {
		return fmt.Sprintf("%s:%d %s", f.Path, f.Line, f.Label)
	}
	return string(raw)
}
