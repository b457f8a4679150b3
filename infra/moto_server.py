"""moto in server mode, with DynamoDB requests applied one at a time.

DynamoDB applies each request atomically: a TransactWriteItems is all-or-nothing and isolated
from every other request. moto's threaded server does not isolate them: a cancelled transaction
restores a copy of the whole table taken when it began, undoing writes other requests made
meanwhile. The registry's concurrency tests race transactions on purpose, so this server holds a
lock around each DynamoDB request: they still arrive on many connections at once, but are applied
one after another, as DynamoDB's per-request atomicity promises. Other services stay concurrent.

Usage: python infra/moto_server.py <host> <port>
"""

import os
import sys
import threading

from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def dynamodb_one_at_a_time(environ, start_response):
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
            return app(environ, start_response)
        with lock:
            # The body is produced under the lock too: it may be generated lazily.
            return list(app(environ, start_response))

    run_simple(host, port, dynamodb_one_at_a_time, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
