"""A store's parameter space: the spec it was written from, its parameters
(axes of more than one value, then a design's parameters along
``sample``), its variables, and whether it is complete. Shared by the
analyses that treat a store as a sample of its parameter space
(``discover``, given-data ``sensitivity``)."""
import numpy as np

from coordsweep.engine.analysis.geometry import is_geometric
from coordsweep.engine.errors import StoreError, UsageError


def store_spec(ds):
    """The Spec a store was written from."""
    from coordsweep.engine.spec.model import parse_spec
    text = ds.attrs.get("spec")
    if not text:
        raise StoreError("the store does not record its spec (attribute 'spec')")
    return parse_spec(text, source="the store's spec")


def parameters(ds, spec):
    """[(name, dim, values (1-D, along dim), log spacing?)] of the store's
    parameters: axes of more than one value, then the design's."""
    out = []
    for axis in spec.axes:
        if axis.size > 1:
            vals = np.asarray(ds[axis.name].values, dtype=np.float64)
            log = axis.spacing == "log" or is_geometric(vals, ds[axis.name].attrs)
            out.append((axis.name, axis.name, vals, bool(log)))
    if spec.design is not None:
        for p in spec.design.params:
            out.append((p.name, "sample", np.asarray(ds[p.name].values, dtype=np.float64),
                        p.spacing == "log"))
    if not out:
        raise UsageError("the store has no axis of more than one value and no design: "
                         "there is no parameter space to analyse")
    return out


def check_complete(ds):
    if "chunk_done" in ds:
        done = np.asarray(ds["chunk_done"].values) == ds.attrs.get("run_token", 1)
        if not done.all():
            raise StoreError(f"the store is incomplete ({int(done.sum())}/{done.size} chunks "
                             "done): finish it with coordsweep run --resume")


def store_vars(ds):
    """The names of the store's data variables (its outputs, bookkeeping)."""
    return set(ds.data_vars)


def equilibria(ds):
    """The length of the store's equilibrium list (0: none)."""
    from coordsweep.kernels.outputs import EQUILIBRIUM_DIM
    return int(ds.sizes.get(EQUILIBRIUM_DIM, 0))


def sample_points(dims, shape, params, max_points, seed):
    """(flat indices or None for all, x (n, d)): the points analysed, a
    uniform random sample of max_points when the store has more."""
    total = int(np.prod(shape)) if shape else 1
    flat = None
    if total > max_points:
        rng = np.random.default_rng(seed)
        flat = np.sort(rng.choice(total, size=max_points, replace=False))
    idx = np.unravel_index(np.arange(total) if flat is None else flat, shape)
    n = total if flat is None else flat.size
    x = np.empty((n, len(params)), dtype=np.float64)
    for k, (_, dim, vals, _) in enumerate(params):
        x[:, k] = vals[idx[list(dims).index(dim)]]
    return flat, x


def check_refined(ds, var, sector):
    """A refined store holds `var` at every point only when it is refined
    (CONTRACT.md "Adaptive refinement"); UsageError otherwise."""
    table = ds.attrs.get("refine")
    if not table or "computed" not in ds.data_vars or bool(np.asarray(ds["computed"]).all()):
        return
    sectors = table.get("sectors")
    if var in table.get("on", []) and (sector is None or not sectors or sector in sectors):
        return
    raise UsageError(f"--var {var}{f' --sector {sector}' if sector else ''}: a refined store "
                     f"holds it at solved points only ({100 * float(ds['computed'].mean()):.1f}%"
                     f"); refined outputs: {', '.join(table.get('on', []))}")
