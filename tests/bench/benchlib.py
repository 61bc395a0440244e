"""Small helpers shared by the benchmarks: run a command, measure wall, CPU and peak RSS of it."""
import os
import statistics
import subprocess
import tempfile
import time


GNU_TIME = "/usr/bin/time"


def measure(argv, env=None, cwd=None, stdin=subprocess.DEVNULL):
    """Runs argv once; returns (wall_s, cpu_s, maxrss_kib, exit_code). CPU = user + sys of the child tree
    as reported by wait4 (children it waited for are included by the kernel).

    Peak RSS comes from GNU time (-f %M) when it is installed: a child's ru_maxrss also counts the memory
    of the process it was forked from before exec (here ~10 MB of Python, more after a big allocation),
    so wait4's figure is a floor of Python's size, not the command's. time is ~2 MB and forks the command
    itself; its own exec adds well under a millisecond to the wall time."""
    rss_file, name = None, argv[0]
    if os.access(GNU_TIME, os.X_OK):
        fd, rss_file = tempfile.mkstemp(prefix="benchlib-rss.")
        os.close(fd)
        argv = [GNU_TIME, "-q", "-o", rss_file, "-f", "%M"] + list(argv)
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, env=env, cwd=cwd, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    maxrss = ru.ru_maxrss
    if rss_file:
        try:
            with open(rss_file) as f:
                lines = [ln for ln in f.read().split() if ln.isdigit()]
            if lines:
                maxrss = int(lines[-1])
        finally:
            os.remove(rss_file)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        err = p.stderr.read().decode(errors="replace")
        raise RuntimeError(f"{name} exited {p.returncode}: {err.strip()[:400]}")
    p.stderr.close()
    return wall, ru.ru_utime + ru.ru_stime, maxrss, p.returncode


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
