#!/usr/bin/python3
"""The tutorial benchmark: the three workflows (create_resource, launch_batch, check_task) with azlua's
scripts and with the Azure SDK for Python (tests/bench/python_tutorial/, Debian's python3-azure), against
one local emulator (TLS, LRO delays zero, short autoscale interval), in one run.

    /usr/bin/python3 tests/bench/tutorial.py [--azlua build/azlua] [--rounds 3] [--keep]

Each round gives each side a fresh work directory, fresh resource names and unregistered providers, so
both do the same work, and runs (each measured: wall, client CPU = user+sys of the script's process tree
via wait4, peak RSS):
  create_resource, launch_batch, check_task --wait (waits for the MPI task the emulator runs), and
  check_task again once the tasks are done (summary + download of stdout/stderr from the container).
"total" = create + launch + check --wait; "no wait" = create + launch + the second check_task, i.e. the
same work without the time spent waiting for the emulator to run the task (mpirun and the task run
inside the emulator, not in the client, so their CPU is never counted). Figures are medians over rounds.
Targets (issue 6): azlua client CPU <= 1/10 of Python's, wall >= 3x faster."""
import argparse
import datetime
import json
import os
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "emulator", "tests"))
from benchlib import table  # noqa: E402
from harness import Emulator  # noqa: E402

PY = "/usr/bin/python3"
GNU_TIME = "/usr/bin/time"
PYDIR = os.path.join(HERE, "python_tutorial")
EMULATOR_ARGS = ["--lro-polls", "0", "--retry-after", "0", "--provider-polls", "0", "--autoscale-interval", "0.5"]
STEPS = ("create_resource", "launch_batch", "check_task --wait", "check_task")


def run(argv, env, cwd, log):
    """Runs argv; returns (wall_s, cpu_s, maxrss_kib). Output goes to log (appended). CPU from wait4 (the
    whole tree); peak RSS from GNU time's %M when installed (wait4's ru_maxrss also counts the forking
    Python before exec, see benchlib.measure)."""
    rss_file = os.path.join(cwd, ".rss")
    timed = [GNU_TIME, "-q", "-o", rss_file, "-f", "%M"] + argv if os.access(GNU_TIME, os.X_OK) else argv
    with open(log, "ab") as out:
        out.write(("$ %s\n" % " ".join(argv)).encode())
        out.flush()
        t0 = time.perf_counter()
        p = subprocess.Popen(timed, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        with open(log, "rb") as f:
            tail = f.read()[-1500:].decode(errors="replace")
        raise RuntimeError("%s exited %d:\n%s" % (" ".join(argv), p.returncode, tail))
    maxrss = ru.ru_maxrss
    if timed is not argv:
        with open(rss_file) as f:
            nums = [w for w in f.read().split() if w.isdigit()]
        os.remove(rss_file)
        if nums:
            maxrss = int(nums[-1])
    return wall, ru.ru_utime + ru.ru_stime, maxrss


def proc_cpu(pid):
    """user + sys seconds of a running process (the emulator), from /proc."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Arm:
    """Just enough ARM to reset the providers between sides (not measured)."""

    def __init__(self, ep):
        self.ep = ep
        self.ctx = ssl.create_default_context(cafile=ep["ca_file"])
        form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": ep["client_id"],
                                       "client_secret": ep["client_secret"],
                                       "scope": "https://management.azure.com/.default"}).encode()
        with urllib.request.urlopen(ep["token_endpoint"], form, context=self.ctx) as r:
            self.token = json.load(r)["access_token"]

    def post(self, path):
        req = urllib.request.Request(self.ep["arm"] + path, data=b"", method="POST",
                                     headers={"Authorization": "Bearer " + self.token})
        with urllib.request.urlopen(req, context=self.ctx) as r:
            return json.load(r)

    def unregister(self, ns):
        self.post("/subscriptions/%s/providers/%s/unregister?api-version=2021-04-01" % (self.ep["subscription"], ns))


def read_from(path, line):
    with open(path) as f:
        return f.readlines()[line:]


def emulator_waits(lines, sa):
    """Seconds create_resource spent waiting on the emulator, from its access log: provider registration
    (register POST to the GET that shows Registered) and the storage account LRO (PUT to the poll that says
    done; the emulator restarts Azurite with the new account meanwhile). Same work on both sides."""
    entries = []   # (time, method, lower-case path, status)
    for ln in lines:
        parts = ln.split()
        if len(parts) >= 4:
            when = datetime.datetime.strptime(parts[0][:26], "%Y-%m-%dT%H:%M:%S.%f").timestamp()
            entries.append((when, parts[1], parts[2].lower(), parts[3]))

    def span(is_start, is_end, first_end=False):
        start = end = None
        for when, method, path, status in entries:
            if is_start(method, path, status):
                start = when
            elif start is not None and is_end(method, path, status):
                end = when
                if first_end:
                    break
        return (start, end) if start is not None and end is not None else None

    spans = []
    for ns in ("microsoft.storage", "microsoft.batch"):
        spans.append(span(lambda m, p, s: m == "POST" and p.endswith("/providers/%s/register" % ns),
                          lambda m, p, s: m == "GET" and p.endswith("/providers/" + ns)))
    spans.append(span(lambda m, p, s: m == "PUT" and p.endswith("/storageaccounts/" + sa) and s == "202",
                      lambda m, p, s: m == "GET" and "/asyncoperations/" in p and s == "200", first_end=True))
    # The union of the waits: a client that registers both providers together waits once, not twice.
    total, reach = 0.0, None
    for start, end in sorted(x for x in spans if x):
        if reach is None or start > reach:
            total += end - start
            reach = end
        elif end > reach:
            total += end - reach
            reach = end
    return total


def count_lines(path):
    try:
        with open(path, "rb") as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


def side_commands(side, azlua, names):
    create = ["--resource_gp_name", names["rg"], "--storage_account_name", names["sa"],
              "--batch_account_name", names["ba"]]
    if side == "azlua":
        s = lambda n: [azlua, os.path.join(REPO, "scripts", n + ".lua")]  # noqa: E731
    else:
        s = lambda n: [PY, os.path.join(PYDIR, n + ".py")]  # noqa: E731
    return [s("create_resource") + create, s("launch_batch"), s("check_task") + ["--wait", "--out", "output-wait"],
            s("check_task") + ["--out", "output"]]


def write_config(side, work, ep):
    sp = {"client_id": ep["client_id"], "name": "bench", "password": ep["client_secret"], "tenant": ep["tenant"]}
    if side == "azlua":
        with open(os.path.join(work, "config.lua"), "w") as f:
            f.write("subs = %s\nsp = { client_id = %s, name = %s, password = %s, tenant = %s }\n" % tuple(
                json.dumps(v) for v in (ep["subscription"], sp["client_id"], sp["name"], sp["password"], sp["tenant"])))
    else:
        with open(os.path.join(work, "config.py"), "w") as f:
            f.write("subs = %r\nsp = %r\n" % (ep["subscription"], sp))
    os.chmod(os.path.join(work, "config.lua" if side == "azlua" else "config.py"), 0o600)


def run_side(side, azlua, emu, base_env, root, rnd, arm):
    ep = emu.ep
    work = os.path.join(root, "%s-%d" % (side, rnd))
    os.makedirs(work)
    tag = uuid.uuid4().hex[:8]
    names = {"rg": "bench-%s-%s" % (side, tag), "sa": "s%s%s" % (side[:2], tag), "ba": "b%s%s" % (side[:2], tag)}
    for ns in ("Microsoft.Storage", "Microsoft.Batch"):
        arm.unregister(ns)   # both sides register them from scratch
    write_config(side, work, ep)
    env = dict(base_env)
    env.update(AZURE_CLOUD="local", AZLUA_LOCAL_ENDPOINTS=emu.ep_path, PYTHONDONTWRITEBYTECODE="1")
    if side == "azlua":
        env["AZLUA_CA_FILE"] = ep["ca_file"]
    emu_log = os.path.join(emu.state, "emulator.log")
    rows = {}
    for step, argv in zip(STEPS, side_commands(side, azlua, names)):
        before, emu_cpu = count_lines(emu_log), proc_cpu(emu.proc.pid)
        wall, cpu, rss = run(argv, env, work, os.path.join(work, "log.txt"))
        time.sleep(0.05)   # the emulator logs after it answers
        lines = read_from(emu_log, before)
        rows[step] = {"wall": wall, "cpu": cpu, "rss_kib": rss, "requests": len(lines),
                      "emu_cpu": proc_cpu(emu.proc.pid) - emu_cpu,
                      "emu_wait": emulator_waits(lines, names["sa"]) if step == "create_resource" else 0.0}
    out = os.path.join(work, "output", "mpi-job", "mpi-task", "stdout.txt")
    with open(out) as f:
        text = f.read()
    if "MPI world size: 2" not in text:
        raise RuntimeError("%s: the MPI output downloaded by check_task has no 2-rank result:\n%s" % (side, text))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--azlua", default=os.path.join(REPO, "build", "azlua"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="keep the work directories (configs, logs, outputs)")
    a = ap.parse_args()
    azlua = os.path.abspath(a.azlua)
    load = os.getloadavg()[0]
    print("load average %.2f%s" % (load, "  (above 3: figures are noisy, rerun when the machine is quieter)"
                                   if load > 3 else ""))
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AZLUA_"))}
    root = tempfile.mkdtemp(prefix="azlua-bench-tutorial-")
    emu = Emulator(tls=True, args=EMULATOR_ARGS).start()
    results = {"azlua": [], "python": []}
    try:
        arm = Arm(emu.ep)
        for rnd in range(a.rounds):
            order = ("azlua", "python") if rnd % 2 == 0 else ("python", "azlua")
            for side in order:
                results[side].append(run_side(side, azlua, emu, base_env, root, rnd, arm))
                print("round %d %-6s done" % (rnd + 1, side), flush=True)
    finally:
        emu.stop()
        if a.keep:
            print("work directories kept in", root)
        else:
            shutil.rmtree(root, ignore_errors=True)

    def med(side, step, key):
        vals = [r[step][key] for r in results[side]]
        return max(vals) if key == "rss_kib" else statistics.median(vals)

    rows, summary = [], {}
    for side in ("azlua", "python"):
        for step in STEPS:
            rows.append({"side": side, "step": step, "wall": med(side, step, "wall"), "cpu": med(side, step, "cpu"),
                         "wait": med(side, step, "emu_wait") or None,
                         "rss": med(side, step, "rss_kib") / 1024, "req": med(side, step, "requests"),
                         "emu": med(side, step, "emu_cpu")})
        for label, steps in (("total", STEPS[:3]), ("no wait", (STEPS[0], STEPS[1], STEPS[3])),
                             ("client-bound", (STEPS[0], STEPS[1], STEPS[3]))):
            # per-round sums, then the median over rounds; client-bound = no wait less create_resource's
            # emulator waits (provider registration, storage account LRO while Azurite restarts)
            less = label == "client-bound"
            wall = statistics.median(sum(r[s]["wall"] - (r[s]["emu_wait"] if less else 0) for s in steps)
                                     for r in results[side])
            cpu = statistics.median(sum(r[s]["cpu"] for s in steps) for r in results[side])
            rss = max(r[s]["rss_kib"] for r in results[side] for s in steps) / 1024
            req = statistics.median(sum(r[s]["requests"] for s in steps) for r in results[side])
            emu_cpu = statistics.median(sum(r[s]["emu_cpu"] for s in steps) for r in results[side])
            summary[(side, label)] = {"wall": wall, "cpu": cpu}
            rows.append({"side": side, "step": "= " + label, "wall": wall, "cpu": cpu, "rss": rss, "req": req,
                         "emu": emu_cpu})
    print()
    print("tutorial benchmark: %d round(s), emulator %s --tls; medians; requests = to the emulator "
          "(sign-in, ARM, Batch; Blob/Azurite not counted)" % (a.rounds, " ".join(EMULATOR_ARGS)))
    table(rows, [("side", "side", "{}"), ("step", "script", "{}"), ("wall", "wall s", "{:.3f}"),
                 ("wait", "emulator waits s", "{:.3f}"),
                 ("cpu", "client CPU s", "{:.3f}"), ("rss", "peak RSS MB", "{:.1f}"), ("req", "requests", "{:.0f}"),
                 ("emu", "emulator CPU s", "{:.3f}")])
    print()
    for label in ("total", "no wait", "client-bound"):
        az, py = summary[("azlua", label)], summary[("python", label)]
        print("%-13s python/azlua client CPU %5.1fx (target >= 10x)   wall %5.2fx (target >= 3x)"
              % (label + ":", py["cpu"] / az["cpu"], py["wall"] / az["wall"]))
    print("total = create_resource + launch_batch + check_task --wait (wall includes the emulator running the MPI task);\n"
          "no wait = create_resource + launch_batch + check_task run again once the tasks are done;\n"
          "client-bound = no wait less create_resource's emulator waits (provider registration, storage account LRO\n"
          "  while the emulator restarts Azurite), measured from the emulator's access log; the same on both sides.")


if __name__ == "__main__":
    main()
