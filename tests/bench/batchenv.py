"""The Batch benchmarks' shared setup: one local emulator (faults off) with a Batch account made through
ARM by azlua, and the emulator's own CPU time, so a table can tell client time from server time.

    with BatchEnv(azlua) as env:
        env.endpoint, env.account, env.key      # Shared Key for the data plane
        env.azlua_lua("...Lua using `b`...")    # argv running a chunk with b = batch.client{...}
        env.server_cpu()                         # emulator user+sys seconds so far
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

SETUP_LUA = r"""
local json = require "azure.core.json"
local f = assert(io.open(os.getenv("BENCH_ENDPOINTS"))); local E = json.decode(f:read("a")); f:close()
local cloud = require("azure.cloud").load_local(os.getenv("BENCH_ENDPOINTS"))
local cred = require("azure.identity").client_secret{ tenant = E.tenant, client_id = E.client_id,
  secret = E.client_secret, cloud = cloud }
local arm = require("azure.arm").client{ credential = cred, cloud = cloud, subscription = E.subscription, poll_interval = 0.1 }
arm:resource_groups():create("bench", { location = "eastus" })
local st = arm:storage_accounts("bench"):create("benchst", { location = "eastus" })
arm:batch_accounts("bench"):create("benchb", { location = "eastus", storage_account_id = st.id })
local keys = arm:batch_accounts("bench"):keys("benchb")
print(json.encode{ endpoint = arm:batch_accounts("bench"):endpoint("benchb"), account = "benchb", key = keys.primary })
"""

# Every azlua command starts with this: a Shared Key client from the environment (no files read).
CLIENT_LUA = ('local b = require"azure.batch".client{endpoint=os.getenv"BENCH_BATCH_URL",'
              'account=os.getenv"BENCH_BATCH_ACCOUNT",key=os.getenv"BENCH_BATCH_KEY"} ')


class BatchEnv:
    def __init__(self, azlua, args=()):
        self.azlua = os.path.abspath(azlua)
        self.args = list(args)
        self.dir = tempfile.mkdtemp(prefix="azlua-bench-batch.")
        self.proc = None

    def __enter__(self):
        eps = os.path.join(self.dir, "endpoints.json")
        log = open(os.path.join(self.dir, "emulator.log"), "wb")
        self.proc = subprocess.Popen(["/usr/bin/python3", os.path.join(ROOT, "tests", "emulator"), "--port", "0",
                                      "--state", os.path.join(self.dir, "state"), "--endpoints", eps,
                                      "--lro-polls", "0", "--retry-after", "0"] + self.args,
                                     stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not os.path.exists(eps):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError("the emulator did not start; see its log")
            time.sleep(0.05)
        self.endpoints_path = eps
        with open(eps) as f:
            self.endpoints = json.load(f)
        out = subprocess.run([self.azlua, "-e", SETUP_LUA], env=dict(os.environ, BENCH_ENDPOINTS=eps),
                             check=True, capture_output=True, text=True, cwd=ROOT)
        acct = json.loads(out.stdout.strip().splitlines()[-1])
        self.endpoint, self.account, self.key = acct["endpoint"], acct["account"], acct["key"]
        self.env = dict(os.environ, BENCH_BATCH_URL=self.endpoint, BENCH_BATCH_ACCOUNT=self.account,
                        BENCH_BATCH_KEY=self.key)
        return self

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def azlua_lua(self, chunk):
        return [self.azlua, "-e", CLIENT_LUA + chunk]

    def run_lua(self, chunk):
        """Runs a setup chunk (not measured); returns its stdout."""
        return subprocess.run(self.azlua_lua(chunk), env=self.env, check=True, capture_output=True,
                              text=True, cwd=ROOT).stdout

    def server_cpu(self):
        """The emulator's user+sys CPU seconds so far (all its threads)."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_ok(limit=3.0):
    """The 1-minute load average, and whether it is low enough for a fair run on 2 shared cores."""
    la = os.getloadavg()[0]
    return la, la <= limit
