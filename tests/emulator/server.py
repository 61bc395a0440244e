"""HTTP front of the emulator: ThreadingHTTPServer, keep-alive, TLS, routing, faults."""
import json
import os
import re
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from .common import BadJson, CaseInsensitiveDict, Context, Request, Response, iso_now, new_id
from .faults import Faults, FaultSpecError
from .identity import Identity, make_client_certificate

MAX_BODY = 256 * 1024 * 1024

DEFAULT_SETTINGS = {
    "lro_polls": 2,            # 202 answers before an LRO poll answers its final status
    "lro_max_seconds": 10.0,   # an LRO also completes after this long, polled or not
    "retry_after": 1,          # Retry-After of LRO responses (seconds)
    "provider_polls": 1,       # GETs of a provider showing Registering before Registered
    "page_size": 5,            # ARM list page size (nextLink paging)
    "token_lifetime": 3599,
    "validate": True,
    "autoscale_interval": 2.0,
    "node_alloc_seconds": 0.5,
    "location": "eastus",
}


def make_tls_material(directory):
    """A CA and a server certificate for 127.0.0.1/localhost, with the openssl CLI."""
    d = os.path.join(directory, "tls")
    os.makedirs(d, exist_ok=True)
    ca_key, ca_pem = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    key, csr, crt = os.path.join(d, "server.key"), os.path.join(d, "server.csr"), os.path.join(d, "server.pem")
    ext = os.path.join(d, "server.ext")

    def run(*argv):
        subprocess.run(argv, check=True, capture_output=True)

    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_pem,
        "-days", "30", "-subj", "/CN=azlua emulator test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-addext", "subjectKeyIdentifier=hash")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
                "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key, "-CAcreateserial",
        "-out", crt, "-days", "30", "-sha256", "-extfile", ext)
    for p in (ca_key, key):
        os.chmod(p, 0o600)
    return {"ca": ca_pem, "cert": crt, "key": key}


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128
    ssl_context = None
    emulator = None

    def finish_request(self, request, client_address):
        # Headers and body go out in two writes; without TCP_NODELAY the body waits for the client's
        # delayed ACK (~40 ms on Linux) on every response that has one.
        try:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        if self.ssl_context is not None:
            try:
                request.settimeout(30)
                request = self.ssl_context.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError):
                try:
                    request.close()
                except OSError:
                    pass
                return
        self.RequestHandlerClass(request, client_address, self)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, socket.timeout)):
            return
        self.emulator.log_exc("connection error")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "azlua-emulator/1.0"
    sys_version = ""
    timeout = 75   # idle keep-alive connections are closed after this

    def log_message(self, fmt, *args):
        pass

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass

    def do_GET(self):
        self._handle()

    do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_MERGE = do_GET

    # -- request -------------------------------------------------------------
    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
        n = self.headers.get("Content-Length")
        if n is None:
            return b""
        n = int(n)
        if n < 0 or n > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(n) if n else b""

    def _build_request(self):
        target = self.path
        if target.startswith(("http://", "https://")):
            u = urlsplit(target)
            target = u.path + ("?" + u.query if u.query else "")
        raw_path, _, raw_query = target.partition("?")
        query = {}
        for k, v in parse_qsl(raw_query, keep_blank_values=True):
            query.setdefault(k, v)
        headers = CaseInsensitiveDict(self.headers.items())
        body = self._read_body()
        return Request(self.command, raw_path, unquote(raw_path), query, raw_query, headers, body,
                       client_address=self.client_address,
                       scheme="https" if self.server.ssl_context else "http")

    def _handle(self):
        emu = self.server.emulator
        t0 = time.time()
        try:
            req = self._build_request()
        except (ValueError, OSError):
            self.close_connection = True
            self._send(Response(400, {"error": {"code": "InvalidRequest", "message": "Malformed request."}}),
                       "HEAD" == self.command)
            return
        kind = emu.classify(req)
        fault = None if kind == "admin" else emu.faults.choose(kind, req.path)
        if fault == "reset_before":
            emu.access(req, "RST-before", t0)
            self._reset()
            return
        if fault in ("429", "503", "500"):
            resp = emu.fault_response(fault, kind, req)
        else:
            try:
                resp = emu.handle(kind, req)
            except Exception:
                emu.log_exc("%s %s" % (req.method, req.raw_path))
                resp = emu.internal_error(kind, req)
        resp = emu.decorate(kind, req, resp)
        if fault == "slow":
            time.sleep(emu.faults.slow_seconds)
        if fault == "reset_after":
            emu.access(req, "RST-after(%d)" % resp.status, t0)
            self._reset()
            return
        emu.access(req, str(resp.status) + (" truncated" if fault == "truncate" else ""), t0)
        self._send(resp, req.method == "HEAD", truncate=fault == "truncate")

    # -- response ------------------------------------------------------------
    def _send(self, resp, head, truncate=False):
        self.send_response(resp.status)
        body = resp.body
        names = {k.lower() for k, _ in resp.headers}
        for k, v in resp.headers:
            self.send_header(k, v)
        if resp.content_type and "content-type" not in names:
            self.send_header("Content-Type", resp.content_type)
        no_body = resp.status in (204, 304) or resp.status < 200
        if "content-length" not in names and not no_body:
            self.send_header("Content-Length", str(len(body)))
        if truncate:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if not head and not no_body and body:
            if truncate:
                self.wfile.write(body[: len(body) // 2])
            else:
                self.wfile.write(body)
        self.wfile.flush()

    def _reset(self):
        self.close_connection = True
        try:
            self.wfile.flush()
        except OSError:
            pass
        sock = self.connection
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            self.rfile.close()      # drop the makefile reference so close() really closes
        except OSError:
            pass
        try:
            sock.close()            # linger 0: the peer gets a TCP RST
        except OSError:
            pass


class Emulator:
    def __init__(self, port=0, state_dir=None, endpoints=None, tls=False, faults=None, azurite=None,
                 settings=None, log=None):
        self.port = port
        self.state_dir = os.path.abspath(state_dir)
        self.endpoints_path = endpoints
        self.use_tls = tls
        self.settings = dict(DEFAULT_SETTINGS)
        self.settings.update(settings or {})
        self.faults = Faults(faults or "")
        self.azurite_bin = azurite
        self._log = log or (lambda m: print(m, file=sys.stderr, flush=True))
        self.batch = None
        self.batch_error = None
        self.azurite = None
        self.stopped = threading.Event()

    # -- logging -------------------------------------------------------------
    def log(self, msg):
        self._log(msg)

    def log_exc(self, what):
        with self._log_lock:
            self.logfile.write("%s ERROR %s\n%s\n" % (iso_now(), what, traceback.format_exc()))
            self.logfile.flush()

    def access(self, req, status, t0):
        with self._log_lock:
            self.logfile.write("%s %s %s %s %.1fms\n" % (iso_now(), req.method, req.raw_path, status,
                                                        (time.time() - t0) * 1000))
            self.logfile.flush()

    # -- lifecycle -----------------------------------------------------------
    def start(self):
        os.makedirs(self.state_dir, exist_ok=True)
        os.chmod(self.state_dir, 0o700)
        self._log_lock = threading.Lock()
        self.logfile = open(os.path.join(self.state_dir, "emulator.log"), "a")
        self.tls = make_tls_material(self.state_dir) if self.use_tls else None
        self.httpd = EmulatorHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.emulator = self
        if self.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(self.tls["cert"], self.tls["key"])
            self.httpd.ssl_context = ctx
        self.port = self.httpd.server_address[1]
        self.scheme = "https" if self.tls else "http"
        self.base_url = "%s://127.0.0.1:%d" % (self.scheme, self.port)

        self.identity = Identity(self.state_dir, lambda: self.base_url, self.settings)
        cert_path = os.path.join(self.state_dir, "client.pem")
        p = self.identity.default_principal()
        if not p["certificates"] or not os.path.exists(cert_path):
            cert_path, pem = make_client_certificate(self.state_dir, "client")
            p["certificates"] = []
            self.identity.register_principal(p["client_id"], certificate_pem=pem)
        else:
            self.identity.load_certificates()
        self.client_certificate_path = cert_path

        from . import azurite as az
        binary = az.find_azurite(self.azurite_bin)
        if binary:
            self.azurite = az.Azurite(binary, self.state_dir, tls=self.tls, log=self.log)
            self.azurite.start()
        else:
            self.log("emulator: notice: Azurite not found (tools/node_modules/.bin/azurite-blob or --azurite); "
                     "storage accounts exist in ARM only, without a blob service")

        from .specvalidate import SpecValidator
        self.specs = SpecValidator(log=self.log)
        if not self.specs.available:
            self.log("emulator: notice: %s; request bodies are not validated against the specs"
                     % self.specs.reason)

        self.ctx = Context(self.state_dir, self.base_url,
                           self.azurite.endpoint if self.azurite else None, self.settings)
        self.ctx.ca_file = self.tls["ca"] if self.tls else None
        from .arm import Arm
        self.arm = Arm(self)
        self.ctx._batch_account_lookup = self.arm.batch_account_info
        self.ctx._bearer_checker = self.check_bearer
        self.ctx._validator = self.specs.validate
        try:
            from .batch import BatchService
            self.batch = BatchService(self.ctx)
        except Exception as e:
            self.batch_error = "%s: %s" % (type(e).__name__, e)
            self.log_exc("loading the Batch service")
            self.log("emulator: notice: Batch data plane unavailable (%s); /batch/ answers 501" % self.batch_error)

        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.5},
                                        name="http", daemon=True)
        self._thread.start()
        if self.endpoints_path:
            self.write_endpoints()

    def endpoints(self):
        p = self.identity.default_principal()
        mis = self.identity.st["managed_identities"]
        system = next(m for m in mis.values() if m["system"])
        user = next(m for m in mis.values() if not m["system"])
        e = {
            "authority": self.base_url,
            "arm": self.base_url,
            "tenant": self.identity.tenant,
            "tenant_domain": self.identity.st["domain"],
            "subscription": self.arm.subscription,
            "client_id": p["client_id"],
            "client_secret": p["secrets"][0],
            "client_certificate_path": self.client_certificate_path,
            "token_endpoint": "%s/%s/oauth2/v2.0/token" % (self.base_url, self.identity.tenant),
            "blob": self.azurite.endpoint if self.azurite else None,
            "blob_dev_account": "devstoreaccount1",
            "blob_dev_key": "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
            "batch_endpoint_template": "127.0.0.1:%d/batch/{account}" % self.port,
            "batch_url_template": "%s/batch/{account}" % self.base_url,
            "batch_suffix": "127.0.0.1:%d/batch/" % self.port,
            "batch_available": self.batch is not None,
            "imds_endpoint": self.base_url,
            "identity_endpoint": self.base_url + "/msi/token",
            "identity_header": self.identity.st["identity_header"],
            "system_identity_client_id": system["client_id"],
            "user_identity_client_id": user["client_id"],
            "arm_audience": "https://management.azure.com/",
            "storage_audience": "https://storage.azure.com/",
            "batch_audience": "https://batch.core.windows.net/",
            "location": self.settings["location"],
            "admin": self.base_url + "/_emulator",
            "tls": bool(self.tls),
            "ca_file": self.tls["ca"] if self.tls else None,
            "spec_validation": bool(self.specs.available and self.settings.get("validate", True)),
            "state_dir": self.state_dir,
            "pid": os.getpid(),
        }
        return e

    def write_endpoints(self):
        path = os.path.abspath(self.endpoints_path)
        tmp = path + ".tmp%d" % os.getpid()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(self.endpoints(), f, indent=2)
            f.write("\n")
        os.replace(tmp, path)

    def stop(self):
        if self.stopped.is_set():
            return
        self.stopped.set()
        try:
            self.httpd.shutdown()
        except Exception:
            pass
        if self.batch is not None:
            try:
                self.batch.stop()
            except Exception:
                self.log_exc("stopping the Batch service")
        if self.azurite is not None:
            self.azurite.stop()
        try:
            self.httpd.server_close()
        except Exception:
            pass
        if self.endpoints_path:
            try:
                os.unlink(self.endpoints_path)
            except OSError:
                pass
        try:
            self.logfile.close()
        except Exception:
            pass

    # -- routing -------------------------------------------------------------
    def classify(self, req):
        p = req.path
        if p.startswith("/_emulator"):
            return "admin"
        if p.startswith("/batch/") or p == "/batch":
            return "batch"
        if p.startswith("/metadata/identity/") or p.startswith("/msi/"):
            return "mi"
        parts = p.split("/")
        if len(parts) >= 3 and (parts[2] in ("oauth2", "v2.0", ".well-known", "discovery")
                                and parts[1].lower() not in ("subscriptions", "providers")):
            return "token"
        if p.startswith("/common/discovery/"):
            return "token"
        return "arm"

    def handle(self, kind, req):
        if kind == "admin":
            return self.admin(req)
        if kind == "token":
            return self.handle_token(req)
        if kind == "mi":
            if req.path.startswith("/metadata/identity/oauth2/token"):
                return self.identity.imds(req)
            if req.path.rstrip("/") == "/msi/token":
                return self.identity.app_service(req)
            return Response(404, {"error": "not_found", "error_description": "Unknown path"})
        if kind == "batch":
            return self.handle_batch(req)
        return self.arm.handle(req)

    def handle_token(self, req):
        parts = req.path.split("/")
        tenant = parts[1]
        rest = "/".join(parts[2:])
        if rest == "oauth2/v2.0/token":
            return self.identity.token(req, tenant)
        if rest == "oauth2/token":
            return self.identity.token(req, tenant, v1=True)
        if rest == "v2.0/.well-known/openid-configuration":
            return self.identity.openid_configuration(tenant, v2=True)
        if rest == ".well-known/openid-configuration":
            return self.identity.openid_configuration(tenant, v2=False)
        if rest in ("discovery/v2.0/keys", "discovery/keys"):
            return Response(200, {"keys": []})
        if req.path.startswith("/common/discovery/instance"):
            return Response(200, {"tenant_discovery_endpoint":
                                  "%s/common/v2.0/.well-known/openid-configuration" % self.base_url,
                                  "api-version": "1.1", "metadata": []})
        return Response(404, {"error": "invalid_request", "error_description": "AADSTS900561: Unknown endpoint."})

    def handle_batch(self, req):
        parts = req.path.split("/", 3)   # "", "batch", account, rest
        account = parts[2] if len(parts) > 2 else ""
        sub = "/" + parts[3] if len(parts) > 3 else ""
        if self.batch is None:
            return batch_error(self, req, account, 501, "NotImplemented",
                               "The Batch data plane is not available in this emulator (%s)." % self.batch_error)
        return self.batch.handle(req, account, sub)

    # -- bearer --------------------------------------------------------------
    def check_bearer(self, req, audience):
        err = self.identity.bearer_error(req, audience)
        if err is None:
            return None
        code, msg = err
        www = self.identity.www_authenticate(code, msg)
        if audience.rstrip("/") == "https://batch.core.windows.net":
            account = req.path.split("/")[2] if req.path.startswith("/batch/") else ""
            r = batch_error(self, req, account, 401, "AuthenticationFailed",
                            "Server failed to authenticate the request. %s" % msg)
            r.headers.append(("WWW-Authenticate", www))
            return r
        return Response(401, {"error": {"code": code, "message": msg}}, headers=[("WWW-Authenticate", www)])

    # -- faults and decoration --------------------------------------------------
    def fault_response(self, fault, kind, req):
        ra = str(self.faults.retry_after)
        if kind in ("token", "mi"):
            status = int(fault)
            r = self.identity.aad_error(status, "temporarily_unavailable" if status != 500 else "server_error",
                                        90033 if status != 500 else 90036,
                                        "A transient error has occurred. Please try again.",
                                        req.headers.get("client-request-id") or new_id())
            if status != 500:
                r.headers.append(("Retry-After", ra))
            return r
        if kind == "batch":
            account = req.path.split("/")[2] if len(req.path.split("/")) > 2 else ""
            if fault == "429":
                r = batch_error(self, req, account, 429, "TooManyRequests",
                                "The server is busy; the request rate is too high.")
            elif fault == "503":
                r = batch_error(self, req, account, 503, "ServerBusy", "The server is busy.")
            else:
                return batch_error(self, req, account, 500, "OperationTimedOut",
                                   "Operation could not be completed within the specified time.")
            r.headers.append(("Retry-After", ra))
            return r
        if fault == "429":
            return Response(429, {"error": {"code": "TooManyRequests", "message":
                                            "The request is being throttled as the limit has been reached for "
                                            "operation type - Write_ObservationWindow_00:05:00. For more "
                                            "information, see - https://aka.ms/srpthrottlinglimits"}},
                            headers=[("Retry-After", ra)])
        if fault == "503":
            return Response(503, {"error": {"code": "ServiceUnavailable", "message":
                                            "The service is temporarily unavailable. Please retry later."}},
                            headers=[("Retry-After", ra)])
        return Response(500, {"error": {"code": "OperationTimedOut", "message":
                                        "The operation timed out and will be retried. Please try again."}})

    def internal_error(self, kind, req):
        if kind == "batch":
            account = req.path.split("/")[2] if len(req.path.split("/")) > 2 else ""
            return batch_error(self, req, account, 500, "InternalError",
                               "Server encountered an internal error. Please try again after some time.")
        if kind in ("token", "mi"):
            return self.identity.aad_error(500, "server_error", 90036, "An unexpected, non-retryable error "
                                           "has occurred.", new_id())
        return Response(500, {"error": {"code": "InternalServerError",
                                        "message": "Encountered internal server error."}})

    def decorate(self, kind, req, resp):
        if kind == "arm":
            self.arm.decorate(req, resp)
        return resp

    # -- admin ---------------------------------------------------------------
    def admin(self, req):
        p = req.path.rstrip("/")
        try:
            body = req.json() if req.body else {}
        except BadJson as e:
            return Response(400, {"error": "bad JSON: %s" % e})
        if p == "/_emulator/health":
            return Response(200, {"status": "ok", "batch": self.batch is not None,
                                  "blob": self.azurite.endpoint if self.azurite else None})
        if p == "/_emulator/endpoints":
            return Response(200, self.endpoints())
        if p == "/_emulator/faults":
            if req.method in ("POST", "PUT"):
                try:
                    self.faults.set_from_json(body)
                except (FaultSpecError, ValueError, TypeError, re.error) as e:
                    return Response(400, {"error": str(e)})
            elif req.method == "DELETE":
                self.faults.set_from_json({"clear": True})
            return Response(200, self.faults.describe())
        if p == "/_emulator/settings":
            if req.method in ("POST", "PUT", "PATCH"):
                if not isinstance(body, dict):
                    return Response(400, {"error": "body must be an object"})
                self.settings.update(body)
            return Response(200, self.settings)
        if p == "/_emulator/principals" and req.method == "POST":
            if not isinstance(body, dict):
                return Response(400, {"error": "body must be an object"})
            secret = body.get("secret")
            if not secret and not body.get("certificate"):
                secret = self.identity._new_secret()
            try:
                pr = self.identity.register_principal(body.get("client_id"), secret=secret,
                                                      certificate_pem=body.get("certificate"),
                                                      display_name=body.get("display_name"))
            except (subprocess.CalledProcessError, ValueError) as e:
                return Response(400, {"error": "bad certificate: %s" % e})
            return Response(201, {"client_id": pr["client_id"], "object_id": pr["object_id"],
                                  "secret": secret, "tenant": self.identity.tenant})
        if p == "/_emulator/token" and req.method == "POST":
            # mint a token directly (tests of expiry/audience): {"audience", "lifetime"}
            pr = self.identity.default_principal()
            tok, pl = self.identity.issue(body.get("audience", "https://management.azure.com/"),
                                          pr["client_id"], pr["object_id"], lifetime=body.get("lifetime"))
            return Response(200, {"access_token": tok, "expires_on": pl["exp"]})
        if p == "/_emulator/state":
            return Response(200, self.arm.dump())
        return Response(404, {"error": "unknown admin path %s" % req.path})


def batch_error(emu, req, account, status, code, message, values=None):
    """Batch data-plane error body (JSON odata shape)."""
    rid = new_id()
    body = {"odata.metadata": "%s/batch/%s/$metadata#Microsoft.Azure.Batch.Protocol.Entities.Container.errors"
                              "/@Element" % (emu.base_url, account),
            "code": code,
            "message": {"lang": "en-US", "value": "%s\nRequestId:%s\nTime:%s" % (message, rid, iso_now())}}
    if values:
        body["values"] = values
    headers = [("request-id", rid)]
    crid = req.headers.get("client-request-id")
    if crid and (req.headers.get("return-client-request-id") or "").lower() == "true":
        headers.append(("client-request-id", crid))
    return Response(status, body, headers=headers, content_type="application/json;odata=minimalmetadata")


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(prog="python3 tests/emulator",
                                 description="azlua local Azure emulator (sign-in, ARM, Batch; Blob via Azurite)")
    ap.add_argument("--port", type=int, default=0, help="listening port on 127.0.0.1 (0: a free port)")
    ap.add_argument("--state", required=True, help="state directory (created; holds keys, logs, Azurite data)")
    ap.add_argument("--endpoints", help="write the endpoints JSON here once ready (mode 0600)")
    ap.add_argument("--tls", action="store_true", help="serve HTTPS (and Azurite over HTTPS) with a generated CA")
    ap.add_argument("--faults", default="", help="fault spec, e.g. 429=0.1,reset_after=0.05,seed=42")
    ap.add_argument("--azurite", help="path of the azurite (or azurite-blob) binary")
    ap.add_argument("--lro-polls", type=int, default=None, help="202 answers before an LRO completes")
    ap.add_argument("--retry-after", type=int, default=None, help="Retry-After of LRO responses (s)")
    ap.add_argument("--provider-polls", type=int, default=None, help="polls showing Registering")
    ap.add_argument("--page-size", type=int, default=None, help="ARM list page size")
    ap.add_argument("--token-lifetime", type=int, default=None, help="access token lifetime (s)")
    ap.add_argument("--autoscale-interval", type=float, default=None, help="Batch autoscale period (s)")
    ap.add_argument("--no-validate", action="store_true", help="do not validate bodies against the specs")
    a = ap.parse_args(argv)
    try:
        parsed_faults = a.faults
        Faults(parsed_faults)
    except FaultSpecError as e:
        ap.error("--faults: %s" % e)
    settings = {}
    for opt, key in (("lro_polls", "lro_polls"), ("retry_after", "retry_after"),
                     ("provider_polls", "provider_polls"), ("page_size", "page_size"),
                     ("token_lifetime", "token_lifetime"), ("autoscale_interval", "autoscale_interval")):
        v = getattr(a, opt)
        if v is not None:
            settings[key] = v
    if a.no_validate:
        settings["validate"] = False
    emu = Emulator(port=a.port, state_dir=a.state, endpoints=a.endpoints, tls=a.tls, faults=a.faults,
                   azurite=a.azurite, settings=settings)
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        emu.start()
    except Exception as e:
        print("emulator: failed to start: %s" % e, file=sys.stderr)
        emu.stop() if hasattr(emu, "httpd") else None
        if emu.azurite is not None:
            emu.azurite.stop()
        return 1
    print("emulator: listening on %s (state %s)" % (emu.base_url, emu.state_dir), file=sys.stderr, flush=True)
    while not stop.wait(3600):
        pass
    emu.stop()
    print("emulator: stopped", file=sys.stderr, flush=True)
    return 0
