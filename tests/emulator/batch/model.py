"""In-memory objects of the Batch emulator: pools, nodes, jobs, tasks.

Every object keeps its REST representation in `d` (field names as the service spells
them) and runtime bookkeeping in attributes.  All mutation happens under the service lock.
"""
import collections
import os
import random
import string
import time

from .util import iso, new_etag

TASK_STATES = ("active", "preparing", "running", "completed")
NODE_STATES = ["creating", "idle", "offline", "preempted", "rebooting", "reimaging", "running",
               "starting", "startTaskFailed", "leavingPool", "unknown", "unusable",
               "waitingForStartTask", "deallocated", "deallocating", "upgradingOS"]


def touch(d):
    d["eTag"] = new_etag()
    d["lastModified"] = iso()


class Account:
    def __init__(self, name, url, root):
        self.name = name
        self.url = url
        self.root = root
        self.pools = {}      # lower id -> Pool
        self.jobs = {}       # lower id -> Job


class Pool:
    def __init__(self, account, d):
        self.account = account
        self.d = d
        self.nodes = collections.OrderedDict()   # node id -> Node
        self.samples = collections.defaultdict(lambda: collections.deque(maxlen=2000))
        self.next_eval = 0.0
        self.last_enable = 0.0
        self.delete_at = None
        self.node_seq = 0
        self.program = None          # parsed autoscale formula
        self.deallocation = "requeue"
        self.dir = os.path.join(account.root, "pools", d["id"])

    @property
    def id(self):
        return self.d["id"]

    def new_node_id(self):
        self.node_seq += 1
        rnd = "".join(random.choice(string.digits) for _ in range(10))
        return "tvm-%s_%d-%s" % (rnd, self.node_seq, time.strftime("%Y%m%dt%H%M%Sz", time.gmtime()))

    def live_nodes(self, dedicated=None):
        return [n for n in self.nodes.values() if not n.leaving and (dedicated is None or n.dedicated == dedicated)]


class Node:
    def __init__(self, pool, nid, dedicated, root, ready_at):
        self.pool = pool
        self.id = nid
        self.dedicated = dedicated
        self.root = root
        self.ready_at = ready_at
        self.leaving = False
        self.slots_used = 0
        self.running = set()            # Task objects
        self.prep = {}                  # job key -> PrepRecord
        self.excluded_jobs = set()      # jobs whose prep task failed here (waitForSuccess)
        now = time.time()
        self.d = {"id": nid, "url": "%s/pools/%s/nodes/%s" % (pool.account.url, pool.id, nid),
                  "state": "creating", "schedulingState": "enabled", "stateTransitionTime": iso(now),
                  "allocationTime": iso(now), "ipAddress": "127.0.0.1",
                  "affinityId": "TVM:" + nid, "vmSize": pool.d.get("vmSize"),
                  "totalTasksRun": 0, "totalTasksSucceeded": 0, "runningTasksCount": 0,
                  "runningTaskSlotsCount": 0, "isDedicated": dedicated,
                  "nodeAgentInfo": {"version": "1.12.0.0", "lastUpdateTime": iso(now)}}
        vmc = pool.d.get("virtualMachineConfiguration") or {}
        if vmc.get("imageReference"):
            ir = dict(vmc["imageReference"])
            ir.setdefault("version", "latest")
            ir["exactVersion"] = "2026.0901.0" if ir.get("version") == "latest" else ir.get("version")
            self.d["virtualMachineInfo"] = {"imageReference": ir}
        if pool.d.get("startTask"):
            self.d["startTask"] = pool.d["startTask"]

    def set_state(self, state):
        if self.d["state"] != state:
            self.d["state"] = state
            self.d["stateTransitionTime"] = iso()

    def free_slots(self):
        return int(self.pool.d.get("taskSlotsPerNode") or 1) - self.slots_used

    def schedulable(self):
        return (not self.leaving and self.d["state"] in ("idle", "running")
                and self.d["schedulingState"] == "enabled")


class PrepRecord:
    def __init__(self):
        self.state = None            # None, "running", "completed"
        self.ok = None
        self.info = None             # jobPreparationTaskExecutionInfo
        self.release = None          # jobReleaseTaskExecutionInfo
        self.done = None             # threading.Event set when prep finished


class Job:
    def __init__(self, account, d):
        self.account = account
        self.d = d
        self.tasks = {}              # lower id -> Task (insertion ordered)
        self.queue = {}              # lower id -> Task, active tasks in scheduling order
        self.counts = {s: 0 for s in TASK_STATES}
        self.slot_counts = {s: 0 for s in TASK_STATES}
        self.inst_counts = {s: 0 for s in TASK_STATES}
        self.succeeded = self.failed = 0
        self.slots_succeeded = self.slots_failed = 0
        self.prep_nodes = collections.OrderedDict()   # node id -> (pool id, Node, PrepRecord)
        self.delete_at = None
        self.finishing = False

    @property
    def id(self):
        return self.d["id"]

    def pool_id(self):
        return ((self.d.get("poolInfo") or {}).get("poolId") or "").lower()


class Task:
    def __init__(self, job, d):
        self.job = job
        self.d = d
        self.key = d["id"].lower()
        self.nodes = []              # Node objects (primary first)
        self.cancel = None           # threading.Event while running
        self.cancel_reason = None
        self.subtasks = []           # subtask dicts of a multi-instance task
        self.root = None             # task dir on the primary node (kept after the node goes)
        self.node_root = None
        mis = d.get("multiInstanceSettings")
        self.instances = int(mis.get("numberOfInstances") or 1) if mis else 1
        self.slots = int(d.get("requiredSlots") or 1)

    @property
    def state(self):
        return self.d["state"]
