"""Fault injection for the emulator.

Spec syntax (the --faults option, also accepted by POST /_emulator/faults as
{"spec": "..."}): comma-separated name=value pairs.

  rates (probability 0..1 per request, checked in this order):
    reset_before   close the connection (TCP RST) before the request is processed
    429            429 TooManyRequests with Retry-After (not processed)
    503            503 ServerBusy / ServiceUnavailable with Retry-After (not processed)
    500            500 OperationTimedOut (not processed)
    slow           the response is delayed by slow_seconds (processed)
    reset_after    the request IS processed, then the connection is reset without a response
    truncate       the request IS processed; the body is cut short (Content-Length larger
                   than what is sent) and the connection closed
  parameters:
    seed=N           seed of the random generator (default: random)
    retry_after=S    Retry-After seconds for 429/503 (default 1)
    slow_seconds=S   delay of a slow response (default 2)
    only=arm+token+batch   which kinds of request get faults (default all three)
    match=REGEX      only requests whose path matches (default all)

Deterministic one-shot faults: POST /_emulator/faults {"next": ["reset_after", "429"],
"match": "/pools"} queues faults applied, in order, to the next matching requests.
Admin paths (/_emulator/...) never get faults.
"""
import random
import re
import threading

FAULT_NAMES = ("reset_before", "429", "503", "500", "slow", "reset_after", "truncate")
BEFORE = ("reset_before", "429", "503", "500")
KINDS = ("arm", "token", "batch")


class FaultSpecError(ValueError):
    pass


def parse_spec(spec):
    """Parse a spec string into a config dict; raise FaultSpecError."""
    cfg = {"rates": {}, "seed": None, "retry_after": 1, "slow_seconds": 2.0,
           "only": list(KINDS), "match": None}
    if not spec:
        return cfg
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        if "=" not in item:
            raise FaultSpecError("fault item %r is not name=value" % item)
        k, v = (x.strip() for x in item.split("=", 1))
        if k in FAULT_NAMES:
            try:
                r = float(v)
            except ValueError:
                raise FaultSpecError("rate of %s must be a number, got %r" % (k, v))
            if not 0 <= r <= 1:
                raise FaultSpecError("rate of %s must be within 0..1" % k)
            cfg["rates"][k] = r
        elif k == "seed":
            cfg["seed"] = int(v)
        elif k == "retry_after":
            cfg["retry_after"] = int(v)
        elif k == "slow_seconds":
            cfg["slow_seconds"] = float(v)
        elif k == "only":
            kinds = [x for x in re.split(r"[+|/ ]", v) if x]
            bad = [x for x in kinds if x not in KINDS]
            if bad:
                raise FaultSpecError("unknown kind(s) %s (use %s)" % (bad, "+".join(KINDS)))
            cfg["only"] = kinds
        elif k == "match":
            try:
                re.compile(v)
            except re.error as e:
                raise FaultSpecError("bad match regex: %s" % e)
            cfg["match"] = v
        else:
            raise FaultSpecError("unknown fault %r (known: %s, seed, retry_after, slow_seconds, only, match)"
                                 % (k, ", ".join(FAULT_NAMES)))
    if sum(cfg["rates"].get(k, 0) for k in BEFORE) > 1:
        raise FaultSpecError("the rates of reset_before, 429, 503 and 500 add up to more than 1")
    return cfg


class Faults:
    def __init__(self, spec=None):
        self.lock = threading.Lock()
        self.queue = []          # [(fault, match_regex_or_None)]
        self.counts = {k: 0 for k in FAULT_NAMES}
        self.set_spec(spec)

    def set_spec(self, spec):
        cfg = parse_spec(spec) if isinstance(spec, (str, type(None))) else spec
        with self.lock:
            self.cfg = cfg
            self.spec = spec if isinstance(spec, str) else None
            self.rng = random.Random(cfg["seed"])

    def set_from_json(self, body):
        """Admin endpoint body: {"spec": "..."} and/or {"next": [...], "match": "..."}."""
        if not isinstance(body, dict):
            raise FaultSpecError("body must be a JSON object")
        if "spec" in body:
            self.set_spec(body["spec"] or "")
        if "next" in body:
            nxt = body["next"]
            if isinstance(nxt, str):
                nxt = [nxt]
            bad = [x for x in nxt if x not in FAULT_NAMES]
            if bad:
                raise FaultSpecError("unknown fault(s) %s" % bad)
            m = body.get("match")
            if m:
                re.compile(m)
            with self.lock:
                self.queue.extend((x, m) for x in nxt)
        if body.get("clear"):
            with self.lock:
                self.queue = []
            self.set_spec("")

    def describe(self):
        with self.lock:
            return {"spec": self.spec, "rates": dict(self.cfg["rates"]), "seed": self.cfg["seed"],
                    "retry_after": self.cfg["retry_after"], "slow_seconds": self.cfg["slow_seconds"],
                    "only": self.cfg["only"], "match": self.cfg["match"],
                    "next": [x for x, _ in self.queue], "injected": dict(self.counts)}

    def choose(self, kind, path):
        """The fault to apply to this request, or None."""
        with self.lock:
            for i, (f, m) in enumerate(self.queue):
                if m is None or re.search(m, path):
                    del self.queue[i]
                    self.counts[f] += 1
                    return f
            cfg = self.cfg
            if not cfg["rates"] or kind not in cfg["only"]:
                return None
            if cfg["match"] and not re.search(cfg["match"], path):
                return None
            r = self.rng.random()
            acc = 0.0
            for f in BEFORE:
                acc += cfg["rates"].get(f, 0)
                if r < acc:
                    self.counts[f] += 1
                    return f
            # after-processing faults are drawn independently
            for f in ("slow", "reset_after", "truncate"):
                p = cfg["rates"].get(f, 0)
                if p and self.rng.random() < p:
                    self.counts[f] += 1
                    return f
            return None

    @property
    def retry_after(self):
        return self.cfg["retry_after"]

    @property
    def slow_seconds(self):
        return self.cfg["slow_seconds"]
