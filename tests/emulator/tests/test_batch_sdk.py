"""Azure's own clients drive the Batch data plane: Debian's azure-batch 13 SDK runs a
2-instance MPI task (mpi4py) on an autoscale pool with inter-node communication, and az
(azure-cli 2.45) lists pools and jobs and creates and shows a task."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import batchharness as bh  # noqa: E402
from blobfake import BlobFake  # noqa: E402

try:
    import azure.batch.models as bm
    from azure.batch import BatchServiceClient
    from azure.batch.batch_auth import SharedKeyCredentials
except ImportError:  # pragma: no cover
    BatchServiceClient = None

MPI_APP = b"""from mpi4py import MPI
import os, socket
c = MPI.COMM_WORLD
msg = "rank %d of %d on %s node %s" % (c.Get_rank(), c.Get_size(), socket.gethostname(),
                                      os.environ.get("AZ_BATCH_NODE_ID"))
print(msg, flush=True)
msgs = c.gather(msg, root=0)
if c.Get_rank() == 0:
    print("gathered %d: %s" % (len(msgs), "; ".join(msgs)), flush=True)
"""

FORMULA = """$pct = $PendingTasks.GetSamplePercent(TimeInterval_Minute * 3);
$pending = $pct < 70 ? max(0, $PendingTasks.GetSample(1))
                      : max($PendingTasks.GetSample(1), avg($PendingTasks.GetSample(TimeInterval_Minute * 3)));
$TargetDedicatedNodes = min(2, $pending);
$TargetLowPriorityNodes = 0;
$NodeDeallocationOption = taskcompletion;"""


def have_mpi():
    if not shutil.which("mpirun"):
        return False
    return subprocess.run(["/usr/bin/python3", "-c", "import mpi4py"], capture_output=True).returncode == 0


def wait(pred, timeout=60, step=0.25):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError("timed out")


@unittest.skipIf(BatchServiceClient is None, "notice: azure.batch (python3-azure) not installed")
class SdkDrivesBatch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.h = bh.Harness(settings={"autoscale_interval": 0.5}).start()
        cls.blob = BlobFake().start()
        cls.client = BatchServiceClient(SharedKeyCredentials(bh.ACCOUNT, bh.KEY1), batch_url=cls.h.endpoint)

    @classmethod
    def tearDownClass(cls):
        cls.h.stop()
        cls.blob.stop()

    def pick_image(self):
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        imgs = list(self.client.account.list_supported_images())
        ok = [i for i in imgs if i.os_type == "linux" and i.verification_type == "verified"
              and "ubuntu" in i.node_agent_sku_id
              and (i.batch_support_end_of_life is None or i.batch_support_end_of_life.strftime("%Y-%m-%dT%H:%M:%SZ") > now)]
        self.assertFalse([i for i in imgs if i.node_agent_sku_id == "batch.node.ubuntu 18.04"])
        agents = {i.node_agent_sku_id for i in ok}
        self.assertIn("batch.node.ubuntu 22.04", agents)
        self.assertIn("batch.node.ubuntu 24.04", agents)
        return [i for i in ok if i.image_reference.offer == "ubuntu-24_04-lts" and i.image_reference.sku == "server"][0]

    def test_mpi_on_autoscale_pool(self):
        if not have_mpi():
            self.skipTest("notice: mpirun or mpi4py missing (apt install openmpi-bin python3-mpi4py)")
        c = self.client
        img = self.pick_image()
        c.pool.add(bm.PoolAddParameter(
            id="mpipool", vm_size="Standard_D2s_v5",
            virtual_machine_configuration=bm.VirtualMachineConfiguration(
                image_reference=img.image_reference, node_agent_sku_id=img.node_agent_sku_id),
            enable_auto_scale=True, auto_scale_formula=FORMULA,
            auto_scale_evaluation_interval=__import__("datetime").timedelta(minutes=5),
            enable_inter_node_communication=True, task_slots_per_node=1,
            start_task=bm.StartTask(command_line="/bin/sh -c 'echo started > $AZ_BATCH_NODE_SHARED_DIR/st'",
                                    wait_for_success=True)))
        with self.assertRaises(bm.BatchErrorException) as cm:
            c.pool.add(bm.PoolAddParameter(id="MPIPOOL", vm_size="x", virtual_machine_configuration=
                                           bm.VirtualMachineConfiguration(image_reference=img.image_reference,
                                                                          node_agent_sku_id=img.node_agent_sku_id),
                                           target_dedicated_nodes=1))
        self.assertEqual(cm.exception.error.code, "PoolExists")
        self.assertTrue(c.pool.exists("mpipool"))
        run = c.pool.evaluate_auto_scale("mpipool", "$TargetDedicatedNodes = min(3, $PendingTasks.GetSample(1) + 1);")
        self.assertIn("$TargetDedicatedNodes=1", run.results)
        bad = c.pool.evaluate_auto_scale("mpipool", "$TargetDedicatedNodes = $ActiveTasks.GetSample(50);")
        self.assertIsNone(bad.results)
        self.assertEqual(bad.error.code, "InsufficientSampleData")

        self.blob.put("apps", "mpi_app.py", MPI_APP)
        c.job.add(bm.JobAddParameter(
            id="mpijob", pool_info=bm.PoolInformation(pool_id="mpipool"),
            job_preparation_task=bm.JobPreparationTask(
                command_line="/bin/sh -c 'mkdir -p $AZ_BATCH_NODE_SHARED_DIR/data && echo prepared'",
                wait_for_success=True),
            job_release_task=bm.JobReleaseTask(command_line="/bin/sh -c 'echo released'")))
        c.task.add("mpijob", bm.TaskAddParameter(
            id="mpi1",
            command_line="/bin/sh -c 'mpirun -np 2 --host $AZ_BATCH_HOST_LIST /usr/bin/python3 "
                         "$AZ_BATCH_TASK_SHARED_DIR/mpi_app.py'",
            multi_instance_settings=bm.MultiInstanceSettings(
                number_of_instances=2,
                coordination_command_line="/bin/sh -c 'echo coordinating on $AZ_BATCH_NODE_ID master=$AZ_BATCH_IS_CURRENT_NODE_MASTER'",
                common_resource_files=[bm.ResourceFile(http_url=self.blob.url("apps", "mpi_app.py"),
                                                       file_path="mpi_app.py")]),
            output_files=[bm.OutputFile(
                file_pattern="../std*.txt",
                destination=bm.OutputFileDestination(container=bm.OutputFileBlobContainerDestination(
                    container_url=self.blob.url("out"), path="mpi1")),
                upload_options=bm.OutputFileUploadOptions(upload_condition="taskcompletion"))]))

        task = wait(lambda: (lambda t: t if t.state == bm.TaskState.completed else None)(
            c.task.get("mpijob", "mpi1")), timeout=60)
        out = b"".join(c.file.get_from_task("mpijob", "mpi1", "stdout.txt")).decode()
        err = b"".join(c.file.get_from_task("mpijob", "mpi1", "stderr.txt")).decode()
        self.assertEqual(task.execution_info.result, bm.TaskExecutionResult.success, out + err)
        self.assertEqual(task.execution_info.exit_code, 0)
        self.assertIn("rank 0 of 2", out)
        self.assertIn("rank 1 of 2", out)
        self.assertIn("gathered 2:", out)
        nodes_in_out = {line.rsplit("node ", 1)[1] for line in out.splitlines() if line.startswith("rank ")}
        self.assertEqual(len(nodes_in_out), 1)   # mpirun runs both ranks from the primary's environment
        subs = list(c.task.list_subtasks("mpijob", "mpi1").value)
        self.assertEqual([s.id for s in subs], [1])
        self.assertEqual(subs[0].state, bm.SubtaskState.completed)
        self.assertNotEqual(subs[0].node_info.node_id, task.node_info.node_id)
        counts = c.job.get_task_counts("mpijob")
        self.assertEqual((counts.task_counts.completed, counts.task_counts.succeeded, counts.task_counts.failed),
                         (1, 1, 0))
        self.assertEqual(counts.task_slot_counts.completed, 1)
        self.assertIn(b"rank 0 of 2", self.blob.get("out", "mpi1/stdout.txt") or b"")
        self.assertIsNotNone(self.blob.get("out", "mpi1/stderr.txt"))
        props = c.file.get_properties_from_task("mpijob", "mpi1", "stdout.txt", raw=True)
        self.assertEqual(props.response.headers["ocp-batch-file-isdirectory"], "false")
        self.assertIn("/jobs/mpijob/tasks/mpi1/files/stdout.txt", props.response.headers["ocp-batch-file-url"])
        self.assertEqual(int(props.response.headers["Content-Length"]), len(out.encode()))
        names = [f.name for f in c.file.list_from_task("mpijob", "mpi1", recursive=True)]
        self.assertIn("wd", names)
        self.assertIn("mpi_app.py", names)
        pool = c.pool.get("mpipool")
        self.assertTrue(pool.enable_auto_scale)
        self.assertIn("$TargetDedicatedNodes=", pool.auto_scale_run.results)
        # preparation task ran once per node, before the task
        prep = list(c.job.list_preparation_and_release_task_status("mpijob"))
        self.assertEqual(len(prep), 2)
        self.assertTrue(all(p.job_preparation_task_execution_info.exit_code == 0 for p in prep))
        c.job.terminate("mpijob")
        wait(lambda: c.job.get("mpijob").state == bm.JobState.completed, timeout=30)
        prep = list(c.job.list_preparation_and_release_task_status("mpijob"))
        self.assertTrue(all(p.job_release_task_execution_info.exit_code == 0 for p in prep))
        # no pending work: autoscale takes the pool back to zero
        wait(lambda: c.pool.get("mpipool").current_dedicated_nodes == 0, timeout=30)

    def test_sdk_tasks_collection_and_lists(self):
        c = self.client
        c.pool.add(bm.PoolAddParameter(
            id="fixed", vm_size="Standard_D2s_v5",
            virtual_machine_configuration=bm.VirtualMachineConfiguration(
                image_reference=bm.ImageReference(publisher="canonical", offer="0001-com-ubuntu-server-jammy",
                                                  sku="22_04-lts", version="latest"),
                node_agent_sku_id="batch.node.ubuntu 22.04"),
            target_dedicated_nodes=1, task_slots_per_node=4))
        c.job.add(bm.JobAddParameter(id="sdkjob", pool_info=bm.PoolInformation(pool_id="fixed")))
        tasks = [bm.TaskAddParameter(id="t%03d" % i, command_line="/bin/sh -c 'echo %d'" % i) for i in range(150)]
        res = c.task.add_collection("sdkjob", tasks)   # the SDK splits into chunks of 100
        self.assertEqual(len(res.value), 150)
        self.assertTrue(all(r.status == bm.TaskAddStatus.success for r in res.value))
        dup = c.task.add_collection("sdkjob", [bm.TaskAddParameter(id="T001", command_line="true")])
        self.assertEqual(dup.value[0].status, bm.TaskAddStatus.client_error)
        self.assertEqual(dup.value[0].error.code, "TaskExists")
        wait(lambda: c.job.get_task_counts("sdkjob").task_counts.completed == 150, timeout=60)
        opts = bm.TaskListOptions(filter="state eq 'completed'", select="id,state", max_results=40)
        listed = list(c.task.list("sdkjob", task_list_options=opts))
        self.assertEqual(len(listed), 150)
        self.assertEqual(len({t.id for t in listed}), 150)
        self.assertIsNone(listed[0].command_line)
        self.assertEqual([p.id for p in c.pool.list(bm.PoolListOptions(filter="id eq 'fixed'"))], ["fixed"])
        counts = list(c.account.list_pool_node_counts())
        self.assertTrue(any(x.pool_id == "fixed" and x.dedicated.total == 1 for x in counts))


@unittest.skipIf(shutil.which("az") is None, "notice: az (azure-cli) not installed")
class AzCliDrivesBatch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.h = bh.Harness().start()
        cls.cfg = tempfile.mkdtemp(prefix="azcfg-")
        cls.h.call("POST", "/pools", {"id": "clipool", "vmSize": "Standard_D2s_v5", "targetDedicatedNodes": 1,
                                      "virtualMachineConfiguration": {
                                          "imageReference": {"publisher": "canonical", "offer": "ubuntu-24_04-lts",
                                                             "sku": "server", "version": "latest"},
                                          "nodeAgentSKUId": "batch.node.ubuntu 24.04"}})
        cls.h.call("POST", "/jobs", {"id": "clijob", "poolInfo": {"poolId": "clipool"}})

    @classmethod
    def tearDownClass(cls):
        cls.h.stop()
        shutil.rmtree(cls.cfg, ignore_errors=True)

    def az(self, *args):
        env = dict(os.environ, AZURE_CONFIG_DIR=self.cfg, AZURE_CORE_COLLECT_TELEMETRY="false")
        p = subprocess.run(["az", "batch"] + list(args) + [
            "--account-endpoint", self.h.endpoint, "--account-name", bh.ACCOUNT, "--account-key", bh.KEY1,
            "--only-show-errors", "-o", "json"], capture_output=True, text=True, env=env, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout) if p.stdout.strip() else None

    def test_az_batch(self):
        pools = self.az("pool", "list")
        self.assertEqual([p["id"] for p in pools], ["clipool"])
        jobs = self.az("job", "list")
        self.assertEqual([j["id"] for j in jobs], ["clijob"])
        self.az("task", "create", "--job-id", "clijob", "--task-id", "cli1",
                "--command-line", "/bin/sh -c 'echo from az'")
        t = self.az("task", "show", "--job-id", "clijob", "--task-id", "cli1")
        self.assertEqual(t["id"], "cli1")
        self.assertIn(t["state"], ("active", "preparing", "running", "completed"))


if __name__ == "__main__":
    unittest.main()
