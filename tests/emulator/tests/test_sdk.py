"""Azure's own Python SDK (Debian python3-azure) drives the emulator over TLS:
azure.identity sign-in (secret, certificate, managed identity), azure.mgmt.resource,
azure.mgmt.storage, azure.mgmt.batch, then azure.storage.blob with the keys from ARM."""
import os
import sys
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Emulator  # noqa: E402

try:
    from azure.identity import CertificateCredential, ClientSecretCredential, ManagedIdentityCredential
    from azure.mgmt.batch import BatchManagementClient
    from azure.mgmt.resource import ResourceManagementClient
    from azure.mgmt.storage import StorageManagementClient
    from azure.storage.blob import BlobServiceClient
    HAVE_SDK = True
except ImportError as e:   # pragma: no cover
    HAVE_SDK = False
    WHY = str(e)

EMU = None


def setUpModule():
    global EMU
    if not HAVE_SDK:
        raise unittest.SkipTest("Azure SDK for Python not installed: %s" % WHY)
    EMU = Emulator(tls=True, args=["--lro-polls", "1"]).start()


def tearDownModule():
    if EMU is not None:
        EMU.stop()


class SdkTest(unittest.TestCase):
    def cred(self):
        ep = EMU.ep
        return ClientSecretCredential(ep["tenant"], ep["client_id"], ep["client_secret"],
                                      authority=ep["authority"], instance_discovery=False,
                                      connection_verify=ep["ca_file"])

    def test_identity_credentials(self):
        ep = EMU.ep
        tok = self.cred().get_token("https://management.azure.com/.default")
        self.assertEqual(tok.token.count("."), 2)
        cc = CertificateCredential(ep["tenant"], ep["client_id"], ep["client_certificate_path"],
                                   authority=ep["authority"], instance_discovery=False,
                                   connection_verify=ep["ca_file"])
        self.assertTrue(cc.get_token("https://batch.core.windows.net//.default").token)
        from azure.core.exceptions import ClientAuthenticationError
        bad = ClientSecretCredential(ep["tenant"], ep["client_id"], "wrong", authority=ep["authority"],
                                     instance_discovery=False, connection_verify=ep["ca_file"])
        with self.assertRaises(ClientAuthenticationError) as cm:
            bad.get_token("https://management.azure.com/.default")
        self.assertIn("AADSTS7000215", str(cm.exception))
        # App Service managed identity (IDENTITY_ENDPOINT + IDENTITY_HEADER)
        old = dict(os.environ)
        try:
            os.environ["IDENTITY_ENDPOINT"] = ep["identity_endpoint"]
            os.environ["IDENTITY_HEADER"] = ep["identity_header"]
            mi = ManagedIdentityCredential(connection_verify=ep["ca_file"])
            self.assertTrue(mi.get_token("https://storage.azure.com/.default").token)
        finally:
            os.environ.clear()
            os.environ.update(old)

    def test_resource_storage_batch_blob(self):
        ep = EMU.ep
        cred = self.cred()
        kw = dict(base_url=ep["arm"], connection_verify=ep["ca_file"])
        sub = ep["subscription"]
        rc = ResourceManagementClient(cred, sub, **kw)
        rc.providers.register("Microsoft.Storage")
        rc.providers.register("Microsoft.Batch")
        for ns in ("Microsoft.Storage", "Microsoft.Batch"):
            for _ in range(10):
                if rc.providers.get(ns).registration_state == "Registered":
                    break
            self.assertEqual(rc.providers.get(ns).registration_state, "Registered")
        rg = rc.resource_groups.create_or_update("sdk-rg", {"location": "eastus"})
        self.assertEqual(rg.name, "sdk-rg")
        self.assertTrue(rc.resource_groups.check_existence("sdk-rg"))
        self.assertIn("sdk-rg", [g.name for g in rc.resource_groups.list()])

        sc = StorageManagementClient(cred, sub, **kw)
        name = "sdk" + uuid.uuid4().hex[:12]
        self.assertTrue(sc.storage_accounts.check_name_availability(
            {"name": name, "type": "Microsoft.Storage/storageAccounts"}).name_available)
        sa = sc.storage_accounts.begin_create("sdk-rg", name, {
            "location": "eastus", "kind": "StorageV2", "sku": {"name": "Standard_LRS"},
            "minimum_tls_version": "TLS1_2", "allow_blob_public_access": False},
            polling_interval=0.2).result()
        self.assertEqual(sa.provisioning_state, "Succeeded")
        keys = sc.storage_accounts.list_keys("sdk-rg", name).keys
        key = keys[0].value
        sc.blob_containers.create("sdk-rg", name, "results", {})
        self.assertEqual([c.name for c in sc.blob_containers.list("sdk-rg", name)], ["results"])

        bc = BatchManagementClient(cred, sub, **kw)
        bname = "sdkb" + uuid.uuid4().hex[:10]
        self.assertTrue(bc.location.check_name_availability(
            "eastus", {"name": bname, "type": "Microsoft.Batch/batchAccounts"}).name_available)
        ba = bc.batch_account.begin_create("sdk-rg", bname, {
            "location": "eastus", "auto_storage": {"storage_account_id": sa.id}}, polling_interval=0.2).result()
        self.assertEqual(ba.account_endpoint, ep["batch_endpoint_template"].format(account=bname))
        self.assertEqual(ba.auto_storage.storage_account_id, sa.id)
        bk = bc.batch_account.get_keys("sdk-rg", bname)
        self.assertEqual(bk.account_name, bname)
        self.assertTrue(bk.primary)

        # Blob data plane in Azurite with the key ARM returned
        if not ep["blob"]:
            self.skipTest("no Azurite")
        bsc = BlobServiceClient(sa.primary_endpoints.blob, credential={"account_name": name, "account_key": key},
                                connection_verify=ep["ca_file"])
        cc = bsc.get_container_client("results")
        cc.upload_blob("hello.txt", b"hello from the emulator")
        self.assertEqual(cc.download_blob("hello.txt").readall(), b"hello from the emulator")
        self.assertEqual([b.name for b in cc.list_blobs()], ["hello.txt"])

        bc.batch_account.begin_delete("sdk-rg", bname, polling_interval=0.2).result()
        rc.resource_groups.begin_delete("sdk-rg", polling_interval=0.2).result()
        self.assertFalse(rc.resource_groups.check_existence("sdk-rg"))


if __name__ == "__main__":
    unittest.main()
