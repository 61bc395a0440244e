#!/usr/bin/python3
"""Batch pool list: `azlua -e '<list pools as JSON>'` against `az batch pool list` (Debian's azure-cli),
in one run against one local emulator with faults off and ~20 pools.

    /usr/bin/python3 tests/bench/batch_pool_list.py [--runs 21] [--az-runs 7] [--pools 20] [--azlua build/azlua]

Both print every pool as JSON (az's default output); both are checked to list all the pools first. Each
command runs once unmeasured (az writes its config dir then), then --runs/--az-runs times; medians of
wall and client CPU (user+sys of the process tree, from wait4), max peak RSS, and the emulator's mean CPU
per run (server time, not the client's). Two more azlua rows show the floors under its figure: start-up
alone, and start-up + loading libcurl + one HEAD request; one more runs the list on Debian's libcurl.so.4
(AZLUA_LIBCURL) instead of azlua-curl.so. az gets a fresh AZURE_CONFIG_DIR, --only-show-errors and telemetry
off (it would go to the network). Target (issue 5): azlua >= 50x faster (wall)."""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import measure, table  # noqa: E402
from batchenv import BatchEnv, ROOT, load_ok  # noqa: E402

LIST_LUA = 'require"azure.output".print(b:pools(), "json")'

MAKE_POOLS_LUA = r"""
local img = b:pick_ubuntu_image()
for i = 1, tonumber(os.getenv"BENCH_POOLS") do
  b:add_pool{ id = string.format("pool%02d", i), vmSize = "standard_d2s_v3", targetDedicatedNodes = 0,
    virtualMachineConfiguration = { imageReference = img.imageReference, nodeAgentSKUId = img.nodeAgentSKUId } }
end
"""


def runs(env, argv, n, penv):
    walls, cpus, rss, server = [], [], [], []
    for _ in range(n):
        s0 = env.server_cpu()
        w, c, r, _ = measure(argv, env=penv, cwd=ROOT)
        server.append(env.server_cpu() - s0)
        walls.append(w); cpus.append(c); rss.append(r)
    # the emulator's CPU is in 10 ms clock ticks: a mean, not a median of mostly zeros
    return {"n": n, "wall": statistics.median(walls), "cpu": statistics.median(cpus), "rss_kib": max(rss),
            "server": statistics.mean(server)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--az-runs", type=int, default=7)
    ap.add_argument("--pools", type=int, default=20)
    ap.add_argument("--azlua", default="build/azlua")
    ap.add_argument("--az", default="az")
    a = ap.parse_args()
    la, ok = load_ok()
    print(f"load average {la:.2f}" + ("" if ok else "  (high: figures will be noisy; rerun when quieter)"))
    cfg = tempfile.mkdtemp(prefix="azlua-bench-azcfg.")
    try:
        with BatchEnv(a.azlua) as env:
            env.env["BENCH_POOLS"] = str(a.pools)
            env.run_lua(MAKE_POOLS_LUA)
            az_env = dict(os.environ, AZURE_CONFIG_DIR=cfg, AZURE_CORE_COLLECT_TELEMETRY="false",
                          AZURE_CORE_NO_COLOR="true", AZURE_CORE_SURVEY_MESSAGE="false")
            az_argv = [shutil.which(a.az) or a.az, "batch", "pool", "list", "--account-endpoint", env.endpoint,
                       "--account-name", env.account, "--account-key", env.key, "--only-show-errors"]
            lua_argv = env.azlua_lua(LIST_LUA)
            # Check (and warm up) both: every pool listed.
            for name, argv, penv in (("azlua", lua_argv, env.env), ("az", az_argv, az_env)):
                out = subprocess.run(argv, env=penv, capture_output=True, text=True, cwd=ROOT)
                if out.returncode != 0:
                    raise SystemExit(f"{name} failed: {out.stderr.strip()[:600]}")
                got = len(json.loads(out.stdout))
                if got != a.pools:
                    raise SystemExit(f"{name} listed {got} pools, want {a.pools}")
            az = runs(env, lua_argv, a.runs, env.env); az["name"] = "azlua -e '<pool list as JSON>'"
            cli = runs(env, az_argv, a.az_runs, az_env); cli["name"] = "az batch pool list (2.45)"
            # The same list with Debian's libcurl.so.4 (~32 libraries) instead of azlua-curl.so (~12).
            deb = runs(env, lua_argv, a.runs, dict(env.env, AZLUA_LIBCURL="libcurl.so.4"))
            deb["name"] = "  same, AZLUA_LIBCURL=libcurl.so.4"
            # The floors under azlua's figure: its start-up, and start-up + loading libcurl + one
            # request that returns nothing to decode.
            floor = runs(env, [env.azlua, "-e", ""], a.runs, env.env); floor["name"] = "  floor: azlua -e ''"
            curl = runs(env, env.azlua_lua('b:pool_exists("none")'), a.runs, env.env)
            curl["name"] = "  floor: azlua + libcurl + 1 HEAD"
    finally:
        shutil.rmtree(cfg, ignore_errors=True)
    rows = [az, cli, deb, floor, curl]
    for r in rows:
        r["ms"] = r["wall"] * 1000
        r["cpu_ms"] = r["cpu"] * 1000
        r["server_ms"] = r["server"] * 1000
        r["rss_mb"] = r["rss_kib"] / 1024
        r["x"] = r["wall"] / az["wall"]
    print(f"{a.pools} pools, emulator on loopback, faults off")
    table(rows, [("name", "command", "{}"), ("n", "runs", "{}"), ("ms", "median wall ms", "{:.1f}"),
                 ("cpu_ms", "client CPU ms", "{:.1f}"), ("rss_mb", "peak RSS MB", "{:.1f}"),
                 ("server_ms", "emulator CPU ms (mean)", "{:.1f}"), ("x", "x azlua wall", "{:.1f}")])
    print()
    ratio = cli["wall"] / az["wall"]
    print(f"az / azlua wall: {ratio:.0f}x   (target >= 50x: {'met' if ratio >= 50 else 'MISSED'})")
    print(f"az / azlua client CPU: {cli['cpu'] / az['cpu']:.0f}x   peak RSS: {cli['rss_kib'] / az['rss_kib']:.0f}x")


if __name__ == "__main__":
    main()
