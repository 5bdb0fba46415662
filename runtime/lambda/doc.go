// Package lambda runs the Lambda functions of a template as local processes,
// the third way of SPEC R-7.4, without Docker.
//
// Custom runtimes (provided.*, go1.x) get their own Lambda Runtime API per
// process, served by wsgw on 127.0.0.1 with a random port and passed as
// AWS_LAMBDA_RUNTIME_API; on Linux it answers only connections from that
// process and those it started (peer.go), other local programs are refused:
// GET /2018-06-01/runtime/invocation/next (blocks until an event; headers
// Lambda-Runtime-Aws-Request-Id, -Deadline-Ms, -Invoked-Function-Arn,
// -Trace-Id), POST .../invocation/{id}/response, POST .../invocation/{id}/error
// (the error document {errorMessage, errorType, stackTrace}, or the
// Lambda-Runtime-Function-Error-Type header) and POST .../init/error. Accepted
// posts answer 202, as on Lambda; a wrong request ID answers 400 and an
// unknown path 404.
//
// Runtimes:
//
//   - provided, provided.al2, provided.al2023: CodeDir/bootstrap;
//   - go1.x: the executable named by Handler in CodeDir (aws-lambda-go speaks
//     the Runtime API when AWS_LAMBDA_RUNTIME_API is set);
//   - nodejsN.x: node (from PATH) runs a small runtime loop embedded in wsgw,
//     written to Options.LoopDir (default: the user cache directory). It
//     talks to wsgw over the frame channel (channel.go): a Unix socket pair
//     whose end is its descriptor 3, one write and one read per invocation,
//     no port any other process could reach; on Windows it uses the Runtime
//     API with node:http. Handler is "dir/file.export": a
//     .js, .mjs or .cjs file, or a package; CommonJS is required, ES modules
//     (.mjs, or .js under "type": "module") are imported. Async handlers,
//     handlers returning a promise and callback handlers
//     (handler(event, context, callback), context.succeed/fail/done) work;
//     a handler that neither returns a promise nor calls back answers null
//     when the event loop empties, as on Lambda;
//   - python3.N: python3 from PATH runs the embedded Python loop, on the
//     frame channel too (urllib and the Runtime API on Windows).
//     Handler is "module.function" ("dir/module.function" too).
//
// The environment is Lambda's: AWS_LAMBDA_FUNCTION_NAME, _MEMORY_SIZE,
// _VERSION ($LATEST), _LOG_GROUP_NAME, _LOG_STREAM_NAME, _RUNTIME_API,
// _INITIALIZATION_TYPE, AWS_REGION and AWS_DEFAULT_REGION, _HANDLER,
// LAMBDA_TASK_ROOT (= CodeDir, also the working directory), AWS_EXECUTION_ENV
// (not for provided.*), TZ=:UTC, placeholder credentials (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, so SDKs sign their requests), then
// Options.Env, then the function's Environment. Lambda's reserved variables
// cannot be overridden. Of wsgw's own environment only PATH, HOME, the
// temporary directory variables, LANG and LC_ALL (and the Windows system
// variables) are passed on: the developer's AWS credentials never reach a
// function.
//
// Processes are kept warm, and stopped after Options.IdleTimeout (default
// 10 minutes) without an invocation. A function runs one invocation per
// process at a time; concurrent invocations start more processes up to the
// function's ReservedConcurrentExecutions (0 throttles every invocation),
// else Options.MaxProcesses (default 4), then queue. Nothing knowable before
// the first invocation is looked up per invocation: the runtime command and
// the handler file are checked when a process starts, and the code
// directory is watched (inotify on Linux, one non-blocking read per
// invocation; elsewhere a fingerprint of names, sizes, modes and
// modification times). node_modules' own entries are watched, not its
// contents; .git, __pycache__ and .aws-sam are not. Processes started from
// older code are replaced at the next invocation. A
// process that crashes, times out (Timeout, default 3 s, from the moment it
// takes the event; its process group is killed), misuses the Runtime API, or
// does not poll within Options.InitTimeout (default 10 s) is gone, and the
// next invocation starts a new one. An invocation the caller abandons (ctx)
// runs to its end or its Timeout, as on Lambda. After a reload, Retain stops
// the processes of the functions the new plan no longer has.
//
// Output: every line a process writes on stdout or stderr goes to
// Options.Output as "[FunctionName] line" (else to Options.Logger). Cold
// starts (spawn to first /next poll, or the loop's ready frame) are kept in
// Stats.
//
// Limitations: no layers (/opt is not populated), no container images, no
// extensions or Extensions/Telemetry API, no response streaming, no memory
// limit, no CPU scaling with MemorySize, the architecture is ignored (a
// bootstrap built for another one fails to start), the local node and
// python3 run whatever nodejsN.x or python3.N says, no SnapStart or
// provisioned concurrency, and callbackWaitsForEmptyEventLoop is not honoured
// (a callback answers at once). Functions built by `sam build` must be built
// before they run: wsgw runs CodeDir as it is. On Windows, processes a
// function starts are not killed with it.
package lambda
