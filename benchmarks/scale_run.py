"""A large sweep end to end: wall time, points/s, the memory of every
process over the run, and the store's size.

    python benchmarks/scale_run.py --points 1e8 --cluster local --workers 2
    python benchmarks/scale_run.py --points 1e7 --cluster slurm --jobs 2
    python benchmarks/scale_run.py --points 1e6 --cluster local --keep /tmp/s.zarr

The grid is benchmarks/grid_3sectors_1e7.toml's (3 sectors, 200 x 200
values of externality_scale and cost_scale) with as many ca_spread values
as make --points (rounded to a multiple of 40,000). One ``coordsweep run``
in a child process (``nice -n --nice``):

- ``--cluster local``: the default local cluster (``--workers`` worker
  processes, each single-threaded);
- ``--cluster slurm``: a private SLURM started here and stopped by PID at
  the end (munged, slurmctld, slurmd from a slurm.conf in a temporary
  directory: tests/slurm_helpers.py, as the slurm tests do), and the run
  with ``--cluster slurm --jobs J --cores 1``: the workers are SLURM jobs.

A side thread samples, every --interval seconds, the resident memory
(RSS, /proc through psutil) and CPU time of the driver and of every
worker process (for a local cluster: the driver's child processes; for
SLURM: the dask workers the jobs started, found by their command line,
and their children). "Flat memory" reads in the table as the RSS at a
quarter, half and three quarters of the run against the peak ("-": the
process was not there then; an adaptive SLURM cluster may replace its
jobs, "nanny": a job's dask-worker process, whose child is the worker
that computes; "alive s": seconds between its first and last sample). The store
is removed at the end (--keep: kept at that path). The machine's load
average is printed before and after: it is shared, the wall times are
only as good as it was quiet.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import psutil

HERE = os.path.dirname(os.path.abspath(__file__))
BASE_SPEC = os.path.join(HERE, "grid_3sectors_1e7.toml")
PER_SPREAD = 200 * 200  # points per ca_spread value


def spec_text(points):
    """(spec text, points): the base grid with ca_spread resized."""
    num = max(1, round(points / PER_SPREAD))
    text = open(BASE_SPEC).read()
    text = re.sub(r'name = "[^"]*"', f'name = "three sectors, {num * PER_SPREAD:.0e} points"',
                  text, count=1)
    text, n = re.subn(r"(\[axes\.ca_spread\][^\[]*?num = )\d+", rf"\g<1>{num}", text)
    assert n == 1, "grid_3sectors_1e7.toml: no [axes.ca_spread] num"
    return text, num * PER_SPREAD


WORKER_MARKS = ("distributed.cli.dask_worker", "dask-worker", "dask_worker", "dask worker")


class Sampler(threading.Thread):
    """RSS and CPU of the driver and the workers, every `interval` seconds."""

    def __init__(self, driver_pid, interval, find_workers):
        super().__init__(daemon=True)
        self.driver = psutil.Process(driver_pid)
        self.interval = interval
        self.find_workers = find_workers
        self.stop = threading.Event()
        self.t0 = time.monotonic()
        self.procs = {}    # pid -> {"role", "samples": [(t, rss)], "cpu"}
        self.load = []     # (t, 1-minute load average)

    def _role(self, p, driver_tree):
        try:
            cmd = " ".join(p.cmdline())
        except psutil.Error:
            cmd = ""
        if p.pid == self.driver.pid:
            return "driver"
        if "resource_tracker" in cmd:
            return "resource tracker"
        return "worker" if driver_tree else "worker (job)"

    def _procs(self):
        out = []
        try:
            out += [(self.driver, True)] + [(c, True) for c in self.driver.children(recursive=True)]
        except psutil.Error:
            pass
        seen = {p.pid for p, _ in out}
        for p in self.find_workers():
            if p.pid in seen:
                continue
            out.append((p, False))
            seen.add(p.pid)
            try:
                for c in p.children(recursive=True):
                    if c.pid not in seen:
                        out.append((c, False))
                        seen.add(c.pid)
            except psutil.Error:
                pass
        return out

    def sample(self):
        t = time.monotonic() - self.t0
        self.load.append((t, os.getloadavg()[0]))
        for p, in_tree in self._procs():
            try:
                with p.oneshot():
                    rss = p.memory_info().rss
                    ct = p.cpu_times()
                    if p.pid not in self.procs:
                        self.procs[p.pid] = {"role": self._role(p, in_tree), "samples": [],
                                             "ppid": p.ppid()}
            except psutil.Error:
                continue
            rec = self.procs[p.pid]
            rec["samples"].append((t, rss))
            rec["cpu"] = ct.user + ct.system

    def run(self):
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(self.interval)


def dask_job_workers():
    """Processes that run a dask worker (the jobs' `python -m
    distributed.cli.dask_worker ...`)."""
    out = []
    for p in psutil.process_iter(["cmdline"]):
        cmd = " ".join(p.info["cmdline"] or ())
        if any(m in cmd for m in WORKER_MARKS) and "scale_run" not in cmd:
            out.append(p)
    return out


def rss_at(samples, frac, t_end):
    """RSS of the sample nearest frac * t_end (None: no sample then)."""
    if not samples:
        return None
    t = frac * t_end
    return min(samples, key=lambda s: abs(s[0] - t))[1]


def size_of(path):
    total = files = 0
    for root, _, names in os.walk(path):
        for n in names:
            try:
                total += os.path.getsize(os.path.join(root, n))
                files += 1
            except OSError:
                pass
    return total, files


def mib(b):
    return "-" if b is None else f"{b / 2**20:,.0f}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=float, default=1e8)
    ap.add_argument("--cluster", choices=("local", "slurm"), default="local")
    ap.add_argument("--workers", type=int, default=None,
                    help="local: worker processes (default: the engine's choice, one a CPU)")
    ap.add_argument("--jobs", type=int, default=2, help="slurm: jobs of one worker each")
    ap.add_argument("--memory", default="4GB", help="slurm: memory per job")
    ap.add_argument("--walltime", default="04:00:00", help="slurm: walltime per job")
    ap.add_argument("--chunk-points", type=int, default=None)
    ap.add_argument("--interval", type=float, default=1.0, help="sampling period, s")
    ap.add_argument("--nice", type=int, default=0, help="run the sweep under nice -n N")
    ap.add_argument("--store-dir", default="/tmp", help="where the store goes (removed)")
    ap.add_argument("--keep", metavar="PATH", help="write the store to PATH and keep it")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = ap.parse_args(argv)

    exe = os.path.join(os.path.dirname(sys.executable), "coordsweep")
    work = tempfile.mkdtemp(prefix="coordsweep-scale-", dir=args.store_dir)
    text, points = spec_text(int(args.points))
    spec = os.path.join(work, "scale.toml")
    with open(spec, "w") as f:
        f.write(text)
    store = args.keep or os.path.join(work, "scale.zarr")
    cmd = [exe, "run", spec, "--store", store, "--quiet", "--json"]
    if args.chunk_points:
        cmd += ["--chunk-points", str(args.chunk_points)]
    env = dict(os.environ)
    slurm = None
    find = lambda: []  # noqa: E731
    if args.cluster == "local":
        cmd += ["--scheduler", "local"] + (["--workers", str(args.workers)]
                                           if args.workers else [])
    else:
        sys.path.insert(0, os.path.join(HERE, "..", "tests"))
        from slurm_helpers import Slurm, missing_binaries
        missing = missing_binaries()
        if missing:
            raise SystemExit(f"SLURM binaries missing: {', '.join(missing)} "
                             "(apt-get install -y slurmctld slurmd slurm-client munge)")
        root = tempfile.mkdtemp(prefix="slurm-", dir="/tmp")  # short: socket paths
        slurm = Slurm(root).start()
        env = slurm.env
        cmd += ["--cluster", "slurm", "--jobs", str(args.jobs), "--cores", "1",
                "--memory", args.memory, "--walltime", args.walltime,
                "--scheduler-host", "127.0.0.1"]
        find = dask_job_workers
    if args.nice:
        cmd = ["nice", "-n", str(args.nice)] + cmd
    load0 = os.getloadavg()
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}: {points:,} points, --cluster "
          f"{args.cluster}; load average {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}; "
          f"{os.cpu_count()} CPUs", flush=True)
    print("  " + " ".join(cmd), flush=True)
    try:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env, cwd=work)
        sampler = Sampler(proc.pid, args.interval, find)
        sampler.start()
        out, err = proc.communicate()
        wall = time.perf_counter() - t0
        sampler.stop.set()
        sampler.join()
        load1 = os.getloadavg()
        if proc.returncode != 0:
            raise SystemExit(f"coordsweep run failed ({proc.returncode}):\n{err[-3000:]}\n"
                             + (slurm.logs() if slurm else ""))
        summary = json.loads(out.strip().splitlines()[-1])
        size, files = size_of(store)
    finally:
        if slurm is not None:
            slurm.stop()
            shutil.rmtree(slurm.root, ignore_errors=True)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)

    t_end = wall
    parents = {rec["ppid"] for rec in sampler.procs.values()}
    for pid, rec in sampler.procs.items():
        if rec["role"].startswith("worker") and pid in parents:  # its worker is a child
            rec["role"] = rec["role"].replace("worker", "nanny")
    rows = []
    for pid, rec in sorted(sampler.procs.items(), key=lambda kv: (kv[1]["role"] != "driver",
                                                                  kv[1]["role"], kv[0])):
        s = rec["samples"]
        if rec["role"] == "resource tracker":
            continue
        peak = max(r for _, r in s)
        rows.append({"role": rec["role"], "pid": pid, "peak_rss": peak,
                     "rss_25": rss_at(s, 0.25, t_end), "rss_50": rss_at(s, 0.5, t_end),
                     "rss_75": rss_at(s, 0.75, t_end), "cpu": rec.get("cpu", 0.0),
                     "seconds_seen": s[-1][0] - s[0][0]})
    loads = [v for _, v in sampler.load]
    res = {"points": summary["points"], "cluster": args.cluster,
           "workers": summary["workers"], "workers_chosen_by": summary["workers_chosen_by"],
           "wall_seconds": wall, "run_wall_seconds": summary["wall_seconds"],
           "compute_seconds": summary["compute_seconds"],
           "points_per_second": summary["points"] / wall,
           "compute_points_per_second": summary["compute_points_per_second"],
           "chunks": summary["chunks_total"], "store_bytes": size, "store_files": files,
           "status_ok": summary["status_ok"], "processes": rows,
           "load_before": load0, "load_after": load1,
           "load_mean_during": sum(loads) / len(loads) if loads else None,
           "command": cmd}
    print(f"  {'what':38s} {'measured':>18s}")
    print(f"  {'points':38s} {res['points']:>18,}")
    print(f"  {'workers':38s} {str(res['workers']):>18s}  ({res['workers_chosen_by']})")
    print(f"  {'wall time (process), s':38s} {wall:>18,.1f}")
    print(f"  {'  of it computing, s':38s} {res['compute_seconds']:>18,.1f}")
    print(f"  {'points/s (process wall)':38s} {res['points_per_second']:>18,.0f}")
    print(f"  {'points/s while computing':38s} {res['compute_points_per_second']:>18,.0f}")
    print(f"  {'chunks':38s} {res['chunks']:>18,}")
    print(f"  {'store size':38s} {size / 2**30:>14,.2f} GiB  ({size / res['points']:.1f} "
          f"bytes/point, {files:,} files)")
    print(f"  {'status ok':38s} {res['status_ok']:>18,}")
    print(f"  memory (RSS, MiB; sampled every {args.interval:g} s; at 25/50/75% of the wall "
          "time, and the peak)")
    print(f"    {'process':16s} {'pid':>8s} {'25%':>8s} {'50%':>8s} {'75%':>8s} {'peak':>8s} "
          f"{'CPU s':>9s} {'alive s':>9s}")
    for r in rows:
        print(f"    {r['role']:16s} {r['pid']:>8d} {mib(r['rss_25']):>8s} {mib(r['rss_50']):>8s} "
              f"{mib(r['rss_75']):>8s} {mib(r['peak_rss']):>8s} {r['cpu']:>9.1f} "
              f"{r['seconds_seen']:>9.0f}")
    print(f"  load average: before {load0[0]:.2f}, mean during {res['load_mean_during']:.2f}, "
          f"after {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    print(f"  store {'kept at ' + store if args.keep else 'removed'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
