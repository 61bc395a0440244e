"""Small helpers shared by the benchmarks: run a command, measure wall, CPU and peak RSS of it."""
import os
import statistics
import subprocess
import time


def measure(argv, env=None, cwd=None, stdin=subprocess.DEVNULL):
    """Runs argv once; returns (wall_s, cpu_s, maxrss_kib, exit_code). CPU = user + sys of the child tree
    as reported by wait4 (children it waited for are included by the kernel)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, env=env, cwd=cwd, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        err = p.stderr.read().decode(errors="replace")
        raise RuntimeError(f"{argv[0]} exited {p.returncode}: {err.strip()[:400]}")
    p.stderr.close()
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, p.returncode


def repeat(argv, n, **kw):
    """Runs argv n times; returns medians (wall, cpu) and the max of peak RSS."""
    walls, cpus, rss = [], [], []
    for _ in range(n):
        w, c, r, _ = measure(argv, **kw)
        walls.append(w); cpus.append(c); rss.append(r)
    return {"wall": statistics.median(walls), "cpu": statistics.median(cpus), "rss_kib": max(rss), "n": n}


def table(rows, cols):
    """Prints rows (list of dicts) as an aligned table with the given (key, header, fmt) columns."""
    cells = [[h for _, h, _ in cols]] + [[f.format(r[k]) if r.get(k) is not None else "-" for k, _, f in cols] for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(cols))]
    for i, c in enumerate(cells):
        print("  ".join(v.rjust(widths[j]) if j else v.ljust(widths[j]) for j, v in enumerate(c)))
        if i == 0:
            print("  ".join("-" * w for w in widths))
