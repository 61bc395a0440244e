#!/usr/bin/python3
"""A local HTTP(S) server for the transport tests (tests/lua/test_http.lua). Python 3 stdlib only.

    /usr/bin/python3 tests/support/httpserver.py [--tls CERT KEY]

Listens on 127.0.0.1, port 0, prints "PORT PID" on one line, and serves until killed or until its
parent process exits. HTTP/1.1 with keep-alive; it counts connections and concurrent requests.

Endpoints (query parameters in brackets):
  /echo            lines "key value": method, path, query, body_len, body_sha256, content_length
                   ("-" when absent), then "header Name: value" per request header; answers with
                   repeated X-Multi and Set-Cookie headers
  /status[code]    that status, body "status N"
  /sleep[s]        sleeps s seconds (default 0.3), then "slept"; counted in max_active
  /stats           lines "connections N", "requests N", "max_active N", "tunnels N"; /reset zeroes
                   them (but tunnels)
  CONNECT          answered 403 and counted in "tunnels": a proxy for the proxy-variable test
  /data[offset,length]   `length` bytes of the fixed pseudo-random stream, from `offset`
  /hash[offset,length]   hex SHA-256 of the same bytes
  /hang            reads the request and never answers (until the client gives up)
  /close-mid-body  announces 1000000 bytes, sends 1000, closes
  /close-after-read  reads the whole request, closes without answering
  /close-before-read closes without reading the body (the client sees a reset while sending)
"""
import argparse
import hashlib
import http.server
import os
import random
import socket
import ssl
import sys
import threading
import time
import urllib.parse

PERIOD = 1000003  # a prime: chunk and offset errors of any power of two show in the hash
STREAM = random.Random(42).randbytes(PERIOD)
STREAM2 = STREAM + STREAM


def chunks(offset, length, size=1 << 20):
    """The stream's bytes [offset, offset+length) in pieces of at most `size`."""
    end = offset + length
    while offset < end:
        n = min(size, end - offset, PERIOD)
        start = offset % PERIOD
        yield STREAM2[start:start + n]
        offset += n


class Counters:
    lock = threading.Lock()
    connections = 0
    requests = 0
    active = 0
    max_active = 0
    tunnels = 0
    dropped = set()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        with Counters.lock:
            Counters.connections += 1

    def log_message(self, fmt, *args):  # quiet
        pass

    def _params(self):
        u = urllib.parse.urlsplit(self.path)
        return u.path, u.query, dict(urllib.parse.parse_qsl(u.query))

    def _read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        h = hashlib.sha256()
        left = n
        while left > 0:
            b = self.rfile.read(min(left, 1 << 20))
            if not b:
                break
            h.update(b)
            left -= len(b)
        return n - left, h.hexdigest()

    def _send(self, status, body, ctype="text/plain", extra=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)

    def _handle(self):
        with Counters.lock:
            Counters.requests += 1
        path, query, p = self._params()
        if path == "/close-before-read":
            self.close_connection = True  # unread body: closing sends a reset
            return
        if path == "/hang":
            self._read_body()
            time.sleep(float(p.get("s", 30)))
            self.close_connection = True
            return
        if path == "/answer-early":  # answers before reading the body (as a service refusing a request)
            self._send(403, "<Error><Code>AuthenticationFailed</Code></Error>", "application/xml")
            self._read_body()
            self.close_connection = True
            return
        body_len, body_sha = self._read_body()
        if path == "/chunked":  # a chunked answer with a chunk extension and a trailer
            self.send_response(201)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("X-Body-Len", str(body_len))
            self.end_headers()
            self.wfile.write(b"6;ext=1\r\nhello \r\n5\r\nworld\r\n0\r\nX-Trailer: yes\r\n\r\n")
            return
        if path == "/drop-once":  # the first request of a key is read and dropped unanswered, later ones answered
            with Counters.lock:
                first = p.get("key") not in Counters.dropped
                Counters.dropped.add(p.get("key"))
            if first:
                self.close_connection = True
                return
            self._send(200, "answered %d" % body_len)
            return
        if path == "/idle-close":  # a keep-alive answer, then the connection is dropped while idle
            self._send(200, "bye")
            time.sleep(float(p.get("s", 0.2)))
            self.close_connection = True
            return
        if path == "/echo":
            lines = ["method " + self.command, "path " + path, "query " + query,
                     "body_len %d" % body_len, "body_sha256 " + body_sha,
                     "content_length " + (self.headers.get("Content-Length") or "-")]
            lines += ["header %s: %s" % (k, v) for k, v in self.headers.items()]
            self._send(200, "\n".join(lines) + "\n", "text/plain",
                       [("X-Multi", "one"), ("X-Multi", "two"), ("Set-Cookie", "a=1"),
                        ("Set-Cookie", "b=2"), ("X-Mixed-Case", "Yes")])
        elif path == "/status":
            code = int(p.get("code", 200))
            self._send(code, "status %d" % code)
        elif path == "/sleep":
            with Counters.lock:
                Counters.active += 1
                Counters.max_active = max(Counters.max_active, Counters.active)
            time.sleep(float(p.get("s", 0.3)))
            with Counters.lock:
                Counters.active -= 1
            self._send(200, "slept")
        elif path == "/stats":
            with Counters.lock:
                doc = "connections %d\nrequests %d\nmax_active %d\ntunnels %d\n" % (
                    Counters.connections, Counters.requests, Counters.max_active, Counters.tunnels)
            self._send(200, doc)
        elif path == "/reset":
            with Counters.lock:
                Counters.connections = 1  # this one
                Counters.requests = 0
                Counters.max_active = 0
            self._send(200, "reset")
        elif path in ("/data", "/hash"):
            offset, length = int(p.get("offset", 0)), int(p.get("length", 0))
            if path == "/hash":
                h = hashlib.sha256()
                for c in chunks(offset, length):
                    h.update(c)
                self._send(200, h.hexdigest())
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(length))
            self.end_headers()
            for c in chunks(offset, length):
                self.wfile.write(c)
        elif path == "/close-mid-body":
            self.send_response(200)
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            self.wfile.write(b"x" * 1000)
            self.wfile.flush()
            self.close_connection = True
        elif path == "/close-after-read":
            self.close_connection = True
        else:
            self._send(404, "no such endpoint")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

    def do_CONNECT(self):  # acting as a proxy that refuses every tunnel, counting them
        with Counters.lock:
            Counters.tunnels += 1
        self._send(403, "no tunnels here")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError)):
            super().handle_error(request, client_address)


def watch_parent(parent):
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    if args.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls[0], args.tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    print(srv.server_address[1], os.getpid(), flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
