"""The Batch data plane of the local emulator: request handling and the scheduler.

The core calls BatchService(ctx) once, service.handle(req, account, subpath) for every
request under /batch/{account}, and service.stop() at shutdown.
"""
import copy
import json
import os
import re
import shutil
import threading
import time
import urllib.parse

from . import auth, formula, runner
from .images import RETIRED_AGENTS, SUPPORTED_IMAGES
from .model import (NODE_STATES, TASK_STATES, Account, Job, Node, Pool, PrepRecord, Task, touch)
from .util import (MAX_DURATION, ODATA_JSON, BatchFault, FilterError, apply_select, compile_filter,
                   http_date, iso, new_etag, new_request_id, parse_duration)

try:                                   # the core's types (top-level module when run as a script)
    from ..common import Response, BadJson      # type: ignore
except (ImportError, ValueError):
    try:
        from common import Response, BadJson    # type: ignore
    except ImportError:                          # pragma: no cover - standalone fallback
        class BadJson(ValueError):
            pass

        class Response:
            def __init__(self, status, body=None, headers=None, content_type=None):
                self.status = int(status)
                self.headers = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
                if isinstance(body, (dict, list)):
                    body = json.dumps(body).encode()
                    content_type = content_type or "application/json"
                elif isinstance(body, str):
                    body = body.encode()
                self.body = body or b""
                self.content_type = content_type

ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_COLLECTION_TASKS = 100
MAX_COLLECTION_BYTES = 1024 * 1024
PAGE_DEFAULT = 1000
ENV_PASS = ("LANG", "LC_ALL", "HOME", "USER", "LOGNAME", "SHELL", "TMPDIR", "TERM", "PYTHONPATH")


def _bool(v):
    return str(v).lower() == "true"


class Ctx:
    """Per-request facts the handlers need."""

    def __init__(self, req, account, request_id=None):
        self.req = req
        self.account = account
        self.request_id = request_id or new_request_id()


class BatchService:
    def __init__(self, ctx):
        self.ctx = ctx
        self.settings = getattr(ctx, "settings", {}) or {}
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.accounts = {}
        self.procs = runner.ProcessTable()
        self.stopping = False
        self.threads = set()
        self.root = os.path.join(ctx.state_dir, "batch")
        if getattr(ctx, "ca_file", None):
            runner.set_ca_file(ctx.ca_file)
        self.scheduler = threading.Thread(target=self._loop, name="batch-scheduler", daemon=True)
        self.scheduler.start()

    # ------------------------------------------------------------ settings
    def _s(self, name, default):
        v = self.settings.get(name)
        return default if v is None else v

    # ------------------------------------------------------------ entry point
    def handle(self, req, account_name, subpath):
        rid = new_request_id()
        try:
            resp = self._handle(req, account_name, subpath, rid)
        except BatchFault as f:
            resp = self._error(req, account_name, f, rid)
        except Exception as e:  # a bug here must still answer like the service
            import traceback
            traceback.print_exc()
            resp = self._error(req, account_name, BatchFault(500, "InternalError",
                                                             "Server encountered an internal error: %s" % e), rid)
        self._decorate(resp, req, rid)
        return resp

    def stop(self):
        with self.cond:
            self.stopping = True
            self.cond.notify_all()
        self.procs.kill_all()
        self.scheduler.join(5)
        for t in list(self.threads):
            t.join(2)

    # ------------------------------------------------------------ plumbing
    def _decorate(self, resp, req, rid):
        names = {k.lower() for k, _ in resp.headers}
        if "request-id" not in names:
            resp.headers.append(("request-id", rid))
        crid = req.headers.get("client-request-id")
        if crid and _bool(req.headers.get("return-client-request-id")):
            resp.headers.append(("client-request-id", crid))
        resp.headers.append(("DataServiceVersion", "3.0"))

    def _json(self, status, body, headers=None):
        return Response(status, json.dumps(body).encode("utf-8"), headers or {}, content_type=ODATA_JSON)

    def _empty(self, status, headers=None):
        h = dict(headers or {})
        return Response(status, b"", h, content_type=None)

    def _error(self, req, account_name, f, rid):
        now = iso()
        base = self._account_url(account_name)
        body = {"odata.metadata": base + "/$metadata#Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element",
                "code": f.code,
                "message": {"lang": "en-US", "value": "%s\nRequestId:%s\nTime:%s" % (f.message, rid, now)}}
        if f.values:
            body["values"] = [{"key": k, "value": v} for k, v in f.values]
        headers = dict(f.headers)
        headers["request-id"] = rid
        if req.method == "HEAD":
            return Response(f.status, b"", headers, content_type=ODATA_JSON)
        return self._json(f.status, body, headers)

    def _account_url(self, name):
        return "%s/batch/%s" % (self.ctx.base_url.rstrip("/"), name)

    def _account(self, name):
        with self.lock:
            a = self.accounts.get(name.lower())
            if a is None:
                a = Account(name, self._account_url(name), os.path.join(self.root, name))
                self.accounts[name.lower()] = a
            return a

    # ------------------------------------------------------------ auth
    def _authenticate(self, req, account_name):
        authz = req.headers.get("Authorization")
        if not authz:
            raise BatchFault(401, "AuthenticationFailed",
                             "Server failed to authenticate the request. Make sure the value of "
                             "Authorization header is formed correctly including the signature.",
                             [("AuthenticationErrorDetail", "The Authorization header is missing.")],
                             headers={"WWW-Authenticate": 'Bearer authorization_uri="%s", '
                                      'resource="%s"' % (self._authority(), self._audience())})
        if authz.split(" ", 1)[0].lower() == "bearer":
            bad = self.ctx.check_bearer(req, self._audience())
            if bad is not None:
                raise BatchFault(401, "AuthenticationFailed",
                                 "Server failed to authenticate the request. The bearer token is not valid "
                                 "for this resource.",
                                 [("AuthenticationErrorDetail", _resp_text(bad))],
                                 headers={"WWW-Authenticate": dict(bad.headers).get("WWW-Authenticate") or
                                          'Bearer authorization_uri="%s", resource="%s"' %
                                          (self._authority(), self._audience())})
            return
        parsed = auth.parse_authorization(authz)
        if parsed is None:
            raise BatchFault(400, "InvalidAuthenticationInfo",
                             "Authentication information is not given in the correct format. "
                             "Check the value of Authorization header.",
                             [("AuthenticationErrorDetail", "The Authorization header is malformed.")])
        acct, sig = parsed
        info = self.ctx.batch_account(account_name)
        fail = "Server failed to authenticate the request. Make sure the value of Authorization header " \
               "is formed correctly including the signature."
        if info is None or acct.lower() != account_name.lower():
            raise BatchFault(403, "AuthenticationFailed", fail,
                             [("AuthenticationErrorDetail", "The account %s is not known to this endpoint." % acct)])
        date_problem = auth.check_date(req.headers)
        if date_problem:
            raise BatchFault(403, "AuthenticationFailed", fail, [("AuthenticationErrorDetail", date_problem)])
        keys = [info.get("key1"), info.get("key2")]
        if auth.verify(req.method, req.raw_path, req.raw_query, req.headers, acct, keys, sig):
            return
        text = auth.string_to_sign(req.method, req.raw_path, req.raw_query, req.headers, acct)
        raise BatchFault(403, "AuthenticationFailed", fail,
                         [("AuthenticationErrorDetail",
                           "The MAC signature found in the HTTP request '%s' is not the same as any computed "
                           "signature. Server used following string to sign: '%s'." % (sig, text))])

    def _audience(self):
        return getattr(self.ctx, "batch_audience", "https://batch.core.windows.net/")

    def _authority(self):
        return getattr(self.ctx, "authority", None) or self.ctx.base_url.rstrip("/") + "/common"

    # ------------------------------------------------------------ routing
    def _handle(self, req, account_name, subpath, rid):
        if "api-version" not in req.query:
            raise BatchFault(400, "MissingRequiredQueryParameter",
                             "A query parameter that's mandatory for this request is not specified.",
                             [("QueryParameterName", "api-version")])
        self._authenticate(req, account_name)
        acct = self._account(account_name)
        segs = [s for s in (subpath or "/").split("/") if s != ""]
        segs = [urllib.parse.unquote(s) for s in segs] if "%" in (subpath or "") else segs
        m = req.method.upper()
        c = Ctx(req, acct, rid)
        n = len(segs)
        head = segs[0].lower() if segs else ""
        if head == "pools":
            if n == 1:
                return self._route(m, {"GET": self.list_pools, "POST": self.add_pool}, c)
            pid = segs[1]
            if n == 2:
                return self._route(m, {"GET": self.get_pool, "HEAD": self.pool_exists, "DELETE": self.delete_pool,
                                       "PATCH": self.patch_pool}, c, pid)
            what = segs[2].lower()
            if n == 3 and what == "nodes":
                return self._route(m, {"GET": self.list_nodes}, c, pid)
            if what == "nodes" and n >= 4:
                nid = segs[3]
                if n == 4:
                    return self._route(m, {"GET": self.get_node}, c, pid, nid)
                if segs[4].lower() == "files":
                    if n == 5:
                        return self._route(m, {"GET": self.list_node_files}, c, pid, nid)
                    return self._route(m, {"GET": self.get_node_file, "HEAD": self.get_node_file},
                                       c, pid, nid, "/".join(segs[5:]))
                if n == 5 and m == "POST":
                    return self.node_action(c, pid, nid, segs[4].lower())
            if n == 3 and m == "POST":
                return self.pool_action(c, pid, what)
        elif head == "nodecounts" and n == 1:
            return self._route(m, {"GET": self.node_counts}, c)
        elif head == "supportedimages" and n == 1:
            return self._route(m, {"GET": self.supported_images}, c)
        elif head == "jobs":
            if n == 1:
                return self._route(m, {"GET": self.list_jobs, "POST": self.add_job}, c)
            jid = segs[1]
            if n == 2:
                return self._route(m, {"GET": self.get_job, "DELETE": self.delete_job, "PATCH": self.patch_job,
                                       "PUT": self.put_job}, c, jid)
            what = segs[2].lower()
            if n == 3:
                if what in ("terminate", "disable", "enable") and m == "POST":
                    return self.job_action(c, jid, what)
                if what == "taskcounts":
                    return self._route(m, {"GET": self.task_counts}, c, jid)
                if what == "jobpreparationandreleasetaskstatus":
                    return self._route(m, {"GET": self.prep_release_status}, c, jid)
                if what == "addtaskcollection":
                    return self._route(m, {"POST": self.add_task_collection}, c, jid)
                if what == "tasks":
                    return self._route(m, {"GET": self.list_tasks, "POST": self.add_task}, c, jid)
            if what == "tasks" and n >= 4:
                tid = segs[3]
                if n == 4:
                    return self._route(m, {"GET": self.get_task, "DELETE": self.delete_task,
                                           "PUT": self.put_task}, c, jid, tid)
                sub = segs[4].lower()
                if n == 5 and sub in ("terminate", "reactivate") and m == "POST":
                    return self.task_action(c, jid, tid, sub)
                if n == 5 and sub == "subtasksinfo":
                    return self._route(m, {"GET": self.list_subtasks}, c, jid, tid)
                if sub == "files":
                    if n == 5:
                        return self._route(m, {"GET": self.list_task_files}, c, jid, tid)
                    return self._route(m, {"GET": self.get_task_file, "HEAD": self.get_task_file,
                                           "DELETE": self.delete_task_file}, c, jid, tid, "/".join(segs[5:]))
        raise BatchFault(404, "ResourceNotFound" if m != "POST" else "InvalidUri",
                         "The specified resource does not exist.")

    def _route(self, method, table, c, *args):
        fn = table.get(method)
        if fn is None:
            raise BatchFault(405, "UnsupportedHttpVerb" if method not in ("GET", "POST") else "InvalidHttpVerb",
                             "The resource doesn't support the specified HTTP verb.",
                             [("HttpVerb", method)], headers={"Allow": ", ".join(sorted(table))})
        return fn(c, *args)

    # ------------------------------------------------------------ body helpers
    def _body(self, c, definition, required=True):
        raw = c.req.body or b""
        if not raw.strip():
            if required:
                raise BatchFault(400, "InvalidRequestBody", "The specified Request Body is not syntactically valid.",
                                 [("Reason", "The request body is empty.")])
            return {}
        try:
            body = json.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as e:
            raise BatchFault(400, "InvalidRequestBody", "The specified Request Body is not syntactically valid.",
                             [("Reason", str(e))])
        if not isinstance(body, dict):
            raise BatchFault(400, "InvalidRequestBody", "The specified Request Body is not syntactically valid.",
                             [("Reason", "A JSON object is required.")])
        self._validate(definition, body)
        return body

    def _validate(self, definition, body):
        if not definition or not self._s("validate", True):
            return
        try:
            errors = self.ctx.validate_body("batch-data", definition, body)
        except Exception as e:  # the validator is the core's; never let it take a request down
            errors = []
            print("batch: validate_body(%s) failed: %s" % (definition, e))
        if errors:
            first = str(errors[0])
            if "required" in first.lower():
                code, msg = "MissingRequiredProperty", "A required property was not specified in the request body."
            else:
                code, msg = "InvalidRequestBody", "The specified Request Body is not syntactically valid."
            raise BatchFault(400, code, msg,
                             [("Reason", str(e)) for e in errors[:10]])

    def _check_id(self, body, what):
        v = body.get("id")
        if v is None:
            raise BatchFault(400, "MissingRequiredProperty", "A required property was not specified in the request body.",
                             [("PropertyName", "id")])
        if not isinstance(v, str) or not ID_RE.match(v):
            raise BatchFault(400, "InvalidPropertyValue", "The value provided for one of the properties in the "
                             "request body is invalid.", [("PropertyName", "id"), ("PropertyValue", str(v)),
                                                          ("Reason", "The %s id may contain only letters, digits, "
                                                           "hyphens and underscores, at most 64 characters." % what)])
        return v

    @staticmethod
    def _bad_prop(name, value, reason):
        return BatchFault(400, "InvalidPropertyValue",
                          "The value provided for one of the properties in the request body is invalid.",
                          [("PropertyName", name), ("PropertyValue", str(value)), ("Reason", reason)])

    @staticmethod
    def _missing(name):
        return BatchFault(400, "MissingRequiredProperty",
                          "A required property was not specified in the request body.", [("PropertyName", name)])

    def _entity_headers(self, d, status_create=False):
        h = {"ETag": d.get("eTag", ""), "Last-Modified": _rfc1123(d.get("lastModified"))}
        if status_create or d.get("url"):
            h["DataServiceId"] = d.get("url", "")
        return h

    def _list(self, c, items, what, transform=None):
        """Filter, select and page a list of REST dicts."""
        q = c.req.query
        flt = q.get("$filter")
        if flt:
            try:
                pred = compile_filter(flt)
            except FilterError as e:
                raise BatchFault(400, "InvalidQueryParameterValue",
                                 "Value for one of the query parameters specified in the request URI is invalid.",
                                 [("QueryParameterName", "$filter"), ("QueryParameterValue", flt), ("Reason", str(e))])
            items = [x for x in items if pred(x)]
        try:
            size = int(q.get("maxresults", PAGE_DEFAULT))
        except ValueError:
            raise BatchFault(400, "InvalidQueryParameterValue",
                             "Value for one of the query parameters specified in the request URI is invalid.",
                             [("QueryParameterName", "maxresults")])
        if size < 1 or size > 1000:
            raise BatchFault(400, "OutOfRangeQueryParameterValue",
                             "One of the query parameters specified in the request URI is outside the permissible range.",
                             [("QueryParameterName", "maxresults"), ("QueryParameterValue", str(size))])
        skip = q.get("$skiptoken") or q.get("$skipToken") or "0"
        try:
            start = int(skip)
        except ValueError:
            start = 0
        page = items[start:start + size]
        sel = q.get("$select")
        out = [apply_select(transform(x) if transform else x, sel) for x in page]
        body = {"odata.metadata": "%s/$metadata#%s" % (c.account.url, what), "value": out}
        if start + size < len(items):
            params = [(k, v) for k, v in _query_pairs(c.req.raw_query) if k.lower() != "$skiptoken"]
            params.append(("$skiptoken", str(start + size)))
            path = c.req.raw_path
            body["odata.nextLink"] = "%s%s?%s" % (self.ctx.base_url.rstrip("/"), path,
                                                  urllib.parse.urlencode(params, quote_via=urllib.parse.quote))
        return self._json(200, body)

    # ------------------------------------------------------------ pools
    def _pool(self, c, pid, allow_deleting=True):
        p = c.account.pools.get(pid.lower())
        if p is None:
            raise BatchFault(404, "PoolNotFound", "The specified pool does not exist.")
        if not allow_deleting and p.d["state"] == "deleting":
            raise BatchFault(409, "PoolBeingDeleted", "The specified pool has been marked for deletion and is "
                             "being reclaimed.")
        return p

    def add_pool(self, c):
        body = self._body(c, "BatchPoolCreateOptions")
        pid = self._check_id(body, "pool")
        if not body.get("vmSize"):
            raise self._missing("vmSize")
        if body.get("cloudServiceConfiguration"):
            raise self._bad_prop("cloudServiceConfiguration", "set",
                                 "Cloud Services configuration pools are retired; use virtualMachineConfiguration.")
        vmc = body.get("virtualMachineConfiguration")
        if not isinstance(vmc, dict):
            raise self._missing("virtualMachineConfiguration")
        if not vmc.get("imageReference"):
            raise self._missing("virtualMachineConfiguration.imageReference")
        agent = vmc.get("nodeAgentSKUId")
        if not agent:
            raise self._missing("virtualMachineConfiguration.nodeAgentSKUId")
        known = {i["nodeAgentSKUId"].lower() for i in SUPPORTED_IMAGES}
        if agent.lower() in RETIRED_AGENTS or agent.lower() not in known:
            raise self._bad_prop("nodeAgentSKUId", agent,
                                 "The specified node agent SKU is not supported (end of life or unknown); "
                                 "list supported images with GET /supportedimages.")
        slots = body.get("taskSlotsPerNode", 1)
        if not isinstance(slots, int) or slots < 1 or slots > 256:
            raise self._bad_prop("taskSlotsPerNode", slots, "taskSlotsPerNode must be between 1 and 256.")
        auto = bool(body.get("enableAutoScale"))
        program = None
        if auto:
            for k in ("targetDedicatedNodes", "targetLowPriorityNodes"):
                if body.get(k) is not None:
                    raise BatchFault(400, "InvalidPropertyValue", "The value provided for one of the properties "
                                     "in the request body is invalid.",
                                     [("PropertyName", k), ("Reason", "%s must not be specified when "
                                                                       "enableAutoScale is true." % k)])
            if not body.get("autoScaleFormula"):
                raise self._missing("autoScaleFormula")
            self._check_interval(body.get("autoScaleEvaluationInterval"))
            program = self._parse_formula(body["autoScaleFormula"])
        else:
            if body.get("targetDedicatedNodes") is None and body.get("targetLowPriorityNodes") is None:
                raise self._missing("targetDedicatedNodes")
            for k in ("targetDedicatedNodes", "targetLowPriorityNodes"):
                v = body.get(k, 0)
                if not isinstance(v, int) or v < 0:
                    raise self._bad_prop(k, v, "%s must be a non-negative integer." % k)
            self._check_resize_timeout(body.get("resizeTimeout"))
        with self.cond:
            self._ensure_new(c.account.pools, pid, "Pool", "has been marked for deletion and is being reclaimed")
            now = iso()
            d = copy.deepcopy(body)
            d.update({"url": "%s/pools/%s" % (c.account.url, pid), "creationTime": now, "state": "active",
                      "stateTransitionTime": now, "allocationState": "resizing",
                      "allocationStateTransitionTime": now, "currentDedicatedNodes": 0,
                      "currentLowPriorityNodes": 0, "enableAutoScale": auto,
                      "enableInterNodeCommunication": bool(body.get("enableInterNodeCommunication")),
                      "taskSlotsPerNode": slots})
            d.setdefault("taskSchedulingPolicy", {"nodeFillType": "spread"})
            if auto:
                d.setdefault("autoScaleEvaluationInterval", "PT15M")
                d["targetDedicatedNodes"] = 0
                d["targetLowPriorityNodes"] = 0
            else:
                d.setdefault("targetDedicatedNodes", 0)
                d.setdefault("targetLowPriorityNodes", 0)
                d.setdefault("resizeTimeout", "PT15M")
            if d.get("startTask"):
                st = d["startTask"]
                st.setdefault("maxTaskRetryCount", 0)
                st.setdefault("waitForSuccess", True)
                st.setdefault("userIdentity", {"autoUser": {"scope": "pool", "elevationLevel": "nonadmin"}})
            touch(d)
            pool = Pool(c.account, d)
            pool.program = program
            c.account.pools[pid.lower()] = pool
            if auto:
                self._autoscale(pool, apply=True)
                pool.next_eval = time.time() + float(self._s("autoscale_interval", 2.0))
            self._reconcile(pool)
            self.cond.notify_all()
            return self._empty(201, self._entity_headers(d, True))

    def _ensure_new(self, table, ident, kind, deleting_text):
        old = table.get(ident.lower())
        if old is not None:
            if old.d["state"] == "deleting":
                raise BatchFault(409, kind + "BeingDeleted", "The specified %s %s." % (kind.lower(), deleting_text))
            raise BatchFault(409, kind + "Exists", "The specified %s already exists." % kind.lower())

    def _check_resize_timeout(self, v):
        if v is not None:
            s = parse_duration(v)
            if s is None or s < 300:
                raise self._bad_prop("resizeTimeout", v, "resizeTimeout must be at least 5 minutes.")

    def _check_interval(self, v):
        if v is None:
            return
        s = parse_duration(v)
        if s is None or s < 300 or s > 168 * 3600:
            raise self._bad_prop("autoScaleEvaluationInterval", v,
                                 "The autoscale evaluation interval must be between 5 minutes and 168 hours.")

    def _parse_formula(self, text):
        try:
            return formula.parse(text)
        except formula.FormulaError as e:
            raise BatchFault(400, e.code, "The specified autoscale formula is not valid: %s" % e.message,
                             [("PropertyName", "autoScaleFormula"), ("Reason", e.message)] +
                             [(k, v) for k, v in e.values])

    def _pool_view(self, p):
        d = p.d
        d["currentDedicatedNodes"] = len([n for n in p.nodes.values() if n.dedicated])
        d["currentLowPriorityNodes"] = len([n for n in p.nodes.values() if not n.dedicated])
        return copy.deepcopy(d)

    def get_pool(self, c, pid):
        with self.lock:
            p = self._pool(c, pid)
            d = self._pool_view(p)
        return self._json(200, apply_select(d, c.req.query.get("$select")), self._entity_headers(d))

    def pool_exists(self, c, pid):
        with self.lock:
            p = c.account.pools.get(pid.lower())
            if p is None:
                return self._empty(404)
            return self._empty(200, self._entity_headers(p.d))

    def list_pools(self, c):
        with self.lock:
            items = [self._pool_view(p) for p in c.account.pools.values()]
        return self._list(c, items, "pools")

    def patch_pool(self, c, pid):
        body = self._body(c, "BatchPoolUpdateOptions")
        with self.cond:
            p = self._pool(c, pid, allow_deleting=False)
            for k in ("startTask", "metadata", "applicationPackageReferences", "targetNodeCommunicationMode",
                      "displayName", "vmSize", "taskSlotsPerNode", "taskSchedulingPolicy", "enableInterNodeCommunication",
                      "virtualMachineConfiguration", "networkConfiguration", "userAccounts", "mountConfiguration",
                      "upgradePolicy", "resourceTags"):
                if k in body:
                    if body[k] is None:
                        p.d.pop(k, None)
                    else:
                        p.d[k] = body[k]
            touch(p.d)
            return self._empty(200, self._entity_headers(p.d))

    def delete_pool(self, c, pid):
        with self.cond:
            p = self._pool(c, pid)
            if p.d["state"] != "deleting":
                p.d["state"] = "deleting"
                p.d["stateTransitionTime"] = iso()
                p.d["allocationState"] = "resizing"
                p.d["enableAutoScale"] = p.d.get("enableAutoScale", False)
                p.delete_at = time.time() + float(self._s("pool_delete_seconds", 1.0))
                touch(p.d)
                for n in list(p.nodes.values()):
                    self._remove_node(p, n, "requeue")
                self.cond.notify_all()
        return self._empty(202)

    def pool_action(self, c, pid, what):
        if what == "resize":
            body = self._body(c, "BatchPoolResizeOptions")
            with self.cond:
                p = self._pool(c, pid, allow_deleting=False)
                if p.d.get("enableAutoScale"):
                    raise BatchFault(409, "OperationInvalidForCurrentState",
                                     "The pool has automatic scaling enabled; disable it before resizing.",
                                     [("Reason", "Pool has autoscale enabled")])
                if p.d["allocationState"] != "steady":
                    raise BatchFault(409, "PoolBeingResized" if p.d["allocationState"] == "resizing"
                                     else "PoolNotSteady", "The specified pool is being resized.")
                for k in ("targetDedicatedNodes", "targetLowPriorityNodes"):
                    v = body.get(k)
                    if v is not None and (not isinstance(v, int) or v < 0):
                        raise self._bad_prop(k, v, "%s must be a non-negative integer." % k)
                if body.get("resizeTimeout") is not None:
                    self._check_resize_timeout(body["resizeTimeout"])
                    p.d["resizeTimeout"] = body["resizeTimeout"]
                if "targetDedicatedNodes" in body:
                    p.d["targetDedicatedNodes"] = body["targetDedicatedNodes"]
                if "targetLowPriorityNodes" in body:
                    p.d["targetLowPriorityNodes"] = body["targetLowPriorityNodes"]
                p.deallocation = (body.get("nodeDeallocationOption") or "requeue").lower()
                p.d.pop("resizeErrors", None)
                self._set_alloc(p, "resizing")
                touch(p.d)
                self._reconcile(p)
                self.cond.notify_all()
                return self._empty(202, self._entity_headers(p.d))
        if what == "stopresize":
            with self.cond:
                p = self._pool(c, pid, allow_deleting=False)
                if p.d["allocationState"] == "resizing":
                    live = p.live_nodes()
                    p.d["targetDedicatedNodes"] = len([n for n in live if n.dedicated])
                    p.d["targetLowPriorityNodes"] = len([n for n in live if not n.dedicated])
                    self._set_alloc(p, "stopping")
                    touch(p.d)
                    self.cond.notify_all()
                return self._empty(202, self._entity_headers(p.d))
        if what == "enableautoscale":
            body = self._body(c, "BatchPoolEnableAutoScaleOptions", required=False)
            with self.cond:
                p = self._pool(c, pid, allow_deleting=False)
                if p.d["allocationState"] == "resizing" and not p.d.get("enableAutoScale"):
                    raise BatchFault(409, "PoolBeingResized", "The specified pool is being resized.")
                throttle = float(self._s("autoscale_enable_throttle", 0))
                if throttle and time.time() - p.last_enable < throttle:
                    raise BatchFault(503, "TooManyEnableAutoScaleRequests",
                                     "Autoscale can be enabled at most once every %g seconds." % throttle,
                                     headers={"Retry-After": str(int(throttle))})
                text = body.get("autoScaleFormula")
                if not text and not p.d.get("enableAutoScale"):
                    raise self._missing("autoScaleFormula")
                self._check_interval(body.get("autoScaleEvaluationInterval"))
                if text:
                    p.program = self._parse_formula(text)
                    p.d["autoScaleFormula"] = text
                if body.get("autoScaleEvaluationInterval"):
                    p.d["autoScaleEvaluationInterval"] = body["autoScaleEvaluationInterval"]
                p.d.setdefault("autoScaleEvaluationInterval", "PT15M")
                p.d["enableAutoScale"] = True
                p.d.pop("resizeTimeout", None)
                p.last_enable = time.time()
                self._autoscale(p, apply=True)
                p.next_eval = time.time() + float(self._s("autoscale_interval", 2.0))
                touch(p.d)
                self.cond.notify_all()
                return self._empty(200, self._entity_headers(p.d))
        if what == "disableautoscale":
            with self.cond:
                p = self._pool(c, pid, allow_deleting=False)
                p.d["enableAutoScale"] = False
                for k in ("autoScaleFormula", "autoScaleEvaluationInterval", "autoScaleRun"):
                    p.d.pop(k, None)
                p.program = None
                p.d.setdefault("resizeTimeout", "PT15M")
                touch(p.d)
                return self._empty(200, self._entity_headers(p.d))
        if what == "evaluateautoscale":
            body = self._body(c, "BatchPoolEvaluateAutoScaleOptions")
            text = body.get("autoScaleFormula")
            if not text:
                raise self._missing("autoScaleFormula")
            with self.lock:
                p = self._pool(c, pid, allow_deleting=False)
                if not p.d.get("enableAutoScale"):
                    raise BatchFault(409, "OperationInvalidForCurrentState",
                                     "Autoscale must be enabled on the pool before a formula can be evaluated.",
                                     [("Reason", "AutoScaleNotEnabled")])
                run = {"timestamp": iso()}
                try:
                    prog = formula.parse(text)
                    _targets, results = prog.evaluate(self._metrics(p, store=False))
                    run["results"] = results
                except formula.FormulaError as e:
                    if e.code in (formula.SYNTAX, "AutoScalingFormulaTooLong"):
                        raise BatchFault(400, e.code, "The specified autoscale formula is not valid: %s" % e.message,
                                         [("PropertyName", "autoScaleFormula"), ("Reason", e.message)])
                    run["error"] = e.as_error()
            return self._json(200, run, {"DataServiceId": p.d["url"]})
        if what == "removenodes":
            body = self._body(c, "BatchNodeRemoveOptions")
            with self.cond:
                p = self._pool(c, pid, allow_deleting=False)
                ids = body.get("nodeList") or []
                if len(ids) > 100:
                    raise self._bad_prop("nodeList", len(ids), "At most 100 nodes can be removed at once.")
                opt = (body.get("nodeDeallocationOption") or "requeue").lower()
                for nid in ids:
                    n = p.nodes.get(nid)
                    if n is None:
                        raise BatchFault(404, "NodeNotFound", "The specified node does not exist.",
                                         [("NodeId", nid)])
                for nid in ids:
                    n = p.nodes[nid]
                    if n.dedicated:
                        p.d["targetDedicatedNodes"] = max(0, p.d.get("targetDedicatedNodes", 0) - 1)
                    else:
                        p.d["targetLowPriorityNodes"] = max(0, p.d.get("targetLowPriorityNodes", 0) - 1)
                    self._remove_node(p, n, opt)
                self._set_alloc(p, "resizing")
                touch(p.d)
                self.cond.notify_all()
                return self._empty(202, self._entity_headers(p.d))
        if what == "updateproperties":
            body = self._body(c, "BatchPoolReplaceOptions")
            with self.lock:
                p = self._pool(c, pid, allow_deleting=False)
                for k in ("startTask", "metadata", "applicationPackageReferences", "targetNodeCommunicationMode"):
                    if k in body:
                        p.d[k] = body[k]
                    elif k == "startTask":
                        p.d.pop(k, None)
                touch(p.d)
                return self._empty(204, self._entity_headers(p.d))
        raise BatchFault(404, "InvalidUri", "The requested URI does not represent any resource on the server.")

    def _set_alloc(self, p, state):
        if p.d.get("allocationState") != state:
            p.d["allocationState"] = state
            p.d["allocationStateTransitionTime"] = iso()

    # ------------------------------------------------------------ autoscale
    def _metrics(self, p, store):
        """Service variables for a formula, with a fresh sample (stored when store)."""
        active = running = succeeded = failed = 0
        for j in p.account.jobs.values():
            if j.pool_id() != p.id.lower() or j.d["state"] not in ("active", "disabling", "disabled", "enabling"):
                if j.pool_id() != p.id.lower():
                    continue
            if j.d["state"] in ("completed", "deleting"):
                continue
            active += j.inst_counts["active"]
            running += j.inst_counts["running"] + j.inst_counts["preparing"]
            succeeded += j.succeeded
            failed += j.failed
        cur_d = len([n for n in p.nodes.values() if n.dedicated and not n.leaving])
        cur_l = len([n for n in p.nodes.values() if not n.dedicated and not n.leaving])
        sample = {"$ActiveTasks": active, "$RunningTasks": running, "$PendingTasks": active + running,
                  "$SucceededTasks": succeeded, "$FailedTasks": failed, "$CurrentDedicatedNodes": cur_d,
                  "$CurrentLowPriorityNodes": cur_l, "$SampleNodeCount": cur_d + cur_l,
                  "$PreemptedNodeCount": 0, "$CPUPercent": 50.0 if running else 0.0,
                  "$MemoryBytes": 0.0, "$DiskBytes": 0.0, "$WallClockSeconds": 0.0}
        env = {}
        for k, v in sample.items():
            hist = p.samples[k]
            if store:
                hist.appendleft(v)
                samples = list(hist)
            else:
                samples = [v] + list(hist)
            env[k] = formula.Metric(k, samples)
        env["$TargetDedicatedNodes"] = p.d.get("targetDedicatedNodes", 0)
        env["$TargetLowPriorityNodes"] = p.d.get("targetLowPriorityNodes", 0)
        return env

    def _autoscale(self, p, apply):
        if p.program is None:
            return
        run = {"timestamp": iso()}
        try:
            targets, results = p.program.evaluate(self._metrics(p, store=True))
            run["results"] = results
        except formula.FormulaError as e:
            run["error"] = e.as_error()
            targets = None
        p.d["autoScaleRun"] = run
        if targets and apply:
            cap = int(self._s("max_nodes_per_pool", 32))
            td, tl = targets["targetDedicatedNodes"], targets["targetLowPriorityNodes"]
            if td + tl > cap:
                p.d["resizeErrors"] = [{"code": "AccountCoreQuotaReached",
                                        "message": "The emulator allows at most %d nodes per pool." % cap,
                                        "values": [{"name": "Limit", "value": str(cap)}]}]
                td = min(td, cap)
                tl = min(tl, cap - td)
            if td != p.d.get("targetDedicatedNodes") or tl != p.d.get("targetLowPriorityNodes"):
                p.d["targetDedicatedNodes"], p.d["targetLowPriorityNodes"] = td, tl
                p.deallocation = targets["nodeDeallocationOption"]
                self._set_alloc(p, "resizing")
                touch(p.d)
            self._reconcile(p)

    # ------------------------------------------------------------ node lifecycle
    def _reconcile(self, p):
        """Add or remove nodes toward the targets (under the lock)."""
        if p.d["state"] == "deleting":
            return
        now = time.time()
        alloc = float(self._s("node_alloc_seconds", 0.5))
        cap = int(self._s("max_nodes_per_pool", 32))
        for dedicated, key in ((True, "targetDedicatedNodes"), (False, "targetLowPriorityNodes")):
            want = min(int(p.d.get(key) or 0), cap)
            live = p.live_nodes(dedicated)
            if p.d["allocationState"] == "stopping":
                want = len(live)
            for _ in range(want - len(live)):
                nid = p.new_node_id()
                root = os.path.join(p.dir, "nodes", nid)
                n = Node(p, nid, dedicated, root, now + alloc)
                p.nodes[nid] = n
            extra = len(live) - want
            if extra > 0:
                order = sorted(live, key=lambda n: (n.slots_used > 0, n.d["state"] not in ("creating", "starting")),
                               reverse=False)
                for n in order[:extra]:
                    self._remove_node(p, n, p.deallocation)
        self._update_alloc(p)

    def _update_alloc(self, p):
        if p.d["state"] == "deleting":
            return
        live_d = len(p.live_nodes(True))
        live_l = len(p.live_nodes(False))
        leaving = any(n.leaving for n in p.nodes.values())
        cap = int(self._s("max_nodes_per_pool", 32))
        td = min(int(p.d.get("targetDedicatedNodes") or 0), cap)
        tl = min(int(p.d.get("targetLowPriorityNodes") or 0), cap)
        creating = any(n.d["state"] == "creating" for n in p.nodes.values())
        if p.d["allocationState"] == "stopping":
            if not creating and not leaving:
                self._set_alloc(p, "steady")
            return
        if live_d == td and live_l == tl and not leaving and not creating:
            if p.d["allocationState"] != "steady":
                self._set_alloc(p, "steady")
                touch(p.d)
        elif p.d["allocationState"] == "steady":
            self._set_alloc(p, "resizing")

    def _remove_node(self, p, n, option):
        """Take a node out of the pool: idle nodes go at once; running ones per option."""
        if n.leaving and option not in ("requeue", "terminate"):
            return
        n.leaving = True
        n.set_state("leavingPool")
        if n.running and option in ("requeue", "terminate"):
            for t in list(n.running):
                self._cancel_task(t, "requeue" if option == "requeue" else "terminate")
        if not n.running:
            p.nodes.pop(n.id, None)

    def _node_ready(self, n):
        """Called by the scheduler when a creating node's allocation time has passed."""
        p = n.pool
        os.makedirs(n.root, exist_ok=True)
        for sub in ("shared", "startup", "workitems", "fsmounts", "certs", "applications"):
            os.makedirs(os.path.join(n.root, sub), exist_ok=True)
        n.d["lastBootTime"] = iso()
        st = p.d.get("startTask")
        if not st:
            n.set_state("idle")
            return
        wait = st.get("waitForSuccess", True)
        n.set_state("waitingForStartTask" if wait else "idle")
        n.d["startTaskInfo"] = {"state": "running", "startTime": iso(), "retryCount": 0}
        self._spawn(self._run_start_task, n, st)

    def _run_start_task(self, n, st):
        p = n.pool
        tdir = os.path.join(n.root, "startup")
        wd = os.path.join(tdir, "wd")
        os.makedirs(wd, exist_ok=True)
        env = self._env(n, None, tdir, wd, extra=st.get("environmentSettings"))
        retries = int(st.get("maxTaskRetryCount") or 0)
        attempt = 0
        failure = None
        while True:
            try:
                runner.download_resource_files(st.get("resourceFiles"), wd)
                code, reason, _ = runner.run_command(self.procs, st["commandLine"], wd, env,
                                                     os.path.join(tdir, "stdout.txt"),
                                                     os.path.join(tdir, "stderr.txt"))
                failure = None if code == 0 else _failure_exit(code, reason)
            except runner.ResourceFileError as e:
                code, failure = None, {"category": "usererror", "code": e.code, "message": e.message,
                                       "details": e.details}
            if code == 0 or failure and code is None or attempt >= retries != -1 or self.stopping:
                break
            attempt += 1
            with self.lock:
                n.d["startTaskInfo"]["retryCount"] = attempt
        with self.cond:
            info = n.d["startTaskInfo"]
            info.update({"state": "completed", "endTime": iso(), "result": "success" if not failure else "failure"})
            if code is not None:
                info["exitCode"] = code
            if failure:
                info["failureInfo"] = failure
            if n.leaving:
                return
            if failure and st.get("waitForSuccess", True):
                n.set_state("startTaskFailed")
                n.d["errors"] = [{"code": "StartTaskFailed" if code is not None else failure["code"],
                                  "message": "The start task failed", "errorDetails":
                                      [{"name": "ExitCode", "value": str(code)}] if code is not None else []}]
            elif n.d["state"] == "waitingForStartTask":
                n.set_state("idle")
            self.cond.notify_all()

    def list_nodes(self, c, pid):
        with self.lock:
            p = self._pool(c, pid)
            items = [self._node_view(n) for n in p.nodes.values()]
        return self._list(c, items, "nodes")

    def get_node(self, c, pid, nid):
        with self.lock:
            p = self._pool(c, pid)
            n = p.nodes.get(nid)
            if n is None:
                raise BatchFault(404, "NodeNotFound", "The specified node does not exist.")
            d = self._node_view(n)
        return self._json(200, apply_select(d, c.req.query.get("$select")))

    def _node_view(self, n):
        d = copy.deepcopy(n.d)
        d["runningTasksCount"] = len(n.running)
        d["runningTaskSlotsCount"] = n.slots_used
        recent = []
        for t in list(n.running)[:10]:
            recent.append({"taskUrl": t.d["url"], "jobId": t.job.id, "taskId": t.d["id"],
                           "taskState": t.d["state"]})
        if recent:
            d["recentTasks"] = recent
        return d

    def node_action(self, c, pid, nid, what):
        with self.cond:
            p = self._pool(c, pid, allow_deleting=False)
            n = p.nodes.get(nid)
            if n is None:
                raise BatchFault(404, "NodeNotFound", "The specified node does not exist.")
            if what == "disablescheduling":
                n.d["schedulingState"] = "disabled"
                if not n.running and n.d["state"] == "idle":
                    n.set_state("offline")
                return self._empty(200, {"DataServiceId": n.d["url"]})
            if what == "enablescheduling":
                n.d["schedulingState"] = "enabled"
                if n.d["state"] == "offline":
                    n.set_state("idle")
                self.cond.notify_all()
                return self._empty(200, {"DataServiceId": n.d["url"]})
        raise BatchFault(400, "InvalidUri",
                         "This node operation is not supported by the emulator.", [("Operation", what)])

    def node_counts(self, c):
        with self.lock:
            items = []
            for p in c.account.pools.values():
                row = {"poolId": p.id}
                for dedicated, key in ((True, "dedicated"), (False, "lowPriority")):
                    cnt = {s: 0 for s in NODE_STATES}
                    for n in p.nodes.values():
                        if n.dedicated == dedicated:
                            st = n.d["state"]
                            cnt[st if st in cnt else "unknown"] += 1
                    cnt["total"] = sum(cnt.values())
                    row[key] = cnt
                items.append(row)
        return self._list(c, items, "poolnodecounts")

    def supported_images(self, c):
        return self._list(c, copy.deepcopy(SUPPORTED_IMAGES), "supportedimages")

    # ------------------------------------------------------------ jobs
    def _job(self, c, jid, for_update=False):
        j = c.account.jobs.get(jid.lower())
        if j is None:
            raise BatchFault(404, "JobNotFound", "The specified job does not exist.")
        if for_update and j.d["state"] == "deleting":
            raise BatchFault(409, "JobBeingDeleted", "The specified job has been marked for deletion and is being "
                             "garbage collected.")
        return j

    def add_job(self, c):
        body = self._body(c, "BatchJobCreateOptions")
        jid = self._check_id(body, "job")
        pi = body.get("poolInfo")
        if not isinstance(pi, dict):
            raise self._missing("poolInfo")
        if not pi.get("poolId") and not pi.get("autoPoolSpecification"):
            raise self._missing("poolInfo.poolId")
        if pi.get("autoPoolSpecification"):
            raise self._bad_prop("poolInfo.autoPoolSpecification", "set",
                                 "Auto pools are not supported by this emulator; create the pool first.")
        jp = body.get("jobPreparationTask")
        if jp is not None and not (isinstance(jp, dict) and jp.get("commandLine")):
            raise self._missing("jobPreparationTask.commandLine")
        jr = body.get("jobReleaseTask")
        if jr is not None:
            if not jp:
                raise BatchFault(400, "InvalidPropertyValue",
                                 "The value provided for one of the properties in the request body is invalid.",
                                 [("PropertyName", "jobReleaseTask"),
                                  ("Reason", "A job release task requires a job preparation task.")])
            if not jr.get("commandLine"):
                raise self._missing("jobReleaseTask.commandLine")
        oatc = (body.get("onAllTasksComplete") or "noaction").lower()
        if oatc not in ("noaction", "terminatejob"):
            raise self._bad_prop("onAllTasksComplete", oatc, "Must be noaction or terminatejob.")
        with self.cond:
            self._ensure_new(c.account.jobs, jid, "Job", "has been marked for deletion and is being garbage collected")
            now = iso()
            d = copy.deepcopy(body)
            d.update({"url": "%s/jobs/%s" % (c.account.url, jid), "creationTime": now, "state": "active",
                      "stateTransitionTime": now, "onAllTasksComplete": oatc,
                      "onTaskFailure": (body.get("onTaskFailure") or "noaction").lower(),
                      "usesTaskDependencies": bool(body.get("usesTaskDependencies")),
                      "executionInfo": {"startTime": now, "poolId": pi.get("poolId")}})
            d.setdefault("priority", 0)
            d.setdefault("maxParallelTasks", -1)
            d.setdefault("allowTaskPreemption", False)
            d.setdefault("constraints", {"maxWallClockTime": MAX_DURATION, "maxTaskRetryCount": 0})
            if jp:
                jp.setdefault("id", "jobpreparation")
                jp.setdefault("waitForSuccess", True)
                jp.setdefault("rerunOnNodeRebootAfterSuccess", True)
                jp.setdefault("userIdentity", {"autoUser": {"scope": "pool", "elevationLevel": "nonadmin"}})
                d["jobPreparationTask"] = jp
            if jr:
                jr.setdefault("id", "jobrelease")
                d["jobReleaseTask"] = jr
            touch(d)
            c.account.jobs[jid.lower()] = Job(c.account, d)
            self.cond.notify_all()
            return self._empty(201, self._entity_headers(d, True))

    def _job_view(self, j):
        d = copy.deepcopy(j.d)
        return d

    def get_job(self, c, jid):
        with self.lock:
            j = self._job(c, jid)
            d = self._job_view(j)
        return self._json(200, apply_select(d, c.req.query.get("$select")), self._entity_headers(d))

    def list_jobs(self, c):
        with self.lock:
            items = [self._job_view(j) for j in c.account.jobs.values()]
        return self._list(c, items, "jobs")

    def patch_job(self, c, jid, replace=False):
        body = self._body(c, "BatchJob" if replace else "BatchJobUpdateOptions")
        with self.cond:
            j = self._job(c, jid, for_update=True)
            if j.d["state"] in ("completed", "terminating"):
                raise BatchFault(409, "JobCompleted" if j.d["state"] == "completed" else "JobBeingTerminated",
                                 "The specified job is already in a completed state.")
            if "onAllTasksComplete" in body:
                v = (body["onAllTasksComplete"] or "noaction").lower()
                if j.d["onAllTasksComplete"] == "terminatejob" and v != "terminatejob":
                    raise self._bad_prop("onAllTasksComplete", v,
                                         "onAllTasksComplete cannot be changed from terminatejob to noaction.")
                j.d["onAllTasksComplete"] = v
            for k in ("priority", "maxParallelTasks", "allowTaskPreemption", "constraints", "metadata",
                      "onTaskFailure", "networkConfiguration", "displayName"):
                if k in body:
                    j.d[k] = body[k]
            if body.get("poolInfo", {}).get("poolId"):
                j.d["poolInfo"] = body["poolInfo"]
                j.d["executionInfo"]["poolId"] = body["poolInfo"]["poolId"]
            touch(j.d)
            self.cond.notify_all()
            return self._empty(200, self._entity_headers(j.d))

    def put_job(self, c, jid):
        return self.patch_job(c, jid, replace=True)

    def delete_job(self, c, jid):
        with self.cond:
            j = self._job(c, jid)
            if j.d["state"] != "deleting":
                _transition(j.d, "deleting")
                touch(j.d)
                j.queue.clear()
                for t in j.tasks.values():
                    if t.cancel is not None:
                        self._cancel_task(t, "delete")
                self._spawn(self._finish_job, j, None, True)
        return self._empty(202)

    def job_action(self, c, jid, what):
        with self.cond:
            j = self._job(c, jid, for_update=True)
            if what == "terminate":
                body = self._body(c, "BatchJobTerminateOptions", required=False)
                if j.d["state"] == "completed":
                    raise BatchFault(409, "JobCompleted", "The specified job is already in a completed state.")
                if j.d["state"] == "terminating":
                    raise BatchFault(409, "JobBeingTerminated", "The specified job is being terminated.")
                self._terminate_job(j, body.get("terminateReason") or "UserTerminate")
                return self._empty(202, self._entity_headers(j.d))
            if what == "disable":
                body = self._body(c, "BatchJobDisableOptions")
                if j.d["state"] not in ("active", "enabling"):
                    raise BatchFault(409, "JobNotActive" if j.d["state"] != "disabled" else "JobDisabled",
                                     "The specified job is not in an active state.")
                opt = (body.get("disableTasks") or "").lower()
                if opt not in ("requeue", "terminate", "wait"):
                    raise self._bad_prop("disableTasks", opt, "Must be requeue, terminate or wait.")
                _transition(j.d, "disabled")
                if opt in ("requeue", "terminate"):
                    for t in j.tasks.values():
                        if t.cancel is not None:
                            self._cancel_task(t, opt)
                touch(j.d)
                return self._empty(202, self._entity_headers(j.d))
            if what == "enable":
                if j.d["state"] not in ("disabled", "disabling"):
                    raise BatchFault(409, "OperationInvalidForCurrentState",
                                     "The specified job is not disabled.")
                _transition(j.d, "active")
                touch(j.d)
                self.cond.notify_all()
                return self._empty(202, self._entity_headers(j.d))
        raise BatchFault(404, "InvalidUri", "The requested URI does not represent any resource on the server.")

    def _terminate_job(self, j, reason):
        """Under the lock: job -> terminating, running tasks terminated, release tasks, -> completed."""
        if j.finishing:
            return
        j.finishing = True
        _transition(j.d, "terminating")
        j.d["executionInfo"]["terminateReason"] = reason
        touch(j.d)
        for t in j.tasks.values():
            if t.cancel is not None:
                self._cancel_task(t, "terminate")
        self._spawn(self._finish_job, j, reason, False)

    def _finish_job(self, j, reason, delete):
        # wait for running tasks to go
        with self.cond:
            deadline = time.time() + 30
            while any(t.cancel is not None for t in j.tasks.values()) and time.time() < deadline \
                    and not self.stopping:
                self.cond.wait(0.5)
            preps = list(j.prep_nodes.values())
        jr = j.d.get("jobReleaseTask")
        if jr and not self.stopping:
            threads = []
            for _pid, n, rec in preps:
                if rec.state == "completed":
                    th = threading.Thread(target=self._run_release, args=(j, n, rec, jr), daemon=True)
                    th.start()
                    threads.append(th)
            for th in threads:
                th.join(float(parse_duration((jr.get("maxWallClockTime") or "PT15M")) or 900) + 5)
        with self.cond:
            if delete:
                j.delete_at = time.time() + float(self._s("job_delete_seconds", 0.5))
                for _pid, n, rec in preps:
                    shutil.rmtree(os.path.join(n.root, "workitems", j.id), ignore_errors=True)
            else:
                if j.d["state"] == "terminating":
                    _transition(j.d, "completed")
                    j.d["executionInfo"]["endTime"] = iso()
                    touch(j.d)
            self.cond.notify_all()

    def _run_release(self, j, n, rec, jr):
        jdir = os.path.join(n.root, "workitems", j.id, "job-1")
        tdir = os.path.join(jdir, jr.get("id") or "jobrelease")
        wd = os.path.join(tdir, "wd")
        os.makedirs(wd, exist_ok=True)
        with self.lock:
            rec.release = {"state": "running", "startTime": iso(), "taskRootDirectory": _rel(n.root, tdir),
                           "taskRootDirectoryUrl": "%s/files/%s" % (n.d["url"], _rel(n.root, tdir))}
        env = self._env(n, j, tdir, wd, extra=(j.d.get("commonEnvironmentSettings") or []) +
                        (jr.get("environmentSettings") or []), task_id=jr.get("id") or "jobrelease")
        try:
            runner.download_resource_files(jr.get("resourceFiles"), wd)
            code, reason, _ = runner.run_command(self.procs, jr["commandLine"], wd, env,
                                                 os.path.join(tdir, "stdout.txt"), os.path.join(tdir, "stderr.txt"),
                                                 timeout=parse_duration(jr.get("maxWallClockTime") or "PT15M"))
            fail = None if code == 0 else _failure_exit(code, reason)
        except runner.ResourceFileError as e:
            code, fail = None, {"category": "usererror", "code": e.code, "message": e.message}
        with self.lock:
            rec.release.update({"state": "completed", "endTime": iso(),
                                "result": "success" if not fail else "failure"})
            if code is not None:
                rec.release["exitCode"] = code
            if fail:
                rec.release["failureInfo"] = fail

    def task_counts(self, c, jid):
        with self.lock:
            j = self._job(c, jid)
            tc = {"active": j.counts["active"], "running": j.counts["running"] + j.counts["preparing"],
                  "completed": j.counts["completed"], "succeeded": j.succeeded, "failed": j.failed}
            sc = {"active": j.slot_counts["active"], "running": j.slot_counts["running"] + j.slot_counts["preparing"],
                  "completed": j.slot_counts["completed"], "succeeded": j.slots_succeeded,
                  "failed": j.slots_failed}
        return self._json(200, {"taskCounts": tc, "taskSlotCounts": sc})

    def prep_release_status(self, c, jid):
        with self.lock:
            j = self._job(c, jid)
            if not j.d.get("jobPreparationTask"):
                raise BatchFault(409, "JobPreparationTaskNotSpecified",
                                 "The specified job does not have a job preparation task.")
            items = []
            for nid, (pid, n, rec) in j.prep_nodes.items():
                if not rec.info and not rec.release:
                    continue  # scheduled but not started there yet: the service lists nodes that ran it
                row = {"poolId": pid, "nodeId": nid, "nodeUrl": n.d["url"]}
                if rec.info:
                    row["jobPreparationTaskExecutionInfo"] = copy.deepcopy(rec.info)
                if rec.release:
                    row["jobReleaseTaskExecutionInfo"] = copy.deepcopy(rec.release)
                items.append(row)
        return self._list(c, items, "jobpreparationandreleasetaskstatus")

    # ------------------------------------------------------------ tasks
    def _task(self, c, jid, tid):
        j = self._job(c, jid)
        t = j.tasks.get(tid.lower())
        if t is None:
            raise BatchFault(404, "TaskNotFound", "The specified task does not exist.")
        return j, t

    def _prepare_task(self, c, j, body):
        """Validate one BatchTaskCreateOptions (raises BatchFault) and build its REST dict."""
        tid = self._check_id(body, "task")
        if not body.get("commandLine"):
            raise self._missing("commandLine")
        jp = j.d.get("jobPreparationTask")
        if jp and tid.lower() == (jp.get("id") or "jobpreparation").lower():
            raise BatchFault(409, "TaskIdSameAsJobPreparationTask", "The task id is the same as that of the "
                             "job preparation task.")
        mis = body.get("multiInstanceSettings")
        if mis is not None:
            if not isinstance(mis, dict) or not mis.get("coordinationCommandLine"):
                raise self._missing("multiInstanceSettings.coordinationCommandLine")
            ni = mis.get("numberOfInstances", 1)
            if not isinstance(ni, int) or ni < 1:
                raise self._bad_prop("multiInstanceSettings.numberOfInstances", ni, "Must be at least 1.")
            if body.get("requiredSlots", 1) != 1:
                raise self._bad_prop("requiredSlots", body.get("requiredSlots"),
                                     "requiredSlots must be 1 for multi-instance tasks.")
        rs = body.get("requiredSlots", 1)
        if not isinstance(rs, int) or rs < 1:
            raise self._bad_prop("requiredSlots", rs, "requiredSlots must be at least 1.")
        if body.get("dependsOn") and not j.d.get("usesTaskDependencies"):
            raise BatchFault(400, "TaskDependenciesNotSpecifiedOnJob",
                             "The job does not use task dependencies, but the task has dependencies.")
        for of in body.get("outputFiles") or []:
            for k in ("filePattern", "destination", "uploadOptions"):
                if k not in of:
                    raise self._missing("outputFiles." + k)
        now = iso()
        d = copy.deepcopy(body)
        cons = d.get("constraints") or {}
        jc = j.d.get("constraints") or {}
        cons.setdefault("maxWallClockTime", jc.get("maxWallClockTime", MAX_DURATION))
        cons.setdefault("retentionTime", "P7D")
        cons.setdefault("maxTaskRetryCount", jc.get("maxTaskRetryCount", 0))
        d.update({"url": "%s/jobs/%s/tasks/%s" % (c.account.url, j.id, tid), "creationTime": now,
                  "state": "active", "stateTransitionTime": now, "constraints": cons,
                  "requiredSlots": rs, "executionInfo": {"retryCount": 0, "requeueCount": 0}})
        d.setdefault("userIdentity", {"autoUser": {"scope": "pool", "elevationLevel": "nonadmin"}})
        if mis is not None:
            d["multiInstanceSettings"].setdefault("numberOfInstances", 1)
        touch(d)
        return d

    def _insert_task(self, j, d):
        """Under the lock; d validated.  Raises BatchFault(409 TaskExists)."""
        key = d["id"].lower()
        if key in j.tasks:
            raise BatchFault(409, "TaskExists", "The specified task already exists.")
        t = Task(j, d)
        j.tasks[key] = t
        j.queue[key] = t
        j.counts["active"] += 1
        j.slot_counts["active"] += t.slots
        j.inst_counts["active"] += t.instances
        return t

    def _job_accepts_tasks(self, j):
        st = j.d["state"]
        if st == "completed":
            raise BatchFault(409, "JobCompleted", "The specified job is already in a completed state.")
        if st == "terminating":
            raise BatchFault(409, "JobBeingTerminated", "The specified job is being terminated.")
        if st == "deleting":
            raise BatchFault(409, "JobBeingDeleted", "The specified job has been marked for deletion and is "
                             "being garbage collected.")

    def add_task(self, c, jid):
        body = self._body(c, "BatchTaskCreateOptions")
        with self.cond:
            j = self._job(c, jid)
            self._job_accepts_tasks(j)
            d = self._prepare_task(c, j, body)
            self._insert_task(j, d)
            self.cond.notify_all()
            return self._empty(201, self._entity_headers(d, True))

    def add_task_collection(self, c, jid):
        if len(c.req.body or b"") > MAX_COLLECTION_BYTES:
            raise BatchFault(413, "RequestBodyTooLarge", "The request body is too large and exceeds the maximum "
                             "permissible limit.", [("MaxLimit", str(MAX_COLLECTION_BYTES))])
        body = self._body(c, None)
        tasks = body.get("value")
        if not isinstance(tasks, list):
            raise self._missing("value")
        if len(tasks) > MAX_COLLECTION_TASKS:
            raise BatchFault(413, "RequestBodyTooLarge", "The number of tasks in the collection exceeds the "
                             "maximum of %d." % MAX_COLLECTION_TASKS, [("MaxLimit", str(MAX_COLLECTION_TASKS))])
        if not tasks:
            raise self._bad_prop("value", "[]", "The collection must contain at least one task.")
        results = []
        prepared = []
        for tb in tasks:
            if not isinstance(tb, dict):
                raise BatchFault(400, "InvalidRequestBody", "The specified Request Body is not syntactically valid.")
            self._validate("BatchTaskCreateOptions", tb)
        with self.cond:
            j = self._job(c, jid)
            self._job_accepts_tasks(j)
            for tb in tasks:
                try:
                    d = self._prepare_task(c, j, tb)
                    self._insert_task(j, d)
                    results.append({"status": "success", "taskId": d["id"], "eTag": d["eTag"],
                                    "lastModified": d["lastModified"], "location": d["url"]})
                    prepared.append(d)
                except BatchFault as f:
                    results.append({"status": "clienterror", "taskId": tb.get("id"),
                                    "error": {"code": f.code, "message": {
                                        "lang": "en-US", "value": "%s\nRequestId:%s\nTime:%s" %
                                        (f.message, c.request_id, iso())},
                                        "values": [{"key": k, "value": v} for k, v in f.values]}})
            self.cond.notify_all()
        return self._json(200, {"value": results})

    def _task_view(self, t):
        d = copy.deepcopy(t.d)
        return d

    def get_task(self, c, jid, tid):
        with self.lock:
            _j, t = self._task(c, jid, tid)
            d = self._task_view(t)
        return self._json(200, apply_select(d, c.req.query.get("$select")), self._entity_headers(d))

    def list_tasks(self, c, jid):
        with self.lock:
            j = self._job(c, jid)
            # copy lazily: the filter sees the live dicts, only the page is copied
            items = [t.d for t in j.tasks.values()]
            flt = c.req.query.get("$filter")
            if flt:
                try:
                    pred = compile_filter(flt)
                except FilterError as e:
                    raise BatchFault(400, "InvalidQueryParameterValue",
                                     "Value for one of the query parameters specified in the request URI is invalid.",
                                     [("QueryParameterName", "$filter"), ("QueryParameterValue", flt),
                                      ("Reason", str(e))])
                items = [x for x in items if pred(x)]
            q = dict(c.req.query)
            q.pop("$filter", None)
            c2 = Ctx(_QueryOverride(c.req, q), c.account, c.request_id)
            return self._list(c2, items, "tasks", transform=copy.deepcopy)

    def put_task(self, c, jid, tid):
        body = self._body(c, "BatchTask")
        with self.lock:
            _j, t = self._task(c, jid, tid)
            if t.state == "completed":
                raise BatchFault(409, "TaskCompleted", "The specified task is already completed.")
            if "constraints" in body:
                t.d["constraints"].update(body["constraints"] or {})
            touch(t.d)
            return self._empty(200, self._entity_headers(t.d))

    def delete_task(self, c, jid, tid):
        with self.cond:
            j, t = self._task(c, jid, tid)
            if t.cancel is not None:
                self._cancel_task(t, "delete")
            self._count(t, t.state, None)
            j.tasks.pop(t.key, None)
            j.queue.pop(t.key, None)
            self.cond.notify_all()
        return self._empty(200)

    def task_action(self, c, jid, tid, what):
        with self.cond:
            j, t = self._task(c, jid, tid)
            if what == "terminate":
                if t.state == "completed":
                    return self._empty(204, self._entity_headers(t.d))
                if t.cancel is not None:
                    self._cancel_task(t, "terminate")
                else:
                    j.queue.pop(t.key, None)
                    self._complete(t, None, {"category": "usererror", "code": "TaskEnded",
                                             "message": "The task was terminated by the user."})
                return self._empty(204, self._entity_headers(t.d))
            if what == "reactivate":
                if t.state != "completed" or t.d.get("executionInfo", {}).get("result") != "failure":
                    raise BatchFault(409, "OperationInvalidForCurrentState",
                                     "Only a failed, completed task can be reactivated.")
                if j.d["state"] in ("completed", "terminating", "deleting"):
                    raise BatchFault(409, "JobCompleted", "The job is completed.")
                self._set_state(t, "active")
                t.d["executionInfo"] = {"retryCount": 0, "requeueCount": t.d["executionInfo"].get("requeueCount", 0)}
                t.d.pop("nodeInfo", None)
                j.queue[t.key] = t
                self.cond.notify_all()
                return self._empty(204, self._entity_headers(t.d))
        raise BatchFault(404, "InvalidUri", "The requested URI does not represent any resource on the server.")

    def list_subtasks(self, c, jid, tid):
        with self.lock:
            _j, t = self._task(c, jid, tid)
            items = copy.deepcopy(t.subtasks)
        body = {"odata.metadata": "%s/$metadata#subtaskinfo" % c.account.url,
                "value": [apply_select(x, c.req.query.get("$select")) for x in items]}
        return self._json(200, body)

    # ------------------------------------------------------------ task files
    def _task_root(self, t):
        if not t.root:
            raise BatchFault(409, "OperationInvalidForCurrentState",
                             "The task has not been assigned to a node; it has no files yet.")
        return t.root

    def list_task_files(self, c, jid, tid):
        with self.lock:
            _j, t = self._task(c, jid, tid)
            root = self._task_root(t)
            base = t.d["url"] + "/files/"
        return self._list_files(c, root, base)

    def _list_files(self, c, root, base_url):
        rec = _bool(c.req.query.get("recursive", "false"))
        items = []
        for name, path, is_dir in runner.list_files(root, rec):
            try:
                stt = os.stat(path)
            except OSError:
                continue
            item = {"name": name, "url": base_url + urllib.parse.quote(name), "isDirectory": is_dir,
                    "properties": {"creationTime": iso(stt.st_ctime), "lastModified": iso(stt.st_mtime),
                                   "contentLength": str(0 if is_dir else stt.st_size),
                                   "contentType": "application/octet-stream",
                                   "fileMode": "%o" % (stt.st_mode & 0o7777)}}
            if is_dir:
                item.pop("properties")
            items.append(item)
        return self._list(c, items, "files")

    def get_task_file(self, c, jid, tid, path):
        with self.lock:
            _j, t = self._task(c, jid, tid)
            root = self._task_root(t)
            url = t.d["url"] + "/files/" + urllib.parse.quote(path)
        return self._serve_file(c, root, path, url)

    def delete_task_file(self, c, jid, tid, path):
        with self.lock:
            _j, t = self._task(c, jid, tid)
            root = self._task_root(t)
        full = _safe_join(root, path)
        if not os.path.exists(full):
            raise BatchFault(404, "FileNotFound", "The specified file does not exist.")
        if os.path.isdir(full):
            if not _bool(c.req.query.get("recursive", "false")) and os.listdir(full):
                raise BatchFault(409, "OperationInvalidForCurrentState",
                                 "The directory is not empty; use recursive=true.")
            shutil.rmtree(full, ignore_errors=True)
        else:
            os.unlink(full)
        return self._empty(200)

    def list_node_files(self, c, pid, nid):
        with self.lock:
            p = self._pool(c, pid)
            n = p.nodes.get(nid)
            if n is None:
                raise BatchFault(404, "NodeNotFound", "The specified node does not exist.")
            root, base = n.root, n.d["url"] + "/files/"
        return self._list_files(c, root, base)

    def get_node_file(self, c, pid, nid, path):
        with self.lock:
            p = self._pool(c, pid)
            n = p.nodes.get(nid)
            if n is None:
                raise BatchFault(404, "NodeNotFound", "The specified node does not exist.")
            root = n.root
            url = n.d["url"] + "/files/" + urllib.parse.quote(path)
        return self._serve_file(c, root, path, url)

    def _serve_file(self, c, root, path, url):
        full = _safe_join(root, path)
        if not os.path.exists(full):
            raise BatchFault(404, "FileNotFound", "The specified file does not exist.")
        stt = os.stat(full)
        is_dir = os.path.isdir(full)
        headers = {"ocp-creation-time": http_date(stt.st_ctime), "Last-Modified": http_date(stt.st_mtime),
                   "ocp-batch-file-isdirectory": "true" if is_dir else "false", "ocp-batch-file-url": url,
                   "ocp-batch-file-mode": "%o" % (stt.st_mode & 0o7777),
                   "ETag": "0x8D%013X" % (int(stt.st_mtime_ns // 100) & 0xFFFFFFFFFFFFF)}
        size = 0 if is_dir else stt.st_size
        ims = c.req.headers.get("If-Modified-Since")
        if ims:
            try:
                from email.utils import parsedate_to_datetime
                if int(stt.st_mtime) <= parsedate_to_datetime(ims).timestamp():
                    return self._empty(304, headers)
            except (TypeError, ValueError):
                pass
        if c.req.method == "HEAD":
            headers["Content-Length"] = str(size)
            return Response(200, b"", headers, content_type="application/octet-stream")
        if is_dir:
            raise BatchFault(400, "InvalidUri",
                             "The specified path is a directory.")
        rng = c.req.headers.get("ocp-range") or c.req.headers.get("Range")
        with open(full, "rb") as f:
            if rng:
                m = re.match(r"^\s*bytes=(\d*)-(\d*)\s*$", rng)
                if not m or (not m.group(1) and not m.group(2)):
                    raise BatchFault(416, "InvalidRange", "The range specified is invalid for the current size "
                                     "of the resource.", headers={"Content-Range": "bytes */%d" % size})
                if m.group(1):
                    a = int(m.group(1))
                    b = int(m.group(2)) if m.group(2) else size - 1
                else:
                    a = max(0, size - int(m.group(2)))
                    b = size - 1
                b = min(b, size - 1)
                if a >= size or a > b:
                    raise BatchFault(416, "InvalidRange", "The range specified is invalid for the current size "
                                     "of the resource.", headers={"Content-Range": "bytes */%d" % size})
                f.seek(a)
                data = f.read(b - a + 1)
                headers["Content-Range"] = "bytes %d-%d/%d" % (a, b, size)
            else:
                data = f.read()
        return Response(200, data, headers, content_type="application/octet-stream")

    # ------------------------------------------------------------ task state bookkeeping
    def _count(self, t, old, new):
        j = t.job
        if old is not None:
            j.counts[old] -= 1
            j.slot_counts[old] -= t.slots
            j.inst_counts[old] -= t.instances
            if old == "completed":
                if t.d.get("executionInfo", {}).get("result") == "success":
                    j.succeeded -= 1
                    j.slots_succeeded -= t.slots
                else:
                    j.failed -= 1
                    j.slots_failed -= t.slots
        if new is not None:
            j.counts[new] += 1
            j.slot_counts[new] += t.slots
            j.inst_counts[new] += t.instances

    def _set_state(self, t, new):
        old = t.d["state"]
        if old == new:
            return
        self._count(t, old, new)
        now = iso()
        t.d["previousState"], t.d["previousStateTransitionTime"] = old, t.d["stateTransitionTime"]
        t.d["state"], t.d["stateTransitionTime"] = new, now
        touch(t.d)

    def _complete(self, t, exit_code, failure):
        ei = t.d.setdefault("executionInfo", {"retryCount": 0, "requeueCount": 0})
        ei["endTime"] = iso()
        if exit_code is not None:
            ei["exitCode"] = exit_code
        if failure:
            ei["failureInfo"] = failure
            ei["result"] = "failure"
        else:
            ei.pop("failureInfo", None)
            ei["result"] = "success"
        self._set_state(t, "completed")
        j = t.job
        if ei["result"] == "success":
            j.succeeded += 1
            j.slots_succeeded += t.slots
        else:
            j.failed += 1
            j.slots_failed += t.slots

    def _cancel_task(self, t, reason):
        """Under the lock: stop a running task; reason requeue|terminate|delete."""
        t.cancel_reason = reason
        if t.cancel is not None:
            t.cancel.set()

    # ------------------------------------------------------------ scheduler
    def _spawn(self, fn, *args):
        th = threading.Thread(target=self._guard, args=(fn,) + args, daemon=True)
        with self.lock:
            self.threads.add(th)
        th.start()
        return th

    def _guard(self, fn, *args):
        try:
            fn(*args)
        except Exception:
            import traceback
            traceback.print_exc()
        finally:
            with self.cond:
                self.threads.discard(threading.current_thread())
                self.cond.notify_all()

    def _loop(self):
        with self.cond:
            while not self.stopping:
                try:
                    timeout = self._tick()
                except Exception:
                    import traceback
                    traceback.print_exc()
                    timeout = 1.0
                if self.stopping:
                    break
                self.cond.wait(max(0.05, min(timeout, 5.0)))

    def _tick(self):
        now = time.time()
        wake = now + 5.0
        interval = float(self._s("autoscale_interval", 2.0))
        for a in list(self.accounts.values()):
            for key, p in list(a.pools.items()):
                if p.d["state"] == "deleting":
                    if p.delete_at is not None and now >= p.delete_at and not any(n.running for n in p.nodes.values()):
                        a.pools.pop(key, None)
                    else:
                        wake = min(wake, (p.delete_at or now + 0.5))
                    continue
                if p.d.get("enableAutoScale") and p.program is not None:
                    if now >= p.next_eval:
                        self._autoscale(p, apply=True)
                        p.next_eval = now + interval
                    wake = min(wake, p.next_eval)
                for n in list(p.nodes.values()):
                    if n.d["state"] == "creating":
                        if now >= n.ready_at - float(self._s("node_alloc_seconds", 0.5)) / 2:
                            n.set_state("starting")
                        wake = min(wake, n.ready_at)
                    if n.d["state"] == "starting" and now >= n.ready_at:
                        self._node_ready(n)
                    elif n.d["state"] == "starting":
                        wake = min(wake, n.ready_at)
                    if n.leaving and not n.running:
                        p.nodes.pop(n.id, None)
                self._reconcile(p)
            for key, j in list(a.jobs.items()):
                if j.d["state"] == "deleting":
                    if j.delete_at is not None and now >= j.delete_at:
                        a.jobs.pop(key, None)
                    continue
                if j.d["state"] == "active":
                    self._schedule_job(a, j)
                    if (j.d.get("onAllTasksComplete") == "terminatejob" and not j.finishing
                            and j.counts["active"] == 0 and j.counts["running"] == 0
                            and j.counts["preparing"] == 0):
                        self._terminate_job(j, "AllTasksComplete")
        return wake - now

    def _deps_met(self, j, t):
        dep = t.d.get("dependsOn")
        if not dep:
            return True
        ids = list(dep.get("taskIds") or [])
        for r in dep.get("taskIdRanges") or []:
            ids.extend(str(i) for i in range(int(r["start"]), int(r["end"]) + 1))
        for i in ids:
            o = j.tasks.get(str(i).lower())
            if o is None or o.state != "completed":
                return False
            if o.d["executionInfo"].get("result") != "success":
                ec = o.d["executionInfo"].get("exitCode")
                action = "block"
                for m in (o.d.get("exitConditions") or {}).get("exitCodes") or []:
                    if m.get("code") == ec:
                        action = (m.get("exitOptions") or {}).get("dependencyAction", action)
                if action != "satisfy":
                    return False
        return True

    def _schedule_job(self, a, j):
        if not j.queue:
            return
        p = a.pools.get(j.pool_id())
        if p is None or p.d["state"] != "active":
            return
        nodes = [n for n in p.nodes.values() if n.schedulable() and j.id.lower() not in n.excluded_jobs]
        if not nodes:
            return
        maxpar = int(j.d.get("maxParallelTasks", -1))
        running = j.counts["running"] + j.counts["preparing"]
        pack = (p.d.get("taskSchedulingPolicy") or {}).get("nodeFillType", "spread") == "pack"
        placed = []
        for key, t in j.queue.items():
            if 0 <= maxpar <= running:
                break
            free = [n for n in nodes if n.free_slots() >= t.slots]
            if not free:
                if all(n.free_slots() <= 0 for n in nodes):
                    break
                continue
            if t.instances > 1 or t.d.get("multiInstanceSettings"):
                if not p.d.get("enableInterNodeCommunication") or int(p.d.get("taskSlotsPerNode") or 1) != 1:
                    continue            # never scheduled, as on Batch
                if len(free) < t.instances:
                    continue
                chosen = sorted(free, key=lambda n: n.slots_used)[:t.instances]
            else:
                if not self._deps_met(j, t):
                    continue
                chosen = [sorted(free, key=lambda n: (-n.slots_used if pack else n.slots_used))[0]]
            placed.append(key)
            running += 1
            self._place(t, chosen)
        for key in placed:
            j.queue.pop(key, None)

    def _place(self, t, nodes):
        """Under the lock: bind t to nodes and start its thread."""
        j = t.job
        t.nodes = nodes
        t.cancel = threading.Event()
        t.cancel_reason = None
        for n in nodes:
            n.slots_used += t.slots
            n.running.add(t)
            n.set_state("running")
        primary = nodes[0]
        jdir = os.path.join(primary.root, "workitems", j.id, "job-1")
        t.root = os.path.join(jdir, t.d["id"])
        t.node_root = primary.root
        rel = _rel(primary.root, t.root)
        t.d["nodeInfo"] = {"affinityId": primary.d["affinityId"], "nodeUrl": primary.d["url"],
                           "poolId": primary.pool.id, "nodeId": primary.id, "taskRootDirectory": rel,
                           "taskRootDirectoryUrl": "%s/files/%s" % (primary.d["url"], rel)}
        needs_prep = False
        if j.d.get("jobPreparationTask"):
            rec = primary.prep.get(j.id.lower())
            needs_prep = any((n.prep.get(j.id.lower()) is None or n.prep[j.id.lower()].state != "completed")
                             for n in nodes)
            del rec
        self._set_state(t, "preparing" if needs_prep else "running")
        if not needs_prep:
            t.d["executionInfo"]["startTime"] = iso()
        self._spawn(self._run_task, t)

    def _release_nodes(self, t):
        for n in t.nodes:
            n.running.discard(t)
            n.slots_used = max(0, n.slots_used - t.slots)
            if n.leaving:
                if not n.running:
                    n.pool.nodes.pop(n.id, None)
            elif not n.running and n.d["state"] == "running":
                n.set_state("idle" if n.d["schedulingState"] == "enabled" else "offline")
        t.cancel = None

    # ------------------------------------------------------------ running
    def _env(self, n, j, tdir, wd, extra=None, task_id=None):
        env = {k: os.environ[k] for k in ENV_PASS if k in os.environ}
        # A pool node's PATH is the distribution's default, not the emulator user's (whose pyenv or
        # virtualenv shims would hide the system python3 that has mpi4py).
        env["PATH"] = os.environ.get("AZLUA_EMULATOR_NODE_PATH",
                                     "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        p = n.pool
        env.update({
            "AZ_BATCH_ACCOUNT_NAME": p.account.name, "AZ_BATCH_ACCOUNT_URL": p.account.url,
            "AZ_BATCH_POOL_ID": p.id, "AZ_BATCH_NODE_ID": n.id,
            "AZ_BATCH_NODE_IS_DEDICATED": "true" if n.dedicated else "false",
            "AZ_BATCH_NODE_ROOT_DIR": n.root, "AZ_BATCH_NODE_SHARED_DIR": os.path.join(n.root, "shared"),
            "AZ_BATCH_NODE_STARTUP_DIR": os.path.join(n.root, "startup"),
            "AZ_BATCH_NODE_STARTUP_WORKING_DIR": os.path.join(n.root, "startup", "wd"),
            "AZ_BATCH_NODE_MOUNTS_DIR": os.path.join(n.root, "fsmounts"),
            "AZ_BATCH_CERTIFICATES_DIR": os.path.join(tdir, "certs"),
            "AZ_BATCH_TASK_DIR": tdir, "AZ_BATCH_TASK_WORKING_DIR": wd,
            "AZ_BATCH_TASK_USER_IDENTITY": "PoolNonAdmin", "AZ_BATCH_OS_RESERVED_EPHEMERAL_DISK_SPACE_BYTES": "1000000000",
        })
        if j is not None:
            env["AZ_BATCH_JOB_ID"] = j.id
            env["AZ_BATCH_TASK_ID"] = task_id or ""
            jp = j.d.get("jobPreparationTask")
            if jp and task_id != (jp.get("id") or "jobpreparation"):
                pdir = os.path.join(n.root, "workitems", j.id, "job-1", jp.get("id") or "jobpreparation")
                env["AZ_BATCH_JOB_PREP_DIR"] = pdir
                env["AZ_BATCH_JOB_PREP_WORKING_DIR"] = os.path.join(pdir, "wd")
        else:
            env["AZ_BATCH_TASK_ID"] = task_id or "starttask"
        if os.geteuid() == 0:
            env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
            env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        for e in extra or []:
            if e.get("name"):
                env[e["name"]] = e.get("value") or ""
        return env

    def _ensure_prep(self, j, n):
        """Run (or wait for) the job preparation task on node n.  True when tasks may run."""
        jp = j.d.get("jobPreparationTask")
        if not jp:
            return True
        key = j.id.lower()
        with self.cond:
            rec = n.prep.get(key)
            if rec is None:
                rec = PrepRecord()
                rec.done = threading.Event()
                rec.state = "running"
                n.prep[key] = rec
                j.prep_nodes[n.id] = (n.pool.id, n, rec)
                mine = True
            else:
                mine = False
        if not mine:
            rec.done.wait(parse_duration(jp.get("constraints", {}).get("maxWallClockTime") or "P1D") or 86400)
            return bool(rec.ok) or not jp.get("waitForSuccess", True)
        jdir = os.path.join(n.root, "workitems", j.id, "job-1")
        tdir = os.path.join(jdir, jp.get("id") or "jobpreparation")
        wd = os.path.join(tdir, "wd")
        os.makedirs(wd, exist_ok=True)
        rel = _rel(n.root, tdir)
        with self.lock:
            rec.info = {"state": "running", "startTime": iso(), "taskRootDirectory": rel,
                        "taskRootDirectoryUrl": "%s/files/%s" % (n.d["url"], rel), "retryCount": 0}
        env = self._env(n, j, tdir, wd, extra=(j.d.get("commonEnvironmentSettings") or []) +
                        (jp.get("environmentSettings") or []), task_id=jp.get("id") or "jobpreparation")
        cons = jp.get("constraints") or {}
        retries = int(cons.get("maxTaskRetryCount") or 0)
        attempt, code, fail = 0, None, None
        while True:
            try:
                runner.download_resource_files(jp.get("resourceFiles"), wd)
                code, reason, _ = runner.run_command(self.procs, jp["commandLine"], wd, env,
                                                     os.path.join(tdir, "stdout.txt"),
                                                     os.path.join(tdir, "stderr.txt"),
                                                     timeout=parse_duration(cons.get("maxWallClockTime") or ""))
                fail = None if code == 0 else _failure_exit(code, reason)
            except runner.ResourceFileError as e:
                code, fail = None, {"category": "usererror", "code": e.code, "message": e.message,
                                    "details": e.details}
                break
            if code == 0 or self.stopping or (retries != -1 and attempt >= retries):
                break
            attempt += 1
            with self.lock:
                rec.info["retryCount"] = attempt
        with self.cond:
            rec.info.update({"state": "completed", "endTime": iso(), "result": "success" if not fail else "failure"})
            if code is not None:
                rec.info["exitCode"] = code
            if fail:
                rec.info["failureInfo"] = fail
            rec.state = "completed"
            rec.ok = fail is None
            if not rec.ok and jp.get("waitForSuccess", True):
                n.excluded_jobs.add(key)
            rec.done.set()
            self.cond.notify_all()
        return rec.ok or not jp.get("waitForSuccess", True)

    def _run_task(self, t):
        j = t.job
        try:
            if t.state == "preparing":
                ok = all(self._ensure_prep(j, n) for n in list(t.nodes))
                with self.cond:
                    if t.cancel_reason:
                        self._finish_cancelled(t)
                        return
                    if not ok:
                        # back to the queue; the node refuses this job from now on
                        self._set_state(t, "active")
                        t.d.pop("nodeInfo", None)
                        self._release_nodes(t)
                        j.queue[t.key] = t
                        self.cond.notify_all()
                        return
                    self._set_state(t, "running")
                    t.d["executionInfo"]["startTime"] = iso()
            if t.d.get("multiInstanceSettings"):
                code, failure = self._exec_multi(t)
            else:
                code, failure = self._exec_single(t)
            with self.cond:
                if t.cancel_reason:
                    self._finish_cancelled(t, code)
                    return
                self._complete(t, code, failure)
                for n in t.nodes:
                    n.d["totalTasksRun"] += 1
                    if not failure:
                        n.d["totalTasksSucceeded"] += 1
                self._release_nodes(t)
                self.cond.notify_all()
        except Exception:
            import traceback
            traceback.print_exc()
            with self.cond:
                if t.state != "completed" and t.key in j.tasks:
                    self._complete(t, None, {"category": "servererror", "code": "InternalError",
                                             "message": "The emulator failed to run the task."})
                self._release_nodes(t)
                self.cond.notify_all()

    def _finish_cancelled(self, t, code=None):
        """Under the lock, after the process is gone."""
        j = t.job
        reason = t.cancel_reason
        self._release_nodes(t)
        t.cancel_reason = None
        if reason == "requeue":
            self._set_state(t, "active")
            ei = t.d["executionInfo"]
            ei["requeueCount"] = ei.get("requeueCount", 0) + 1
            ei["lastRequeueTime"] = iso()
            t.d.pop("nodeInfo", None)
            if t.key in j.tasks:
                j.queue[t.key] = t
        elif reason == "terminate":
            self._complete(t, code if code is not None else 137, {
                "category": "usererror", "code": "TaskEnded",
                "message": "The task was terminated before it completed."})
        # delete: the task is gone already
        self.cond.notify_all()

    def _task_dirs(self, t, n):
        jdir = os.path.join(n.root, "workitems", t.job.id, "job-1")
        tdir = os.path.join(jdir, t.d["id"])
        return tdir, os.path.join(tdir, "wd")

    def _exec_single(self, t):
        j, n = t.job, t.nodes[0]
        tdir, wd = self._task_dirs(t, n)
        os.makedirs(wd, exist_ok=True)
        env = self._env(n, j, tdir, wd, extra=(j.d.get("commonEnvironmentSettings") or []) +
                        (t.d.get("environmentSettings") or []), task_id=t.d["id"])
        return self._exec_with_retries(t, t.d["commandLine"], tdir, wd, env, t.d.get("resourceFiles"))

    def _exec_with_retries(self, t, command, tdir, wd, env, resource_files):
        cons = t.d.get("constraints") or {}
        timeout = parse_duration(cons.get("maxWallClockTime") or "")
        if timeout is not None and timeout > 180 * 86400:
            timeout = None
        retries = int(cons.get("maxTaskRetryCount") or 0)
        try:
            runner.download_resource_files(resource_files, wd)
        except runner.ResourceFileError as e:
            return None, {"category": "usererror", "code": e.code, "message": e.message, "details": e.details}
        attempt = 0
        while True:
            code, reason, _ = runner.run_command(self.procs, command, wd, env, os.path.join(tdir, "stdout.txt"),
                                                 os.path.join(tdir, "stderr.txt"), timeout=timeout,
                                                 cancel=t.cancel)
            failure = None if code == 0 and reason is None else _failure_exit(code, reason)
            if failure is None or reason in ("cancelled", "timeout") or t.cancel.is_set() or self.stopping:
                break
            if retries != -1 and attempt >= retries:
                break
            attempt += 1
            with self.lock:
                ei = t.d["executionInfo"]
                ei["retryCount"] = attempt
                ei["lastRetryTime"] = iso()
        up = self._upload_outputs(t, wd, tdir, env, failure is None)
        if up and failure is None:
            failure = {"category": "usererror", "code": up[0], "message": up[1]}
        return code, failure

    def _upload_outputs(self, t, wd, tdir, env, ok):
        outs = t.d.get("outputFiles")
        if not outs:
            return None

        def cond(c):
            return c == "taskcompletion" or (c == "tasksuccess" and ok) or (c == "taskfailure" and not ok)
        return runner.upload_output_files(outs, wd, env, cond, os.path.join(tdir, "fileuploadout.txt"),
                                          os.path.join(tdir, "fileuploaderr.txt"))

    def _exec_multi(self, t):
        j = t.job
        mis = t.d["multiInstanceSettings"]
        nodes = list(t.nodes)
        hosts = [n.d["ipAddress"] for n in nodes]
        master = nodes[0]
        base_env = {"AZ_BATCH_HOST_LIST": ",".join(hosts), "AZ_BATCH_NODE_LIST": ";".join(hosts),
                    "AZ_BATCH_MASTER_NODE": "%s:6000" % master.d["ipAddress"],
                    "CCP_NODES": " ".join([str(len(nodes))] + ["%s 1" % h for h in hosts]),
                    # every node is this machine: keep Open MPI on loopback and off ptrace-based copies
                    "OMPI_MCA_btl_vader_single_copy_mechanism": "none"}
        with self.lock:
            t.subtasks = []
            for i, n in enumerate(nodes[1:], start=1):
                sdir = os.path.join(self._task_dirs(t, n)[0], str(i))
                rel = _rel(n.root, sdir)
                t.subtasks.append({"id": i, "nodeInfo": {"affinityId": n.d["affinityId"], "nodeUrl": n.d["url"],
                                                         "poolId": n.pool.id, "nodeId": n.id,
                                                         "taskRootDirectory": rel,
                                                         "taskRootDirectoryUrl": "%s/files/%s" % (n.d["url"], rel)},
                                   "startTime": iso(), "state": "running", "stateTransitionTime": iso()})
        envs, dirs = [], []
        try:
            for i, n in enumerate(nodes):
                shared, wd = self._task_dirs(t, n)
                idir = shared if i == 0 else os.path.join(shared, str(i))
                os.makedirs(wd, exist_ok=True)
                os.makedirs(idir, exist_ok=True)
                env = self._env(n, j, shared if i == 0 else idir, wd,
                                extra=(j.d.get("commonEnvironmentSettings") or []) +
                                (t.d.get("environmentSettings") or []), task_id=t.d["id"])
                env.update(base_env)
                env["AZ_BATCH_IS_CURRENT_NODE_MASTER"] = "true" if i == 0 else "false"
                env["AZ_BATCH_TASK_SHARED_DIR"] = shared
                env["AZ_BATCH_INSTANCE_ID"] = str(i)
                runner.download_resource_files(mis.get("commonResourceFiles"), shared)
                envs.append(env)
                dirs.append((shared, wd, idir))
        except runner.ResourceFileError as e:
            self._end_subtasks(t, None)
            return None, {"category": "usererror", "code": e.code, "message": e.message, "details": e.details}
        # coordination command on every instance, concurrently; all must exit 0
        results = [None] * len(nodes)
        groups = []

        def coord(i):
            shared, wd, idir = dirs[i]
            out = os.path.join(idir, "coordination-stdout.txt" if i == 0 else "stdout.txt")
            err = os.path.join(idir, "coordination-stderr.txt" if i == 0 else "stderr.txt")
            code, reason, p = runner.run_command(self.procs, mis["coordinationCommandLine"], wd, envs[i], out, err,
                                                 cancel=t.cancel, keep_group=True)
            results[i] = (code, reason)
            if p is not None:
                groups.append(p)
        ths = [threading.Thread(target=coord, args=(i,), daemon=True) for i in range(len(nodes))]
        for th in ths:
            th.start()
        for th in ths:
            th.join()
        try:
            bad = [(i, r) for i, r in enumerate(results) if r is None or r[0] != 0 or r[1]]
            if bad:
                i, r = bad[0]
                self._end_subtasks(t, results)
                return (r[0] if r else None), {
                    "category": "usererror", "code": "FailureExitCode",
                    "message": "The coordination command of instance %d exited with code %s" % (i, r and r[0]),
                    "details": [{"name": "Instance", "value": str(i)}]}
            shared, wd, _ = dirs[0]
            code, failure = self._exec_with_retries(t, t.d["commandLine"], shared, wd, envs[0], t.d.get("resourceFiles"))
        finally:
            for p in groups:            # the application ended: stop what the coordination left running
                runner.kill_group(p)
                self.procs.done(p)
        self._end_subtasks(t, results)
        return code, failure

    def _end_subtasks(self, t, results):
        with self.lock:
            for s in t.subtasks:
                r = results[s["id"]] if results else None
                s["previousState"], s["previousStateTransitionTime"] = s["state"], s["stateTransitionTime"]
                s["state"], s["stateTransitionTime"], s["endTime"] = "completed", iso(), iso()
                if r and r[0] is not None:
                    s["exitCode"] = r[0]
                s["result"] = "success" if r and r[0] == 0 else "failure"
                if s["result"] == "failure":
                    s["failureInfo"] = {"category": "usererror", "code": "FailureExitCode",
                                        "message": "The coordination command exited with a non-zero code"}


# ---------------------------------------------------------------- helpers
class _QueryOverride:
    def __init__(self, req, query):
        self._req = req
        self.query = query

    def __getattr__(self, name):
        return getattr(self._req, name)


def _transition(d, state):
    d["previousState"], d["previousStateTransitionTime"] = d["state"], d["stateTransitionTime"]
    d["state"], d["stateTransitionTime"] = state, iso()


def _failure_exit(code, reason):
    if reason == "timeout":
        return {"category": "usererror", "code": "MaxWallClockTimeExpiry",
                "message": "The task exceeded its maximum wall clock time and was terminated.",
                "details": [{"name": "Message", "value": "The task exceeded its maxWallClockTime"}]}
    if reason == "cancelled":
        return {"category": "usererror", "code": "TaskEnded", "message": "The task was terminated."}
    if reason and reason.startswith("launch"):
        return {"category": "usererror", "code": "CommandProgramNotFound",
                "message": "The specified command program could not be started: %s" % reason}
    return {"category": "usererror", "code": "FailureExitCode",
            "message": "The task process exited with an unexpected exit code",
            "details": [{"name": "Message", "value": "The task process exited with an unexpected exit code"}]}


def _rel(root, path):
    return os.path.relpath(path, root).replace(os.sep, "/")


def _safe_join(root, path):
    full = os.path.normpath(os.path.join(root, path.lstrip("/")))
    if full != root and not full.startswith(root.rstrip("/") + "/"):
        raise BatchFault(404, "FileNotFound", "The specified file does not exist.")
    return full


def _rfc1123(iso_text):
    if not iso_text:
        return http_date()
    try:
        t = time.strptime(iso_text[:19], "%Y-%m-%dT%H:%M:%S")
        import calendar
        return http_date(calendar.timegm(t))
    except ValueError:
        return http_date()


def _query_pairs(raw):
    out = []
    for pair in (raw or "").split("&"):
        if pair:
            k, _, v = pair.partition("=")
            out.append((urllib.parse.unquote_plus(k), urllib.parse.unquote_plus(v)))
    return out


def _resp_text(resp):
    try:
        b = resp.body.decode("utf-8", "replace") if isinstance(resp.body, bytes) else str(resp.body)
        return b[:300]
    except Exception:
        return "invalid bearer token"
