"""Where the time of a block goes, pass by pass, with and without the
scale externality: µs a point of each pass of kernels/api.py ``_run``
(default solver) on bench_eta.py's points.

    python benchmarks/eta_passes.py [--points 20000] [--repeats 7]

The passes (by the sub-blocks ``_run`` uses): ``prepare`` (kernels/
prepare.py without the eta > 0 table), ``table`` (kernels/etatable.py's
profile table and kernels/etapoint.py's values for the points with some
eta_i > 0), ``samples`` (kernels/etapath.py sample_eta_paths), ``block``
(the block kernel), ``lockstep`` (kernels/lockstep.py finish_block and
kernels/point.py finish_sampled: eta = 0 roots), ``eta roots``
(kernels/etapath.py finish_eta_paths). Each figure is the least of
--repeats passes over the whole block, in process CPU time (the machine
is shared and noisy).
"""
import argparse
import time

import numpy as np

from bench_eta import draw, grid_points
from coordsweep import kernels
from coordsweep.kernels import api
from coordsweep.kernels.etapath import finish_eta_paths, sample_eta_paths
from coordsweep.kernels.etatable import finish_eta_table
from coordsweep.kernels.lockstep import finish_block
from coordsweep.kernels.params import Inputs
from coordsweep.kernels.outputs import Outputs
from coordsweep.kernels.point import finish_sampled, prepared_head
from coordsweep.kernels.prepare import prepare_block
from coordsweep.kernels.table import TABLE_ENTRIES, table_size

PASSES = ("prepare", "table", "samples", "block", "lockstep", "eta roots")


def passes(block, repeats):
    """{pass: least µs a point over repeats} for one block."""
    x = api.make_inputs(block)
    npts, nsec = x.price.shape
    res = api._allocate(npts, nsec)
    kernel, codes = api._block_kernel(None)
    step = max(1, min(api.QUEUE_ENTRIES // nsec,
                      TABLE_ENTRIES // max(1, table_size(nsec))))
    step = min(step, npts)
    scr, prep = api._buffers(nsec, step, codes)
    best = {k: np.inf for k in PASSES}
    for _ in range(repeats):
        spent = dict.fromkeys(PASSES, 0.0)
        for start in range(0, npts, step):
            stop = min(start + step, npts)
            xs = Inputs(*(a[start:stop] for a in x))
            rs = Outputs(*(a[start:stop] for a in res))
            ps = prepared_head(prep, stop - start)
            t = [time.process_time()]
            prepare_block(xs, ps, None)
            t.append(time.process_time())
            finish_eta_table(ps, codes[0])
            t.append(time.process_time())
            sample_eta_paths(ps, scr)
            t.append(time.process_time())
            scr.qlen[0] = scr.glen[0] = scr.slen[0] = 0
            kernel(xs, scr, rs, ps)
            t.append(time.process_time())
            finish_block(scr, rs)
            finish_sampled(scr, rs, ps)
            t.append(time.process_time())
            finish_eta_paths(scr, rs, ps)
            t.append(time.process_time())
            for k, name in enumerate(PASSES):
                spent[name] += t[k + 1] - t[k]
        for name in PASSES:
            best[name] = min(best[name], spent[name] / npts * 1e6)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=20_000)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    print(f"{'points':>8} {'eta':>5} " + " ".join(f"{p:>9}" for p in PASSES) + f" {'sum':>7}"
          f"   (µs a point, least of {args.repeats})")
    for kind in ("grid", "random"):
        for eta in (False, True):
            block = (grid_points(args.points, eta) if kind == "grid"
                     else draw(np.random.default_rng(1), args.points, 3, eta))
            kernels.solve(**{k: v[:2] for k, v in block.items()})
            best = passes(block, args.repeats)
            print(f"{kind:>8} {'> 0' if eta else '= 0':>5} "
                  + " ".join(f"{best[p]:9.3f}" for p in PASSES) + f" {sum(best.values()):7.3f}")


if __name__ == "__main__":
    main()
