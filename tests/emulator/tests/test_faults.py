"""Fault injection: spec parsing, seeded determinism, and each fault over HTTP."""
import http.client
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from harness import Emulator  # noqa: E402
from emulator.faults import Faults, FaultSpecError, parse_spec  # noqa: E402

EMU = None
V = "?api-version=2021-04-01"


def setUpModule():
    global EMU
    EMU = Emulator().start()


def tearDownModule():
    EMU.stop()


class SpecTest(unittest.TestCase):
    def test_parse(self):
        c = parse_spec("429=0.1,503=0.05,reset_before=0.05,reset_after=0.05,truncate=0.02,slow=0.01,500=0.01,"
                       "seed=42,retry_after=3,slow_seconds=0.5,only=arm+batch,match=/pools")
        self.assertEqual(c["rates"]["429"], 0.1)
        self.assertEqual((c["seed"], c["retry_after"], c["slow_seconds"]), (42, 3, 0.5))
        self.assertEqual(c["only"], ["arm", "batch"])
        for bad in ("418=0.1", "429=2", "429", "only=blob", "429=0.6,503=0.6"):
            with self.assertRaises(FaultSpecError, msg=bad):
                parse_spec(bad)

    def test_seeded_sequence_is_reproducible(self):
        spec = "429=0.2,reset_after=0.2,truncate=0.1,seed=7"
        a = [Faults(spec).choose("arm", "/x") for _ in range(1)]
        f1, f2 = Faults(spec), Faults(spec)
        s1 = [f1.choose("arm", "/p") for _ in range(200)]
        s2 = [f2.choose("arm", "/p") for _ in range(200)]
        self.assertEqual(s1, s2)
        self.assertTrue(a)
        self.assertGreater(s1.count("429"), 20)
        self.assertLess(s1.count("429"), 70)
        self.assertEqual([Faults("only=token,429=1").choose("arm", "/p")], [None])

    def test_queue(self):
        f = Faults("")
        f.set_from_json({"next": ["429", "reset_after"], "match": "/jobs"})
        self.assertIsNone(f.choose("batch", "/pools"))
        self.assertEqual(f.choose("batch", "/jobs/x"), "429")
        self.assertEqual(f.choose("arm", "/jobs"), "reset_after")
        self.assertIsNone(f.choose("arm", "/jobs"))


class HttpFaultTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.H = {"Authorization": "Bearer " + EMU.token()}
        cls.S = "/subscriptions/" + EMU.ep["subscription"]

    def tearDown(self):
        EMU.admin("DELETE", "faults")

    def arm(self, method, path, body=None):
        return EMU.request(method, self.S + path, body, self.H)

    def test_reset_before_and_after(self):
        EMU.admin("POST", "faults", {"next": ["reset_before"], "match": "fa-before"})
        with self.assertRaises((ConnectionError, http.client.RemoteDisconnected)):
            self.arm("PUT", "/resourcegroups/fa-before" + V, {"location": "eastus"})
        self.assertEqual(self.arm("HEAD", "/resourcegroups/fa-before" + V)[0], 404)   # not processed
        EMU.admin("POST", "faults", {"next": ["reset_after"], "match": "fa-after"})
        with self.assertRaises((ConnectionError, http.client.RemoteDisconnected)):
            self.arm("PUT", "/resourcegroups/fa-after" + V, {"location": "eastus"})
        self.assertEqual(self.arm("HEAD", "/resourcegroups/fa-after" + V)[0], 204)    # it happened

    def test_status_faults(self):
        EMU.admin("POST", "faults", {"next": ["429", "503", "500"]})
        st, h, b = self.arm("GET", "/resourcegroups" + V)
        self.assertEqual((st, h.get("retry-after")), (429, "1"))
        self.assertIn(b'"TooManyRequests"', b)
        self.assertIn("x-ms-request-id", h)
        st, h, b = self.arm("GET", "/resourcegroups" + V)
        self.assertEqual((st, h.get("retry-after")), (503, "1"))
        st, h, b = self.arm("GET", "/resourcegroups" + V)
        self.assertEqual(st, 500)
        self.assertIn(b'"OperationTimedOut"', b)
        self.assertEqual(self.arm("GET", "/resourcegroups" + V)[0], 200)
        EMU.admin("POST", "faults", {"next": ["503"]})
        st, h, b = EMU.request("POST", EMU.ep["token_endpoint"], form={"grant_type": "client_credentials"})
        self.assertEqual(st, 503)
        self.assertIn(b'"temporarily_unavailable"', b)
        d = EMU.admin("GET", "faults")
        self.assertGreaterEqual(d["injected"]["429"], 1)

    def test_truncate_and_slow(self):
        EMU.admin("POST", "faults", {"next": ["truncate"]})
        with self.assertRaises(http.client.IncompleteRead):
            self.arm("GET", "/resourcegroups" + V)
        EMU.admin("POST", "faults", {"spec": "slow=1,slow_seconds=0.4,seed=1"})
        t = time.time()
        self.assertEqual(self.arm("GET", "/resourcegroups" + V)[0], 200)
        self.assertGreaterEqual(time.time() - t, 0.4)
        # admin paths never get faults
        EMU.admin("POST", "faults", {"spec": "reset_before=1"})
        self.assertEqual(EMU.admin("GET", "health")["status"], "ok")
        with self.assertRaises((ConnectionError, http.client.RemoteDisconnected)):
            self.arm("GET", "/resourcegroups" + V)

    def test_bad_spec_rejected(self):
        st, h, b = EMU.request("POST", "/_emulator/faults", {"spec": "nope=1"})
        self.assertEqual(st, 400)


if __name__ == "__main__":
    unittest.main()
