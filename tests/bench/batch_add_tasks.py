#!/usr/bin/python3
"""Adding 10,000 Batch tasks: azlua's `b:add_tasks` against the Azure SDK for Python (Debian's azure-batch
13.x: `task.add_collection` in chunks of 100 from a ThreadPoolExecutor), same concurrency, in one run
against one local emulator with faults off. Every run adds into its own job on a pool with no nodes (the
tasks stay active), and is checked afterwards: the job's task counts must show exactly N active tasks.

    /usr/bin/python3 tests/bench/batch_add_tasks.py [--tasks 10000] [--runs 3] [--concurrency 8] [--validate] [--azlua build/azlua]

Runs alternate (azlua, python, azlua, …) so both see the same emulator state. Medians of wall and client
CPU (user+sys from wait4), max peak RSS, and the emulator's CPU per run: a client can only be as fast as
the server answers, so the table shows how much of the wall is the emulator's. The emulator runs with
--no-validate unless --validate is given: validating every task body against the spec is ~45 % of its
time, and with it azlua's wall is mostly the emulator's CPU. Target (issue 5): azlua >= 3x faster (wall)."""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import measure, table  # noqa: E402
from batchenv import BatchEnv, ROOT, load_ok  # noqa: E402

ADD_LUA = r"""
local n, job = tonumber(os.getenv"BENCH_TASKS"), os.getenv"BENCH_JOB"
local list = {}
for i = 1, n do list[i] = { id = string.format("t%05d", i), commandLine = "/bin/true" } end
local r = b:add_tasks(job, list, { concurrency = tonumber(os.getenv"BENCH_CONCURRENCY") })
if r.added ~= n then error(("added %d of %d: %s"):format(r.added, n, r.failed[1] and r.failed[1].message or "?")) end
"""

ADD_PY = r"""
import os
from concurrent.futures import ThreadPoolExecutor
from azure.batch import BatchServiceClient
from azure.batch.batch_auth import SharedKeyCredentials
import azure.batch.models as bm

n, job = int(os.environ["BENCH_TASKS"]), os.environ["BENCH_JOB"]
client = BatchServiceClient(SharedKeyCredentials(os.environ["BENCH_BATCH_ACCOUNT"], os.environ["BENCH_BATCH_KEY"]),
                            batch_url=os.environ["BENCH_BATCH_URL"])
tasks = [bm.TaskAddParameter(id="t%05d" % i, command_line="/bin/true") for i in range(1, n + 1)]
chunks = [tasks[i:i + 100] for i in range(0, n, 100)]

def add(chunk):
    res = client.task.add_collection(job, chunk)
    return sum(1 for v in res.value if v.status == bm.TaskAddStatus.success)

with ThreadPoolExecutor(max_workers=int(os.environ["BENCH_CONCURRENCY"])) as ex:
    added = sum(ex.map(add, chunks))
if added != n:
    raise SystemExit("added %d of %d" % (added, n))
"""

SETUP_LUA = r"""
local img = b:pick_ubuntu_image()
b:add_pool{ id = "empty", vmSize = "standard_d2s_v3", targetDedicatedNodes = 0,
  virtualMachineConfiguration = { imageReference = img.imageReference, nodeAgentSKUId = img.nodeAgentSKUId } }
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--azlua", default="build/azlua")
    ap.add_argument("--validate", action="store_true",
                    help="keep the emulator's spec validation of every task body (server-bound: ~45 %% of its time)")
    a = ap.parse_args()
    la, ok = load_ok()
    print(f"load average {la:.2f}" + ("" if ok else "  (high: figures will be noisy; rerun when quieter)"))
    results = {"azlua": [], "python": []}
    with BatchEnv(a.azlua, [] if a.validate else ["--no-validate"]) as env:
        env.run_lua(SETUP_LUA)
        commands = {"azlua": env.azlua_lua(ADD_LUA), "python": ["/usr/bin/python3", "-c", ADD_PY]}
        for i in range(a.runs):
            for name in ("azlua", "python"):
                job = f"{name}-{i + 1}"
                env.run_lua(f'b:add_job{{ id = "{job}", poolInfo = {{ poolId = "empty" }} }}')
                penv = dict(env.env, BENCH_TASKS=str(a.tasks), BENCH_JOB=job, BENCH_CONCURRENCY=str(a.concurrency))
                s0 = env.server_cpu()
                wall, cpu, rss, _ = measure(commands[name], env=penv, cwd=ROOT)
                server = env.server_cpu() - s0
                active = int(env.run_lua(f'print(b:task_counts("{job}").active)').strip())
                if active != a.tasks:
                    raise SystemExit(f"{name} run {i + 1}: job {job} has {active} active tasks, want {a.tasks}")
                results[name].append((wall, cpu, rss, server))
    rows = []
    for name, label in (("azlua", "azlua b:add_tasks"), ("python", "python azure-batch add_collection + threads")):
        rs = results[name]
        rows.append({"name": label, "n": len(rs), "wall": statistics.median(r[0] for r in rs),
                     "cpu": statistics.median(r[1] for r in rs), "rss_kib": max(r[2] for r in rs),
                     "server": statistics.median(r[3] for r in rs)})
    base = rows[0]
    for r in rows:
        r["tps"] = a.tasks / r["wall"]
        r["rss_mb"] = r["rss_kib"] / 1024
        r["x"] = r["wall"] / base["wall"]
    print(f"{a.tasks} tasks per run, concurrency {a.concurrency}, emulator on loopback, faults off, "
          f"spec validation {'on' if a.validate else 'off'}")
    table(rows, [("name", "client", "{}"), ("n", "runs", "{}"), ("wall", "median wall s", "{:.2f}"),
                 ("tps", "tasks/s", "{:.0f}"), ("cpu", "client CPU s", "{:.2f}"), ("rss_mb", "peak RSS MB", "{:.1f}"),
                 ("server", "emulator CPU s", "{:.2f}"), ("x", "x azlua wall", "{:.1f}")])
    print()
    py = rows[1]
    ratio = py["wall"] / base["wall"]
    print(f"python / azlua wall: {ratio:.1f}x   (target >= 3x: {'met' if ratio >= 3 else 'MISSED'})")
    print(f"python / azlua client CPU: {py['cpu'] / base['cpu']:.1f}x   peak RSS: {py['rss_kib'] / base['rss_kib']:.1f}x")
    print(f"emulator CPU / wall: azlua runs {base['server'] / base['wall']:.0%}, python runs {py['server'] / py['wall']:.0%}")


if __name__ == "__main__":
    main()
