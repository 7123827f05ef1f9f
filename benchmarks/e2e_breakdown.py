"""Where the wall time of `coordsweep run` goes, against the kernel alone.

    python benchmarks/e2e_breakdown.py [SPEC] [--points N] [--chunk-points C] [--no-run] [--workers 1,2]
    python benchmarks/e2e_breakdown.py [SPEC] --pair [--writes] [--points N]

1. In this process, on the first --points points of SPEC's grid (default
   benchmarks/grid_3sectors.toml), in the engine's chunks (--chunk-points,
   default: the engine's layout for the whole grid): the kernel alone
   (blocks prebuilt, compile excluded) — the baseline — then each chunk
   through the write path step by step into a fresh store, every step
   timed: the done check, block building (engine/spec/blocks.py, reused
   buffers, as a run's tasks build them), kernel, output
   compression (the store's codecs, the chunk encoded again on its own),
   zarr writes (write_chunk minus compression, lease checks and marker),
   the lease checks, the done-marker and the summary counts the writer
   thread takes from each chunk (results.chunk_counts); for comparison
   (not part of a run) Spec.block's fresh arrays and a summary that reads
   the store back. Then the same chunks through the run's own path
   (executors.compute_chunk with the writer thread): wall and CPU against the
   kernel alone, i.e. what the engine adds once overlapped.
2. --repeats times: the kernel alone over the whole grid (the baseline:
   the same points as the run), then `coordsweep run --scheduler
   synchronous` on the whole grid in a fresh process (and, with --workers,
   the local cluster at each worker count); the ratios of each run to its
   baseline, and their medians. Each run's CPU time is split into the run's
   own process (the synchronous run; a cluster's client, scheduler and
   nannies) and its children (the worker processes). The run's wall time
   outside its computing (start-up and end) gives the most its overall
   points/s could be against the kernel's were it computing at the
   kernel's speed.
3. --pair (alone): the kernel over --points points in one process, then
   in two processes at once, then in one again: the points/s and the CPU
   time a point that two workers computing side by side get from the
   machine, against one. --pair --writes: each process also writes its
   chunks into a store of its own in the computing thread, as a local
   cluster's worker does (the ceiling of 2 workers / 1 worker with the
   write path included).

Prints seconds, microseconds per point and shares, and the ratios.
No assertion: a measurement.
"""
import argparse
import contextlib
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

CLOCK = time.perf_counter  # --clock cpu: time.process_time
from collections import defaultdict

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

from coordsweep import kernels  # noqa: E402
from coordsweep.engine.spec import blocks  # noqa: E402
from coordsweep.engine.store import chunkio
from coordsweep.engine.store import lease
from coordsweep.engine.analysis import results
from coordsweep.engine.analysis.flags import COMPUTED_STATUS_NAMES
from coordsweep.engine.run import executors
from coordsweep.engine.store import zarrstore as zstore  # noqa: E402
from coordsweep.engine.spec.layout import Layout  # noqa: E402
from coordsweep.engine.spec.model import load_spec  # noqa: E402
from coordsweep.kernels.outputs import OUTPUTS  # noqa: E402


def encode_seconds(group, outputs, layout, cid, nsec):
    """Seconds the store's codecs take to encode one chunk of every output
    (engine/store/chunkio.py, the same encoding write_chunk does)."""
    region = layout.region(cid)
    rshape = layout.region_shape(cid)
    t = CLOCK()
    for o in OUTPUTS:
        if o.per == "point":
            chunkio.encode_chunk(group[o.name], outputs[o.name].reshape(rshape), region)
        else:
            chunkio.encode_chunk(group[o.name], outputs[o.name].reshape(rshape + (nsec,)),
                                 region + (slice(None),))
    return CLOCK() - t


def breakdown(spec, npts, layout, solver=None):
    """({step: seconds}, kernel-only seconds, points, chunks, store bytes)
    over the chunks of `layout` covering the first npts points. The
    kernel-only baseline runs on each chunk's prebuilt block right before
    that chunk goes through the write path, so both see the same machine."""
    t = defaultdict(float)
    chunks = [c for c in range(layout.nchunks) if layout.flat_range(c)[0] < npts]
    kernels.solve(**spec.block(0, 2), solver=solver)  # compile / cache load
    kernel_only = fresh_block = 0.0
    extra = {}
    with tempfile.TemporaryDirectory() as d:
        store = os.path.join(d, "b.zarr")
        with lease.Lease(store) as held:
            zstore.create(store, spec, layout, run_id=held.run_id)
            token = zstore.run_token(held.run_id)
            nsec = spec.n_sectors
            for cid in chunks:
                start, stop = layout.flat_range(cid)
                tk = CLOCK()
                block = spec.block(start, stop)  # (fresh arrays, for comparison)
                fresh_block += CLOCK() - tk
                tk = CLOCK()
                kernels.solve(**block, solver=solver)
                kernel_only += CLOCK() - tk
                del block
                s0 = CLOCK()
                executors.chunk_is_done(store, cid, held.run_id, token)
                s1 = CLOCK()
                block = blocks.build(spec, start, stop)  # as the run's tasks do
                s2 = CLOCK()
                out = kernels.solve(**block, solver=solver)
                s3 = CLOCK()
                zstore.write_chunk(store, layout, cid, out, nsec, held.run_id, token)
                s4 = CLOCK()
                # the parts of write_chunk, each done again on its own
                group = zstore._writable(store, held.run_id)
                enc = encode_seconds(group, out, layout, cid, nsec)
                s5 = CLOCK()
                lease.check(store, held.run_id)
                lease.check(store, held.run_id)
                s6 = CLOCK()
                chunkio.write_chunks(group, [("chunk_done", (slice(cid, cid + 1),),
                                              np.array([token], dtype=np.int64))])
                s7 = CLOCK()
                results.chunk_counts(out["regime"], out["n_equilibria"], out["status"])
                s8 = CLOCK()
                t["done check"] += s1 - s0
                t["block building"] += s2 - s1
                t["kernel"] += s3 - s2
                t["compression"] += enc
                t["zarr writes (w/o compression)"] += (s4 - s3) - enc - (s7 - s5)
                t["lease checks"] += s6 - s5
                t["done-marker"] += s7 - s6
                t["summary counts (writer thread)"] += s8 - s7
            npts_done = layout.flat_range(chunks[-1])[1]
            s = CLOCK()
            _summary_over(store, layout, chunks)
            extra["summary re-read (not in a run)"] = CLOCK() - s
            extra["Spec.block (fresh arrays; not in a run)"] = fresh_block
            size = sum(os.path.getsize(os.path.join(r, f))
                       for r, _, fs in os.walk(store) for f in fs)
    return t, kernel_only, npts_done, len(chunks), size, extra


def thread_cpu():
    """{thread name: CPU seconds} of this process's live threads (Linux
    /proc; zarr's I/O pool threads grouped as "zarr/asyncio I/O")."""
    import threading
    tick = os.sysconf("SC_CLK_TCK")
    names = {t.native_id: t.name for t in threading.enumerate()}
    out = defaultdict(float)
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = names.get(int(tid), "other")
        if name.startswith(("asyncio", "zarr_io")):
            name = "zarr/asyncio I/O"
        elif name.startswith("coordsweep-writer"):
            name = "writer thread"
        elif name == "MainThread":
            name = "computing thread"
        out[name] += (int(fields[11]) + int(fields[12])) / tick
    return out


def pipeline(spec, npts, layout, solver=None):
    """(wall, CPU seconds of the run's own path, kernel-only wall, CPU, points):
    the chunks covering the first npts points through executors.compute_chunk
    with the writer thread (engine/run/writer.py), as `coordsweep run
    --scheduler synchronous` runs them, into a fresh store; the kernel alone
    over the same chunks (blocks prebuilt) right before."""
    from coordsweep.engine.run import writer as zwriter
    chunks = [c for c in range(layout.nchunks) if layout.flat_range(c)[0] < npts]
    kernels.solve(**spec.block(0, 2), solver=solver)
    kwall = kcpu = 0.0
    for cid in chunks:
        block = spec.block(*layout.flat_range(cid))
        t, c = time.perf_counter(), time.process_time()
        kernels.solve(**block, solver=solver)
        kwall += time.perf_counter() - t
        kcpu += time.process_time() - c
    with tempfile.TemporaryDirectory() as d:
        store = os.path.join(d, "p.zarr")
        with lease.Lease(store) as held:
            zstore.create(store, spec, layout, run_id=held.run_id)
            token = zstore.run_token(held.run_id)
            counted = {}
            t, c = time.perf_counter(), time.process_time()
            threads0 = thread_cpu()
            with zwriter.ChunkWriter(
                    lambda cid, out: executors.write_chunk(spec, store, layout, cid, out,
                                                        held.run_id, token),
                    on_written=lambda cid, out: counted.__setitem__(cid, results.chunk_counts(
                        out["regime"], out["n_equilibria"], out["status"]))) as w:
                for cid in chunks:
                    executors.compute_chunk(spec, store, layout, cid, held.run_id, token,
                                         solver, w)
                threads1 = thread_cpu()  # (before the writer thread ends)
            blocks.release()
            wall, cpu = time.perf_counter() - t, time.process_time() - c
    threads = {k: v - threads0.get(k, 0.0) for k, v in threads1.items()}
    return wall, cpu, kwall, kcpu, layout.flat_range(chunks[-1])[1], threads


def codec_table(spec, layout, npts, solver=None):
    """Compression ratio and encoding time (numcodecs, one thread, best of
    3) of candidate codecs on the outputs of the first npts points."""
    import numcodecs
    from numcodecs import LZ4, Blosc, Zstd
    numcodecs.blosc.use_threads = False
    outs = [kernels.solve(**spec.block(*layout.flat_range(c)), solver=solver)
            for c in range(layout.nchunks) if layout.flat_range(c)[0] < npts]
    n = sum(len(o["status"]) for o in outs)
    raw = sum(v.nbytes for o in outs for v in o.values())
    print(f"codecs on {n:,} solved points ({raw / n:.0f} bytes/point raw):")
    for name, make in [
            ("zstd level 3 (zarr's default)", lambda v: Zstd(level=0)),
            ("zstd level 1", lambda v: Zstd(level=1)),
            ("zstd level -1", lambda v: Zstd(level=-1)),
            ("lz4 (numcodecs only)", lambda v: LZ4()),
            ("blosc lz4 + shuffle (the store's)", lambda v: Blosc("lz4", 5, Blosc.SHUFFLE)),
            ("blosc zstd 1 + shuffle", lambda v: Blosc("zstd", 1, Blosc.SHUFFLE))]:
        best = float("inf")
        for _ in range(3):
            size = 0
            t = time.perf_counter()
            for o in outs:
                for v in o.values():
                    size += len(make(v).encode(np.ascontiguousarray(v)))
            best = min(best, time.perf_counter() - t)
        print(f"  {name:36s} ratio {raw / size:5.2f}  {1e6 * best / n:6.3f} us/point")


def _summary_over(store, layout, chunks):
    """results.summary's reading, over the chunks written (the benchmark
    may write only the first ones)."""
    if len(chunks) == layout.nchunks:
        return results.summary(store, layout)
    group = zstore.open_group(store)
    for cid in chunks:
        region = layout.region(cid)
        results.regime_counts(group["regime"][region + (slice(None),)])
        np.asarray(group["n_equilibria"][region])
        results.status_counts(group["status"][region], COMPUTED_STATUS_NAMES)
    return None


#: `coordsweep` in a wrapper that prints, at exit, the CPU seconds of the
#: run's own process (client, scheduler, nannies, or the synchronous
#: run's threads) and of its children (the worker processes)
_CPU_WRAPPER = """import atexit, resource, sys
def _cpu():
    s, c = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    sys.stderr.write(f"E2E-CPU {s.ru_utime + s.ru_stime} {c.ru_utime + c.ru_stime}\\n")
atexit.register(_cpu)
from coordsweep.engine.cli import main
raise SystemExit(main())
"""


def run_cli(spec_path, *extra, command=None):
    with tempfile.TemporaryDirectory() as d:
        exe = command or [sys.executable, "-c", _CPU_WRAPPER]
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        proc = subprocess.run([*exe, "run", spec_path, "--store", os.path.join(d, "g.zarr"),
                               "--quiet", *extra], capture_output=True, text=True)
        wall = time.perf_counter() - t
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    if proc.returncode != 0:
        sys.exit(proc.stderr)
    m = re.search(r"wall time\s+([\d.]+) s \(([\d.]+) s computing", proc.stdout)
    run_wall, compute = float(m.group(1)), float(m.group(2))
    m = re.search(r"points/s\s+([\d,]+) overall, ([\d,]+) while computing", proc.stdout)
    overall, computing = (float(g.replace(",", "")) for g in m.groups())
    m = re.search(r"E2E-CPU ([\d.]+) ([\d.]+)", proc.stderr)
    split = (float(m.group(1)), float(m.group(2))) if m else None
    return wall, run_wall, compute, overall, computing, cpu, split


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("spec", nargs="?", default=os.path.join(HERE, "grid_3sectors.toml"))
    ap.add_argument("--points", type=int, default=300_000,
                    help="points for the in-process breakdown (default 300,000)")
    ap.add_argument("--chunk-points", type=int, default=None)
    ap.add_argument("--solver", default=None)
    ap.add_argument("--no-run", action="store_true", help="skip the end-to-end runs")
    ap.add_argument("--codecs", action="store_true",
                    help="only compare compressors (ratio, encoding time) on --points points")
    ap.add_argument("--repeats", type=int, default=1,
                    help="end-to-end runs (each with its kernel-only baseline)")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="time the in-process steps by wall clock or by this process's "
                         "CPU time (steadier on a shared machine)")
    ap.add_argument("--other", default=None,
                    help="also time this command in place of `coordsweep` (e.g. another "
                         "checkout: 'python /path/run_main.py'), synchronous scheduler")
    ap.add_argument("--workers", default="",
                    help="also run the local cluster with these worker counts, e.g. 1,2")
    ap.add_argument("--pair", action="store_true",
                    help="only the kernel over --points points in one process alone, then "
                         "in two processes at once (alone, pair, alone): what two workers "
                         "computing side by side get from this machine's two cores")
    ap.add_argument("--writes", action="store_true",
                    help="with --pair: each process also writes its chunks into a store "
                         "of its own, in the computing thread, as a worker's task does "
                         "(executors.compute_chunk without the writer thread)")
    ap.add_argument("--kernel-alone", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    global CLOCK
    if args.clock == "cpu":
        CLOCK = time.process_time
    spec = load_spec(args.spec)
    layout = Layout.for_grid(spec.shape, args.chunk_points)
    npts = min(args.points, spec.size)
    if args.codecs:
        return codec_table(spec, layout, npts, args.solver)
    if args.kernel_alone:  # (one process of --pair)
        return kernel_alone(spec, layout, npts, args.solver, args.writes)
    if args.pair:
        return kernel_pair(args)
    t, kernel_only, npts, nchunks, size, extra = breakdown(spec, npts, layout, args.solver)
    total = sum(t.values())
    print(f"grid {args.spec}: {spec.size:,} points, chunk shape {layout.chunks} "
          f"({layout.flat_range(0)[1]:,} points/chunk); breakdown over the first "
          f"{npts:,} points ({nchunks} chunks), store {size / npts:.0f} bytes/point, "
          f"{args.clock} clock")
    print(f"  {'step':32s}{'seconds':>9s}{'us/point':>10s}{'share':>8s}")
    for k, v in t.items():
        print(f"  {k:32s}{v:9.3f}{1e6 * v / npts:10.2f}{100 * v / total:7.1f}%")
    print(f"  {'total (one thread, in order)':32s}{total:9.3f}{1e6 * total / npts:10.2f}")
    main = t["done check"] + t["lease checks"] / 2
    print(f"  {'  of it on the computing thread':32s}{main:9.3f}{1e6 * main / npts:10.2f}"
          "   (done check, one lease check; the synchronous run builds the blocks"
          " one ahead in a thread, the rest is the writer thread's)")
    for k, v in extra.items():
        print(f"  {k:40s}{v:9.3f}{1e6 * v / npts:10.2f}")
    rk = npts / kernel_only
    print(f"  kernel only (baseline)          {kernel_only:9.3f}{1e6 * kernel_only / npts:10.2f}"
          f"   {rk:,.0f} points/s")
    print(f"  write path in order / kernel only: {kernel_only / total:.2f}")
    wall, cpu, kwall, kcpu, n, threads = pipeline(spec, npts, layout, args.solver)
    print(f"  pipeline (compute_chunk + writer thread, in process) over {n:,} points: "
          f"{1e6 * wall / n:.2f} us/point wall, {1e6 * cpu / n:.2f} CPU; kernel only "
          f"{1e6 * kwall / n:.2f} wall, {1e6 * kcpu / n:.2f} CPU: pipeline / kernel "
          f"{kwall / wall:.2f} (wall), {kcpu / cpu:.2f} (CPU); engine "
          f"{1e6 * (wall - kwall) / n:+.2f} us/point wall, {1e6 * (cpu - kcpu) / n:+.2f} CPU")
    print("    CPU by thread (us/point, /proc): " + ", ".join(
        f"{k} {1e6 * v / n:.2f}" for k, v in sorted(threads.items(), key=lambda kv: -kv[1])
        if v > 0))
    if args.no_run:
        return
    runs = [("synchronous", ["--scheduler", "synchronous"])]
    if args.other:
        runs.append(("synchronous, --other", ["--scheduler", "synchronous"]))
    for w in filter(None, args.workers.split(",")):
        runs.append((f"local, {w} worker(s)", ["--scheduler", "local", "--workers", w]))
    extra = ["--chunk-points", str(args.chunk_points)] if args.chunk_points else []
    ratios = defaultdict(list)
    for rep in range(args.repeats):
        # the baseline over the same points as the run, right before it
        full = Layout.for_grid(spec.shape, args.chunk_points)
        kwall, kcpu, _ = kernel_seconds(spec, full, args.solver)
        rk = spec.size / kwall
        print(f"  [{rep + 1}/{args.repeats}] kernel only, whole grid ({spec.size:,} points, "
              f"blocks prebuilt chunk by chunk): {rk:,.0f} points/s, {kcpu:.1f} s CPU")
        for label, flags in runs:
            command = args.other.split() if label.endswith("--other") else None
            wall, run_wall, compute, overall, computing, cpu, split = run_cli(
                args.spec, *flags, *extra, command=command)
            ratios[label, "cpu"].append(kcpu / cpu)
            ratios[label, "overall"].append(overall / rk)
            ratios[label, "computing"].append(computing / rk)
            ratios[label, "abs"].append(computing)
            ratios[label, "wall"].append(wall)
            # the run's start-up and end (its wall time outside the computing),
            # from its points/s; were it computing at the kernel's speed, its
            # overall points/s would be at most `ceiling` x the kernel's
            outside = spec.size / overall - spec.size / computing
            ceiling = 1.0 / (1.0 + outside * rk / spec.size)
            ratios[label, "ceiling"].append(ceiling)
            print(f"    coordsweep run {label}: process wall {wall:.1f} s, run wall "
                  f"{run_wall:.1f} s, computing {compute:.1f} s; {overall:,.0f} points/s "
                  f"overall ({overall / rk:.2f}x kernel), {computing:,.0f} while computing "
                  f"({computing / rk:.2f}x kernel); start-up and end {outside:.2f} s "
                  f"(computing at the kernel's speed: at most {ceiling:.2f}x overall); "
                  f"CPU {cpu:.1f} s, all processes (kernel CPU / run CPU {kcpu / cpu:.2f})"
                  + (f"; run process {split[0]:.1f} s, workers {split[1]:.1f} s"
                     if split and split[1] > 0.05 else ""))
    for label, _ in runs:
        print(f"  median over {args.repeats}: {label}: end to end / kernel "
              f"{statistics.median(ratios[label, 'overall']):.2f} overall, "
              f"{statistics.median(ratios[label, 'computing']):.2f} while computing "
              f"(at most {statistics.median(ratios[label, 'ceiling']):.2f} overall at the "
              f"kernel's speed); process "
              f"wall {statistics.median(ratios[label, 'wall']):.1f} s; kernel CPU / run CPU "
              f"{statistics.median(ratios[label, 'cpu']):.2f}")
    ws = [label for label, _ in runs if label.startswith("local")]
    if len(ws) >= 2:
        print(f"  local cluster {ws[-1]} / {ws[0]} (points/s while computing, median): "
              f"{statistics.median(ratios[ws[-1], 'abs']) / statistics.median(ratios[ws[0], 'abs']):.2f}x")


def kernel_alone(spec, layout, npts, solver, writes):
    """One process of --pair: :func:`kernel_seconds` over the chunks of the
    first npts points; with `writes`, into a fresh store of this process.
    Prints KERNEL points wall CPU."""
    with contextlib.ExitStack() as stack:
        store = None
        if writes:
            d = stack.enter_context(tempfile.TemporaryDirectory())
            path = os.path.join(d, "pair.zarr")
            held = stack.enter_context(lease.Lease(path))
            zstore.create(path, spec, layout, run_id=held.run_id)
            store = (path, held.run_id, zstore.run_token(held.run_id))
        wall, cpu, stop = kernel_seconds(spec, layout, solver, npts, store)
    print(f"KERNEL {stop} {wall} {cpu}")


def kernel_pair(args):
    """--pair: the kernel alone in one process, then in two at once, then
    alone again; points/s and CPU microseconds a point of each process
    (--writes: each chunk also written, as a worker's task does)."""
    cmd = [sys.executable, os.path.abspath(__file__), args.spec, "--kernel-alone",
           "--points", str(args.points)] + (["--writes"] if args.writes else [])
    if args.chunk_points:
        cmd += ["--chunk-points", str(args.chunk_points)]
    if args.solver:
        cmd += ["--solver", args.solver]

    def run(k):
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(k)]
        rows = []
        for p in procs:
            out = p.communicate()[0]
            n, wall, cpu = re.search(r"KERNEL (\d+) ([\d.e-]+) ([\d.e-]+)", out).groups()
            rows.append((int(n), float(wall), float(cpu)))
        return rows

    what = "kernel and writes" if args.writes else "kernel"
    alone, both = [], []
    for label, k in (("alone", 1), ("two at once", 2), ("alone", 1)):
        rows = run(k)
        (alone if k == 1 else both).extend(rows)
        print(f"  {what}, {label}: " + "; ".join(
            f"{n / wall:,.0f} points/s, {1e6 * cpu / n:.3f} us CPU a point"
            for n, wall, cpu in rows))
    r1 = statistics.mean(n / w for n, w, _ in alone)
    r2 = sum(n / w for n, w, _ in both)
    c1 = statistics.mean(c / n for n, _, c in alone)
    c2 = statistics.mean(c / n for n, _, c in both)
    print(f"  {what}, two at once / alone: {r2 / r1:.2f}x the points/s; CPU a point "
          f"{c2 / c1:.2f}x (a ceiling for local cluster 2 workers / 1 worker)")


def kernel_seconds(spec, layout, solver=None, npts=None, store=None):
    """(wall, CPU seconds, points) of the kernel alone over the chunks of
    `layout` covering the first npts points (None: all), each block built
    just before, untimed; with a store (path, run id, token), each chunk
    through executors.compute_chunk into it instead (block, kernel, write,
    done-marker, summary counts: a worker's task)."""
    kernels.solve(**spec.block(0, 1), solver=solver)
    total = cpu = 0.0
    stop = 0
    for cid in range(layout.nchunks):
        start, stop = layout.flat_range(cid)
        if npts is not None and start >= npts:
            stop = start
            break
        block = None if store else spec.block(start, stop)
        t, c = time.perf_counter(), time.process_time()
        if store:
            executors.compute_chunk(spec, store[0], layout, cid, store[1], store[2], solver)
        else:
            kernels.solve(**block, solver=solver)
        total += time.perf_counter() - t
        cpu += time.process_time() - c
    return total, cpu, stop


if __name__ == "__main__":
    main()
