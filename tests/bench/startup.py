#!/usr/bin/python3
"""Start-up benchmark: azlua -e '' against lua5.4 -e '' and the Python SDK's imports, in one run.

    /usr/bin/python3 tests/bench/startup.py [--runs N] [--azlua build/azlua]

Targets (issue 2): azlua within 2x of lua5.4, >= 200x faster than the Python imports, peak RSS < 6 MB.

Wall times come from hyperfine (-N, no shell) when it is installed: starting a process from this Python
script costs ~1 ms of its own, which is most of a 1.5 ms start-up and would squash the ratios. Peak RSS
and CPU come from benchlib (GNU time, wait4)."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import repeat, table  # noqa: E402

PY_IMPORTS = "import azure.batch, azure.mgmt.batch, azure.mgmt.storage, azure.mgmt.resource, azure.storage.blob"


def hyperfine_medians(commands, runs):
    """{command string: median seconds} from hyperfine, or None when it is missing."""
    hf = shutil.which("hyperfine")
    if not hf:
        return None
    fd, out = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    try:
        subprocess.run([hf, "-N", "-w", "10", "-r", str(runs), "--export-json", out] + commands,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(out) as f:
            return {r["command"]: r["median"] for r in json.load(f)["results"]}
    finally:
        os.remove(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--py-runs", type=int, default=5)
    ap.add_argument("--azlua", default="build/azlua")
    a = ap.parse_args()
    rows = []
    az = repeat([a.azlua, "-e", ""], a.runs); az["name"] = "azlua -e ''"; rows.append(az)
    lua = repeat(["lua5.4", "-e", ""], a.runs); lua["name"] = "lua5.4 -e ''"; rows.append(lua)
    azr = repeat([a.azlua, "-e", "require'azure'; require'azure.json'"], a.runs)
    azr["name"] = "azlua require azure+json"; rows.append(azr)
    py = repeat(["/usr/bin/python3", "-c", PY_IMPORTS], a.py_runs); py["name"] = "python3 SDK imports"; rows.append(py)
    # hyperfine takes each command as one string and splits it itself: quote the empty chunk.
    cmds = {"azlua -e ''": a.azlua + " -e ''", "lua5.4 -e ''": "lua5.4 -e ''",
            "azlua require azure+json": a.azlua + " -e \"require'azure'; require'azure.json'\""}
    hf = hyperfine_medians(list(cmds.values()), a.runs)
    timer = "hyperfine -N" if hf else "Popen + wait4 (install hyperfine for exact figures)"
    if hf:
        for r in rows:
            if r["name"] in cmds:
                r["wall"] = hf[cmds[r["name"]]]
    for r in rows:
        r["ms"] = r["wall"] * 1000
        r["rss_mb"] = r["rss_kib"] / 1024
        r["vs_azlua"] = r["wall"] / az["wall"]
    table(rows, [("name", "command", "{}"), ("n", "runs", "{}"), ("ms", "median ms", "{:.2f}"),
                 ("rss_mb", "peak RSS MB", "{:.1f}"), ("vs_azlua", "x azlua", "{:.1f}")])
    print(f"(wall: {timer}; the Python imports: Popen + wait4, whose ~1 ms overhead is noise at 500 ms)")
    print()
    print(f"azlua / lua5.4 wall: {az['wall'] / lua['wall']:.2f}x   (target <= 2x)")
    print(f"python imports / azlua wall: {py['wall'] / az['wall']:.0f}x   (target >= 200x)")
    print(f"azlua peak RSS: {az['rss_kib'] / 1024:.1f} MB   (target < 6 MB)")


if __name__ == "__main__":
    main()
