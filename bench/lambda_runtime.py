#!/usr/bin/env python3
"""A minimal AWS Lambda Runtime API for benchmarks: starts a function binary the way Lambda does
(AWS_LAMBDA_RUNTIME_API and the standard variables), hands it the same event again and again, and
measures what Lambda would bill and users would feel:

  cold: process start to the first response, over several fresh processes, with each one's peak
        memory (VmHWM) after that first response;
  warm: per-invocation time (event handed out to response received) over many invocations of one
        process, its peak memory at the end, and the bytes it writes to standard output per
        invocation (what CloudWatch Logs ingests: log lines and metric lines).

Only the parts of the Runtime API a function uses are served: next invocation, response, errors,
and the Extensions API's register and next event (the predict function registers a no-op extension
so that Lambda sends it SIGTERM before stopping it; no event is ever sent to it).
The time includes one loopback HTTP round trip to this server per invocation.

Usage: bench/lambda_runtime.py <binary> <event.json> [--cold N] [--warm N]
Extra environment for the function (bucket, table, endpoint) is inherited from the caller.
"""
import argparse
import json
import os
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Runtime:
    def __init__(self, event: bytes):
        self.event = event
        self.lock = threading.Condition()
        self.remaining = 0
        self.handed_out = {}
        self.done = []  # (request id, seconds from hand-out to response, status)
        self.failures = []
        self.next_id = 0

    def expect(self, invocations: int):
        with self.lock:
            self.remaining = invocations
            self.done = []

    def take(self):
        with self.lock:
            while self.remaining == 0:
                self.lock.wait()
            self.remaining -= 1
            self.next_id += 1
            request_id = f"bench-{self.next_id}"
            self.handed_out[request_id] = time.perf_counter()
            return request_id

    def finish(self, request_id: str, body: bytes, failed: bool):
        with self.lock:
            elapsed = time.perf_counter() - self.handed_out.pop(request_id)
            if failed:
                self.failures.append(body.decode(errors="replace"))
            else:
                status = json.loads(body).get("statusCode")
                self.done.append((request_id, elapsed, status))
            self.lock.notify_all()

    def wait_done(self, count: int, timeout: float):
        deadline = time.monotonic() + timeout
        with self.lock:
            while len(self.done) + len(self.failures) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self.done)} of {count} invocations answered")
                self.lock.wait(left)
            if self.failures:
                raise RuntimeError(f"the function reported an error: {self.failures[0]}")


def handler_for(runtime: Runtime):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def handle(self):
            try:
                super().handle()
            except (BrokenPipeError, ConnectionResetError):
                pass  # a process killed while it waited for its next invocation

        def reply(self, status: int, body: bytes = b"{}", headers=()):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path.endswith("/extension/event/next"):
                threading.Event().wait()  # no event for an extension that subscribed to none
            if not self.path.endswith("/runtime/invocation/next"):
                return self.reply(404)
            request_id = runtime.take()
            deadline = int(time.time() * 1000) + 30_000
            self.reply(200, runtime.event, [
                ("Lambda-Runtime-Aws-Request-Id", request_id),
                ("Lambda-Runtime-Deadline-Ms", str(deadline)),
                ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:bench"),
                ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000"),
            ])

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            parts = self.path.strip("/").split("/")
            if self.path.endswith("/extension/register"):
                return self.reply(200, json.dumps({
                    "functionName": "bench", "functionVersion": "$LATEST", "handler": "bootstrap",
                }).encode(), [("Lambda-Extension-Identifier", "bench-extension")])
            if parts[-1] in ("response", "error") and "invocation" in parts:
                runtime.finish(parts[-2], body, failed=parts[-1] == "error")
            elif parts[-1] == "error":  # init error
                runtime.failures.append(body.decode(errors="replace"))
                with runtime.lock:
                    runtime.lock.notify_all()
            self.reply(202)

    return Handler


def peak_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def start(binary: str, address: str):
    env = dict(os.environ)
    env.update({
        "AWS_LAMBDA_RUNTIME_API": address,
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/bench",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        # As the template configures logging (LoggingConfig: JSON, INFO).
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_LAMBDA_LOG_LEVEL": "INFO",
    })
    return subprocess.Popen([binary], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


class Counted:
    """The bytes a stream carries, read as they come so the writer never blocks."""

    def __init__(self, stream):
        self.bytes = 0
        self.thread = threading.Thread(target=self.drain, args=(stream,), daemon=True)
        self.thread.start()

    def drain(self, stream):
        for chunk in iter(lambda: stream.read1(1 << 16), b""):
            self.bytes += len(chunk)


def percentile(sorted_values, q):
    return sorted_values[round((len(sorted_values) - 1) * q)]


def run(binary: str, event: bytes, invocations: int, timeout: float):
    """One process under its own Runtime API: (seconds from start to the first response, every
    invocation's (request id, seconds, status), peak memory in MB, bytes written to stdout)."""
    runtime = Runtime(event)
    runtime.expect(invocations)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(runtime))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    began = time.perf_counter()
    process = start(binary, f"127.0.0.1:{server.server_address[1]}")
    output = Counted(process.stdout)
    try:
        runtime.wait_done(1, timeout)
        first = time.perf_counter() - began
        runtime.wait_done(invocations, timeout)
        peak = peak_mb(process.pid)
        time.sleep(0.2)  # the last lines' way through the pipe
        return first, runtime.done, peak, output.bytes
    except (RuntimeError, TimeoutError) as error:
        process.kill()
        raise SystemExit(f"{error}\n{process.communicate()[1].decode(errors='replace')}")
    finally:
        process.kill()
        process.communicate()
        server.shutdown()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("event")
    parser.add_argument("--cold", type=int, default=10)
    parser.add_argument("--warm", type=int, default=2000)
    args = parser.parse_args()
    event = open(args.event, "rb").read()

    colds, peaks, statuses = [], [], set()
    for _ in range(args.cold):
        first, done, peak, _ = run(args.binary, event, 1, timeout=30)
        colds.append(first)
        peaks.append(peak)
        statuses.update(status for _, _, status in done)
    colds.sort()
    print(f"cold start, process start to first response ({args.cold} fresh processes): "
          f"median {percentile(colds, 0.5) * 1000:.1f} ms, min {colds[0] * 1000:.1f} ms, "
          f"max {colds[-1] * 1000:.1f} ms; peak memory after it {max(peaks):.1f} MB; statuses {sorted(statuses)}")

    if args.warm:
        _, done, peak, logged = run(args.binary, event, args.warm, timeout=300)
        times = sorted(elapsed for _, elapsed, _ in done[1:])  # the first one is cold
        statuses = sorted({status for _, _, status in done})
        print(f"warm invocations ({args.warm - 1} after the first, each with a loopback round trip "
              f"to this Runtime API): p50 {percentile(times, 0.5) * 1e6:.0f} µs, "
              f"p99 {percentile(times, 0.99) * 1e6:.0f} µs; peak memory {peak:.1f} MB; statuses {statuses}; "
              f"standard output {logged / args.warm:.0f} bytes per invocation (start-up lines included)")


if __name__ == "__main__":
    main()
