// wsgw's Lambda runtime loop for Node.js (nodejs18.x and later): a small
// Runtime API client. It loads the function's _HANDLER ("dir/file.export")
// from LAMBDA_TASK_ROOT, as CommonJS (.js, .cjs) or as an ES module (.mjs, or
// .js in a "type": "module" package), then for every event from
// /runtime/invocation/next calls the handler and posts its result to
// /response, or its error to /error. Async handlers and callback handlers
// (handler(event, context, callback)) are supported.
//
// wsgw passes it the frame channel (runtime/lambda/channel.go) as the file
// descriptor _WSGW_RUNTIME_FD: a Unix socket with length-prefixed frames, one
// write and one read per invocation. Without it (Windows) it talks to the
// Runtime API with node:http and a keep-alive agent rather than fetch: half
// the time per invocation on Node 20, and no 5-minute headers timeout on the
// long poll of an idle function.
import http from "node:http";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import fs from "node:fs";
import path from "node:path";

const env = process.env;
const channelFd = env._WSGW_RUNTIME_FD;
delete env._WSGW_RUNTIME_FD;
const base = `http://${env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime`;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const taskRoot = env.LAMBDA_TASK_ROOT || process.cwd();
const handlerString = env._HANDLER || "";

class RuntimeError extends Error {
  constructor(name, message) {
    super(message);
    this.name = name;
  }
}

// errorDoc is the Lambda error document of a thrown value, in the shape of
// AWS's Node.js runtime (which calls the stack "trace").
function errorDoc(err) {
  if (err instanceof Error || (err !== null && typeof err === "object" && "message" in err)) {
    let stack = [];
    if (typeof err.stack === "string") stack = err.stack.split("\n");
    return {
      errorType: String(err.name || (err.constructor && err.constructor.name) || "Error"),
      errorMessage: String(err.message ?? ""),
      trace: stack,
    };
  }
  let message;
  try {
    message = typeof err === "string" ? err : JSON.stringify(err);
  } catch {
    message = String(err);
  }
  return { errorType: typeof err, errorMessage: String(message), trace: [] };
}

// request makes one Runtime API call and resolves with {status, headers, body}.
function request(method, url, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const options = { method, agent, headers: { ...headers } };
    if (body !== undefined) {
      body = Buffer.from(body);
      options.headers["Content-Type"] = "application/json";
      options.headers["Content-Length"] = body.length;
    }
    const req = http.request(base + url, options, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

// load returns the module that holds the handler.
async function load(moduleRoot, name) {
  const file = [".js", ".mjs", ".cjs"].map((ext) => path.join(moduleRoot, name + ext)).find((f) => fs.existsSync(f));
  const require = createRequire(path.join(moduleRoot, "__wsgw__.js"));
  let resolved = file;
  if (!resolved) {
    try {
      resolved = require.resolve(name.startsWith(".") || path.isAbsolute(name) ? name : "./" + name);
    } catch {
      try {
        resolved = require.resolve(name); // a package in node_modules
      } catch {
        throw new RuntimeError("Runtime.ImportModuleError", `Error: Cannot find module '${name}'`);
      }
    }
  }
  try {
    if (resolved.endsWith(".mjs")) return await import(pathToFileURL(resolved).href);
    try {
      return require(resolved);
    } catch (e) {
      if (e && (e.code === "ERR_REQUIRE_ESM" || e.code === "ERR_REQUIRE_ASYNC_MODULE")) {
        return await import(pathToFileURL(resolved).href);
      }
      throw e;
    }
  } catch (e) {
    if (e instanceof SyntaxError) throw new RuntimeError("Runtime.UserCodeSyntaxError", `${e.name}: ${e.message}`);
    if (e && (e.code === "MODULE_NOT_FOUND" || e.code === "ERR_MODULE_NOT_FOUND")) {
      throw new RuntimeError("Runtime.ImportModuleError", `Error: ${e.message}`);
    }
    throw e;
  }
}

async function loadHandler() {
  const slash = handlerString.lastIndexOf("/");
  const dir = slash >= 0 ? handlerString.slice(0, slash) : "";
  const rest = slash >= 0 ? handlerString.slice(slash + 1) : handlerString;
  const m = /^([^.]*)\.(.*)$/.exec(rest);
  if (!m || !m[1] || !m[2]) {
    throw new RuntimeError("Runtime.MalformedHandlerName", `Bad handler ${handlerString}`);
  }
  const [, moduleName, handlerPath] = m;
  const mod = await load(path.resolve(taskRoot, dir), moduleName);
  const find = (root) => handlerPath.split(".").reduce((o, k) => (o == null ? undefined : o[k]), root);
  let fn = find(mod);
  if (fn === undefined && mod && mod.default !== undefined) fn = find(mod.default);
  if (fn === undefined) {
    throw new RuntimeError("Runtime.HandlerNotFound", `${moduleName}.${handlerPath} is undefined or not exported`);
  }
  if (typeof fn !== "function") {
    throw new RuntimeError("Runtime.HandlerNotFound", `${moduleName}.${handlerPath} is not a function`);
  }
  return fn;
}

function parseHeader(value) {
  if (!value) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

// call runs the handler; it settles with {ok, value} when the returned promise
// settles, the callback is called, or (for a handler that does neither) the
// event loop empties.
function call(handler, event, context) {
  return new Promise((resolve) => {
    let settled = false;
    const onBeforeExit = () => settle(true, null);
    function settle(ok, value) {
      if (settled) return;
      settled = true;
      process.removeListener("beforeExit", onBeforeExit);
      resolve({ ok, value });
    }
    const callback = (err, result) => {
      if (err !== undefined && err !== null) settle(false, err);
      else settle(true, result);
    };
    context.done = callback;
    context.succeed = (result) => settle(true, result);
    context.fail = (err) => settle(false, err ?? new Error("handled"));
    process.on("beforeExit", onBeforeExit);
    try {
      const result = handler(event, context, callback);
      if (result && typeof result.then === "function") {
        result.then(
          (v) => settle(true, v),
          (e) => settle(false, e ?? new Error("promise rejected without a reason")),
        );
      }
    } catch (e) {
      settle(false, e);
    }
  });
}

// httpTransport is the Runtime API over HTTP.
function httpTransport() {
  async function post(url, body, headers = {}) {
    const res = await request("POST", url, body, headers);
    if (res.status !== 202) {
      throw new Error(`POST ${url}: unexpected status ${res.status}: ${res.body}`);
    }
  }
  return {
    ready() {}, // the first /next poll says it
    async next() {
      let res;
      try {
        res = await request("GET", "/invocation/next");
      } catch (e) {
        console.error(`wsgw runtime: GET /invocation/next: ${e.message}`);
        process.exit(1);
      }
      if (res.status !== 200) {
        console.error(`wsgw runtime: GET /invocation/next: unexpected status ${res.status}: ${res.body}`);
        process.exit(1);
      }
      const h = res.headers;
      return {
        id: h["lambda-runtime-aws-request-id"],
        deadline: Number(h["lambda-runtime-deadline-ms"]),
        arn: h["lambda-runtime-invoked-function-arn"],
        trace: h["lambda-runtime-trace-id"] || "",
        identity: parseHeader(h["lambda-runtime-cognito-identity"]),
        clientContext: parseHeader(h["lambda-runtime-client-context"]),
        body: res.body,
      };
    },
    respond: (id, payload) => post(`/invocation/${id}/response`, payload),
    error: (id, doc) => post(`/invocation/${id}/error`, JSON.stringify(doc), { "Lambda-Runtime-Function-Error-Type": doc.errorType }),
    initError: (doc) => post("/init/error", JSON.stringify(doc), { "Lambda-Runtime-Function-Error-Type": doc.errorType }),
    busy() {},
  };
}

// frameTransport is wsgw's frame channel on file descriptor fd: a 4-byte
// little-endian length, then the frame. An invocation is "id\ndeadline\narn\n
// trace\nevent"; answers are a kind byte (N ready, R response, E error, F
// error then exit, I init error) and their lines.
//
// The channel is read and written with blocking system calls: between two
// invocations the process waits in read(2), with no timers or callbacks
// running, as Lambda freezes an environment between invocations; and since
// the channel is not a handle of the event loop, a handler that neither
// returns a promise nor calls back still ends when the loop empties.
function frameTransport(fd) {
  let buf = Buffer.allocUnsafe(64 << 10);
  let have = 0; // bytes of buf read and not consumed
  // fill reads until buf holds at least n bytes; end of file ends the process.
  function fill(n) {
    if (buf.length < n) {
      const bigger = Buffer.allocUnsafe(n);
      buf.copy(bigger, 0, 0, have);
      buf = bigger;
    }
    while (have < n) {
      let got;
      try {
        got = fs.readSync(fd, buf, have, buf.length - have, null);
      } catch (e) {
        if (e.code === "EINTR" || e.code === "EAGAIN") continue;
        console.error(`wsgw runtime: channel: ${e.message}`);
        process.exit(1);
      }
      if (got === 0) process.exit(0); // wsgw closed the channel
      have += got;
    }
  }
  function parseInvocation(f) {
    const a = f.indexOf(10);
    const b = f.indexOf(10, a + 1);
    const c = f.indexOf(10, b + 1);
    const d = f.indexOf(10, c + 1);
    return {
      id: f.latin1Slice(0, a),
      deadline: Number(f.latin1Slice(a + 1, b)),
      arn: f.utf8Slice(b + 1, c),
      trace: f.latin1Slice(c + 1, d),
      identity: undefined,
      clientContext: undefined,
      body: f.utf8Slice(d + 1, f.length),
    };
  }
  // send writes one frame: the kind, then head and payload (strings).
  function send(kind, head, payload = "") {
    const hl = Buffer.byteLength(head);
    const pl = Buffer.byteLength(payload);
    const b = Buffer.allocUnsafe(5 + hl + pl);
    b.writeUInt32LE(1 + hl + pl, 0);
    b[4] = kind.charCodeAt(0);
    b.utf8Write(head, 5, hl);
    if (pl) b.utf8Write(payload, 5 + hl, pl);
    for (let off = 0; off < b.length; ) {
      try {
        off += fs.writeSync(fd, b, off, b.length - off);
      } catch (e) {
        if (e.code === "EINTR" || e.code === "EAGAIN") continue;
        console.error(`wsgw runtime: channel: ${e.message}`);
        process.exit(1);
      }
    }
  }
  return {
    ready() {
      send("N", "");
    },
    next() {
      fill(4);
      const n = buf.readUInt32LE(0);
      fill(4 + n);
      const inv = parseInvocation(buf.subarray(4, 4 + n));
      buf.copy(buf, 0, 4 + n, have); // nothing, normally: one frame at a time
      have -= 4 + n;
      return inv;
    },
    busy() {},
    respond(id, payload) {
      send("R", id + "\n", payload);
    },
    // fatal: the loop exits after this error (F rather than E).
    error(id, doc, fatal) {
      send(fatal ? "F" : "E", `${id}\n${doc.errorType}\n`, JSON.stringify(doc));
    },
    initError(doc) {
      send("I", `${doc.errorType}\n`, JSON.stringify(doc));
    },
  };
}

const transport = channelFd ? frameTransport(Number(channelFd)) : httpTransport();

async function postInitError(err) {
  const doc = errorDoc(err);
  console.error(JSON.stringify(doc));
  try {
    await transport.initError(doc);
  } catch (e) {
    console.error(`wsgw runtime: ${e.message}`);
  }
  process.exit(1);
}

let current = null; // request ID of the invocation in flight

async function fail(err, type) {
  const doc = errorDoc(err);
  if (type) doc.errorType = type;
  console.error(JSON.stringify(doc));
  try {
    if (current) {
      await transport.error(current, doc, true);
    } else {
      await transport.initError(doc);
    }
  } catch {}
  process.exit(129);
}

process.on("uncaughtException", (err) => fail(err));
process.on("unhandledRejection", (reason) => fail(reason, "Runtime.UnhandledPromiseRejection"));

async function main() {
  let handler;
  try {
    handler = await loadHandler();
  } catch (e) {
    await postInitError(e);
  }
  transport.ready();
  for (;;) {
    const inv = await transport.next();
    transport.busy();
    const id = inv.id;
    const deadline = inv.deadline;
    env._X_AMZN_TRACE_ID = inv.trace;
    current = id;
    let outcome;
    let event;
    try {
      event = JSON.parse(inv.body);
    } catch (e) {
      outcome = { ok: false, value: new RuntimeError("Runtime.UnmarshalError", `Unable to parse event: ${e.message}`) };
    }
    if (!outcome) {
      const context = {
        callbackWaitsForEmptyEventLoop: true,
        functionName: env.AWS_LAMBDA_FUNCTION_NAME,
        functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
        invokedFunctionArn: inv.arn,
        memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
        awsRequestId: id,
        logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
        logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
        identity: inv.identity,
        clientContext: inv.clientContext,
        getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      };
      outcome = await call(handler, event, context);
    }
    let payload;
    if (outcome.ok) {
      try {
        payload = JSON.stringify(outcome.value === undefined ? null : outcome.value);
        if (payload === undefined) payload = "null";
      } catch (e) {
        outcome = { ok: false, value: new RuntimeError("Runtime.MarshalError", `Unable to stringify response body: ${e.message}`) };
      }
    }
    try {
      if (outcome.ok) {
        await transport.respond(id, payload);
      } else {
        const doc = errorDoc(outcome.value);
        console.error(`${id}\tERROR\tInvoke Error\t${JSON.stringify(doc)}`);
        await transport.error(id, doc);
      }
    } catch (e) {
      console.error(`wsgw runtime: ${e.message}`);
      process.exit(1);
    }
    current = null;
  }
}

main();
