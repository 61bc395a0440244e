#!/usr/bin/python3
"""check_task.py: the tutorial's third workflow with the Azure SDK for Python. Summarizes the task
states of each job in the Batch account and, for each job whose tasks are all complete, downloads
every task's stdout and stderr (from the blob container, else from the node)."""
import argparse
import os
import sys
import time

import azure.batch.models as bm
from azure.batch import BatchServiceClient
from azure.batch.batch_auth import SharedKeyCredentials
from azure.storage.blob import ContainerClient

import local_cloud

COLS = ("job", "state", "active", "running", "completed", "succeeded", "failed")


def main():
    ap = argparse.ArgumentParser(description="Checks the status of the jobs' tasks and downloads their "
                                             "stdout/stderr once all tasks of a job are finished.")
    ap.add_argument("--wait", action="store_true", help="Wait until the tasks are complete")
    ap.add_argument("--job", metavar="ID")
    ap.add_argument("--out", metavar="DIR", default="output")
    ap.add_argument("--timeout", type=int, default=3600)
    args = ap.parse_args()
    sys.path.insert(0, os.getcwd())
    import config_resources as r
    env = local_cloud.settings()
    client = BatchServiceClient(SharedKeyCredentials(r.batch["name"], r.batch["key"]), batch_url=r.batch["url"])
    client.config.connection.verify = env["verify"]

    sel = "id,state,poolInfo"
    if args.job:
        jobs = [client.job.get(args.job, job_get_options=bm.JobGetOptions(select=sel))]
    else:
        jobs = list(client.job.list(job_list_options=bm.JobListOptions(select=sel)))
    if not jobs:
        print("No jobs in Batch account %s: run 'python3 launch_batch.py' first." % r.batch["name"])
        return 0

    def counts_row(job):
        c = client.job.get_task_counts(job.id).task_counts
        return {"job": job.id, "state": str(job.state.value if hasattr(job.state, "value") else job.state),
                "active": c.active, "running": c.running, "completed": c.completed,
                "succeeded": c.succeeded, "failed": c.failed}

    def check_pool(pool_id):
        try:
            pool = client.pool.get(pool_id, pool_get_options=bm.PoolGetOptions(
                select="id,resizeErrors,allocationState,currentDedicatedNodes"))
        except bm.BatchErrorException as e:
            if e.error.code == "PoolNotFound":
                sys.exit("check_task.py: the job's pool %s does not exist" % pool_id)
            return
        if pool.resize_errors:
            sys.exit("check_task.py: pool %s cannot get nodes (%s)" % (
                pool_id, "; ".join("%s: %s" % (e.code, e.message) for e in pool.resize_errors)))

    if args.wait:
        started = time.monotonic()
        last_pool_check = -1e9
        while True:
            pending = done = failed = 0
            for job in jobs:
                row = counts_row(job)
                pending += row["active"] + row["running"]
                done, failed = done + row["completed"], failed + row["failed"]
                if row["active"] > 0 and time.monotonic() - last_pool_check > 10:
                    check_pool(job.pool_info.pool_id)
            if time.monotonic() - last_pool_check > 10:
                last_pool_check = time.monotonic()
            if pending == 0:
                break
            waited = time.monotonic() - started
            if waited > args.timeout:
                sys.exit("check_task.py: still %d tasks pending after %d s" % (pending, waited))
            sys.stderr.write("\rwaiting: %d tasks pending, %d completed (%d failed) - %d s" % (pending, done, failed, waited))
            time.sleep(2)
        sys.stderr.write("\r\033[K")

    rows = [counts_row(job) for job in jobs]
    widths = [max(len(c), *(len(str(x[c])) for x in rows)) for c in COLS]
    print("  ".join(c.ljust(w) for c, w in zip(COLS, widths)))
    print("  ".join("-" * w for w in widths))
    for x in rows:
        print("  ".join(str(x[c]).ljust(w) for c, w in zip(COLS, widths)))

    container = ContainerClient.from_container_url(r.blob_container["url"] + "?" + r.blob_container["sas_token"],
                                                   connection_verify=env["verify"])
    failures = []
    for row in rows:
        if row["active"] + row["running"] == 0 and row["completed"] > 0:
            for task in client.task.list(row["job"], task_list_options=bm.TaskListOptions(select="id,state,executionInfo")):
                d = os.path.join(args.out, row["job"], task.id)
                os.makedirs(d, exist_ok=True)
                got = {}
                prefix = "%s/%s/" % (row["job"], task.id)
                for item in container.list_blobs(name_starts_with=prefix):
                    name = item.name[len(prefix):]
                    if name in ("stdout.txt", "stderr.txt"):
                        with open(os.path.join(d, name), "wb") as f:
                            container.download_blob(item.name).readinto(f)
                        got[name] = "blob"
                for name in ("stdout.txt", "stderr.txt"):
                    if name not in got:
                        try:
                            with open(os.path.join(d, name), "wb") as f:
                                for chunk in client.file.get_from_task(row["job"], task.id, name):
                                    f.write(chunk)
                            got[name] = "node"
                        except bm.BatchErrorException:
                            pass
                where = ["%s/%s (from %s)" % (d, n, got[n]) for n in ("stdout.txt", "stderr.txt") if n in got]
                print("%s/%s: %s" % (row["job"], task.id, ", ".join(where) or "no output found"))
                ex = task.execution_info
                if ex is not None and ex.result == bm.TaskExecutionResult.failure:
                    why = ex.failure_info.message if ex.failure_info else "exit code %s" % ex.exit_code
                    failures.append("%s/%s failed: %s (see %s/stderr.txt)" % (row["job"], task.id, why, d))
        elif row["active"] + row["running"] > 0:
            print("%s: %d tasks still pending; outputs are downloaded once all are complete (use --wait)"
                  % (row["job"], row["active"] + row["running"]))
    for f in failures:
        sys.stderr.write("check_task.py: %s\n" % f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
