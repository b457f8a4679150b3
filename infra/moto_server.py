"""moto in server mode, with DynamoDB requests applied one at a time, and Step Functions
executions run by moto's Amazon States Language interpreter, their Lambda tasks invoking the
functions under cargo-lambda's Lambda Runtime API emulator.

DynamoDB applies each request atomically: a TransactWriteItems is all-or-nothing and isolated
from every other request. moto's threaded server does not isolate them: a cancelled transaction
restores a copy of the whole table taken when it began, undoing writes other requests made
meanwhile. The registry's concurrency tests race transactions on purpose, so this server holds a
lock around each DynamoDB request: they still arrive on many connections at once, but are applied
one after another, as DynamoDB's per-request atomicity promises. Other services stay concurrent.

moto runs a Lambda function in a Docker image it pulls from the internet, which the tests cannot
reach. So Lambda's Invoke API (what a Step Functions task calls) is forwarded to cargo-lambda's
emulator, which speaks the same API and runs the built function binaries: a test that starts the
emulator registers its address with `POST /_mlops/lambda-emulator` (the body: `http://host:port`).

Usage: python infra/moto_server.py <host> <port>
"""

import os
import re
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request

from moto.core.config import default_user_config
from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple

INVOKE = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations$")


def function_name(name_or_arn: str) -> str:
    """`train`, from `train` or `arn:aws:lambda:<region>:<account>:function:train[:qualifier]`."""
    name = urllib.parse.unquote(name_or_arn)
    if name.startswith("arn:"):
        name = name.split(":")[6]
    return name


def forward(emulator: str, environ, start_response):
    """Lambda's Invoke, answered by the emulator's function of the same name."""
    name = function_name(INVOKE.match(environ["PATH_INFO"]).group(1))
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length)
    request = urllib.request.Request(
        f"{emulator}/2015-03-31/functions/{name}/invocations", data=body, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=900) as answer:
            status, headers, payload = answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as failed:
        status, headers, payload = failed.code, failed.headers, failed.read()
    kept = [("Content-Type", "application/json")]
    # The emulator answers a function's error with a 500; Lambda answers 200, names it in this
    # header and leaves the error (its errorType, which Retry and Catch match) in the payload.
    if status == 500 and b'"errorType"' in payload:
        status = 200
        kept.append(("X-Amz-Function-Error", "Unhandled"))
    start_response(f"{status} {'OK' if status == 200 else 'Error'}", kept)
    return [payload]


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    default_user_config["stepfunctions"] = {"execute_state_machine": True}
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()
    emulator = {}

    def serve(environ, start_response):
        path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
        if path == "/_mlops/lambda-emulator" and method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            emulator["url"] = environ["wsgi.input"].read(length).decode().strip().rstrip("/")
            start_response("204 No Content", [])
            return []
        if method == "POST" and INVOKE.match(path) and "url" in emulator:
            return forward(emulator["url"], environ, start_response)
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
            return app(environ, start_response)
        with lock:
            # The body is produced under the lock too: it may be generated lazily.
            return list(app(environ, start_response))

    run_simple(host, port, serve, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
