#!/usr/bin/python3
"""launch_batch.py: the tutorial's second workflow with the Azure SDK for Python. With the Batch account
and blob container from config_resources.py it creates an autoscaling pool with inter-node
communication (image: a supported Ubuntu LTS found at run time), a job whose preparation task fetches
demo_azure_batch/ (uploaded to the container) and runs install.sh as an admin auto-user, and a
2-instance MPI task whose stdout/stderr go to the blob container."""
import argparse
import datetime
import os
import sys

import azure.batch.models as bm
from azure.batch import BatchServiceClient
from azure.batch.batch_auth import SharedKeyCredentials
from azure.storage.blob import ContainerClient

import local_cloud

HERE = os.path.dirname(os.path.abspath(__file__))
FORMULA = """$pct = $PendingTasks.GetSamplePercent(TimeInterval_Minute * 3);
$pending = $pct < 70 ? max(0, $PendingTasks.GetSample(1)) : max($PendingTasks.GetSample(1), avg($PendingTasks.GetSample(TimeInterval_Minute * 3)));
$TargetDedicatedNodes = min(%d, $pending);
$TargetLowPriorityNodes = 0;
$NodeDeallocationOption = taskcompletion;"""


def step(verb, what):
    print("  %-8s %s" % (verb, what), flush=True)


def pick_ubuntu_image(client):
    now = datetime.datetime.now(datetime.timezone.utc)
    best, best_rank = None, None
    for img in client.account.list_supported_images(
            account_list_supported_images_options=bm.AccountListSupportedImagesOptions(filter="osType eq 'linux'")):
        ref = img.image_reference
        agent = img.node_agent_sku_id or ""
        if not (agent.startswith("batch.node.ubuntu ") and agent.endswith(".04")):
            continue
        eol = img.batch_support_end_of_life
        if eol is not None and (eol - now).days < 30:
            continue
        if img.verification_type not in (None, "verified") or (ref.publisher or "").lower() != "canonical":
            continue
        sku = ref.sku or ""
        rank = int(agent.split()[1].split(".")[0]) * 10 + (0 if "gen1" in sku else 1)
        if best_rank is None or rank > best_rank:
            best, best_rank = img, rank
    if best is None:
        sys.exit("launch_batch.py: no verified Ubuntu LTS image with Batch support left in supportedimages")
    r = best.image_reference
    return bm.ImageReference(publisher=r.publisher, offer=r.offer, sku=r.sku, version=r.version or "latest"), \
        best.node_agent_sku_id


def main():
    ap = argparse.ArgumentParser(description="Creating in a batch account a pool, a job and an MPI task (see config_resources.py).")
    ap.add_argument("--pool_id", default="mpi-pool")
    ap.add_argument("--job_id", default="mpi-job")
    ap.add_argument("--task_id", default="mpi-task")
    ap.add_argument("--vm-size", default="Standard_D2s_v5")
    ap.add_argument("--max_nodes", type=int, default=2)
    ap.add_argument("--instances", type=int, default=2)
    ap.add_argument("--demo_dir", default=os.path.join(HERE, "..", "..", "..", "demo_azure_batch"))
    args = ap.parse_args()
    sys.path.insert(0, os.getcwd())
    import config_resources as r
    env = local_cloud.settings()

    client = BatchServiceClient(SharedKeyCredentials(r.batch["name"], r.batch["key"]), batch_url=r.batch["url"])
    client.config.connection.verify = env["verify"]
    container_url, sas = r.blob_container["url"], r.blob_container["sas_token"]
    print("Launching on Batch account %s (%s)" % (r.batch["name"], r.batch["url"]))

    image, agent = pick_ubuntu_image(client)
    step("image", "%s %s %s (%s)" % (image.publisher, image.offer, image.sku, agent))

    cc = ContainerClient.from_container_url(container_url + "?" + sas, connection_verify=env["verify"])
    files = []
    for name in ("install.sh", "requirements_node.txt", "script.py"):
        blob_name = "demo_azure_batch/" + name
        with open(os.path.join(args.demo_dir, name), "rb") as f:
            cc.upload_blob(blob_name, f, overwrite=True)
        files.append(bm.ResourceFile(http_url=container_url + "/" + blob_name + "?" + sas, file_path=blob_name))
    step("uploaded", "demo_azure_batch/ (%d files) to %s" % (len(files), container_url))
    admin = bm.UserIdentity(auto_user=bm.AutoUserSpecification(scope="pool", elevation_level="admin"))
    prep = bm.JobPreparationTask(command_line="/bin/sh -c 'sh demo_azure_batch/install.sh'", resource_files=files,
                                 wait_for_success=True, user_identity=admin, rerun_on_node_reboot_after_success=True)
    script_path = "$AZ_BATCH_JOB_PREP_WORKING_DIR/demo_azure_batch/script.py"

    formula = FORMULA % args.max_nodes
    if client.pool.exists(args.pool_id):
        pool = client.pool.get(args.pool_id)
        if pool.state != bm.PoolState.active:
            sys.exit("launch_batch.py: pool %s is %s" % (args.pool_id, pool.state))
        step("reused", "pool %s" % args.pool_id)
    else:
        client.pool.add(bm.PoolAddParameter(
            id=args.pool_id, vm_size=args.vm_size,
            virtual_machine_configuration=bm.VirtualMachineConfiguration(image_reference=image, node_agent_sku_id=agent),
            enable_auto_scale=True, auto_scale_formula="$TargetDedicatedNodes = 0; $TargetLowPriorityNodes = 0;",
            auto_scale_evaluation_interval=datetime.timedelta(minutes=5),
            enable_inter_node_communication=True, task_slots_per_node=1))
        step("created", "pool %s (%s, inter-node communication, 1 task slot per node)" % (args.pool_id, args.vm_size))
    run = client.pool.evaluate_auto_scale(args.pool_id, formula)
    if run.error is not None:
        sys.exit("launch_batch.py: the autoscale formula does not evaluate: %s %s" % (run.error.code, run.error.message))
    client.pool.enable_auto_scale(args.pool_id, auto_scale_formula=formula,
                                  auto_scale_evaluation_interval=datetime.timedelta(minutes=5))
    step("autoscale", "0..%d nodes while tasks are pending (evaluated: %s)" % (args.max_nodes, run.results))

    try:
        job = client.job.get(args.job_id, job_get_options=bm.JobGetOptions(select="id,state"))
    except bm.BatchErrorException as e:
        if e.error.code != "JobNotFound":
            raise
        job = None
    if job is not None:
        if job.state != bm.JobState.active:
            sys.exit("launch_batch.py: job %s is %s and takes no new tasks" % (args.job_id, job.state))
        step("reused", "job " + args.job_id)
    else:
        client.job.add(bm.JobAddParameter(id=args.job_id, pool_info=bm.PoolInformation(pool_id=args.pool_id),
                                          job_preparation_task=prep, on_all_tasks_complete="noaction"))
        step("created", "job %s (preparation task installs Open MPI and mpi4py as an admin auto-user)" % args.job_id)

    client.task.add(args.job_id, bm.TaskAddParameter(
        id=args.task_id, required_slots=1,
        command_line="/bin/sh -c 'mpirun -np %d --host $AZ_BATCH_HOST_LIST python3 %s'" % (args.instances, script_path),
        multi_instance_settings=bm.MultiInstanceSettings(
            number_of_instances=args.instances,
            coordination_command_line="/bin/sh -c 'echo coordination on $AZ_BATCH_NODE_ID: master=$AZ_BATCH_IS_CURRENT_NODE_MASTER'"),
        user_identity=bm.UserIdentity(auto_user=bm.AutoUserSpecification(scope="pool", elevation_level="nonadmin")),
        constraints=bm.TaskConstraints(max_task_retry_count=0),
        output_files=[bm.OutputFile(
            file_pattern="../std*.txt",
            destination=bm.OutputFileDestination(container=bm.OutputFileBlobContainerDestination(
                container_url=container_url + "?" + sas, path=args.job_id + "/" + args.task_id)),
            upload_options=bm.OutputFileUploadOptions(upload_condition="taskcompletion"))]))
    client.job.patch(args.job_id, bm.JobPatchParameter(on_all_tasks_complete="terminatejob"))
    step("added", "MPI task %s (%d instances; stdout/stderr to %s/%s/%s)" % (
        args.task_id, args.instances, container_url, args.job_id, args.task_id))
    print("Watch it with: python3 check_task.py --wait")


if __name__ == "__main__":
    main()
