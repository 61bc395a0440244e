"""Test helper (not a test): a tiny HTTP server around BatchService with a fake Context,
plus a Shared Key client, so the Batch data plane is testable without the emulator core.

    h = Harness(settings={...}); h.start()
    status, headers, body = h.call("GET", "/pools")
    h.stop()
"""
import base64
import json
import os
import shutil
import sys
import tempfile
import threading
import urllib.parse
import http.client
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
EMU = os.path.dirname(HERE)
if EMU not in sys.path:
    sys.path.insert(0, EMU)

import common  # noqa: E402
from batch import BatchService  # noqa: E402
from batch import auth as batch_auth  # noqa: E402

ACCOUNT = "emuacct"
KEY1 = base64.b64encode(bytes(range(64))).decode()
KEY2 = base64.b64encode(bytes(range(64, 128))).decode()
SHARED = os.path.abspath(os.path.join(EMU, "..", "..", "..", "shared"))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _do(self):
        raw_path, _, raw_query = self.path.partition("?")
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        query = {}
        for k, v in urllib.parse.parse_qsl(raw_query, keep_blank_values=True):
            query.setdefault(k, v)
        hdrs = common.CaseInsensitiveDict(self.headers.items())
        path = urllib.parse.unquote(raw_path)
        req = common.Request(self.command, raw_path, path, query, raw_query, hdrs, body,
                             client_address=self.client_address)
        parts = path.split("/", 3)
        if len(parts) < 3 or parts[1] != "batch" or not parts[2]:
            resp = common.Response(404, {"error": "not batch"})
        else:
            sub = "/" + (parts[3] if len(parts) > 3 else "")
            resp = self.server.service.handle(req, parts[2], sub)
        data = resp.body or b""
        self.send_response(resp.status)
        explicit_len = None
        for k, v in resp.headers:
            if k.lower() == "content-length":
                explicit_len = v
                continue
            self.send_header(k, v)
        if resp.content_type:
            self.send_header("Content-Type", resp.content_type)
        if self.command == "HEAD":
            self.send_header("Content-Length", explicit_len or str(len(data)))
            self.end_headers()
        else:
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _do


class Harness:
    def __init__(self, settings=None, blob_endpoint="http://127.0.0.1:10000"):
        self.dir = tempfile.mkdtemp(prefix="batchemu-")
        self.settings = {"autoscale_interval": 0.5, "node_alloc_seconds": 0.2, "validate": True,
                         "pool_delete_seconds": 0.3}
        self.settings.update(settings or {})
        self.blob_endpoint = blob_endpoint
        self.bearer_ok = {"good-token"}

    def start(self):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        port = self.httpd.server_address[1]
        self.base = "http://127.0.0.1:%d" % port
        ctx = common.Context(self.dir, self.base, self.blob_endpoint, self.settings)
        ctx._batch_account_lookup = lambda name: ({"name": ACCOUNT, "key1": KEY1, "key2": KEY2,
                                                   "location": "westeurope", "autoStorage": None}
                                                  if name.lower() == ACCOUNT else None)
        ctx._bearer_checker = self._check_bearer
        ctx._validator = _spec_validator()
        self.ctx = ctx
        self.service = BatchService(ctx)
        self.httpd.service = self.service
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.endpoint = "%s/batch/%s" % (self.base, ACCOUNT)
        return self

    def _check_bearer(self, req, audience):
        tok = (req.headers.get("Authorization") or "").split(" ", 1)[-1]
        if tok in self.bearer_ok:
            return None
        return common.Response(401, {"error": "invalid_token"},
                               {"WWW-Authenticate": 'Bearer error="invalid_token"'})

    def stop(self):
        self.service.stop()
        self.httpd.shutdown()
        self.httpd.server_close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- a Shared Key client, signing like the SDK does
    def call(self, method, path, body=None, query=None, headers=None, sign=True, key=KEY1,
             api_version="2026-10-01", raw_body=None):
        q = dict(query or {})
        if api_version:
            q.setdefault("api-version", api_version)
        qs = urllib.parse.urlencode(q, quote_via=urllib.parse.quote)
        raw_path = "/batch/%s%s" % (ACCOUNT, path)
        data = raw_body if raw_body is not None else (json.dumps(body).encode() if body is not None else b"")
        h = {"ocp-date": formatdate(usegmt=True)}
        if method in ("POST", "PUT", "PATCH"):
            h["Content-Type"] = "application/json; odata=minimalmetadata; charset=utf-8"
            h["Content-Length"] = str(len(data))
        h.update(headers or {})
        if sign:
            text = batch_auth.string_to_sign(method, raw_path, qs, h, ACCOUNT)
            h["Authorization"] = "SharedKey %s:%s" % (ACCOUNT, batch_auth.sign(key, text))
        conn = http.client.HTTPConnection("127.0.0.1", int(self.base.rsplit(":", 1)[1]), timeout=60)
        try:
            conn.request(method, raw_path + ("?" + qs if qs else ""), body=data if data or method in
                         ("POST", "PUT", "PATCH") else None, headers=h)
            r = conn.getresponse()
            payload = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
        finally:
            conn.close()
        parsed = None
        if payload and "json" in hdrs.get("content-type", ""):
            parsed = json.loads(payload)
        return r.status, hdrs, parsed if parsed is not None else payload

    def call_url(self, method, url):
        u = urllib.parse.urlsplit(url)
        q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        return self.call(method, u.path[len("/batch/" + ACCOUNT):], query=q, api_version=None)

    def wait(self, pred, timeout=30.0, step=0.1):
        import time
        end = time.time() + timeout
        while time.time() < end:
            v = pred()
            if v:
                return v
            time.sleep(step)
        raise AssertionError("timed out waiting")


def _spec_validator():
    """The core's validator when it exists, else None (no validation)."""
    try:
        import specvalidate
    except ImportError:
        return None
    v = specvalidate.SpecValidator(log=print)
    if not v.available:
        print("batchharness: notice: %s; request bodies are not validated" % v.reason)
        return None
    return v.validate
