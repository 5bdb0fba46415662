package lambda

import (
	"encoding/json"
	"strings"
	"testing"
)

// loopCase is one handler for the embedded Node.js or Python loop: files in
// CodeDir, the Handler, an event, and the reply or FunctionError expected.
type loopCase struct {
	name    string
	files   map[string]string
	handler string
	event   string
	want    string // JSON reply; "" when an error is expected
	errType string
	errMsg  string // a substring of the error message
	trace   string // a substring of some stack entry
}

// loopChannels are the two ways the loops talk to wsgw: the frame channel
// (Unix, the default) and the Runtime API over HTTP (Windows); every loop
// case runs on both.
var loopChannels = []struct {
	name string
	http bool
}{{"frames", false}, {"http", true}}

func runLoopCases(t *testing.T, runtime string, cases []loopCase) {
	t.Helper()
	for _, ch := range loopChannels {
		t.Run(ch.name, func(t *testing.T) { runLoopCasesOn(t, runtime, cases, ch.http) })
	}
}

func runLoopCasesOn(t *testing.T, runtime string, cases []loopCase, httpLoops bool) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fn := scriptFunction(t, runtime, c.handler, c.files)
			fn.Environment = map[string]string{"GREETING": "hello"}
			r, _ := newRunner(t, Options{Env: map[string]string{"FROM_OPTIONS": "options"}, httpLoops: httpLoops})
			event := c.event
			if event == "" {
				event = `{"n":1}`
			}
			out, err := invoke(t, r, fn, event)
			if c.errType == "" {
				if err != nil {
					t.Fatalf("invoke: %v", err)
				}
				jsonEqual(t, out, strings.ReplaceAll(c.want, "CODEDIR", fn.CodeDir))
				return
			}
			fe := functionError(t, err)
			if fe.Type != c.errType || !strings.Contains(fe.Message, c.errMsg) {
				t.Errorf("error = %q / %q, want %q / …%s…", fe.Type, fe.Message, c.errType, c.errMsg)
			}
			if c.trace != "" && !strings.Contains(strings.Join(fe.Trace, "\n"), c.trace) {
				t.Errorf("stack %q lacks %q", fe.Trace, c.trace)
			}
			if !json.Valid(fe.Payload) {
				t.Errorf("error payload %q is not JSON", fe.Payload)
			}
		})
	}
}

// SPEC: nodejs functions run in wsgw's embedded Node.js loop.
func TestNodeHandlers(t *testing.T) {
	needNode(t)
	runLoopCases(t, "nodejs20.x", []loopCase{
		{
			name:    "commonjs async with context",
			handler: "index.handler",
			files: map[string]string{"index.js": `
exports.handler = async (event, context) => ({
  event,
  functionName: context.functionName,
  version: context.functionVersion,
  arn: context.invokedFunctionArn,
  memory: context.memoryLimitInMB,
  logGroup: context.logGroupName,
  requestIdIsUUID: /^[0-9a-f-]{36}$/.test(context.awsRequestId),
  remainingOK: context.getRemainingTimeInMillis() > 3000 && context.getRemainingTimeInMillis() <= 5000,
  env: [process.env.GREETING, process.env.FROM_OPTIONS, process.env.AWS_EXECUTION_ENV, process.env._HANDLER],
  traceId: /^Root=1-/.test(process.env._X_AMZN_TRACE_ID),
  cwd: process.cwd(),
});`},
			want: `{"event":{"n":1},"functionName":"nodejs20-fn","version":"$LATEST",
				"arn":"arn:aws:lambda:us-west-2:123456789012:function:nodejs20-fn","memory":"128",
				"logGroup":"/aws/lambda/nodejs20-fn","requestIdIsUUID":true,"remainingOK":true,
				"env":["hello","options","AWS_Lambda_nodejs20.x","index.handler"],"traceId":true,"cwd":"CODEDIR"}`,
		},
		{
			name:    "commonjs callback",
			handler: "index.handler",
			files: map[string]string{"index.js": `
exports.handler = function (event, context, callback) {
  setTimeout(() => callback(null, { style: "callback", n: event.n }), 5);
};`},
			want: `{"style":"callback","n":1}`,
		},
		{
			name:    "callback error",
			handler: "index.handler",
			files: map[string]string{"index.js": `
exports.handler = (event, context, callback) => callback(new TypeError("bad input"));`},
			errType: "TypeError", errMsg: "bad input", trace: "TypeError: bad input",
		},
		{
			name:    "context.succeed",
			handler: "index.handler",
			files:   map[string]string{"index.js": `exports.handler = (event, context) => { context.succeed({ ok: true }); };`},
			want:    `{"ok":true}`,
		},
		{
			name:    "sync handler that never answers gets null",
			handler: "index.handler",
			files:   map[string]string{"index.js": `exports.handler = (event) => { console.log("side effect only"); };`},
			want:    `null`,
		},
		{
			name:    "async throw",
			handler: "index.handler",
			files:   map[string]string{"index.js": `exports.handler = async () => { throw new Error("boom"); };`},
			errType: "Error", errMsg: "boom", trace: "index.js",
		},
		{
			name:    "throw a string",
			handler: "index.handler",
			files:   map[string]string{"index.js": `exports.handler = async () => { throw "plain"; };`},
			errType: "string", errMsg: "plain",
		},
		{
			name:    "custom error name",
			handler: "index.handler",
			files: map[string]string{"index.js": `
class NotFound extends Error { constructor(m) { super(m); this.name = "NotFound"; } }
exports.handler = async () => { throw new NotFound("no such user"); };`},
			errType: "NotFound", errMsg: "no such user",
		},
		{
			name:    "es module .mjs",
			handler: "app.handler",
			files:   map[string]string{"app.mjs": `export const handler = async (event) => ({ style: "mjs", n: event.n });`},
			want:    `{"style":"mjs","n":1}`,
		},
		{
			name:    "type module in a subdirectory with a nested export",
			handler: "src/app.handlers.main",
			files: map[string]string{
				"package.json":  `{"type":"module"}`,
				"src/app.js":    `import { helper } from "./helper.js"; export const handlers = { main: async (e) => helper(e) };`,
				"src/helper.js": `export const helper = (e) => ({ style: "esm", n: e.n });`,
			},
			want: `{"style":"esm","n":1}`,
		},
		{
			name:    "cjs file",
			handler: "lib.handler",
			files:   map[string]string{"lib.cjs": `module.exports = { handler: async (e) => ({ style: "cjs", n: e.n }) };`},
			want:    `{"style":"cjs","n":1}`,
		},
		{
			name:    "top-level await",
			handler: "app.handler",
			files: map[string]string{"app.mjs": `
const config = await Promise.resolve({ region: process.env.AWS_REGION });
export const handler = async () => config;`},
			want: `{"region":"us-west-2"}`,
		},
		{
			name:    "missing module",
			handler: "nothere.handler",
			files:   map[string]string{"index.js": ``},
			errType: "Runtime.ImportModuleError", errMsg: "Cannot find module 'nothere'",
		},
		{
			name:    "missing dependency",
			handler: "index.handler",
			files:   map[string]string{"index.js": `require("left-pad"); exports.handler = async () => 1;`},
			errType: "Runtime.ImportModuleError", errMsg: "Cannot find module 'left-pad'",
		},
		{
			name:    "missing export",
			handler: "index.hadnler",
			files:   map[string]string{"index.js": `exports.handler = async () => 1;`},
			errType: "Runtime.HandlerNotFound", errMsg: "index.hadnler is undefined or not exported",
		},
		{
			name:    "syntax error",
			handler: "index.handler",
			files:   map[string]string{"index.js": `exports.handler = async () => {;`},
			errType: "Runtime.UserCodeSyntaxError", errMsg: "SyntaxError",
		},
		{
			name:    "malformed handler",
			handler: "index",
			files:   map[string]string{"index.js": ``},
			errType: "Runtime.MalformedHandlerName", errMsg: "Bad handler index",
		},
		{
			name:    "unhandled rejection",
			handler: "index.handler",
			files: map[string]string{"index.js": `
exports.handler = (event, context, callback) => { Promise.reject(new Error("forgotten")); };`},
			errType: "Runtime.UnhandledPromiseRejection", errMsg: "forgotten",
		},
	})
}

// SPEC: python3.x functions run in wsgw's embedded Python loop.
func TestPythonHandlers(t *testing.T) {
	needPython(t)
	runLoopCases(t, "python3.12", []loopCase{
		{
			name:    "echo with context",
			handler: "app.handler",
			files: map[string]string{"app.py": `
import os, re
def handler(event, context):
    return {
        "event": event,
        "functionName": context.function_name,
        "version": context.function_version,
        "arn": context.invoked_function_arn,
        "memory": context.memory_limit_in_mb,
        "requestIdIsUUID": bool(re.match(r"^[0-9a-f-]{36}$", context.aws_request_id)),
        "remainingOK": 3000 < context.get_remaining_time_in_millis() <= 5000,
        "env": [os.environ.get("GREETING"), os.environ.get("FROM_OPTIONS"), os.environ.get("AWS_EXECUTION_ENV"), os.environ.get("_HANDLER")],
        "cwd": os.getcwd(),
    }
`},
			want: `{"event":{"n":1},"functionName":"python312-fn","version":"$LATEST",
				"arn":"arn:aws:lambda:us-west-2:123456789012:function:python312-fn","memory":"128",
				"requestIdIsUUID":true,"remainingOK":true,
				"env":["hello","options","AWS_Lambda_python3.12","app.handler"],"cwd":"CODEDIR"}`,
		},
		{
			name:    "package module",
			handler: "pkg/handlers.main",
			files: map[string]string{
				"pkg/__init__.py": ``,
				"pkg/handlers.py": "from pkg.util import double\ndef main(event, context):\n    return double(event['n'])\n",
				"pkg/util.py":     "def double(n):\n    return 2 * n\n",
			},
			want: `2`,
		},
		{
			name:    "raise",
			handler: "app.handler",
			files:   map[string]string{"app.py": "def handler(event, context):\n    raise ValueError('bad value')\n"},
			errType: "ValueError", errMsg: "bad value", trace: `app.py", line 2, in handler`,
		},
		{
			name:    "missing module",
			handler: "nothere.handler",
			files:   map[string]string{"app.py": ""},
			errType: "Runtime.ImportModuleError", errMsg: "Unable to import module 'nothere'",
		},
		{
			name:    "missing function",
			handler: "app.hadnler",
			files:   map[string]string{"app.py": "def handler(event, context):\n    return 1\n"},
			errType: "Runtime.HandlerNotFound", errMsg: "Handler 'hadnler' missing on module 'app'",
		},
		{
			name:    "syntax error",
			handler: "app.handler",
			files:   map[string]string{"app.py": "def handler(event, context)\n    return 1\n"},
			errType: "Runtime.UserCodeSyntaxError", errMsg: "Syntax error in module 'app'",
		},
		{
			name:    "unserializable result",
			handler: "app.handler",
			files:   map[string]string{"app.py": "def handler(event, context):\n    return {1, 2}\n"},
			errType: "Runtime.MarshalError", errMsg: "Unable to marshal response",
		},
	})
}

// The Python loop keeps CodeDir free of __pycache__, so a function's own
// imports do not look like code changes (and restart it on every call).
func TestPythonStaysWarm(t *testing.T) {
	needPython(t)
	fn := scriptFunction(t, "python3.11", "app.handler", map[string]string{
		"app.py":    "import os, helper\ndef handler(event, context):\n    return os.getpid()\n",
		"helper.py": "X = 1\n",
	})
	r, _ := newRunner(t, Options{})
	a, err := invoke(t, r, fn, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	b, err := invoke(t, r, fn, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) {
		t.Errorf("pid %s then %s: the process was restarted", a, b)
	}
}

// A Node.js process is restarted after an uncaught exception, on either
// channel.
func TestNodeCrashRestarts(t *testing.T) {
	needNode(t)
	for _, ch := range loopChannels {
		t.Run(ch.name, func(t *testing.T) { nodeCrashRestarts(t, ch.http) })
	}
}

func nodeCrashRestarts(t *testing.T, httpLoops bool) {
	fn := scriptFunction(t, "nodejs22.x", "index.handler", map[string]string{"index.js": `
exports.handler = async (event) => {
  if (event.crash) setTimeout(() => { throw new RangeError("late failure"); }, 1);
  if (event.crash) await new Promise((resolve) => setTimeout(resolve, 1000));
  return process.pid;
};`})
	r, _ := newRunner(t, Options{httpLoops: httpLoops})
	a, err := invoke(t, r, fn, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = invoke(t, r, fn, `{"crash":true}`)
	if fe := functionError(t, err); fe.Type != "RangeError" || fe.Message != "late failure" {
		t.Errorf("error %q / %q, want RangeError / late failure", fe.Type, fe.Message)
	}
	b, err := invoke(t, r, fn, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	if string(a) == string(b) {
		t.Errorf("same pid %s after an uncaught exception", a)
	}
}
