"""Batch Shared Key: the string to sign and its verification, as the service does it.

StringToSign = VERB + 11 standard header values (each + "\\n") + canonical ocp-* headers
+ canonical resource.  Content-Length signs its value as sent ("0" for empty POSTs, as the
SDKs send it; an absent header is an empty slot).  Canonical headers: every header whose
lower-cased name starts with "ocp-", non-empty values, sorted by name, "name:value\\n".
Canonical resource: "/" + account + the path as sent (percent-encoded), then for every query
parameter with a non-empty value "\\n" + name + ":" + decoded value, names as sent (the SDKs
keep the case; our clients send lower-case names), sorted; several values joined by ",".
"""
import base64
import hashlib
import hmac
import time
import urllib.parse
from email.utils import parsedate_to_datetime

STANDARD = ["Content-Encoding", "Content-Language", "Content-Length", "Content-MD5",
            "Content-Type", "Date", "If-Modified-Since", "If-Match", "If-None-Match",
            "If-Unmodified-Since", "Range"]
SKEW = 15 * 60


def _hget(headers, name):
    if hasattr(headers, "get"):
        v = headers.get(name)
        if v is None and isinstance(headers, dict):
            for k, val in headers.items():
                if k.lower() == name.lower():
                    return val
        return v
    return None


def _hitems(headers):
    return list(headers.items())


def string_to_sign(method, raw_path, raw_query, headers, account):
    lines = [method.upper()]
    for h in STANDARD:
        v = _hget(headers, h)
        lines.append("" if v is None else str(v))
    ocp = {}
    for k, v in _hitems(headers):
        lk = k.lower()
        if lk.startswith("ocp-") and v is not None and str(v).strip() != "":
            ocp.setdefault(lk, " ".join(str(v).replace("\r", " ").replace("\n", " ").split()))
    canon_headers = "".join("%s:%s\n" % (k, ocp[k]) for k in sorted(ocp))
    resource = "/" + account + (raw_path or "/")
    params = {}
    for pair in (raw_query or "").split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        name = urllib.parse.unquote_plus(name)
        value = urllib.parse.unquote_plus(value)
        if value == "":
            continue
        params.setdefault(name, []).append(value)
    for name in sorted(params):
        resource += "\n%s:%s" % (name, ",".join(sorted(params[name])))
    return "\n".join(lines) + "\n" + canon_headers + resource


def sign(key_b64, text):
    mac = hmac.new(base64.b64decode(key_b64), text.encode("utf-8"), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def parse_authorization(value):
    """'SharedKey acct:sig' -> (acct, sig) or None."""
    if not value:
        return None
    scheme, _, rest = value.strip().partition(" ")
    if scheme != "SharedKey":
        return None
    acct, sep, sig = rest.strip().partition(":")
    if not sep or not acct or not sig:
        return None
    return acct, sig


def check_date(headers, now=None):
    """None when the ocp-date/Date is within 15 minutes, else a reason string."""
    v = _hget(headers, "ocp-date") or _hget(headers, "Date")
    if not v:
        return "The request has neither an ocp-date nor a Date header"
    try:
        t = parsedate_to_datetime(v).timestamp()
    except (TypeError, ValueError, IndexError):
        return "The date header %r is not an RFC 1123 date" % v
    now = time.time() if now is None else now
    if abs(now - t) > SKEW:
        return "The request time %s is more than 15 minutes away from the server time" % v
    return None


def verify(method, raw_path, raw_query, headers, account, keys, sig):
    """True when sig matches the request signed with one of keys (base64)."""
    text = string_to_sign(method, raw_path, raw_query, headers, account)
    for k in keys:
        if not k:
            continue
        try:
            good = sign(k, text)
        except (ValueError, TypeError):
            continue
        if hmac.compare_digest(good, sig):
            return True
    return False
