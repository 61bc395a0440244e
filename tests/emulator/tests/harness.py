"""Start the emulator as a subprocess for tests, and small HTTP helpers.

    from harness import Emulator
    emu = Emulator(tls=False, args=["--lro-polls", "1"]).start()
    emu.ep["authority"] ...
    emu.stop()
"""
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
EMULATOR_DIR = os.path.dirname(HERE)
REPO = os.path.dirname(os.path.dirname(EMULATOR_DIR))
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


class Emulator:
    def __init__(self, tls=False, args=(), faults=None, env=None):
        self.tls = tls
        self.args = list(args)
        self.faults = faults
        self.env = env
        self.proc = None
        self.ep = None

    def start(self, timeout=90):
        self.tmp = tempfile.mkdtemp(prefix="azlua-emu-")
        self.state = os.path.join(self.tmp, "state")
        self.ep_path = os.path.join(self.tmp, "endpoints.json")
        argv = [PYTHON, EMULATOR_DIR, "--port", "0", "--state", self.state, "--endpoints", self.ep_path]
        if self.tls:
            argv.append("--tls")
        if self.faults:
            argv += ["--faults", self.faults]
        argv += self.args
        env = dict(os.environ)
        env.update(self.env or {})
        self.log = open(os.path.join(self.tmp, "stderr.txt"), "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if os.path.exists(self.ep_path):
                with open(self.ep_path) as f:
                    self.ep = json.load(f)
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        out = open(os.path.join(self.tmp, "stderr.txt")).read()
        self.stop()
        raise RuntimeError("emulator did not start:\n" + out)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        try:
            self.log.close()
        except Exception:
            pass
        if getattr(self, "tmp", None) and not os.environ.get("AZLUA_KEEP_EMULATOR_STATE"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- HTTP ------------------------------------------------------------------
    def ssl_context(self):
        return ssl.create_default_context(cafile=self.ep["ca_file"]) if self.tls else None

    def request(self, method, url, body=None, headers=None, form=None, timeout=60):
        """(status, headers(lowercase dict), body bytes). Absolute URL or a path."""
        if url.startswith("/"):
            url = self.ep["authority"] + url
        u = urllib.parse.urlsplit(url)
        h = dict(headers or {})
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            h["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        if u.scheme == "https":
            c = http.client.HTTPSConnection(u.hostname, u.port, timeout=timeout, context=self.ssl_context())
        else:
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
        try:
            c.request(method, u.path + ("?" + u.query if u.query else ""), body=data, headers=h)
            r = c.getresponse()
            b = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, b
        finally:
            c.close()

    def json(self, method, url, body=None, headers=None, expect=None, **kw):
        st, h, b = self.request(method, url, body, headers, **kw)
        if expect is not None and st != expect:
            raise AssertionError("%s %s: expected %s, got %s: %s" % (method, url, expect, st, b[:500]))
        return st, h, (json.loads(b) if b else None)

    def token(self, scope="https://management.azure.com/.default"):
        st, h, b = self.json("POST", self.ep["token_endpoint"], form={
            "grant_type": "client_credentials", "client_id": self.ep["client_id"],
            "client_secret": self.ep["client_secret"], "scope": scope}, expect=200)
        return b["access_token"]

    def admin(self, method, path, body=None):
        return self.json(method, "/_emulator/" + path, body, expect=200)[2]
