"""Microsoft Entra ID (token endpoint), managed identity endpoints and bearer checks.

Tokens are JWTs signed HS256 with a per-state-dir emulator secret, in the v1
shape real Entra issues for ARM, Storage and Batch (iss https://sts.windows.net/{tid}/),
which is also what Azurite's OAuth mode accepts for the storage audience.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import subprocess
import tempfile
import threading
import time
import uuid
from urllib.parse import parse_qsl

from .common import Response, new_id

ARM_AUDIENCES = (
    "https://management.core.windows.net/", "https://management.core.windows.net",
    "https://management.azure.com/", "https://management.azure.com",
)
STORAGE_AUDIENCES = ("https://storage.azure.com/", "https://storage.azure.com",
                     "e406a681-f3d4-42a8-90b6-c2b029497af1")
BATCH_AUDIENCES = ("https://batch.core.windows.net/", "https://batch.core.windows.net")

# Resources a client-credentials token may be asked for (scope "<resource>/.default").
KNOWN_RESOURCES = set(ARM_AUDIENCES + STORAGE_AUDIENCES + BATCH_AUDIENCES) | {
    "https://graph.microsoft.com", "https://graph.microsoft.com/",
    "https://vault.azure.net", "https://vault.azure.net/",
    "https://management.core.windows.net//", "https://batch.core.windows.net//",
}
BLOB_RESOURCE_RE = re.compile(r"^https://[a-z0-9]{3,24}\.blob\.core\.windows\.net/?$")

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(s):
    if isinstance(s, str):
        s = s.encode("ascii")
    s = s.rstrip(b"=")
    return base64.urlsafe_b64decode(s + b"=" * (-len(s) % 4))


def decode_jwt(token):
    """(header, payload, signing_input, signature) or raise ValueError."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not a JWT")
    header = json.loads(b64url_decode(parts[0]))
    payload = json.loads(b64url_decode(parts[1]))
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise ValueError("not a JWT")
    return header, payload, (parts[0] + "." + parts[1]).encode("ascii"), b64url_decode(parts[2])


def normalize_resource(resource):
    """The audience a token for `resource` carries (as Entra: the resource as asked)."""
    return resource


def scope_to_resource(scope):
    if scope.endswith("/.default"):
        return scope[: -len("/.default")]
    return None


# ---------------------------------------------------------------------------
# RSA signature verification (stdlib only: the public key comes from openssl)

_SHA256_DIGESTINFO = bytes.fromhex("3031300d060960864801650304020105000420")


def _i2osp(x, n):
    return x.to_bytes(n, "big")


def rsa_verify_pkcs1_sha256(n, e, message, signature):
    k = (n.bit_length() + 7) // 8
    if len(signature) != k:
        return False
    m = pow(int.from_bytes(signature, "big"), e, n)
    em = _i2osp(m, k)
    t = _SHA256_DIGESTINFO + hashlib.sha256(message).digest()
    expected = b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t
    return hmac.compare_digest(em, expected)


def _mgf1(seed, length):
    out = b""
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return out[:length]


def rsa_verify_pss_sha256(n, e, message, signature):
    k = (n.bit_length() + 7) // 8
    if len(signature) != k:
        return False
    embits = n.bit_length() - 1
    emlen = (embits + 7) // 8
    m = pow(int.from_bytes(signature, "big"), e, n)
    if m.bit_length() > embits:
        return False
    em = _i2osp(m, emlen)
    hlen = 32
    mhash = hashlib.sha256(message).digest()
    if emlen < hlen + 2 or em[-1] != 0xBC:
        return False
    masked, h = em[: emlen - hlen - 1], em[emlen - hlen - 1: -1]
    zbits = 8 * emlen - embits
    if zbits and masked[0] >> (8 - zbits):
        return False
    db = bytes(a ^ b for a, b in zip(masked, _mgf1(h, len(masked))))
    db = bytes([db[0] & (0xFF >> zbits)]) + db[1:]
    # salt length: any (Entra/MSAL use 32); find the 0x01 separator
    i = 0
    while i < len(db) and db[i] == 0:
        i += 1
    if i >= len(db) or db[i] != 1:
        return False
    salt = db[i + 1:]
    return hmac.compare_digest(hashlib.sha256(b"\x00" * 8 + mhash + salt).digest(), h)


def load_certificate(pem_text):
    """Parse a PEM certificate with the openssl CLI: {n, e, x5t, x5t#S256, pem}."""
    with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as f:
        f.write(pem_text)
        path = f.name
    try:
        der = subprocess.run(["openssl", "x509", "-in", path, "-outform", "DER"],
                             capture_output=True, check=True).stdout
        text = subprocess.run(["openssl", "x509", "-in", path, "-noout", "-modulus", "-text"],
                              capture_output=True, check=True, text=True).stdout
    finally:
        os.unlink(path)
    mod = re.search(r"^Modulus=([0-9A-Fa-f]+)", text, re.M)
    exp = re.search(r"Exponent: (\d+)", text)
    if not mod or not exp:
        raise ValueError("not an RSA certificate")
    return {
        "n": int(mod.group(1), 16), "e": int(exp.group(1)),
        "x5t": b64url(hashlib.sha1(der).digest()),
        "x5t#S256": b64url(hashlib.sha256(der).digest()),
    }


def make_client_certificate(directory, name="client"):
    """Create a self-signed RSA certificate + key (PEM, both in one file, as
    AZURE_CLIENT_CERTIFICATE_PATH expects). Returns (path, cert_pem)."""
    key = os.path.join(directory, name + "-key.pem")
    crt = os.path.join(directory, name + "-cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-out", crt, "-days", "30", "-subj", "/CN=azlua-emulator-" + name],
                   capture_output=True, check=True)
    with open(key) as f:
        key_pem = f.read()
    with open(crt) as f:
        cert_pem = f.read()
    both = os.path.join(directory, name + ".pem")
    fd = os.open(both, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key_pem + cert_pem)
    os.unlink(key)
    return both, cert_pem


class Identity:
    """Tenant, service principals, managed identities and the token endpoint."""

    def __init__(self, state_dir, authority_getter, settings):
        self.state_dir = state_dir
        self._authority = authority_getter
        self.settings = settings
        self.lock = threading.Lock()
        self.used_jti = {}
        path = os.path.join(state_dir, "identity.json")
        if os.path.exists(path):
            with open(path) as f:
                st = json.load(f)
        else:
            st = {
                "tenant": str(uuid.uuid4()),
                "domain": "azluaemulator.onmicrosoft.com",
                "signing_key": secrets.token_hex(32),
                "principals": {},
                "managed_identities": {},
                "identity_header": secrets.token_hex(16),
            }
            cid = str(uuid.uuid4())
            st["principals"][cid] = {"client_id": cid, "object_id": str(uuid.uuid4()),
                                     "display_name": "azlua-emulator-sp",
                                     "secrets": [self._new_secret()], "certificates": []}
            sys_mi = str(uuid.uuid4())
            st["managed_identities"][sys_mi] = {"client_id": sys_mi, "object_id": str(uuid.uuid4()),
                                                "system": True}
            ua = str(uuid.uuid4())
            st["managed_identities"][ua] = {"client_id": ua, "object_id": str(uuid.uuid4()),
                                            "system": False,
                                            "resource_id": None}
            st["default_client_id"] = cid
        self.st = st
        self.certs = {}   # x5t / x5t#S256 -> (client_id, key dict)
        self._save()

    # -- persistence --------------------------------------------------------
    def _save(self):
        path = os.path.join(self.state_dir, "identity.json")
        tmp = path + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(self.st, f, indent=1)
        os.replace(tmp, path)

    @staticmethod
    def _new_secret():
        # Looks like an Entra secret value: 3 chars, "8Q~", 34 chars
        alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.~"
        rnd = "".join(secrets.choice(alphabet) for _ in range(37))
        return rnd[:3] + "8Q~" + rnd[3:]

    @property
    def tenant(self):
        return self.st["tenant"]

    def default_principal(self):
        return self.st["principals"][self.st["default_client_id"]]

    def set_subscription_for_sp(self, sub):
        pass

    def register_principal(self, client_id=None, secret=None, certificate_pem=None, display_name=None):
        with self.lock:
            cid = client_id or str(uuid.uuid4())
            p = self.st["principals"].get(cid)
            if p is None:
                p = {"client_id": cid, "object_id": str(uuid.uuid4()),
                     "display_name": display_name or "sp-" + cid[:8], "secrets": [], "certificates": []}
                self.st["principals"][cid] = p
            if secret:
                p["secrets"].append(secret)
            if certificate_pem:
                info = load_certificate(certificate_pem)
                p["certificates"].append(certificate_pem)
                self.certs[info["x5t"]] = (cid, info)
                self.certs[info["x5t#S256"]] = (cid, info)
            self._save()
            return p

    def load_certificates(self):
        for cid, p in self.st["principals"].items():
            for pem in p.get("certificates", []):
                info = load_certificate(pem)
                self.certs[info["x5t"]] = (cid, info)
                self.certs[info["x5t#S256"]] = (cid, info)

    def known_tenant(self, t):
        return t.lower() in (self.tenant.lower(), self.st["domain"].lower())

    # -- tokens -------------------------------------------------------------
    def issue(self, audience, client_id, object_id, lifetime=None, extra=None):
        now = int(time.time())
        lifetime = int(lifetime or self.settings.get("token_lifetime", 3599))
        payload = {
            "aud": audience,
            "iss": "https://sts.windows.net/%s/" % self.tenant,
            "iat": now, "nbf": now, "exp": now + lifetime,
            "aio": b64url(os.urandom(18)),
            "appid": client_id, "appidacr": "1",
            "idp": "https://sts.windows.net/%s/" % self.tenant,
            "idtyp": "app",
            "oid": object_id, "sub": object_id, "tid": self.tenant,
            "rh": "0.emulator.", "uti": b64url(os.urandom(16)), "ver": "1.0",
        }
        if extra:
            payload.update(extra)
        header = {"typ": "JWT", "alg": "HS256", "kid": "azlua-emulator"}
        si = b64url(json.dumps(header, separators=(",", ":")).encode()) + "." + \
            b64url(json.dumps(payload, separators=(",", ":")).encode())
        sig = hmac.new(bytes.fromhex(self.st["signing_key"]), si.encode(), hashlib.sha256).digest()
        return si + "." + b64url(sig), payload

    def verify_token(self, token, audiences):
        """(payload, None) or (None, (code, message)) in ARM's vocabulary."""
        try:
            header, payload, si, sig = decode_jwt(token)
        except (ValueError, UnicodeDecodeError, json.JSONDecodeError, base64.binascii.Error):
            return None, ("InvalidAuthenticationToken", "The access token is invalid.")
        good = hmac.new(bytes.fromhex(self.st["signing_key"]), si, hashlib.sha256).digest()
        if header.get("alg") != "HS256" or not hmac.compare_digest(good, sig):
            return None, ("InvalidAuthenticationToken",
                          "The access token is invalid. The signature could not be verified.")
        now = time.time()
        try:
            exp = float(payload.get("exp", 0))
            nbf = float(payload.get("nbf", 0))
        except (TypeError, ValueError):
            return None, ("InvalidAuthenticationToken", "The access token is invalid.")
        if exp <= now:
            return None, ("ExpiredAuthenticationToken",
                          "The access token expiry UTC time '%s' is earlier than current UTC time '%s'."
                          % (_utc(exp), _utc(now)))
        if nbf > now + 300:
            return None, ("InvalidAuthenticationToken",
                          "The access token is not yet valid (nbf '%s')." % _utc(nbf))
        aud = payload.get("aud")
        if aud not in audiences:
            return None, ("InvalidAuthenticationTokenAudience",
                          "The access token has been obtained for wrong audience or resource '%s'. "
                          "It should exactly match with one of the allowed audiences '%s'."
                          % (aud, "','".join(audiences)))
        if str(payload.get("tid", "")).lower() != self.tenant.lower():
            return None, ("InvalidAuthenticationTokenTenant",
                          "The access token is from the wrong issuer '%s'. It must match the tenant "
                          "'https://sts.windows.net/%s/' associated with this subscription."
                          % (payload.get("iss"), self.tenant))
        return payload, None

    # -- Entra error bodies ---------------------------------------------------
    def aad_error(self, status, error, code, message, correlation_id):
        trace = new_id()
        ts = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
        desc = "AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s" % (
            code, message, trace, correlation_id, ts)
        body = {"error": error, "error_description": desc, "error_codes": [code],
                "timestamp": ts, "trace_id": trace, "correlation_id": correlation_id,
                "error_uri": "%s/error?code=%d" % (self._authority(), code)}
        return Response(status, body, headers=_aad_headers(trace, correlation_id))

    # -- endpoints ----------------------------------------------------------
    def openid_configuration(self, tenant, v2=True):
        a = self._authority()
        if not self.known_tenant(tenant) and tenant.lower() not in ("common", "organizations"):
            return Response(400, {"error": "invalid_tenant",
                                  "error_description": "AADSTS90002: Tenant '%s' not found." % tenant})
        t = self.tenant if self.known_tenant(tenant) else tenant
        sfx = "/v2.0" if v2 else ""
        return Response(200, {
            "token_endpoint": "%s/%s/oauth2%s/token" % (a, t, sfx),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt",
                                                      "client_secret_basic"],
            "jwks_uri": "%s/%s/discovery%s/keys" % (a, t, sfx),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": ("%s/%s/v2.0" % (a, t)) if v2 else "https://sts.windows.net/%s/" % t,
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": "%s/oidc/userinfo" % a,
            "authorization_endpoint": "%s/%s/oauth2%s/authorize" % (a, t, sfx),
            "device_authorization_endpoint": "%s/%s/oauth2%s/devicecode" % (a, t, sfx),
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": "%s/%s/oauth2%s/logout" % (a, t, sfx),
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid"],
            "tenant_region_scope": "NA",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
        })

    def token(self, req, tenant, v1=False):
        corr = req.headers.get("client-request-id") or new_id()
        ctype = (req.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if req.method != "POST":
            return self.aad_error(400, "invalid_request", 900561,
                                  "The endpoint only accepts POST requests. Received a %s request." % req.method,
                                  corr)
        if ctype != "application/x-www-form-urlencoded":
            return self.aad_error(400, "invalid_request", 900144,
                                  "The request body must contain the following parameter: 'grant_type'.", corr)
        try:
            form = dict(parse_qsl(req.body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            return self.aad_error(400, "invalid_request", 900144, "The request body is not valid.", corr)
        if not self.known_tenant(tenant):
            if re.match(r"^[0-9a-fA-F-]{36}$", tenant) or "." in tenant:
                return self.aad_error(400, "invalid_request", 90002,
                                      "Tenant '%s' not found. Check to make sure you have the correct tenant ID "
                                      "and are signing into the correct cloud. Check with your subscription "
                                      "administrator, this may happen if there are no active subscriptions "
                                      "for the tenant." % tenant, corr)
            if tenant.lower() in ("common", "organizations", "consumers"):
                return self.aad_error(400, "invalid_request", 700016,
                                      "Application with identifier '%s' was not found in the directory "
                                      "'%s'. Client credential flows cannot use the '%s' endpoint; use a "
                                      "tenant-specific endpoint." % (form.get("client_id", ""), tenant, tenant),
                                      corr)
            return self.aad_error(400, "invalid_request", 90002,
                                  "Tenant '%s' not found." % tenant, corr)
        grant = form.get("grant_type")
        if not grant:
            return self.aad_error(400, "invalid_request", 900144,
                                  "The request body must contain the following parameter: 'grant_type'.", corr)
        if grant != "client_credentials":
            return self.aad_error(400, "unsupported_grant_type", 70003,
                                  "The app requested an unsupported grant type '%s'." % grant, corr)
        client_id = form.get("client_id")
        if not client_id:
            return self.aad_error(400, "invalid_request", 900144,
                                  "The request body must contain the following parameter: 'client_id'.", corr)
        if v1:
            resource = form.get("resource")
            if not resource:
                return self.aad_error(400, "invalid_request", 900144,
                                      "The request body must contain the following parameter: 'resource'.",
                                      corr)
        else:
            scope = form.get("scope")
            if not scope:
                return self.aad_error(400, "invalid_request", 900144,
                                      "The request body must contain the following parameter: 'scope'.", corr)
            scopes = scope.split()
            resource = scope_to_resource(scopes[0]) if len(scopes) == 1 else None
            if resource is None:
                return self.aad_error(400, "invalid_scope", 1002012,
                                      "The provided value for scope %s is not valid. Client credential flows "
                                      "must have a scope value with /.default suffixed to the resource "
                                      "identifier (application ID URI)." % scope, corr)
        p = self.st["principals"].get(client_id)
        if p is None:
            return self.aad_error(400, "unauthorized_client", 700016,
                                  "Application with identifier '%s' was not found in the directory '%s'. This "
                                  "can happen if the application has not been installed by the administrator of "
                                  "the tenant or consented to by any user in the tenant. You may have sent your "
                                  "authentication request to the wrong tenant." % (client_id, tenant), corr)
        if "client_secret" in form:
            if not any(hmac.compare_digest(form["client_secret"].encode(), s.encode()) for s in p["secrets"]):
                return self.aad_error(401, "invalid_client", 7000215,
                                      "Invalid client secret provided. Ensure the secret being sent in the request "
                                      "is the client secret value, not the client secret ID, for a secret added to "
                                      "app '%s'." % client_id, corr)
        elif "client_assertion" in form:
            if form.get("client_assertion_type") != ASSERTION_TYPE:
                return self.aad_error(400, "invalid_request", 900144,
                                      "The request body must contain the following parameter: "
                                      "'client_assertion_type'.", corr)
            err = self._check_assertion(form["client_assertion"], client_id, tenant)
            if err:
                return self.aad_error(401 if err[0] != 50027 else 400,
                                      "invalid_client" if err[0] != 50027 else "invalid_request",
                                      err[0], err[1], corr)
        else:
            return self.aad_error(401, "invalid_client", 7000218,
                                  "The request body must contain the following parameter: 'client_assertion' "
                                  "or 'client_secret'.", corr)
        if resource not in KNOWN_RESOURCES and not BLOB_RESOURCE_RE.match(resource):
            return self.aad_error(400, "invalid_resource", 500011,
                                  "The resource principal named %s was not found in the tenant named %s. This "
                                  "can happen if the application has not been installed by the administrator of "
                                  "the tenant or consented to by any user in the tenant. You might have sent your "
                                  "authentication request to the wrong tenant." % (resource, tenant), corr)
        aud = resource[:-1] if resource.endswith("//") else resource
        tok, payload = self.issue(aud, client_id, p["object_id"])
        life = payload["exp"] - payload["iat"]
        if v1:
            body = {"token_type": "Bearer", "expires_in": str(life), "ext_expires_in": str(life),
                    "expires_on": str(payload["exp"]), "not_before": str(payload["nbf"]),
                    "resource": resource, "access_token": tok}
        else:
            body = {"token_type": "Bearer", "expires_in": life, "ext_expires_in": life, "access_token": tok}
        return Response(200, body, headers=_aad_headers(new_id(), corr))

    def _check_assertion(self, assertion, client_id, tenant):
        try:
            header, payload, si, sig = decode_jwt(assertion)
        except Exception:
            return (50027, "JWT token is invalid or malformed.")
        alg = header.get("alg")
        thumb = header.get("x5t#S256") or header.get("x5t")
        if alg not in ("RS256", "PS256") or not thumb:
            return (50027, "JWT token is invalid or malformed (alg must be RS256 or PS256 with x5t).")
        # MSAL sends padded (and older code non-url-safe) base64; compare canonical forms
        hit = self.certs.get(str(thumb).rstrip("=").replace("+", "-").replace("/", "_"))
        if hit is None or hit[0] != client_id:
            return (700027, "The certificate with identifier used to sign the client assertion is not "
                            "registered on application. [Reason - The key was not found., Thumbprint of key "
                            "used by client: '%s']" % thumb)
        info = hit[1]
        verify = rsa_verify_pkcs1_sha256 if alg == "RS256" else rsa_verify_pss_sha256
        if not verify(info["n"], info["e"], si, sig):
            return (700027, "Client assertion failed signature validation.")
        a = self._authority()
        allowed = {"%s/%s/oauth2/v2.0/token" % (a, t) for t in (tenant, self.tenant, self.st["domain"])}
        allowed |= {"%s/%s/oauth2/token" % (a, t) for t in (tenant, self.tenant, self.st["domain"])}
        allowed |= {x.rstrip("/") + "/" for x in allowed}
        if payload.get("aud") not in allowed:
            return (700023, "Client assertion audience claim does not match Realm issuer. Review the "
                            "documentation at https://learn.microsoft.com/entra/identity-platform/"
                            "certificate-credentials . (aud '%s')" % payload.get("aud"))
        now = time.time()
        try:
            exp = float(payload["exp"])
            nbf = float(payload.get("nbf", 0))
        except (KeyError, TypeError, ValueError):
            return (50027, "JWT token is invalid or malformed (exp).")
        if exp < now - 300 or nbf > now + 300:
            return (700024, "Client assertion is not within its valid time range. Current time: %s, "
                            "assertion valid from %s, expiry time of assertion %s."
                            % (_iso(now), _iso(nbf), _iso(exp)))
        if payload.get("iss") != client_id or payload.get("sub") != client_id:
            return (700021, "Client assertion application identifier doesn't match 'client_id' parameter.")
        jti = payload.get("jti")
        with self.lock:
            for k in [k for k, v in self.used_jti.items() if v < now]:
                del self.used_jti[k]
            if jti and jti in self.used_jti:
                return (700025, "Client assertion contains a jti that was already used (replay).")
            if jti:
                self.used_jti[jti] = exp + 300
        return None

    # -- managed identity ------------------------------------------------------
    def _mi_lookup(self, q, keys):
        """The managed identity selected by the query (client_id/object_id/...)."""
        mis = self.st["managed_identities"]
        sel = [(k, q[k]) for k in keys if q.get(k)]
        if not sel:
            return next(m for m in mis.values() if m["system"])
        k, v = sel[0]
        for m in mis.values():
            if k == "client_id" and m["client_id"] == v:
                return m
            if k in ("object_id", "principal_id") and m["object_id"] == v:
                return m
            if k in ("msi_res_id", "mi_res_id") and m.get("resource_id") == v:
                return m
        return None

    def imds(self, req):
        q = req.query
        if req.headers.get("Metadata", "").lower() != "true":
            return Response(400, {"error": "invalid_request",
                                  "error_description": "Required metadata header not specified"})
        if req.method != "GET":
            return Response(405, {"error": "invalid_request", "error_description": "Method not allowed"})
        if not q.get("api-version"):
            return Response(400, {"error": "invalid_request",
                                  "error_description": "Required query variable 'api-version' is missing"})
        resource = q.get("resource")
        if not resource:
            return Response(400, {"error": "invalid_request",
                                  "error_description": "Required query variable 'resource' is missing"})
        mi = self._mi_lookup(q, ("client_id", "object_id", "msi_res_id"))
        if mi is None:
            return Response(400, {"error": "invalid_request",
                                  "error_description": "Identity not found"})
        tok, p = self.issue(resource[:-1] if resource.endswith("//") else resource,
                            mi["client_id"], mi["object_id"], extra={"appidacr": "2"})
        life = p["exp"] - p["iat"]
        return Response(200, {"access_token": tok, "client_id": mi["client_id"], "expires_in": str(life),
                              "expires_on": str(p["exp"]), "ext_expires_in": str(life),
                              "not_before": str(p["nbf"]), "resource": resource, "token_type": "Bearer"})

    def app_service(self, req):
        q = req.query
        hdr = req.headers.get("X-IDENTITY-HEADER")
        if not hdr or not hmac.compare_digest(hdr.encode(), self.st["identity_header"].encode()):
            return Response(400, {"statusCode": 400,
                                  "message": "X-IDENTITY-HEADER is missing or does not match."})
        resource = q.get("resource")
        if not q.get("api-version") or not resource:
            return Response(400, {"statusCode": 400,
                                  "message": "api-version and resource query parameters are required."})
        mi = self._mi_lookup(q, ("client_id", "principal_id", "object_id", "mi_res_id"))
        if mi is None:
            return Response(400, {"statusCode": 400, "message": "No managed identity found for the request."})
        tok, p = self.issue(resource[:-1] if resource.endswith("//") else resource,
                            mi["client_id"], mi["object_id"], extra={"appidacr": "2"})
        return Response(200, {"access_token": tok, "expires_on": str(p["exp"]), "resource": resource,
                              "token_type": "Bearer", "client_id": mi["client_id"]})

    # -- bearer checks (ARM, Batch) ----------------------------------------------
    def bearer_error(self, req, audience):
        """None when the bearer is good for audience, else (code, message)."""
        auth = req.headers.get("Authorization")
        if not auth:
            return ("AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return ("InvalidAuthenticationToken",
                    "Authentication failed. The 'Authorization' header is provided in an invalid format.")
        auds = _audiences_for(audience)
        payload, err = self.verify_token(token.strip(), auds)
        return err

    def www_authenticate(self, err_code, msg):
        desc = msg.replace('"', "'")
        return 'Bearer authorization_uri="%s/%s", error="invalid_token", error_description="%s"' % (
            self._authority(), self.tenant, desc)


def _audiences_for(audience):
    a = audience.rstrip("/")
    if a in ("https://management.azure.com", "https://management.core.windows.net"):
        return ARM_AUDIENCES
    return (a + "/", a)


def _aad_headers(trace, corr):
    return [("Cache-Control", "no-store, no-cache"), ("Pragma", "no-cache"),
            ("x-ms-request-id", trace), ("client-request-id", corr),
            ("x-ms-ests-server", "2.1.emulator")]


def _utc(ts):
    return time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(ts))


def _iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
