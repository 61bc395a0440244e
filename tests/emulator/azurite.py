"""Owns the Azurite (blob only) process.

Design: Azurite reads AZURITE_ACCOUNTS only from its own environment. The emulator
preloads azurite_live_accounts.js into it, which makes the running Azurite pick up
the accounts file the emulator writes (accounts.env, 0600) on its next request, so
a new account or key is live at once ("live" mode). If that preload cannot patch
this Azurite version, the emulator falls back to restarting Azurite (same port, a
persistent --location under the state dir) whenever accounts or keys change.
Either way a storage account's creation LRO completes only once Azurite knows the
account, so a client that follows the LRO can use the keys at once.
devstoreaccount1 (well-known key) is always kept in the list.
"""
import base64
import hashlib
import hmac
import http.client
import os
import re
import signal
import socket
import ssl
import subprocess
import threading
import time
from urllib.parse import quote

from .common import http_date

DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
X_MS_VERSION = "2025-11-05"


def find_azurite(explicit=None):
    """Path of azurite-blob, or None."""
    cands = []
    if explicit:
        cands.append(explicit)
        d, b = os.path.split(explicit)
        if b == "azurite":
            cands.insert(0, os.path.join(d, "azurite-blob"))
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    cands.append(os.path.join(repo, "tools", "node_modules", ".bin", "azurite-blob"))
    for c in cands:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


class Azurite:
    def __init__(self, binary, state_dir, tls=None, log=print):
        """tls: None or {"cert": path, "key": path, "ca": path}."""
        self.binary = binary
        self.dir = os.path.join(state_dir, "azurite")
        os.makedirs(self.dir, exist_ok=True)
        self.tls = tls
        self.log = log
        self.port = None
        self.proc = None
        self.lock = threading.Lock()           # protects desired/running
        self.restart_lock = threading.Lock()   # one (re)start at a time
        self.desired = {DEV_ACCOUNT: (DEV_KEY, DEV_KEY)}
        self.running = {}
        self.generation = 0
        self._event = threading.Event()
        self._stopping = False
        self._worker = None
        self.logfile = open(os.path.join(state_dir, "azurite.log"), "ab")
        self.accounts_file = os.path.join(self.dir, "accounts.env")
        self.live_marker = os.path.join(self.dir, "live.ok")
        self.live = False

    @property
    def scheme(self):
        return "https" if self.tls else "http"

    @property
    def endpoint(self):
        return "%s://127.0.0.1:%d" % (self.scheme, self.port) if self.port else None

    # -- process ------------------------------------------------------------
    @staticmethod
    def _accounts_text(accounts):
        return ";".join("%s:%s:%s" % (n, k1, k2) for n, (k1, k2) in sorted(accounts.items()))

    def _write_accounts(self, accounts):
        """accounts.env, atomically and 0600 (it holds keys)."""
        tmp = self.accounts_file + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self._accounts_text(accounts) + "\n")
        os.replace(tmp, self.accounts_file)

    def _env(self, accounts):
        env = dict(os.environ)
        env["AZURITE_ACCOUNTS"] = self._accounts_text(accounts)
        self._write_accounts(accounts)
        package = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(self.binary)))))
        preload = os.path.join(os.path.dirname(os.path.abspath(__file__)), "azurite_live_accounts.js")
        env["NODE_OPTIONS"] = (env.get("NODE_OPTIONS", "") + " --require " + preload).strip()
        env["AZLUA_AZURITE_ACCOUNTS_FILE"] = self.accounts_file
        env["AZLUA_AZURITE_DIR"] = package
        env["AZLUA_AZURITE_LIVE_MARKER"] = self.live_marker
        return env

    def _argv(self, port):
        argv = [self.binary, "--blobHost", "127.0.0.1", "--blobPort", str(port),
                "--location", self.dir, "--silent", "--disableTelemetry"]
        if self.tls:
            argv += ["--cert", self.tls["cert"], "--key", self.tls["key"], "--oauth", "basic"]
        return argv

    def _spawn(self, accounts):
        port = self.port if self.port else _free_port()
        try:
            os.remove(self.live_marker)
        except FileNotFoundError:
            pass
        self.proc = subprocess.Popen(self._argv(port), env=self._env(accounts), stdin=subprocess.DEVNULL,
                                     stdout=self.logfile, stderr=self.logfile, cwd=self.dir,
                                     start_new_session=True, preexec_fn=_die_with_parent)
        self.port = port
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("azurite exited with status %s (see azurite.log)" % self.proc.returncode)
            if self._probe():
                self.live = os.path.exists(self.live_marker)
                return
            time.sleep(0.05)
        raise RuntimeError("azurite did not become ready within 60 s")

    def _probe(self):
        try:
            conn = self._conn(timeout=2)
            conn.request("GET", "/%s?comp=list" % DEV_ACCOUNT)
            r = conn.getresponse()
            r.read()
            conn.close()
            return r.getheader("Server", "").startswith("Azurite")
        except (OSError, http.client.HTTPException):
            return False

    def _kill(self):
        p = self.proc
        if p is None:
            return
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        self.proc = None

    def start(self):
        with self.restart_lock:
            with self.lock:
                acc = dict(self.desired)
            self._spawn(acc)
            with self.lock:
                self.running = acc
                self.generation += 1
        self._worker = threading.Thread(target=self._loop, name="azurite-restarter", daemon=True)
        self._worker.start()

    def stop(self):
        self._stopping = True
        self._event.set()
        with self.restart_lock:
            self._kill()
        try:
            self.logfile.close()
        except OSError:
            pass

    def _loop(self):
        while not self._stopping:
            self._event.wait()
            self._event.clear()
            if self._stopping:
                return
            time.sleep(0.2)     # coalesce bursts of account changes
            with self.lock:
                acc = dict(self.desired)
                same = acc == self.running
            if same:
                continue
            with self.restart_lock:
                if self._stopping:
                    return
                self._kill()
                try:
                    self._spawn(acc)
                except Exception as e:   # keep serving ARM; report in the log
                    self.log("emulator: azurite restart failed: %s" % e)
                    continue
                with self.lock:
                    self.running = acc
                    self.generation += 1

    # -- accounts -----------------------------------------------------------
    def set_account(self, name, key1, key2):
        with self.lock:
            self.desired[name] = (key1, key2)
            if self.live and self.proc is not None and self.proc.poll() is None:
                # the running Azurite reads the file on its next request: no restart
                self._write_accounts(self.desired)
                self.running = dict(self.desired)
                self.generation += 1
                return
        self._event.set()

    def remove_account(self, name):
        # Removing needs no restart: the account lingers until the next restart.
        with self.lock:
            self.desired.pop(name, None)

    def ready(self, name, key1=None):
        with self.lock:
            k = self.running.get(name)
        return k is not None and (key1 is None or k[0] == key1)

    def wait_ready(self, name, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.ready(name):
                return True
            time.sleep(0.1)
        return False

    # -- Shared Key client (for ARM's blobServices/default/containers) --------
    def _conn(self, timeout=30):
        if self.tls:
            ctx = ssl.create_default_context(cafile=self.tls["ca"])
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=ctx)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, account, key, method, path, query=(), headers=None, body=b""):
        """Signed request to /{account}{path}; returns (status, headers dict lower, body)."""
        raw_path = "/" + account + quote(path, safe="/~")
        qs = "&".join("%s=%s" % (quote(k, safe=""), quote(v, safe="")) for k, v in query)
        h = {"x-ms-date": http_date(), "x-ms-version": X_MS_VERSION}
        h.update(headers or {})
        if body:
            h["Content-Length"] = str(len(body))
        else:
            h["Content-Length"] = "0"
        h["Authorization"] = "SharedKey %s:%s" % (account, sign_shared_key(account, key, method, raw_path,
                                                                           query, h))
        last = None
        for attempt in range(30):   # Azurite may be restarting
            try:
                conn = self._conn()
                conn.request(method, raw_path + ("?" + qs if qs else ""), body=body or None, headers=h)
                r = conn.getresponse()
                data = r.read()
                conn.close()
                return r.status, {k.lower(): v for k, v in r.getheaders()}, data
            except (OSError, http.client.HTTPException) as e:
                last = e
                time.sleep(0.2)
        raise last


def sign_shared_key(account, key, method, raw_path, query, headers):
    """Blob Shared Key (path style: the wire path already starts with /account)."""
    hl = {k.lower(): v for k, v in headers.items()}
    clen = hl.get("content-length", "")
    if clen == "0":
        clen = ""
    std = [method.upper(), hl.get("content-encoding", ""), hl.get("content-language", ""), clen,
           hl.get("content-md5", ""), hl.get("content-type", ""), hl.get("date", ""),
           hl.get("if-modified-since", ""), hl.get("if-match", ""), hl.get("if-none-match", ""),
           hl.get("if-unmodified-since", ""), hl.get("range", "")]
    xms = sorted((k, re.sub(r"\s+", " ", v.strip())) for k, v in hl.items() if k.startswith("x-ms-"))
    canon_headers = "".join("%s:%s\n" % kv for kv in xms)
    res = "/" + account + raw_path
    qd = {}
    for k, v in query:
        qd.setdefault(k.lower(), []).append(v)
    for k in sorted(qd):
        res += "\n%s:%s" % (k, ",".join(sorted(qd[k])))
    sts = "\n".join(std) + "\n" + canon_headers + res
    mac = hmac.new(base64.b64decode(key), sts.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(mac).decode("ascii")


try:   # resolved here, not in the forked child (imports after fork can deadlock)
    import ctypes
    _prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl
except Exception:   # not Linux/glibc
    _prctl = None


def _die_with_parent():
    """Linux: Azurite gets SIGTERM if the emulator dies without cleaning up (e.g. SIGKILL)."""
    if _prctl is not None:
        _prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
