"""Wall time and peak memory of `coordsweep run` (driver + dask workers).

Runs the CLI as a subprocess and samples the resident memory of its whole
process tree (psutil, every 0.2 s). The baseline, measured in the same
invocation, is a 1-point run of the same spec (cluster start, imports and
compiled kernels, no data): the report gives the sweep's peak as a ratio of
that baseline, so "bounded memory" reads as a ratio near 1 that does not
grow with the grid.

    python benchmarks/sweep_memory.py benchmarks/five_sectors_1e6.toml [more specs]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

import psutil


def tree_rss(proc):
    total = 0
    peak_one = 0
    try:
        procs = [proc] + proc.children(recursive=True)
    except psutil.NoSuchProcess:
        return 0, 0
    for p in procs:
        try:
            rss = p.memory_info().rss
        except psutil.NoSuchProcess:
            continue
        total += rss
        peak_one = max(peak_one, rss)
    return total, peak_one


def measure(cmd):
    """Run cmd; return (wall seconds, peak tree RSS, peak single-process RSS, stdout)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
    ps = psutil.Process(proc.pid)
    peak = [0, 0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            total, one = tree_rss(ps)
            peak[0] = max(peak[0], total)
            peak[1] = max(peak[1], one)
            time.sleep(0.2)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, _ = proc.communicate()
    done.set()
    th.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed with exit code {proc.returncode}")
    return time.perf_counter() - t0, peak[0], peak[1], out


def one_point_spec(path, tmp):
    text = open(path).read()
    text = re.sub(r"num = \d+", "num = 1", text)
    # a sampling design: its smallest size (2 base samples / trajectories)
    text = re.sub(r"(?m)^samples = \d+", "samples = 2", text)
    out = os.path.join(tmp, "one_point.toml")
    with open(out, "w") as f:
        f.write(text)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("specs", nargs="+")
    ap.add_argument("--scheduler", default="local")
    ap.add_argument("--keep", metavar="DIR", help="write the sweeps' stores into DIR "
                    "(kept) instead of a temporary directory")
    args = ap.parse_args()
    exe = os.path.join(os.path.dirname(sys.executable), "coordsweep")
    with tempfile.TemporaryDirectory() as tmp:
        base = one_point_spec(args.specs[0], tmp)
        bt, brss, _, _ = measure([exe, "run", base, "--store", os.path.join(tmp, "b.zarr"),
                                  "--scheduler", args.scheduler, "--quiet"])
        print(f"baseline (1 point): wall {bt:.1f} s, peak RSS (driver + workers) "
              f"{brss / 2**20:,.0f} MiB")
        for spec in args.specs:
            store = os.path.join(args.keep or tmp, os.path.basename(spec) + ".zarr")
            wt, rss, one, out = measure([exe, "run", spec, "--store", store,
                                         "--scheduler", args.scheduler])
            points = re.search(r"points\s+([\d,]+)", out).group(1)
            rate = re.search(r"points/s\s+([\d,]+)", out).group(1)
            print(out)
            print(f"{spec}: {points} points, wall {wt:.1f} s, {rate} points/s, peak RSS "
                  f"{rss / 2**20:,.0f} MiB (largest process {one / 2**20:,.0f} MiB), "
                  f"{rss / brss:.2f} x the 1-point baseline")


if __name__ == "__main__":
    main()
