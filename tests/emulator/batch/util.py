"""Small helpers of the Batch data plane: errors, times, durations, OData $filter/$select."""
import itertools
import re
import threading
import time
import uuid
from email.utils import formatdate

ODATA_JSON = "application/json;odata=minimalmetadata"
MAX_DURATION = "P10675199DT2H48M5.4775807S"


class BatchFault(Exception):
    """Raised by handlers; turned into the Batch error body."""

    def __init__(self, status, code, message, values=None, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.values = values or []          # [(key, value)]
        self.headers = headers or {}


def iso(ts=None):
    ts = time.time() if ts is None else ts
    frac = int((ts - int(ts)) * 10_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + ".%07dZ" % frac


def http_date(ts=None):
    return formatdate(time.time() if ts is None else ts, usegmt=True)


_etag_lock = threading.Lock()
_etag_counter = itertools.count(int(time.time() * 1e7))


def new_etag():
    with _etag_lock:
        return "0x8D%013X" % (next(_etag_counter) & 0xFFFFFFFFFFFFF)


def new_request_id():
    return str(uuid.uuid4())


_DUR = re.compile(r"^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?"
                  r"(?:(\d+(?:\.\d+)?)S)?)?$")


def parse_duration(text):
    """ISO 8601 duration -> seconds; None when malformed."""
    if not isinstance(text, str):
        return None
    m = _DUR.match(text.strip())
    if not m or text.strip() in ("P", "PT") or text.strip().endswith("T"):
        return None
    w, d, h, mi, s = (float(x) if x else 0.0 for x in m.groups())
    return w * 604800 + d * 86400 + h * 3600 + mi * 60 + s


# ---------------------------------------------------------------- OData $filter
_FTOK = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<p>[(),])|"
                   r"(?P<word>[A-Za-z_$][A-Za-z0-9_/.$]*))")
_CMP = {"eq", "ne", "gt", "ge", "lt", "le"}


class FilterError(ValueError):
    pass


def _ftokens(text):
    pos, out = 0, []
    text = text.strip()
    while pos < len(text):
        m = _FTOK.match(text, pos)
        if not m or m.end() == pos:
            raise FilterError("unexpected text at position %d" % pos)
        pos = m.end()
        k = m.lastgroup
        v = m.group(k)
        if k == "str":
            v = v[1:-1].replace("''", "'")
        elif k == "num":
            v = float(v)
        elif k == "word" and v in ("true", "false"):
            k, v = "bool", v == "true"
        out.append((k, v))
    return out


def compile_filter(text):
    """'$filter' text -> predicate(item dict).  Supports eq ne gt ge lt le, and, or, not,
    parentheses, startswith(prop,'x'), property paths a/b."""
    toks = _ftokens(text)
    i = [0]

    def peek():
        return toks[i[0]] if i[0] < len(toks) else ("end", None)

    def take():
        t = peek()
        i[0] += 1
        return t

    def value():
        t = take()
        if t[0] in ("str", "num", "bool"):
            return lambda item, v=t[1]: v
        if t[0] == "word" and t[1] == "null":
            return lambda item: None
        if t[0] == "word":
            path = t[1].split("/")

            def get(item, path=path):
                cur = item
                for p in path:
                    if not isinstance(cur, dict):
                        return None
                    cur = cur.get(p)
                return cur
            return get
        raise FilterError("expected a value")

    def atom():
        t = peek()
        if t == ("p", "("):
            take()
            e = orexpr()
            if take() != ("p", ")"):
                raise FilterError("expected ')'")
            return e
        if t[0] == "word" and t[1] == "not":
            take()
            e = atom()
            return lambda item: not e(item)
        if t[0] == "word" and t[1] in ("startswith", "endswith", "substringof", "contains"):
            fn = take()[1]
            if take() != ("p", "("):
                raise FilterError("expected '('")
            a = value()
            if take() != ("p", ","):
                raise FilterError("expected ','")
            b = value()
            if take() != ("p", ")"):
                raise FilterError("expected ')'")
            if fn == "substringof":
                a, b = b, a

            def f(item, fn=fn, a=a, b=b):
                x, y = a(item), b(item)
                if not isinstance(x, str) or not isinstance(y, str):
                    return False
                x, y = x.lower(), y.lower()
                return x.startswith(y) if fn == "startswith" else x.endswith(y) if fn == "endswith" else y in x
            return f
        left = value()
        op = take()
        if op[0] != "word" or op[1] not in _CMP:
            raise FilterError("expected a comparison operator")
        right = value()

        def cmp(item, l=left, r=right, op=op[1]):
            a, b = l(item), r(item)
            if isinstance(a, str) and isinstance(b, str):
                a, b = a.lower(), b.lower()
            if op == "eq":
                return a == b
            if op == "ne":
                return a != b
            if a is None or b is None:
                return False
            try:
                return {"gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b}[op]
            except TypeError:
                return False
        return cmp

    def andexpr():
        e = atom()
        while peek() == ("word", "and"):
            take()
            r = atom()
            e = (lambda a, b: lambda item: a(item) and b(item))(e, r)
        return e

    def orexpr():
        e = andexpr()
        while peek() == ("word", "or"):
            take()
            r = andexpr()
            e = (lambda a, b: lambda item: a(item) or b(item))(e, r)
        return e

    e = orexpr()
    if peek()[0] != "end":
        raise FilterError("unexpected text after the expression")
    return e


def apply_select(item, select):
    if not select:
        return item
    keep = [s.strip().split("/")[0] for s in select.split(",") if s.strip()]
    return {k: item[k] for k in keep if k in item}
