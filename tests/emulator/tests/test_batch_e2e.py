"""End to end through the real emulator (python3 tests/emulator, over TLS): ARM creates a
storage account (Azurite) and a Batch account; the azure-batch SDK, with the keys from ARM,
runs a 2-instance mpi4py task on an autoscale pool with inter-node communication and a job
preparation task; stdout is uploaded to Azurite through a container SAS and read back."""
import datetime
import os
import shutil
import subprocess
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Emulator  # noqa: E402
from test_batch_sdk import FORMULA, MPI_APP, have_mpi, wait  # noqa: E402

try:
    import azure.batch.models as bm
    from azure.batch import BatchServiceClient
    from azure.batch.batch_auth import SharedKeyCredentials
    from azure.identity import ClientSecretCredential
    from azure.mgmt.batch import BatchManagementClient
    from azure.mgmt.resource import ResourceManagementClient
    from azure.mgmt.storage import StorageManagementClient
    from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas
    HAVE_SDK = True
except ImportError as e:  # pragma: no cover
    HAVE_SDK, WHY = False, str(e)


@unittest.skipUnless(HAVE_SDK, "notice: Azure SDK for Python not installed")
class EmulatorEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not have_mpi():
            raise unittest.SkipTest("notice: mpirun or mpi4py missing")
        cls.emu = Emulator(tls=True, args=["--lro-polls", "1", "--autoscale-interval", "0.5"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def test_mpi_through_arm_keys_and_azurite(self):
        ep = self.emu.ep
        cred = ClientSecretCredential(ep["tenant"], ep["client_id"], ep["client_secret"], authority=ep["authority"],
                                      instance_discovery=False, connection_verify=ep["ca_file"])
        kw = dict(base_url=ep["arm"], connection_verify=ep["ca_file"])
        sub = ep["subscription"]
        rc = ResourceManagementClient(cred, sub, **kw)
        for ns in ("Microsoft.Storage", "Microsoft.Batch"):
            rc.providers.register(ns)
            wait(lambda: rc.providers.get(ns).registration_state == "Registered", 20, 0.1)
        rc.resource_groups.create_or_update("batch-e2e", {"location": "eastus"})
        sc = StorageManagementClient(cred, sub, **kw)
        sname = "e2e" + uuid.uuid4().hex[:12]
        sa = sc.storage_accounts.begin_create("batch-e2e", sname, {"location": "eastus", "kind": "StorageV2",
                                                                    "sku": {"name": "Standard_LRS"}},
                                              polling_interval=0.2).result()
        skey = sc.storage_accounts.list_keys("batch-e2e", sname).keys[0].value
        bc = BatchManagementClient(cred, sub, **kw)
        bname = "e2eb" + uuid.uuid4().hex[:10]
        ba = bc.batch_account.begin_create("batch-e2e", bname, {"location": "eastus",
                                                                 "auto_storage": {"storage_account_id": sa.id}},
                                           polling_interval=0.2).result()
        bkey = bc.batch_account.get_keys("batch-e2e", bname).primary
        scheme = "https://" if ep["arm"].startswith("https") else "http://"
        url = ba.account_endpoint if "://" in ba.account_endpoint else scheme + ba.account_endpoint

        client = BatchServiceClient(SharedKeyCredentials(bname, bkey), batch_url=url)
        client.config.connection.verify = ep["ca_file"]
        bad = BatchServiceClient(SharedKeyCredentials(bname, "AAAA" + bkey[4:]), batch_url=url)
        bad.config.connection.verify = ep["ca_file"]
        with self.assertRaises(bm.BatchErrorException) as cm:
            list(bad.pool.list())
        self.assertEqual(cm.exception.error.code, "AuthenticationFailed")

        blob_out = None
        if ep.get("blob"):
            bsc = BlobServiceClient(sa.primary_endpoints.blob, credential={"account_name": sname,
                                                                           "account_key": skey},
                                    connection_verify=ep["ca_file"])
            bsc.create_container("apps").upload_blob("mpi_app.py", MPI_APP)
            bsc.create_container("output")
            exp = datetime.datetime.utcnow() + datetime.timedelta(hours=1)
            sas_r = generate_container_sas(sname, "apps", account_key=skey,
                                           permission=ContainerSasPermissions(read=True, list=True), expiry=exp)
            sas_w = generate_container_sas(sname, "output", account_key=skey,
                                           permission=ContainerSasPermissions(write=True, create=True), expiry=exp)
            base = sa.primary_endpoints.blob.rstrip("/")
            resource = [bm.ResourceFile(storage_container_url="%s/apps?%s" % (base, sas_r))]
            blob_out = [bm.OutputFile(file_pattern="../std*.txt", destination=bm.OutputFileDestination(
                container=bm.OutputFileBlobContainerDestination(container_url="%s/output?%s" % (base, sas_w),
                                                                path="mpi")),
                upload_options=bm.OutputFileUploadOptions(upload_condition="taskcompletion"))]
            app = "$AZ_BATCH_TASK_SHARED_DIR/mpi_app.py"
        else:
            resource = []
            app = "$AZ_BATCH_NODE_SHARED_DIR/mpi_app.py"

        client.pool.add(bm.PoolAddParameter(
            id="mpipool", vm_size="Standard_D2s_v5",
            virtual_machine_configuration=bm.VirtualMachineConfiguration(
                image_reference=bm.ImageReference(publisher="canonical", offer="ubuntu-24_04-lts", sku="server",
                                                  version="latest"),
                node_agent_sku_id="batch.node.ubuntu 24.04"),
            enable_auto_scale=True, auto_scale_formula=FORMULA,
            auto_scale_evaluation_interval=datetime.timedelta(minutes=5),
            enable_inter_node_communication=True, task_slots_per_node=1))
        prep = "/bin/sh -c 'mkdir -p $AZ_BATCH_NODE_SHARED_DIR'"
        if not resource:
            prep = "/bin/sh -c 'printf %%s \"%s\" > $AZ_BATCH_NODE_SHARED_DIR/mpi_app.py'" % \
                MPI_APP.decode().replace("'", "").replace('"', '\\"')
        client.job.add(bm.JobAddParameter(id="mpijob", pool_info=bm.PoolInformation(pool_id="mpipool"),
                                          job_preparation_task=bm.JobPreparationTask(command_line=prep)))
        client.task.add("mpijob", bm.TaskAddParameter(
            id="mpi", command_line="/bin/sh -c 'mpirun -np 2 --host $AZ_BATCH_HOST_LIST /usr/bin/python3 %s'" % app,
            multi_instance_settings=bm.MultiInstanceSettings(number_of_instances=2,
                                                             coordination_command_line="/bin/sh -c 'echo ok'",
                                                             common_resource_files=resource),
            output_files=blob_out))
        task = wait(lambda: (lambda t: t if t.state == bm.TaskState.completed else None)(
            client.task.get("mpijob", "mpi")), timeout=60)
        out = b"".join(client.file.get_from_task("mpijob", "mpi", "stdout.txt")).decode()
        self.assertEqual(task.execution_info.exit_code, 0, out)
        self.assertIn("gathered 2:", out)
        counts = client.job.get_task_counts("mpijob").task_counts
        self.assertEqual((counts.completed, counts.succeeded), (1, 1))
        if blob_out:
            got = bsc.get_container_client("output").download_blob("mpi/stdout.txt").readall()
            self.assertEqual(got.decode(), out)
        client.job.delete("mpijob")
        client.pool.delete("mpipool")
        wait(lambda: not client.pool.exists("mpipool"), 20)


if __name__ == "__main__":
    unittest.main()
