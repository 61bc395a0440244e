"""Token endpoint, client assertions (RS256/PS256), managed identity endpoints, JWT claims."""
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from harness import Emulator  # noqa: E402
from emulator import identity  # noqa: E402

EMU = None


def setUpModule():
    global EMU
    EMU = Emulator().start()


def tearDownModule():
    EMU.stop()


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def openssl_sign(pem_path, data, pss=False):
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(data)
    argv = ["openssl", "dgst", "-sha256", "-sign", pem_path]
    if pss:
        argv += ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32"]
    try:
        return subprocess.run(argv + [f.name], capture_output=True, check=True).stdout
    finally:
        os.unlink(f.name)


def cert_der(pem_path):
    return subprocess.run(["openssl", "x509", "-in", pem_path, "-outform", "DER"], capture_output=True,
                          check=True).stdout


def assertion(pem, client_id, aud, alg="RS256", exp_delta=600, x5t_kind="x5t"):
    der = cert_der(pem)
    header = {"typ": "JWT", "alg": alg}
    if x5t_kind == "x5t":
        header["x5t"] = b64url(hashlib.sha1(der).digest())
    else:
        header["x5t#S256"] = b64url(hashlib.sha256(der).digest())
    now = int(time.time())
    payload = {"aud": aud, "iss": client_id, "sub": client_id, "jti": str(uuid.uuid4()), "nbf": now,
               "exp": now + exp_delta}
    si = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(payload).encode())
    return si + "." + b64url(openssl_sign(pem, si.encode(), pss=alg == "PS256"))


class RsaUnitTest(unittest.TestCase):
    def test_pkcs1_and_pss(self):
        d = tempfile.mkdtemp()
        pem, cert = identity.make_client_certificate(d, "t")
        info = identity.load_certificate(cert)
        msg = b"header.payload"
        s1 = openssl_sign(pem, msg)
        self.assertTrue(identity.rsa_verify_pkcs1_sha256(info["n"], info["e"], msg, s1))
        self.assertFalse(identity.rsa_verify_pkcs1_sha256(info["n"], info["e"], msg + b"x", s1))
        s2 = openssl_sign(pem, msg, pss=True)
        self.assertTrue(identity.rsa_verify_pss_sha256(info["n"], info["e"], msg, s2))
        self.assertFalse(identity.rsa_verify_pss_sha256(info["n"], info["e"], b"other", s2))
        self.assertFalse(identity.rsa_verify_pkcs1_sha256(info["n"], info["e"], msg, s2))


class TokenTest(unittest.TestCase):
    def post(self, form, tenant=None, v1=False):
        t = tenant or EMU.ep["tenant"]
        url = "/%s/oauth2/%stoken" % (t, "" if v1 else "v2.0/")
        return EMU.json("POST", url, form=form)

    def base(self, **kw):
        f = {"grant_type": "client_credentials", "client_id": EMU.ep["client_id"],
             "client_secret": EMU.ep["client_secret"], "scope": "https://management.azure.com/.default"}
        f.update(kw)
        return {k: v for k, v in f.items() if v is not None}

    def assertAad(self, resp, status, error, code):
        st, h, b = resp
        self.assertEqual(st, status, b)
        self.assertEqual(b["error"], error)
        self.assertEqual(b["error_codes"], [code])
        self.assertTrue(b["error_description"].startswith("AADSTS%d: " % code))
        for k in ("timestamp", "trace_id", "correlation_id", "error_uri"):
            self.assertIn(k, b)
        self.assertIn("\r\nTrace ID: " + b["trace_id"], b["error_description"])

    def test_success_and_claims(self):
        st, h, b = self.post(self.base(scope="https://storage.azure.com/.default"))
        self.assertEqual(st, 200)
        self.assertEqual(b["token_type"], "Bearer")
        self.assertIsInstance(b["expires_in"], int)
        hdr, claims, _, _ = identity.decode_jwt(b["access_token"])
        self.assertEqual(claims["aud"], "https://storage.azure.com")
        self.assertEqual(claims["iss"], "https://sts.windows.net/%s/" % EMU.ep["tenant"])
        for k in ("iat", "nbf", "exp", "tid", "oid"):
            self.assertIn(k, claims)
        st, h, b = self.post(self.base(scope="https://batch.core.windows.net//.default"))
        self.assertEqual(identity.decode_jwt(b["access_token"])[1]["aud"], "https://batch.core.windows.net/")
        # tenant by domain name, and the v1 endpoint with resource=
        st, h, b = self.post(self.base(), tenant=EMU.ep["tenant_domain"])
        self.assertEqual(st, 200)
        st, h, b = self.post(self.base(scope=None, resource="https://management.core.windows.net/"), v1=True)
        self.assertEqual(st, 200)
        self.assertIsInstance(b["expires_in"], str)
        self.assertIn("expires_on", b)

    def test_errors(self):
        self.assertAad(self.post(self.base(client_secret="nope")), 401, "invalid_client", 7000215)
        self.assertAad(self.post(self.base(), tenant=str(uuid.uuid4())), 400, "invalid_request", 90002)
        self.assertAad(self.post(self.base(client_id=str(uuid.uuid4()))), 400, "unauthorized_client", 700016)
        self.assertAad(self.post(self.base(scope=None)), 400, "invalid_request", 900144)
        self.assertAad(self.post(self.base(scope="https://management.azure.com/user_impersonation")),
                       400, "invalid_scope", 1002012)
        self.assertAad(self.post(self.base(client_secret=None)), 401, "invalid_client", 7000218)
        self.assertAad(self.post(self.base(grant_type="password")), 400, "unsupported_grant_type", 70003)
        self.assertAad(self.post(self.base(scope="https://nothing.example/.default")),
                       400, "invalid_resource", 500011)

    def test_client_assertion(self):
        ep = EMU.ep
        pem = ep["client_certificate_path"]
        aud = ep["token_endpoint"]
        for alg, kind in (("RS256", "x5t"), ("PS256", "x5t#S256")):
            a = assertion(pem, ep["client_id"], aud, alg=alg, x5t_kind=kind)
            st, h, b = self.post(self.base(client_secret=None, client_assertion=a,
                                           client_assertion_type=identity.ASSERTION_TYPE))
            self.assertEqual(st, 200, b)
            # replay of the same jti is refused
            st, h, b = self.post(self.base(client_secret=None, client_assertion=a,
                                           client_assertion_type=identity.ASSERTION_TYPE))
            self.assertEqual(st, 401)
        a = assertion(pem, ep["client_id"], "https://login.microsoftonline.com/x/oauth2/v2.0/token")
        self.assertAad(self.post(self.base(client_secret=None, client_assertion=a,
                                           client_assertion_type=identity.ASSERTION_TYPE)),
                       401, "invalid_client", 700023)
        a = assertion(pem, ep["client_id"], aud, exp_delta=-1000)
        self.assertAad(self.post(self.base(client_secret=None, client_assertion=a,
                                           client_assertion_type=identity.ASSERTION_TYPE)),
                       401, "invalid_client", 700024)
        a = assertion(pem, ep["client_id"], aud)
        tampered = a[:-8] + ("AAAAAAAA" if not a.endswith("AAAAAAAA") else "BBBBBBBB")
        self.assertAad(self.post(self.base(client_secret=None, client_assertion=tampered,
                                           client_assertion_type=identity.ASSERTION_TYPE)),
                       401, "invalid_client", 700027)

    def test_openid_configuration(self):
        st, h, b = EMU.json("GET", "/%s/v2.0/.well-known/openid-configuration" % EMU.ep["tenant"])
        self.assertEqual(st, 200)
        self.assertEqual(b["token_endpoint"], EMU.ep["token_endpoint"])

    def test_managed_identity(self):
        q = "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fstorage.azure.com%2F"
        st, h, b = EMU.json("GET", q)
        self.assertEqual(st, 400)     # no Metadata header
        st, h, b = EMU.json("GET", q, headers={"Metadata": "true"})
        self.assertEqual(st, 200)
        for k in ("access_token", "client_id", "expires_in", "expires_on", "ext_expires_in", "not_before",
                  "resource", "token_type"):
            self.assertIsInstance(b[k], str, k)
        self.assertEqual(b["client_id"], EMU.ep["system_identity_client_id"])
        st, h, b = EMU.json("GET", q + "&client_id=" + EMU.ep["user_identity_client_id"],
                            headers={"Metadata": "true"})
        self.assertEqual((st, b["client_id"]), (200, EMU.ep["user_identity_client_id"]))
        st, h, b = EMU.json("GET", q + "&client_id=" + str(uuid.uuid4()), headers={"Metadata": "true"})
        self.assertEqual(st, 400)
        aq = "/msi/token?api-version=2019-08-01&resource=https://management.azure.com/"
        self.assertEqual(EMU.json("GET", aq, headers={"X-IDENTITY-HEADER": "wrong"})[0], 400)
        st, h, b = EMU.json("GET", aq, headers={"X-IDENTITY-HEADER": EMU.ep["identity_header"]})
        self.assertEqual(st, 200)
        self.assertIsInstance(b["expires_on"], str)
        # an MI token is good for ARM
        st, h, _ = EMU.json("GET", "/subscriptions/%s/resourcegroups?api-version=2021-04-01" % EMU.ep["subscription"],
                            headers={"Authorization": "Bearer " + b["access_token"]})
        self.assertEqual(st, 200)

    def test_register_principal(self):
        r = EMU.json("POST", "/_emulator/principals", {"display_name": "second"}, expect=201)[2]
        st, h, b = EMU.json("POST", EMU.ep["token_endpoint"], form={
            "grant_type": "client_credentials", "client_id": r["client_id"], "client_secret": r["secret"],
            "scope": "https://management.azure.com/.default"})
        self.assertEqual(st, 200)


if __name__ == "__main__":
    unittest.main()
