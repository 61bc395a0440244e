"""Real execution on emulated nodes: processes, resource files, output files.

Nothing here touches the service's state; service.py calls these from task threads.
"""
import fnmatch
import glob
import os
import signal
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

HTTP_TIMEOUT = 60
SSL_CONTEXT = None          # set by the service when the emulator serves TLS with its own CA


def set_ca_file(path):
    global SSL_CONTEXT
    import ssl
    SSL_CONTEXT = ssl.create_default_context(cafile=path) if path else None


def _open(req):
    return urllib.request.urlopen(req, timeout=HTTP_TIMEOUT, context=SSL_CONTEXT)


class ResourceFileError(Exception):
    def __init__(self, code, message, details=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or []


class ProcessTable:
    """Every process the Batch emulator started, so stop() can kill them all."""

    def __init__(self):
        self.lock = threading.Lock()
        self.procs = set()
        self.closed = False

    def popen(self, argv, **kw):
        with self.lock:
            if self.closed:
                raise OSError("the emulator is stopping")
            p = subprocess.Popen(argv, start_new_session=True, **kw)
            self.procs.add(p)
            return p

    def done(self, p):
        with self.lock:
            self.procs.discard(p)

    def kill_all(self):
        with self.lock:
            self.closed = True
            procs = list(self.procs)
        for p in procs:
            kill_group(p)


def kill_group(p, sig=signal.SIGKILL):
    try:
        os.killpg(p.pid, sig)
    except (ProcessLookupError, PermissionError, OSError):
        try:
            p.kill()
        except OSError:
            pass


def run_command(table, command_line, cwd, env, stdout_path, stderr_path, timeout=None,
                cancel=None, keep_group=False):
    """Run command_line through /bin/sh -c.  Returns (exit_code, reason) where reason is
    None, 'timeout', 'cancelled' or a launch error message.  With keep_group the process
    group is left alive (coordination commands' background daemons) and returned as p."""
    os.makedirs(cwd, exist_ok=True)
    with open(stdout_path, "ab") as out, open(stderr_path, "ab") as err:
        try:
            p = table.popen(["/bin/sh", "-c", command_line], cwd=cwd, env=env, stdout=out,
                            stderr=err, stdin=subprocess.DEVNULL)
        except OSError as e:
            return 127, "launch: %s" % e, None
    reason = None
    try:
        waited = 0.0
        while True:
            step = 0.5 if cancel is not None else None
            if timeout is not None:
                left = timeout - waited
                if left <= 0:
                    reason = "timeout"
                    kill_group(p)
                    break
                step = min(step or left, left)
            try:
                p.wait(step)
                break
            except subprocess.TimeoutExpired:
                waited += step
                if cancel is not None and cancel.is_set():
                    reason = "cancelled"
                    kill_group(p)
                    break
        code = p.wait()
    finally:
        if not keep_group:
            # a finished task leaves no background children behind on Batch either
            kill_group(p)
            table.done(p)
    return code, reason, p


# ---------------------------------------------------------------- resource files
def _fetch(url, dest, mode=None):
    os.makedirs(os.path.dirname(dest) or ".", exist_ok=True)
    req = urllib.request.Request(url, headers={"x-ms-version": "2021-12-02"})
    try:
        with _open(req) as r, open(dest + ".part", "wb") as f:
            while True:
                b = r.read(1 << 20)
                if not b:
                    break
                f.write(b)
    except urllib.error.HTTPError as e:
        code = {404: "BlobNotFound", 403: "BlobAccessDenied"}.get(e.code, "BlobDownloadMiscError")
        raise ResourceFileError(code, "Downloading %s failed: HTTP %d" % (_redact(url), e.code),
                                [{"name": "HttpStatusCode", "value": str(e.code)},
                                 {"name": "FilePath", "value": dest}])
    except (urllib.error.URLError, OSError) as e:
        raise ResourceFileError("BlobDownloadMiscError", "Downloading %s failed: %s" % (_redact(url), e),
                                [{"name": "FilePath", "value": dest}])
    os.replace(dest + ".part", dest)
    os.chmod(dest, int(mode, 8) if mode else 0o770)


def _redact(url):
    u = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, u.path, "sig=REDACTED" if "sig=" in u.query else u.query, ""))


def _inside(base, rel):
    dest = os.path.normpath(os.path.join(base, rel))
    if not (dest == base or dest.startswith(base.rstrip("/") + "/")):
        raise ResourceFileError("ResourceFileCreateFailed", "filePath %r leaves the working directory" % rel)
    return dest


def download_resource_files(files, base):
    """files: ResourceFile dicts; base: the directory relative paths start from."""
    for rf in files or []:
        if rf.get("httpUrl"):
            url = rf["httpUrl"]
            name = rf.get("filePath") or urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
            _fetch(url, _inside(base, name), rf.get("fileMode"))
        elif rf.get("storageContainerUrl"):
            url = rf["storageContainerUrl"]
            u = urllib.parse.urlsplit(url)
            prefix = rf.get("blobPrefix") or ""
            sub = _inside(base, rf.get("filePath") or ".")
            for blob in list_blobs(url, prefix):
                burl = urllib.parse.urlunsplit((u.scheme, u.netloc, u.path.rstrip("/") + "/" +
                                                urllib.parse.quote(blob), u.query, ""))
                _fetch(burl, _inside(sub, blob), rf.get("fileMode"))
        elif rf.get("autoStorageContainerName"):
            raise ResourceFileError("ResourceContainerAccessDenied",
                                    "autoStorageContainerName is not supported by this emulator; "
                                    "use storageContainerUrl with a SAS")
        else:
            raise ResourceFileError("ResourceFileCreateFailed", "A resource file has no source")


def list_blobs(container_url, prefix=""):
    u = urllib.parse.urlsplit(container_url)
    q = u.query + ("&" if u.query else "") + "restype=container&comp=list"
    if prefix:
        q += "&prefix=" + urllib.parse.quote(prefix)
    names, marker = [], ""
    while True:
        url = urllib.parse.urlunsplit((u.scheme, u.netloc, u.path, q + ("&marker=" + urllib.parse.quote(marker)
                                                                          if marker else ""), ""))
        req = urllib.request.Request(url, headers={"x-ms-version": "2021-12-02"})
        try:
            with _open(req) as r:
                root = ET.fromstring(r.read())
        except urllib.error.HTTPError as e:
            code = {404: "ContainerNotFound", 403: "ResourceContainerAccessDenied"}.get(
                e.code, "ResourceContainerListMiscError")
            raise ResourceFileError(code, "Listing %s failed: HTTP %d" % (_redact(container_url), e.code))
        except (urllib.error.URLError, OSError, ET.ParseError) as e:
            raise ResourceFileError("ResourceContainerListMiscError",
                                    "Listing %s failed: %s" % (_redact(container_url), e))
        for b in root.iter("Blob"):
            n = b.findtext("Name")
            if n:
                names.append(n)
        marker = root.findtext("NextMarker") or ""
        if not marker:
            return names


# ---------------------------------------------------------------- output files
def _expand(pattern, env):
    def rep(m):
        name = m.group(1) or m.group(2)
        return env.get(name, m.group(0))
    import re
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", rep, pattern)


def match_output(pattern, wd, env):
    """[(absolute file, name relative to the pattern's fixed base)] for filePattern."""
    pattern = _expand(pattern, env)
    full = pattern if os.path.isabs(pattern) else os.path.join(wd, pattern)
    full = os.path.normpath(full)
    wild = any(c in full for c in "*?[")
    if not wild:
        return [(full, os.path.basename(full))] if os.path.isfile(full) else [], False
    parts = full.split("/")
    fixed = []
    for p in parts:
        if any(c in p for c in "*?["):
            break
        fixed.append(p)
    base = "/".join(fixed) or "/"
    out = []
    for f in sorted(glob.glob(full, recursive=True)):
        if os.path.isfile(f):
            out.append((f, os.path.relpath(f, base)))
    return out, True


def upload_output_files(outputs, wd, env, condition_ok, log_out, log_err):
    """Upload the outputFiles whose uploadCondition matches.  condition_ok(cond) -> bool.
    Returns None or (code, message) of the first failure (logs go to fileupload*.txt)."""
    failure = None
    with open(log_out, "a") as lo, open(log_err, "a") as le:
        for of in outputs or []:
            cond = ((of.get("uploadOptions") or {}).get("uploadCondition") or "taskcompletion").lower()
            if not condition_ok(cond):
                continue
            dest = ((of.get("destination") or {}).get("container") or {})
            curl = dest.get("containerUrl")
            if not curl:
                continue
            files, wild = match_output(of.get("filePattern", ""), wd, env)
            path = dest.get("path") or ""
            headers = {h.get("name"): h.get("value") for h in dest.get("uploadHeaders") or [] if h.get("name")}
            for f, rel in files:
                if wild:
                    blob = (path.rstrip("/") + "/" + rel) if path else rel
                else:
                    blob = path or rel
                try:
                    put_blob(curl, blob, f, headers)
                    lo.write("Uploaded %s to %s\n" % (f, blob))
                except OSError as e:
                    le.write("Uploading %s to %s failed: %s\n" % (f, blob, e))
                    failure = failure or ("FileUploadFailed", "Uploading %s failed: %s" % (rel, e))
    return failure


def put_blob(container_url, blob, path, extra_headers=None):
    u = urllib.parse.urlsplit(container_url)
    url = urllib.parse.urlunsplit((u.scheme, u.netloc, u.path.rstrip("/") + "/" + urllib.parse.quote(blob),
                                   u.query, ""))
    with open(path, "rb") as f:
        data = f.read()
    headers = {"x-ms-blob-type": "BlockBlob", "x-ms-version": "2021-12-02",
               "Content-Type": "application/octet-stream", "Content-Length": str(len(data))}
    headers.update(extra_headers or {})
    req = urllib.request.Request(url, data=data, method="PUT", headers=headers)
    try:
        with _open(req) as r:
            r.read()
    except urllib.error.HTTPError as e:
        raise OSError("HTTP %d from %s" % (e.code, _redact(url)))
    except urllib.error.URLError as e:
        raise OSError(str(e))


# ---------------------------------------------------------------- files API
def list_files(root, recursive, prefix_filter=None):
    """[(relative name, abs path, is_dir)] under root."""
    out = []
    if not os.path.isdir(root):
        return out
    if recursive:
        for d, dirs, files in os.walk(root):
            dirs.sort()
            for n in sorted(dirs):
                out.append((os.path.relpath(os.path.join(d, n), root), os.path.join(d, n), True))
            for n in sorted(files):
                out.append((os.path.relpath(os.path.join(d, n), root), os.path.join(d, n), False))
        out.sort(key=lambda x: x[0])
    else:
        for n in sorted(os.listdir(root)):
            p = os.path.join(root, n)
            out.append((n, p, os.path.isdir(p)))
    if prefix_filter:
        out = [x for x in out if fnmatch.fnmatch(x[0], prefix_filter)]
    return out
