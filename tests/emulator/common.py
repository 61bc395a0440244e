"""Shared types of the azlua local Azure emulator (standard library only).

This module is the contract between the emulator core (server, identity, ARM,
faults, spec validation) and the Batch data plane in ``batch/``.  Keep the
names and signatures stable.
"""
import json
import threading
import time
import uuid
from email.utils import formatdate


class BadJson(ValueError):
    """Raised by Request.json() when the body is not valid JSON."""


class CaseInsensitiveDict:
    """Header mapping: .get(name) is case-insensitive; .items() as sent."""

    def __init__(self, items=None):
        self._items = []          # [(name, value)] in the order sent
        self._map = {}            # lower name -> value (first wins)
        for k, v in (items or []):
            self.add(k, v)

    def add(self, name, value):
        self._items.append((name, value))
        self._map.setdefault(name.lower(), value)

    def get(self, name, default=None):
        return self._map.get(name.lower(), default)

    def get_all(self, name):
        n = name.lower()
        return [v for k, v in self._items if k.lower() == n]

    def __contains__(self, name):
        return name.lower() in self._map

    def __getitem__(self, name):
        return self._map[name.lower()]

    def items(self):
        return list(self._items)

    def keys(self):
        return [k for k, _ in self._items]

    def __iter__(self):
        return iter(self.keys())

    def __len__(self):
        return len(self._items)

    def __repr__(self):
        return "CaseInsensitiveDict(%r)" % (self._items,)


class Request:
    """One HTTP request, built by server.py.

    method     "GET", ...
    raw_path   path exactly as sent, still percent-encoded, without the query
    path       percent-decoded path
    query      {name: value} decoded, first value wins; names as sent
    raw_query  query string as sent (without '?')
    headers    CaseInsensitiveDict
    body       bytes
    """

    def __init__(self, method, raw_path, path, query, raw_query, headers, body,
                 client_address=None, scheme="http"):
        self.method = method
        self.raw_path = raw_path
        self.path = path
        self.query = query
        self.raw_query = raw_query
        self.headers = headers
        self.body = body
        self.client_address = client_address
        self.scheme = scheme

    def json(self):
        """Parsed JSON body; raises BadJson on an empty or invalid body."""
        if not self.body:
            raise BadJson("empty body")
        try:
            return json.loads(self.body.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as e:
            raise BadJson(str(e))


class Response:
    """An HTTP response.

    dict/list bodies are JSON-encoded with Content-Type application/json
    (unless content_type is given, e.g. the Batch odata media type); str is
    UTF-8 encoded (text/plain unless content_type); bytes are sent as is.
    headers: dict or list of (name, value) pairs (lists allow repeats).
    """

    def __init__(self, status, body=None, headers=None, content_type=None):
        self.status = int(status)
        if isinstance(headers, dict):
            self.headers = list(headers.items())
        else:
            self.headers = list(headers or [])
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode("utf-8")
            content_type = content_type or "application/json; charset=utf-8"
        elif isinstance(body, str):
            body = body.encode("utf-8")
            content_type = content_type or "text/plain; charset=utf-8"
        elif body is None:
            body = b""
        self.body = body
        self.content_type = content_type

    def header(self, name):
        n = name.lower()
        for k, v in self.headers:
            if k.lower() == n:
                return v
        return None

    def set_header(self, name, value):
        n = name.lower()
        self.headers = [(k, v) for k, v in self.headers if k.lower() != n]
        self.headers.append((name, value))


class Context:
    """One per emulator; passed to BatchService(ctx).

    state_dir       directory owned by this emulator run
    base_url        e.g. "http://127.0.0.1:PORT" (https with --tls)
    blob_endpoint   Azurite base, e.g. "http://127.0.0.1:APORT"
    settings        {"autoscale_interval": 2.0, "node_alloc_seconds": 0.5,
                     "validate": True, ...}
    batch_audience  "https://batch.core.windows.net/"
    """

    batch_audience = "https://batch.core.windows.net/"

    def __init__(self, state_dir, base_url, blob_endpoint, settings=None):
        self.state_dir = state_dir
        self.base_url = base_url
        self.blob_endpoint = blob_endpoint
        # The same dict as the emulator's, so POST /_emulator/settings reaches the Batch service too.
        self.settings = settings if settings is not None else {}
        self.lock = threading.RLock()
        # Filled in by server.py:
        self._batch_account_lookup = None   # callable(name) -> dict|None
        self._bearer_checker = None         # callable(req, audience) -> Response|None
        self._validator = None              # callable(spec, definition, body) -> list

    def batch_account(self, name):
        """{"name","key1","key2","location","autoStorage":{...}|None} or None."""
        if self._batch_account_lookup is None:
            return None
        return self._batch_account_lookup(name)

    def check_bearer(self, req, audience):
        """None when req carries a valid bearer for audience, else a 401 Response."""
        if self._bearer_checker is None:
            return Response(401, {"error": {"code": "Unauthorized",
                                            "message": "no identity service"}})
        return self._bearer_checker(req, audience)

    def validate_body(self, spec_name, definition, body):
        """Errors (list of str) validating body against spec_name#definition.

        spec_name "batch-data" is BatchService.json of the Batch data plane.
        Returns [] when the specs are absent or validation is off.
        """
        if self._validator is None or not self.settings.get("validate", True):
            return []
        return self._validator(spec_name, definition, body)


def new_id():
    return str(uuid.uuid4())


def http_date(ts=None):
    return formatdate(ts if ts is not None else time.time(), usegmt=True)


def iso_now(ts=None):
    """UTC ISO-8601 with 7 fractional digits, like Azure."""
    ts = time.time() if ts is None else ts
    t = time.gmtime(ts)
    frac = int((ts - int(ts)) * 10_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + ".%07dZ" % frac
