"""ARM behaviour over HTTP: resource groups, providers, storage, Batch accounts, LROs, errors."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Emulator  # noqa: E402

EMU = None
V = "?api-version=2024-01-01"


def setUpModule():
    global EMU
    EMU = Emulator(args=["--lro-polls", "1", "--page-size", "2"]).start()


def tearDownModule():
    EMU.stop()


class ArmTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tok = EMU.token()
        cls.H = {"Authorization": "Bearer " + cls.tok}
        cls.S = "/subscriptions/" + EMU.ep["subscription"]

    def call(self, method, path, body=None, expect=None, headers=None):
        h = dict(self.H)
        h.update(headers or {})
        return EMU.json(method, path, body, h, expect=expect)

    def follow(self, h, limit=60.0):
        """Poll an LRO Location until it is not 202; returns (status, body, polls). The limit is in
        seconds, not polls: a storage account's LRO also waits for Azurite to restart with the new
        account, which takes longer on a loaded machine."""
        polls = 0
        deadline = time.monotonic() + limit
        while True:
            self.assertIn("retry-after", h)
            st, h2, b = self.call("GET", h["location"])
            polls += 1
            if st != 202:
                return st, b, polls
            self.assertLess(time.monotonic(), deadline, "LRO still running after %d polls" % polls)
            h = h2
            time.sleep(0.05)

    def register(self, ns):
        self.call("POST", "%s/providers/%s/register%s" % (self.S, ns, V), expect=200)
        for _ in range(10):
            if self.call("GET", "%s/providers/%s%s" % (self.S, ns, V))[2]["registrationState"] == "Registered":
                return
        self.fail("provider never registered")

    # -- tests -----------------------------------------------------------------
    def test_request_ids_and_api_version(self):
        st, h, b = self.call("GET", self.S + "/resourcegroups")
        self.assertEqual(st, 400)
        self.assertEqual(b["error"]["code"], "MissingApiVersionParameter")
        self.assertIn("x-ms-request-id", h)
        self.assertIn("x-ms-correlation-request-id", h)
        st, h, b = self.call("GET", self.S + "/resourcegroups?api-version=2099-01-01",
                             headers={"x-ms-correlation-request-id": "corr-1"})
        self.assertEqual(st, 200)
        self.assertEqual(h["x-ms-correlation-request-id"], "corr-1")

    def test_bearer_required(self):
        for hdr, code in ((None, "AuthenticationFailed"), ("Bearer abc.def.ghi", "InvalidAuthenticationToken")):
            st, h, b = EMU.json("GET", self.S + "/resourcegroups" + V,
                                headers={"Authorization": hdr} if hdr else {})
            self.assertEqual(st, 401)
            self.assertEqual(b["error"]["code"], code)
            self.assertTrue(h["www-authenticate"].startswith('Bearer authorization_uri="'))
        bad = EMU.token("https://storage.azure.com/.default")
        st, h, b = EMU.json("GET", self.S + "/resourcegroups" + V, headers={"Authorization": "Bearer " + bad})
        self.assertEqual((st, b["error"]["code"]), (401, "InvalidAuthenticationTokenAudience"))
        old = EMU.admin("POST", "token", {"lifetime": -5})["access_token"]
        st, h, b = EMU.json("GET", self.S + "/resourcegroups" + V, headers={"Authorization": "Bearer " + old})
        self.assertEqual((st, b["error"]["code"]), (401, "ExpiredAuthenticationToken"))
        st, h, b = self.call("GET", "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups" + V)
        self.assertEqual((st, b["error"]["code"]), (404, "SubscriptionNotFound"))

    def test_resource_groups(self):
        p = self.S + "/resourcegroups/rg-a" + V
        self.assertEqual(self.call("HEAD", p)[0], 404)
        st, h, b = self.call("GET", p)
        self.assertEqual((st, b["error"]["code"]), (404, "ResourceGroupNotFound"))
        st, h, b = self.call("PUT", p, {"location": "westeurope", "tags": {"a": "b"}})
        self.assertEqual(st, 201)
        self.assertEqual(b["id"], self.S + "/resourceGroups/rg-a")
        self.assertEqual(b["properties"]["provisioningState"], "Succeeded")
        self.assertEqual(self.call("PUT", p, {"location": "West Europe"})[0], 200)
        self.assertEqual(self.call("HEAD", p)[0], 204)
        st, h, b = self.call("PUT", self.S + "/resourcegroups/rg-x" + V, {"location": "atlantis"})
        self.assertEqual((st, b["error"]["code"]), (400, "LocationNotAvailableForResourceGroup"))
        st, h, b = self.call("PUT", self.S + "/resourcegroups/rg-x" + V, {"location": "eastus", "bogus": 1})
        if EMU.ep["spec_validation"]:
            self.assertEqual((st, b["error"]["code"]), (400, "InvalidRequestContent"))
            self.assertIn("bogus", b["error"]["message"])
        # paging
        for i in range(4):
            self.call("PUT", self.S + "/resourcegroups/page-%d%s" % (i, V), {"location": "eastus"})
        names, url, pages = [], self.S + "/resourcegroups" + V, 0
        while url:
            b = self.call("GET", url, expect=200)[2]
            self.assertLessEqual(len(b["value"]), 2)
            names += [g["name"] for g in b["value"]]
            url = b.get("nextLink")
            pages += 1
        self.assertGreaterEqual(pages, 3)
        self.assertTrue({"page-0", "page-1", "page-2", "page-3", "rg-a"} <= set(names))
        # delete LRO
        st, h, b = self.call("DELETE", p)
        self.assertEqual(st, 202)
        self.assertIn("/operationresults/", h["location"])
        self.assertEqual(self.call("GET", p)[2]["properties"]["provisioningState"], "Deleting")
        st, b, polls = self.follow(h)
        self.assertEqual(st, 200)
        self.assertEqual(polls, 2)      # --lro-polls 1: one 202, then 200
        self.assertEqual(self.call("HEAD", p)[0], 404)

    def test_lro_poll_count_is_configurable(self):
        EMU.admin("POST", "settings", {"lro_polls": 3})
        try:
            p = self.S + "/resourcegroups/rg-lro" + V
            self.call("PUT", p, {"location": "eastus"}, expect=201)
            st, h, b = self.call("DELETE", p)
            self.assertEqual(st, 202)
            self.assertEqual(h["retry-after"], "1")
            st, b, polls = self.follow(h)
            self.assertEqual((st, polls), (200, 4))     # three 202s, then 200
            self.assertEqual(self.call("GET", h["location"])[0], 200)   # a finished operation stays finished
        finally:
            EMU.admin("POST", "settings", {"lro_polls": 1})

    def test_providers_and_storage(self):
        ns = self.S + "/providers/Microsoft.Batch"
        self.assertEqual(self.call("GET", ns + V)[2]["registrationState"], "NotRegistered")
        st, h, b = self.call("POST", self.S + "/providers/Microsoft.Batch/locations/eastus/checkNameAvailability"
                             + V, {"name": "x", "type": "Microsoft.Batch/batchAccounts"})
        self.assertEqual((st, b["error"]["code"]), (409, "MissingSubscriptionRegistration"))
        b = self.call("POST", ns + "/register" + V, expect=200)[2]
        self.assertEqual(b["registrationState"], "Registering")
        self.register("Microsoft.Batch")
        self.register("Microsoft.Storage")
        self.call("PUT", self.S + "/resourcegroups/rg-s" + V, {"location": "eastus"})
        chk = self.S + "/providers/Microsoft.Storage/checkNameAvailability" + V
        b = self.call("POST", chk, {"name": "Bad_Name", "type": "Microsoft.Storage/storageAccounts"}, 200)[2]
        self.assertEqual((b["nameAvailable"], b["reason"]), (False, "AccountNameInvalid"))
        b = self.call("POST", chk, {"name": "azluasa1", "type": "Microsoft.Storage/storageAccounts"}, 200)[2]
        self.assertTrue(b["nameAvailable"])
        sa = self.S + "/resourceGroups/rg-s/providers/Microsoft.Storage/storageAccounts/azluasa1"
        st, h, b = self.call("PUT", sa + V, {"location": "eastus", "kind": "StorageV2"})
        self.assertEqual(st, 400)
        st, h, b = self.call("PUT", sa + V, {"location": "eastus", "kind": "StorageV2",
                                             "sku": {"name": "Standard_LRS"},
                                             "properties": {"minimumTlsVersion": "TLS1_2"}})
        self.assertEqual(st, 202)
        self.assertIn("/asyncoperations/", h["location"])
        st, b, polls = self.follow(h)
        self.assertEqual(st, 200)
        self.assertEqual(b["properties"]["provisioningState"], "Succeeded")
        blob = b["properties"]["primaryEndpoints"]["blob"]
        if EMU.ep["blob"]:
            self.assertEqual(blob, EMU.ep["blob"] + "/azluasa1/")
        b = self.call("POST", chk, {"name": "azluasa1", "type": "Microsoft.Storage/storageAccounts"}, 200)[2]
        self.assertEqual((b["nameAvailable"], b["reason"]), (False, "AlreadyExists"))
        keys = self.call("POST", sa + "/listKeys" + V, expect=200)[2]["keys"]
        self.assertEqual([k["keyName"] for k in keys], ["key1", "key2"])
        if EMU.ep["blob"]:
            c = sa + "/blobServices/default/containers/input"
            self.assertEqual(self.call("PUT", c + V, {})[0], 201)
            self.assertEqual(self.call("PUT", c + V, {"properties": {"metadata": {"k": "v"}}})[0], 200)
            self.assertEqual(self.call("GET", c + V, expect=200)[2]["properties"]["metadata"], {"k": "v"})
            lst = self.call("GET", sa + "/blobServices/default/containers" + V, expect=200)[2]["value"]
            self.assertEqual([x["name"] for x in lst], ["input"])
            self.assertEqual(self.call("DELETE", c + V)[0], 200)
            self.assertEqual(self.call("GET", c + V)[0], 404)
        # Batch account with auto-storage
        ba = self.S + "/resourceGroups/rg-s/providers/Microsoft.Batch/batchAccounts/azluaba1"
        sid = self.S + "/resourceGroups/rg-s/providers/Microsoft.Storage/storageAccounts/azluasa1"
        if EMU.ep["spec_validation"]:
            st, h, b = self.call("PUT", ba + V, {"location": "eastus", "properties": {"autoStorag": {}}})
            self.assertEqual((st, b["error"]["code"]), (400, "InvalidRequestContent"))
            st, h, b = self.call("PUT", ba + V, {"location": "eastus", "tags": {"a": 1}})
            self.assertEqual(st, 400)
        st, h, b = self.call("PUT", ba + V, {"location": "eastus",
                                             "properties": {"autoStorage": {"storageAccountId": sid}}})
        self.assertEqual(st, 202)
        st, b, polls = self.follow(h)
        self.assertEqual(st, 200)
        self.assertEqual(b["properties"]["accountEndpoint"], EMU.ep["batch_endpoint_template"].format(
            account="azluaba1"))
        self.assertEqual(b["properties"]["autoStorage"]["storageAccountId"], sid)
        k = self.call("POST", ba + "/listKeys" + V, expect=200)[2]
        self.assertEqual(k["accountName"], "azluaba1")
        self.assertTrue(k["primary"] and k["secondary"])
        b = self.call("POST", self.S + "/providers/Microsoft.Batch/locations/eastus/checkNameAvailability" + V,
                      {"name": "azluaba1", "type": "Microsoft.Batch/batchAccounts"}, 200)[2]
        self.assertEqual((b["nameAvailable"], b["reason"]), (False, "AlreadyExists"))
        st, h, b = self.call("DELETE", ba + V)
        self.assertEqual(st, 202)
        self.assertEqual(self.follow(h)[0], 200)
        self.assertEqual(self.call("GET", ba + V)[0], 404)
        self.assertEqual(self.call("DELETE", ba + V)[0], 204)
        self.assertEqual(self.call("DELETE", sa + V)[0], 200)
        self.assertEqual(self.call("DELETE", sa + V)[0], 204)


if __name__ == "__main__":
    unittest.main()
