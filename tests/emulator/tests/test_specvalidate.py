"""Body validation against the official specs in ../shared/specs (skipped when absent)."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from emulator.specvalidate import SpecValidator, find_specs_dir  # noqa: E402

SPECS = find_specs_dir()
if SPECS is None:
    print("test_specvalidate: notice: ../shared/specs not found; spec validation tests skipped", file=sys.stderr)


@unittest.skipIf(SPECS is None, "../shared/specs not present")
class SpecValidateTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.v = SpecValidator(SPECS)

    def test_batch_pool(self):
        pool = {"id": "p", "vmSize": "Standard_D2s_v3",
                "virtualMachineConfiguration": {
                    "imageReference": {"publisher": "canonical", "offer": "ubuntu-24_04-lts", "sku": "server"},
                    "nodeAgentSKUId": "batch.node.ubuntu 24.04"},
                "enableAutoScale": True, "autoScaleFormula": "$TargetDedicatedNodes=1;",
                "autoScaleEvaluationInterval": "PT5M", "enableInterNodeCommunication": True,
                "taskSlotsPerNode": 1,
                "startTask": {"commandLine": "/bin/sh -c true", "waitForSuccess": True,
                              "userIdentity": {"autoUser": {"scope": "pool", "elevationLevel": "admin"}}}}
        self.assertEqual(self.v.validate("batch-data", "BatchPoolCreateOptions", pool), [])
        bad = dict(pool, vmSise="x", taskSlotsPerNode="one")
        del bad["id"]
        errs = self.v.validate("batch-data", "BatchPoolCreateOptions", bad)
        text = "\n".join(errs)
        self.assertIn("Could not find member 'vmSise'", text)
        self.assertIn("Required property 'id'", text)
        self.assertIn("Path 'taskSlotsPerNode'", text)
        bad = dict(pool, startTask={"commandLine": "x", "userIdentity": {"autoUser": {"scope": "galaxy"}}})
        self.assertIn("startTask.userIdentity.autoUser.scope", "\n".join(
            self.v.validate("batch-data", "BatchPoolCreateOptions", bad)))

    def test_batch_task_and_job(self):
        task = {"id": "t", "commandLine": "hostname", "multiInstanceSettings": {
            "numberOfInstances": 2, "coordinationCommandLine": "true"},
            "resourceFiles": [{"httpUrl": "http://x/y", "filePath": "y"}],
            "outputFiles": [{"filePattern": "*.txt", "destination": {"container": {
                "containerUrl": "http://x/c?sig=1", "path": "out"}},
                "uploadOptions": {"uploadCondition": "taskcompletion"}}],
            "environmentSettings": [{"name": "A", "value": "1"}]}
        self.assertEqual(self.v.validate("batch-data", "BatchTaskCreateOptions", task), [])
        job = {"id": "j", "poolInfo": {"poolId": "p"}, "usesTaskDependencies": False,
               "onAllTasksComplete": "terminatejob",
               "jobPreparationTask": {"commandLine": "true", "waitForSuccess": True}}
        self.assertEqual(self.v.validate("batch-data", "BatchJobCreateOptions", job), [])
        self.assertTrue(self.v.validate("batch-data", "BatchJobCreateOptions", dict(job, poolInfo=[])))

    def test_arm_bodies(self):
        ok = {"location": "eastus", "properties": {"autoStorage": {"storageAccountId": "/subscriptions/x"}},
              "tags": {"a": "b"}}
        self.assertEqual(self.v.validate("batch-mgmt", "BatchAccountCreateParameters", ok), [])
        self.assertTrue(self.v.validate("batch-mgmt", "BatchAccountCreateParameters", {"tags": {}}))
        self.assertEqual(self.v.validate("resources", "ResourceGroup", {"location": "eastus"}), [])
        # readOnly properties are ignored, like the service
        self.assertEqual(self.v.validate("resources", "ResourceGroup", {"location": "eastus", "id": "x"}), [])

    def test_absent_spec_is_skipped(self):
        v = SpecValidator("/nonexistent")
        self.assertEqual(v.validate("batch-data", "BatchPoolCreateOptions", {"bogus": 1}), [])


if __name__ == "__main__":
    unittest.main()
