"""Refined against full grid: the paper-1 sweep at n x n points.

    python benchmarks/refine_speed.py --num 2049 --coarse 32 --repeat 2
    python benchmarks/refine_speed.py --num 4097 --coarse 32 --scheduler local

Runs ``coordsweep run`` (a fresh process each time: start-up included) on
sweeps/paper_1_coordination_failures.toml with both axes at `num` points,
once as it is and once with ``[run.refine] on = [regime, target_best]``,
interleaved `repeat` times; reports wall and CPU seconds (the child's
user + system), the points solved, and checks that the refined maps equal
the full grid's at every point and that every solved point holds the full
grid's values bit for bit. The machine may be shared: compare the ratio of
runs made in the same call, not absolute times.
"""
import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "sweeps" / "paper_1_coordination_failures.toml"


def timed(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, json.loads(out.stdout.strip().splitlines()[-1])


def compare(full, refined, on):
    """(map points that differ, solved points whose values differ)."""
    import numpy as np
    import xarray as xr
    a = xr.open_zarr(refined, consolidated=False)
    b = xr.open_zarr(full, consolidated=False)
    differ = sum(int((a[v].values != b[v].values).sum()) for v in on)
    solved = a["computed"].values
    bad = 0
    for v in b.data_vars:
        if v == "chunk_done":
            continue
        x, y = a[v].values[solved], b[v].values[solved]
        same = (np.array_equal(x, y, equal_nan=True) if x.dtype.kind == "f"
                else np.array_equal(x, y))
        bad += 0 if same else 1
    return differ, bad, int(solved.sum()), int(solved.size)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--num", type=int, default=2049)
    ap.add_argument("--coarse", type=int, default=32)
    ap.add_argument("--on", default="regime,target_best")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--scheduler", default="synchronous")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--min-level", type=int, default=0)
    args = ap.parse_args(argv)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="refine_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    text = re.sub(r"num = 201", f"num = {args.num}", SPEC.read_text())
    text = re.sub(r'store = ".*"', "", text)
    on = [v.strip() for v in args.on.split(",")]
    full_spec, ref_spec = work / "full.toml", work / "refined.toml"
    full_spec.write_text(text)
    ref_spec.write_text(text.replace("[run]", "[run.refine]\non = " + json.dumps(on)
                                     + f"\ncoarse = {args.coarse}\nmin_level = "
                                     f"{args.min_level}\n\n[run]"))
    exe = [sys.executable, "-m", "coordsweep"]
    load0 = os.getloadavg()[0]
    rows = {"full": [], "refined": []}
    for _ in range(args.repeat):
        for kind, spec in (("full", full_spec), ("refined", ref_spec)):
            store = work / f"{kind}.zarr"
            shutil.rmtree(store, ignore_errors=True)
            cmd = exe + ["run", str(spec), "--store", str(store), "--scheduler",
                         args.scheduler, "--quiet", "--json"]
            wall, cpu, summary = timed(cmd)
            rows[kind].append((wall, cpu, summary["points_computed"]))
            print(f"{kind:8s} wall {wall:6.2f} s  cpu {cpu:6.2f} s  "
                  f"solved {summary['points_computed']:,}", file=sys.stderr, flush=True)
    differ, bad, solved, size = compare(work / "full.zarr", work / "refined.zarr", on)
    fw = min(r[0] for r in rows["full"])
    rw = min(r[0] for r in rows["refined"])
    fc = min(r[1] for r in rows["full"])
    rc = min(r[1] for r in rows["refined"])
    ratios = [r[0] / f[0] for f, r in zip(rows["full"], rows["refined"])]
    print("wall ratio refined/full, each repeat: "
          + ", ".join(f"{x:.2f}" for x in ratios), file=sys.stderr)
    print(f"| grid | run | points solved | wall s (best of {args.repeat}) | CPU s |")
    print("|---|---|---|---|---|")
    print(f"| {args.num} x {args.num} | full | {size:,} (100%) | {fw:.2f} | {fc:.2f} |")
    print(f"| {args.num} x {args.num} | refined, coarse {args.coarse} | {solved:,} "
          f"({100 * solved / size:.1f}%) | {rw:.2f} ({rw / fw:.2f}x) | "
          f"{rc:.2f} ({rc / fc:.2f}x) |")
    print(f"maps ({', '.join(on)}): {differ} points differ; solved points whose values "
          f"differ from the full grid's: {bad} variables; scheduler {args.scheduler}; "
          f"load average {load0:.1f} at start, {os.getloadavg()[0]:.1f} at end")
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if differ or bad else 0


if __name__ == "__main__":
    sys.exit(main())
