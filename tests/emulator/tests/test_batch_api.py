"""REST-level tests of the Batch data plane through the test harness (Shared Key signed
requests): errors and headers, pools/nodes/autoscale state machines, jobs, tasks, files,
resource and output files, scale."""
import json
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import batchharness as bh  # noqa: E402
from blobfake import BlobFake  # noqa: E402

IMAGE = {"imageReference": {"publisher": "canonical", "offer": "ubuntu-24_04-lts", "sku": "server",
                            "version": "latest"}, "nodeAgentSKUId": "batch.node.ubuntu 24.04"}


def pool_body(pid, **kw):
    d = {"id": pid, "vmSize": "Standard_D2s_v5", "virtualMachineConfiguration": IMAGE}
    d.update(kw)
    return d


class Base(unittest.TestCase):
    settings = {}

    @classmethod
    def setUpClass(cls):
        cls.h = bh.Harness(settings=cls.settings).start()

    @classmethod
    def tearDownClass(cls):
        cls.h.stop()

    def call(self, *a, **kw):
        return self.h.call(*a, **kw)

    def ok(self, method, path, body=None, status=None, **kw):
        s, h, b = self.call(method, path, body, **kw)
        if status is not None:
            self.assertEqual(s, status, b)
        else:
            self.assertLess(s, 300, b)
        return b

    def err(self, method, path, body=None, status=None, code=None, **kw):
        s, h, b = self.call(method, path, body, **kw)
        self.assertEqual(s, status, b)
        if method != "HEAD":
            self.assertEqual(b["code"], code, b)
            self.assertIn("odata.metadata", b)
            self.assertEqual(b["message"]["lang"], "en-US")
            self.assertRegex(b["message"]["value"], r"\nRequestId:[0-9a-f-]{36}\nTime:\d{4}-")
            self.assertEqual(h["content-type"], "application/json;odata=minimalmetadata")
        return b

    def wait(self, fn, timeout=30):
        return self.h.wait(fn, timeout)

    def task(self, job, tid):
        return self.ok("GET", "/jobs/%s/tasks/%s" % (job, tid))

    def wait_task(self, job, tid, timeout=30):
        return self.wait(lambda: (lambda t: t if t["state"] == "completed" else None)(self.task(job, tid)), timeout)


class AuthAndErrors(Base):
    def test_shared_key_and_headers(self):
        s, h, b = self.call("GET", "/pools", headers={"client-request-id": "abc-1", "return-client-request-id": "true"})
        self.assertEqual(s, 200)
        self.assertEqual(h["client-request-id"], "abc-1")
        self.assertEqual(h["dataserviceversion"], "3.0")
        self.assertRegex(h["request-id"], r"^[0-9a-f-]{36}$")
        s, h, b = self.call("GET", "/pools", key=bh.KEY2)
        self.assertEqual(s, 200)
        b = self.err("GET", "/pools", key="AAAA", status=403, code="AuthenticationFailed")
        self.assertIn("AuthenticationErrorDetail", json.dumps(b["values"]))
        self.err("GET", "/pools", sign=False, status=401, code="AuthenticationFailed")
        self.err("GET", "/pools", headers={"ocp-date": "Mon, 01 Jan 2024 00:00:00 GMT"}, status=403,
                 code="AuthenticationFailed")
        self.err("GET", "/pools", sign=False, headers={"Authorization": "SharedKey nocolon"}, status=400,
                 code="InvalidAuthenticationInfo")
        b = self.err("GET", "/pools", api_version=None, status=400, code="MissingRequiredQueryParameter")
        self.assertEqual(b["values"], [{"key": "QueryParameterName", "value": "api-version"}])
        # any api-version is accepted (the SDK sends an old one)
        self.ok("GET", "/pools", api_version="2022-10-01.16.0")
        # the signature covers the query: tamper with it after signing
        s, _, _ = self.call("GET", "/pools", query={"maxresults": "5"})
        self.assertEqual(s, 200)

    def test_bearer(self):
        s, h, b = self.call("GET", "/pools", sign=False, headers={"Authorization": "Bearer good-token"})
        self.assertEqual(s, 200)
        b = self.err("GET", "/pools", sign=False, headers={"Authorization": "Bearer bad"}, status=401,
                     code="AuthenticationFailed")

    def test_unknown_routes_and_verbs(self):
        self.err("GET", "/nothing", status=404, code="ResourceNotFound")
        self.err("PUT", "/pools", {"id": "x"}, status=405, code="UnsupportedHttpVerb")
        self.err("GET", "/pools/none", status=404, code="PoolNotFound")
        s, _, _ = self.call("HEAD", "/pools/none")
        self.assertEqual(s, 404)
        self.err("GET", "/jobs/none", status=404, code="JobNotFound")
        self.err("POST", "/pools", raw_body=b"{not json", status=400, code="InvalidRequestBody")


class Pools(Base):
    settings = {"autoscale_interval": 0.3, "node_alloc_seconds": 0.2}

    def test_validation(self):
        self.err("POST", "/pools", {"vmSize": "x", "virtualMachineConfiguration": IMAGE, "targetDedicatedNodes": 1},
                 status=400, code="MissingRequiredProperty")
        self.err("POST", "/pools", pool_body("bad id", targetDedicatedNodes=1), status=400, code="InvalidPropertyValue")
        old = dict(IMAGE, nodeAgentSKUId="batch.node.ubuntu 18.04")
        self.err("POST", "/pools", pool_body("old", virtualMachineConfiguration=old, targetDedicatedNodes=1),
                 status=400, code="InvalidPropertyValue")
        self.err("POST", "/pools", pool_body("both", enableAutoScale=True, autoScaleFormula="$TargetDedicatedNodes=1;",
                                             targetDedicatedNodes=1), status=400, code="InvalidPropertyValue")
        self.err("POST", "/pools", pool_body("fast", enableAutoScale=True, autoScaleFormula="$TargetDedicatedNodes=1;",
                                             autoScaleEvaluationInterval="PT1M"), status=400,
                 code="InvalidPropertyValue")
        b = self.err("POST", "/pools", pool_body("syn", enableAutoScale=True, autoScaleFormula="$TargetDedicatedNodes=(;"),
                     status=400, code="AutoScalingFormulaSyntaxError")
        self.assertIn("autoScaleFormula", json.dumps(b["values"]))
        if self.h.ctx._validator is not None:
            self.err("POST", "/pools", pool_body("unk", targetDedicatedNodes=1, targetDedicatedNodez=2), status=400,
                     code="InvalidRequestBody")

    def test_fixed_pool_lifecycle(self):
        s, h, _ = self.call("POST", "/pools", pool_body("life", targetDedicatedNodes=2, targetLowPriorityNodes=1))
        self.assertEqual(s, 201)
        self.assertTrue(h["etag"].startswith("0x8D"))
        self.assertIn("last-modified", h)
        self.assertTrue(h["dataserviceid"].endswith("/pools/life"))
        self.err("POST", "/pools", pool_body("LIFE", targetDedicatedNodes=1), status=409, code="PoolExists")
        p = self.ok("GET", "/pools/life")
        self.assertEqual(p["allocationState"], "resizing")
        nodes = self.ok("GET", "/pools/life/nodes")["value"]
        self.assertEqual(len(nodes), 3)
        self.assertTrue(all(n["state"] in ("creating", "starting") for n in nodes))
        self.wait(lambda: self.ok("GET", "/pools/life")["allocationState"] == "steady")
        self.wait(lambda: all(n["state"] == "idle" for n in self.ok("GET", "/pools/life/nodes")["value"]))
        p = self.ok("GET", "/pools/life", query={"$select": "id,currentDedicatedNodes,currentLowPriorityNodes"})
        self.assertEqual(p, {"id": "life", "currentDedicatedNodes": 2, "currentLowPriorityNodes": 1})
        nc = self.ok("GET", "/nodecounts", query={"$filter": "poolId eq 'life'"})["value"]
        self.assertEqual(nc[0]["dedicated"]["idle"], 2)
        self.assertEqual(nc[0]["lowPriority"]["total"], 1)
        s, _, _ = self.call("HEAD", "/pools/life")
        self.assertEqual(s, 200)
        self.ok("POST", "/pools/life/resize", {"targetDedicatedNodes": 1, "targetLowPriorityNodes": 0}, status=202)
        self.wait(lambda: self.ok("GET", "/pools/life")["currentDedicatedNodes"] == 1 and
                  self.ok("GET", "/pools/life")["allocationState"] == "steady")
        self.err("POST", "/pools/life/evaluateautoscale", {"autoScaleFormula": "$TargetDedicatedNodes=1;"},
                 status=409, code="OperationInvalidForCurrentState")
        self.ok("DELETE", "/pools/life", status=202)
        self.assertEqual(self.ok("GET", "/pools/life")["state"], "deleting")
        self.err("POST", "/pools/life/resize", {"targetDedicatedNodes": 1}, status=409, code="PoolBeingDeleted")
        self.wait(lambda: self.call("GET", "/pools/life")[0] == 404)

    def test_autoscale(self):
        f = "$TargetDedicatedNodes = min(3, $PendingTasks.GetSample(1));"
        self.ok("POST", "/pools", pool_body("auto", enableAutoScale=True, autoScaleFormula=f,
                                            autoScaleEvaluationInterval="PT5M"), status=201)
        p = self.ok("GET", "/pools/auto")
        self.assertEqual(p["autoScaleRun"]["results"].split(";")[0], "$TargetDedicatedNodes=0")
        self.err("POST", "/pools/auto/resize", {"targetDedicatedNodes": 1}, status=409,
                 code="OperationInvalidForCurrentState")
        run = self.ok("POST", "/pools/auto/evaluateautoscale",
                      {"autoScaleFormula": "$x = 2; $TargetDedicatedNodes = $x * 2; $NodeDeallocationOption = requeue;"})
        self.assertEqual(run["results"], "$TargetDedicatedNodes=4;$TargetLowPriorityNodes=0;"
                                         "$NodeDeallocationOption=requeue;$x=2")
        self.assertIn("timestamp", run)
        run = self.ok("POST", "/pools/auto/evaluateautoscale", {"autoScaleFormula": "$TargetDedicatedNodes = $nope;"})
        self.assertEqual(run["error"]["code"], "AutoScalingFormulaEvaluationError")
        self.assertNotIn("results", run)
        self.err("POST", "/pools/auto/evaluateautoscale", {"autoScaleFormula": "$TargetDedicatedNodes = (;"},
                 status=400, code="AutoScalingFormulaSyntaxError")
        # pending work grows the pool, then it shrinks back
        self.ok("POST", "/jobs", {"id": "autojob", "poolInfo": {"poolId": "auto"}}, status=201)
        self.ok("POST", "/jobs/autojob/addtaskcollection",
                {"value": [{"id": "s%d" % i, "commandLine": "/bin/sh -c 'sleep 1'"} for i in range(3)]})
        self.wait(lambda: self.ok("GET", "/pools/auto")["currentDedicatedNodes"] == 3, 20)
        self.wait(lambda: self.ok("GET", "/jobs/autojob/taskcounts")["taskCounts"]["completed"] == 3, 20)
        self.wait(lambda: self.ok("GET", "/pools/auto")["currentDedicatedNodes"] == 0, 20)
        self.ok("POST", "/pools/auto/disableautoscale", status=200)
        p = self.ok("GET", "/pools/auto")
        self.assertFalse(p["enableAutoScale"])
        self.assertNotIn("autoScaleFormula", p)
        self.ok("POST", "/pools/auto/enableautoscale", {"autoScaleFormula": "$TargetDedicatedNodes = 1;"}, status=200)
        self.wait(lambda: self.ok("GET", "/pools/auto")["currentDedicatedNodes"] == 1, 20)

    def test_list_paging_select_filter_images(self):
        for i in range(5):
            self.ok("POST", "/pools", pool_body("pg%d" % i, targetDedicatedNodes=0), status=201)
        s, h, b = self.call("GET", "/pools", query={"maxresults": "2", "$filter": "startswith(id,'pg')",
                                                    "$select": "id,state"})
        ids = [p["id"] for p in b["value"]]
        self.assertEqual(b["value"][0], {"id": "pg0", "state": "active"})
        while "odata.nextLink" in b:
            self.assertIn("api-version=", b["odata.nextLink"])
            s, h, b = self.h.call_url("GET", b["odata.nextLink"])
            self.assertEqual(s, 200, b)
            ids += [p["id"] for p in b["value"]]
        self.assertEqual(ids, ["pg%d" % i for i in range(5)])
        self.err("GET", "/pools", query={"maxresults": "0"}, status=400, code="OutOfRangeQueryParameterValue")
        self.err("GET", "/pools", query={"$filter": "id eq"}, status=400, code="InvalidQueryParameterValue")
        imgs = self.ok("GET", "/supportedimages", query={"$filter": "osType eq 'linux' and verificationType eq 'verified'"})
        refs = {(i["imageReference"]["offer"], i["imageReference"]["sku"], i["nodeAgentSKUId"]) for i in imgs["value"]}
        self.assertIn(("0001-com-ubuntu-server-jammy", "22_04-lts", "batch.node.ubuntu 22.04"), refs)
        self.assertIn(("ubuntu-24_04-lts", "server", "batch.node.ubuntu 24.04"), refs)
        self.assertFalse([r for r in refs if "18.04" in r[2]])
        jammy = [i for i in imgs["value"] if i["imageReference"]["sku"] == "22_04-lts"][0]
        self.assertEqual(jammy["batchSupportEndOfLife"][:10], "2027-06-30")


class JobsAndTasks(Base):
    settings = {"node_alloc_seconds": 0.1}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.blob = BlobFake().start()
        cls.h.call("POST", "/pools", pool_body("work", targetDedicatedNodes=2, taskSlotsPerNode=2,
                                                enableInterNodeCommunication=True,
                                                startTask={"commandLine": "/bin/sh -c 'echo node start'"}))

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.blob.stop()

    def test_job_errors_and_states(self):
        self.err("POST", "/jobs", {"id": "nojob"}, status=400, code="MissingRequiredProperty")
        self.ok("POST", "/jobs", {"id": "je", "poolInfo": {"poolId": "work"}}, status=201)
        self.err("POST", "/jobs", {"id": "JE", "poolInfo": {"poolId": "work"}}, status=409, code="JobExists")
        self.err("GET", "/jobs/je/jobpreparationandreleasetaskstatus", status=409,
                 code="JobPreparationTaskNotSpecified")
        self.err("POST", "/jobs/je/tasks", {"id": "d1", "commandLine": "true", "dependsOn": {"taskIds": ["x"]}},
                 status=400, code="TaskDependenciesNotSpecifiedOnJob")
        self.ok("POST", "/jobs/je/terminate", status=202, raw_body=b"")
        self.wait(lambda: self.ok("GET", "/jobs/je")["state"] == "completed")
        j = self.ok("GET", "/jobs/je")
        self.assertEqual(j["executionInfo"]["terminateReason"], "UserTerminate")
        self.err("POST", "/jobs/je/tasks", {"id": "late", "commandLine": "true"}, status=409, code="JobCompleted")
        self.ok("DELETE", "/jobs/je", status=202)
        self.wait(lambda: self.call("GET", "/jobs/je")[0] == 404)

    def test_task_lifecycle_env_files(self):
        self.ok("POST", "/jobs", {"id": "jt", "poolInfo": {"poolId": "work"}, "onAllTasksComplete": "noaction",
                                  "commonEnvironmentSettings": [{"name": "COMMON", "value": "c1"}],
                                  "jobPreparationTask": {"commandLine": "/bin/sh -c 'echo prep > $AZ_BATCH_NODE_SHARED_DIR/prep-$AZ_BATCH_JOB_ID'"},
                                  "jobReleaseTask": {"commandLine": "/bin/sh -c 'echo release'"}}, status=201)
        s, h, _ = self.call("POST", "/jobs/jt/tasks", {
            "id": "envt", "environmentSettings": [{"name": "MINE", "value": "m1"}],
            "commandLine": "/bin/sh -c 'env | grep -E \"^(AZ_BATCH|MINE|COMMON)\" | sort; pwd; "
                           "cat $AZ_BATCH_NODE_SHARED_DIR/prep-jt; echo data > out.txt; printf 0123456789 > digits'"})
        self.assertEqual(s, 201)
        self.err("POST", "/jobs/jt/tasks", {"id": "ENVT", "commandLine": "true"}, status=409, code="TaskExists")
        t = self.wait_task("jt", "envt")
        self.assertEqual(t["executionInfo"]["result"], "success")
        self.assertEqual(t["previousState"], "running")
        out = self.ok("GET", "/jobs/jt/tasks/envt/files/stdout.txt")
        out = out.decode()
        env = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        for k in ("AZ_BATCH_ACCOUNT_NAME", "AZ_BATCH_ACCOUNT_URL", "AZ_BATCH_JOB_ID", "AZ_BATCH_TASK_ID",
                  "AZ_BATCH_POOL_ID", "AZ_BATCH_NODE_ID", "AZ_BATCH_NODE_ROOT_DIR", "AZ_BATCH_NODE_SHARED_DIR",
                  "AZ_BATCH_NODE_STARTUP_DIR", "AZ_BATCH_TASK_DIR", "AZ_BATCH_TASK_WORKING_DIR",
                  "AZ_BATCH_JOB_PREP_DIR", "AZ_BATCH_JOB_PREP_WORKING_DIR", "AZ_BATCH_NODE_IS_DEDICATED"):
            self.assertIn(k, env)
        self.assertEqual(env["MINE"], "m1")
        self.assertEqual(env["COMMON"], "c1")
        self.assertEqual(env["AZ_BATCH_TASK_ID"], "envt")
        root = env["AZ_BATCH_NODE_ROOT_DIR"]
        self.assertEqual(env["AZ_BATCH_TASK_DIR"], os.path.join(root, "workitems", "jt", "job-1", "envt"))
        self.assertEqual(env["AZ_BATCH_TASK_WORKING_DIR"], env["AZ_BATCH_TASK_DIR"] + "/wd")
        self.assertIn(env["AZ_BATCH_TASK_WORKING_DIR"], out)
        self.assertIn("prep", out)
        self.assertTrue(root.startswith(os.path.join(self.h.dir, "batch", bh.ACCOUNT, "pools", "work", "nodes")))
        for d in ("shared", "startup", "workitems"):
            self.assertTrue(os.path.isdir(os.path.join(root, d)))
        self.assertTrue(os.path.exists(os.path.join(root, "startup", "stdout.txt")))
        # files: list, ranged get, HEAD
        files = self.ok("GET", "/jobs/jt/tasks/envt/files", query={"recursive": "true"})["value"]
        names = {f["name"]: f for f in files}
        self.assertEqual(names["wd/digits"]["properties"]["contentLength"], "10")
        self.assertTrue(names["wd"]["isDirectory"])
        top = [f["name"] for f in self.ok("GET", "/jobs/jt/tasks/envt/files", query={"recursive": "false"})["value"]]
        self.assertNotIn("wd/digits", top)
        only = self.ok("GET", "/jobs/jt/tasks/envt/files", query={"recursive": "true",
                                                                  "$filter": "startswith(name,'wd')"})["value"]
        self.assertTrue(all(f["name"].startswith("wd") for f in only))
        s, h, b = self.call("GET", "/jobs/jt/tasks/envt/files/wd/digits", headers={"ocp-range": "bytes=2-4"})
        self.assertEqual((s, b), (200, b"234"))
        self.assertEqual(h["content-range"], "bytes 2-4/10")
        s, h, b = self.call("HEAD", "/jobs/jt/tasks/envt/files/wd/digits")
        self.assertEqual(s, 200)
        self.assertEqual(h["content-length"], "10")
        self.assertEqual(h["ocp-batch-file-isdirectory"], "false")
        self.assertTrue(h["ocp-batch-file-url"].endswith("/jobs/jt/tasks/envt/files/wd/digits"))
        self.assertIn("ocp-creation-time", h)
        s, h, b = self.call("HEAD", "/jobs/jt/tasks/envt/files/wd")
        self.assertEqual(h["ocp-batch-file-isdirectory"], "true")
        self.err("GET", "/jobs/jt/tasks/envt/files/nope.txt", status=404, code="FileNotFound")
        self.err("GET", "/jobs/jt/tasks/envt/files/wd/digits", headers={"ocp-range": "bytes=50-60"}, status=416,
                 code="InvalidRange")
        self.err("GET", "/jobs/jt/tasks/envt/files/..%2F..%2F..%2Fstartup%2Fstdout.txt", status=404,
                 code="FileNotFound")
        # failing command, retries, terminate, delete
        self.ok("POST", "/jobs/jt/tasks", {"id": "fails", "commandLine": "/bin/sh -c 'echo try >> ../count; exit 7'",
                                           "constraints": {"maxTaskRetryCount": 2}}, status=201)
        t = self.wait_task("jt", "fails")
        ei = t["executionInfo"]
        self.assertEqual((ei["result"], ei["exitCode"], ei["retryCount"]), ("failure", 7, 2))
        self.assertEqual(ei["failureInfo"]["category"], "usererror")
        self.assertEqual(ei["failureInfo"]["code"], "FailureExitCode")
        self.ok("POST", "/jobs/jt/tasks", {"id": "nocmd", "commandLine": "/no/such/program"}, status=201)
        self.assertEqual(self.wait_task("jt", "nocmd")["executionInfo"]["exitCode"], 127)
        self.ok("POST", "/jobs/jt/tasks", {"id": "slow", "commandLine": "/bin/sh -c 'sleep 30'"}, status=201)
        self.wait(lambda: self.task("jt", "slow")["state"] == "running")
        self.ok("POST", "/jobs/jt/tasks/slow/terminate", status=204, raw_body=b"")
        t = self.wait_task("jt", "slow", 10)
        self.assertEqual(t["executionInfo"]["result"], "failure")
        self.ok("POST", "/jobs/jt/tasks", {"id": "wall", "commandLine": "/bin/sh -c 'sleep 30'",
                                           "constraints": {"maxWallClockTime": "PT1S"}}, status=201)
        t = self.wait_task("jt", "wall", 15)
        self.assertEqual(t["executionInfo"]["failureInfo"]["code"], "MaxWallClockTimeExpiry")
        self.ok("POST", "/jobs/jt/tasks/fails/reactivate", status=204, raw_body=b"")
        self.assertIn(self.task("jt", "fails")["state"], ("active", "preparing", "running", "completed"))
        self.wait_task("jt", "fails")
        self.ok("DELETE", "/jobs/jt/tasks/fails", status=200)
        self.err("GET", "/jobs/jt/tasks/fails", status=404, code="TaskNotFound")
        counts = self.ok("GET", "/jobs/jt/taskcounts")
        self.assertEqual(counts["taskCounts"], {"active": 0, "running": 0, "completed": 4, "succeeded": 1,
                                                "failed": 3})
        st = self.ok("GET", "/jobs/jt/jobpreparationandreleasetaskstatus")["value"]
        self.assertTrue(st and all(x["jobPreparationTaskExecutionInfo"]["result"] == "success" for x in st))
        self.ok("POST", "/jobs/jt/terminate", status=202, raw_body=b"")
        self.wait(lambda: all("jobReleaseTaskExecutionInfo" in x and
                              x["jobReleaseTaskExecutionInfo"]["state"] == "completed"
                              for x in self.ok("GET", "/jobs/jt/jobpreparationandreleasetaskstatus")["value"]))

    def test_prep_failure_keeps_tasks_active(self):
        self.ok("POST", "/jobs", {"id": "jpf", "poolInfo": {"poolId": "work"},
                                  "jobPreparationTask": {"commandLine": "/bin/sh -c 'exit 3'"}}, status=201)
        self.ok("POST", "/jobs/jpf/tasks", {"id": "never", "commandLine": "true"}, status=201)
        self.wait(lambda: len(self.ok("GET", "/jobs/jpf/jobpreparationandreleasetaskstatus")["value"]) == 2 and all(
            x["jobPreparationTaskExecutionInfo"]["state"] == "completed"
            for x in self.ok("GET", "/jobs/jpf/jobpreparationandreleasetaskstatus")["value"]), 15)
        time.sleep(0.3)
        self.assertEqual(self.task("jpf", "never")["state"], "active")

    def test_resource_and_output_files(self):
        self.blob.put("in", "data/a.txt", b"alpha\n")
        self.blob.put("in", "data/b.txt", b"beta\n")
        self.blob.put("in", "other.txt", b"x")
        self.ok("POST", "/jobs", {"id": "jio", "poolInfo": {"poolId": "work"}}, status=201)
        outs = [{"filePattern": "../std*.txt", "destination": {"container": {"containerUrl": self.blob.url("out"),
                                                                             "path": "logs/t"}},
                 "uploadOptions": {"uploadCondition": "taskcompletion"}},
                {"filePattern": "res/**/*.txt", "destination": {"container": {"containerUrl": self.blob.url("out"),
                                                                              "path": "copied"}},
                 "uploadOptions": {"uploadCondition": "tasksuccess"}},
                {"filePattern": "single.bin", "destination": {"container": {"containerUrl": self.blob.url("out"),
                                                                            "path": "exact/name.bin"}},
                 "uploadOptions": {"uploadCondition": "tasksuccess"}},
                {"filePattern": "single.bin", "destination": {"container": {"containerUrl": self.blob.url("out"),
                                                                            "path": "onfail.bin"}},
                 "uploadOptions": {"uploadCondition": "taskfailure"}}]
        self.ok("POST", "/jobs/jio/tasks", {
            "id": "io", "commandLine": "/bin/sh -c 'cat res/data/a.txt one.txt; printf S > single.bin'",
            "resourceFiles": [{"storageContainerUrl": self.blob.url("in"), "blobPrefix": "data/", "filePath": "res"},
                              {"httpUrl": self.blob.url("in", "other.txt"), "filePath": "one.txt", "fileMode": "0600"}],
            "outputFiles": outs}, status=201)
        t = self.wait_task("jio", "io")
        self.assertEqual(t["executionInfo"]["result"], "success", t)
        self.assertEqual(self.ok("GET", "/jobs/jio/tasks/io/files/stdout.txt"), b"alpha\nx")
        self.assertEqual(self.blob.get("out", "logs/t/stdout.txt"), b"alpha\nx")
        self.assertEqual(self.blob.get("out", "copied/data/a.txt"), b"alpha\n")
        self.assertEqual(self.blob.get("out", "copied/data/b.txt"), b"beta\n")
        self.assertEqual(self.blob.get("out", "exact/name.bin"), b"S")
        self.assertIsNone(self.blob.get("out", "onfail.bin"))
        puts = [s for s in self.blob.httpd.seen if s[0] == "PUT"]
        self.assertTrue(all(s[3].get("x-ms-blob-type") == "BlockBlob" and s[2].get("sig") == "fake" for s in puts))
        # a missing blob fails the task before it runs
        self.ok("POST", "/jobs/jio/tasks", {"id": "missing", "commandLine": "true",
                                            "resourceFiles": [{"httpUrl": self.blob.url("in", "nope"),
                                                               "filePath": "n"}]}, status=201)
        t = self.wait_task("jio", "missing")
        self.assertEqual(t["executionInfo"]["failureInfo"]["code"], "BlobNotFound")
        self.assertEqual(t["executionInfo"]["result"], "failure")

    def test_multi_instance_env_and_subtasks(self):
        self.ok("POST", "/jobs", {"id": "jmi", "poolInfo": {"poolId": "work"}}, status=201)
        # taskSlotsPerNode=2 on "work": a multi-instance task is never scheduled there (Batch rule)
        self.ok("POST", "/jobs/jmi/tasks", {"id": "stuck", "commandLine": "true", "multiInstanceSettings": {
            "numberOfInstances": 2, "coordinationCommandLine": "true"}}, status=201)
        self.ok("POST", "/pools", pool_body("mi", targetDedicatedNodes=3, enableInterNodeCommunication=True),
                status=201)
        self.ok("POST", "/jobs", {"id": "jmi2", "poolInfo": {"poolId": "mi"}}, status=201)
        self.ok("POST", "/jobs/jmi2/tasks", {
            "id": "m", "commandLine": "/bin/sh -c 'env | grep -E \"^(AZ_BATCH_(HOST|NODE_LIST|MASTER|IS_CURRENT|TASK_SHARED)|CCP_NODES)\" | sort; cat $AZ_BATCH_TASK_SHARED_DIR/coord-$AZ_BATCH_NODE_ID'",
            "multiInstanceSettings": {"numberOfInstances": 3,
                                      "coordinationCommandLine": "/bin/sh -c 'echo coord $AZ_BATCH_IS_CURRENT_NODE_MASTER > $AZ_BATCH_TASK_SHARED_DIR/coord-$AZ_BATCH_NODE_ID; (sleep 60 &)'"}},
            status=201)
        t = self.wait_task("jmi2", "m")
        self.assertEqual(t["executionInfo"]["result"], "success", t)
        out = self.ok("GET", "/jobs/jmi2/tasks/m/files/stdout.txt").decode()
        env = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        self.assertEqual(env["AZ_BATCH_HOST_LIST"], "127.0.0.1,127.0.0.1,127.0.0.1")
        self.assertEqual(env["AZ_BATCH_NODE_LIST"], "127.0.0.1;127.0.0.1;127.0.0.1")
        self.assertEqual(env["AZ_BATCH_MASTER_NODE"], "127.0.0.1:6000")
        self.assertEqual(env["AZ_BATCH_IS_CURRENT_NODE_MASTER"], "true")
        self.assertEqual(env["CCP_NODES"], "3 127.0.0.1 1 127.0.0.1 1 127.0.0.1 1")
        self.assertIn("coord true", out)
        subs = self.ok("GET", "/jobs/jmi2/tasks/m/subtasksinfo")["value"]
        self.assertEqual([s["id"] for s in subs], [1, 2])
        self.assertTrue(all(s["state"] == "completed" and s["exitCode"] == 0 for s in subs))
        nodes = {s["nodeInfo"]["nodeId"] for s in subs} | {t["nodeInfo"]["nodeId"]}
        self.assertEqual(len(nodes), 3)
        self.assertEqual(self.task("jmi", "stuck")["state"], "active")
        self.assertEqual(self.ok("GET", "/jobs/jmi/tasks/stuck/subtasksinfo")["value"], [])

    def test_dependencies_and_terminatejob(self):
        self.ok("POST", "/jobs", {"id": "jd", "poolInfo": {"poolId": "work"}, "usesTaskDependencies": True},
                status=201)
        self.ok("POST", "/jobs/jd/addtaskcollection", {"value": [
            {"id": "b", "commandLine": "/bin/sh -c 'cat $AZ_BATCH_NODE_SHARED_DIR/a-done'", "dependsOn": {"taskIds": ["a"]}},
            {"id": "a", "commandLine": "/bin/sh -c 'sleep 0.3; touch $AZ_BATCH_NODE_SHARED_DIR/a-done'"},
            {"id": "c", "commandLine": "true", "dependsOn": {"taskIdRanges": [{"start": 1, "end": 2}]}},
            {"id": "1", "commandLine": "false"}, {"id": "2", "commandLine": "true"}]})
        self.assertEqual(self.wait_task("jd", "a")["executionInfo"]["result"], "success")
        # b may run on another node than a (shared dir is per node), so only check it ran after a
        b = self.wait_task("jd", "b")
        self.assertGreaterEqual(b["executionInfo"]["startTime"], self.task("jd", "a")["executionInfo"]["endTime"])
        time.sleep(0.3)
        self.assertEqual(self.task("jd", "c")["state"], "active")   # task 1 failed: c stays blocked
        self.ok("PATCH", "/jobs/jd", {"onAllTasksComplete": "terminatejob"}, status=200)
        self.ok("DELETE", "/jobs/jd/tasks/c", status=200)
        self.wait(lambda: self.ok("GET", "/jobs/jd")["state"] == "completed")
        self.assertEqual(self.ok("GET", "/jobs/jd")["executionInfo"]["terminateReason"], "AllTasksComplete")


class Scale(Base):
    settings = {"node_alloc_seconds": 0.1}

    def test_ten_thousand_tasks(self):
        self.ok("POST", "/jobs", {"id": "big", "poolInfo": {"poolId": "nopool-yet"}}, status=201)
        t0 = time.time()
        for chunk in range(100):
            b = self.ok("POST", "/jobs/big/addtaskcollection", {"value": [
                {"id": "t%05d" % (chunk * 100 + i), "commandLine": "/bin/true"} for i in range(100)]})
            self.assertTrue(all(r["status"] == "success" for r in b["value"]))
        add_s = time.time() - t0
        b = self.err("POST", "/jobs/big/addtaskcollection", {"value": [
            {"id": "x%d" % i, "commandLine": "true"} for i in range(101)]}, status=413, code="RequestBodyTooLarge")
        big = {"value": [{"id": "y%d" % i, "commandLine": "x" * 20000} for i in range(60)]}
        self.err("POST", "/jobs/big/addtaskcollection", big, status=413, code="RequestBodyTooLarge")
        b = self.ok("POST", "/jobs/big/addtaskcollection", {"value": [
            {"id": "t00001", "commandLine": "true"}, {"id": "new1", "commandLine": "true"}]})
        st = {r["taskId"]: r for r in b["value"]}
        self.assertEqual(st["t00001"]["status"], "clienterror")
        self.assertEqual(st["t00001"]["error"]["code"], "TaskExists")
        self.assertEqual(st["new1"]["status"], "success")
        t0 = time.time()
        c = self.ok("GET", "/jobs/big/taskcounts")
        self.assertLess(time.time() - t0, 0.5)
        self.assertEqual(c["taskCounts"]["active"], 10001)
        self.assertEqual(c["taskSlotCounts"]["active"], 10001)
        t0 = time.time()
        s, h, b = self.call("GET", "/jobs/big/tasks", query={"$select": "id,state", "$filter": "state eq 'active'"})
        n = len(b["value"])
        while "odata.nextLink" in b:
            s, h, b = self.h.call_url("GET", b["odata.nextLink"])
            n += len(b["value"])
        self.assertEqual(n, 10001)
        self.assertLess(time.time() - t0, 20)
        self.assertLess(add_s, 60)


if __name__ == "__main__":
    unittest.main()
