"""wsgw's Lambda runtime loop for Python 3: a small Runtime API client.

It imports the function's _HANDLER ("package/module.function", or
"package.module.function") from LAMBDA_TASK_ROOT, then for every event from
/runtime/invocation/next calls function(event, context) and posts the result
(as JSON) to /response, or the exception to /error.

wsgw passes it the frame channel (runtime/lambda/channel.go) as the file
descriptor _WSGW_RUNTIME_FD: a Unix socket with length-prefixed frames, one
write and one read per invocation, in place of the two HTTP requests. Without
it (Windows) it uses the Runtime API over HTTP (urllib).
"""

import importlib
import json
import os
import socket
import struct
import sys
import time
import traceback
import urllib.error
import urllib.request

CHANNEL_FD = os.environ.pop("_WSGW_RUNTIME_FD", None)
BASE = "http://%s/2018-06-01/runtime" % os.environ.get("AWS_LAMBDA_RUNTIME_API", "")
TASK_ROOT = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
HANDLER = os.environ.get("_HANDLER", "")
THIS_FILE = os.path.abspath(__file__)


class FaultError(Exception):
    """An error of the runtime itself, reported with its Lambda error type."""

    def __init__(self, error_type, message):
        super().__init__(message)
        self.error_type = error_type


class HttpTransport:
    """The Runtime API over HTTP."""

    def ready(self):
        pass  # the first /next poll says it

    def post(self, path, body, error_type=None):
        headers = {"Content-Type": "application/json"}
        if error_type:
            headers["Lambda-Runtime-Function-Error-Type"] = error_type
        req = urllib.request.Request(BASE + path, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(req) as res:
            res.read()

    def next(self):
        """Returns (request_id, headers, body)."""
        try:
            with urllib.request.urlopen(BASE + "/invocation/next") as res:
                headers = res.headers
                body = res.read()
        except (urllib.error.URLError, OSError) as e:
            print("wsgw runtime: GET /invocation/next: %s" % e, file=sys.stderr, flush=True)
            sys.exit(1)
        return headers.get("Lambda-Runtime-Aws-Request-Id"), headers, body

    def respond(self, request_id, payload):
        self.post("/invocation/%s/response" % request_id, payload)

    def error(self, request_id, doc):
        self.post("/invocation/%s/error" % request_id, json.dumps(doc).encode(), doc["errorType"])

    def init_error(self, doc):
        self.post("/init/error", json.dumps(doc).encode(), doc["errorType"])


class FrameTransport:
    """wsgw's frame channel: a 4-byte little-endian length, then the frame.
    An invocation is b"id\\ndeadline\\narn\\ntrace\\nevent"; answers are a kind
    byte (N ready, R response, E error, I init error) and their lines."""

    def __init__(self, fd):
        self.sock = socket.socket(fileno=fd)
        self.buf = bytearray()

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buf)))
            if not chunk:
                sys.exit(0)  # wsgw closed the channel
            self.buf += chunk
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def _send(self, kind, head, payload=b""):
        self.sock.sendall(struct.pack("<I", 1 + len(head) + len(payload)) + kind + head + payload)

    def ready(self):
        self._send(b"N", b"")

    def next(self):
        (n,) = struct.unpack("<I", self._read(4))
        frame = self._read(n)
        request_id, deadline, arn, trace, body = frame.split(b"\n", 4)
        request_id = request_id.decode()
        headers = {
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": deadline.decode(),
            "Lambda-Runtime-Invoked-Function-Arn": arn.decode(),
            "Lambda-Runtime-Trace-Id": trace.decode(),
        }
        return request_id, headers, body

    def respond(self, request_id, payload):
        self._send(b"R", request_id.encode() + b"\n", payload)

    def error(self, request_id, doc):
        head = ("%s\n%s\n" % (request_id, doc["errorType"])).encode()
        self._send(b"E", head, json.dumps(doc).encode())

    def init_error(self, doc):
        self._send(b"I", (doc["errorType"] + "\n").encode(), json.dumps(doc).encode())


TRANSPORT = FrameTransport(int(CHANNEL_FD)) if CHANNEL_FD else HttpTransport()


def error_doc(exc, request_id=None):
    if isinstance(exc, FaultError):
        doc = {"errorMessage": str(exc), "errorType": exc.error_type, "stackTrace": []}
    else:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if os.path.abspath(f.filename) != THIS_FILE]
        doc = {
            "errorMessage": str(exc),
            "errorType": type(exc).__name__,
            "stackTrace": traceback.format_list(frames),
        }
    if request_id:
        doc["requestId"] = request_id
    return doc


def report(exc, request_id=None):
    """Reports exc as the error of request_id, else as an init error."""
    doc = error_doc(exc, request_id)
    print("[ERROR] %s: %s" % (doc["errorType"], doc["errorMessage"]), file=sys.stderr, flush=True)
    if request_id:
        TRANSPORT.error(request_id, doc)
    else:
        TRANSPORT.init_error(doc)


def load_handler():
    try:
        module_name, function_name = HANDLER.rsplit(".", 1)
    except ValueError as e:
        raise FaultError("Runtime.MalformedHandlerName", "Bad handler '%s': %s" % (HANDLER, e))
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise FaultError("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (module_name, e))
    except SyntaxError as e:
        raise FaultError("Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s" % (module_name, e))
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise FaultError("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (function_name, module_name))


class LambdaContext:
    def __init__(self, request_id, headers):
        self.aws_request_id = request_id
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = None
        self.client_context = None
        self._deadline_ms = int(headers.get("Lambda-Runtime-Deadline-Ms") or 0)

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))


def main():
    sys.path[0] = TASK_ROOT  # instead of this file's directory
    try:
        handler = load_handler()
    except Exception as e:  # noqa: BLE001 - every init failure is reported
        try:
            report(e)
        finally:
            sys.exit(1)

    TRANSPORT.ready()
    while True:
        request_id, headers, body = TRANSPORT.next()
        os.environ["_X_AMZN_TRACE_ID"] = headers.get("Lambda-Runtime-Trace-Id") or ""
        try:
            event = json.loads(body)
        except ValueError as e:
            report(FaultError("Runtime.UnmarshalError", "Unable to unmarshal input: %s" % e), request_id)
            continue
        try:
            result = handler(event, LambdaContext(request_id, headers))
        except Exception as e:  # noqa: BLE001 - the handler's error is the answer
            report(e, request_id)
            continue
        try:
            payload = json.dumps(result).encode()
        except (TypeError, ValueError) as e:
            report(FaultError("Runtime.MarshalError", "Unable to marshal response: %s" % e), request_id)
            continue
        TRANSPORT.respond(request_id, payload)


if __name__ == "__main__":
    main()
