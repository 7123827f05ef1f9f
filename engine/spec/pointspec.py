"""One grid point by name: its coordinates, a description for messages,
and a spec of that point alone (TOML, written by tomli-w)."""
import numpy as np

from coordsweep.kernels.params import SECTOR_PARAMS


def grid_coords(spec, flat_index):
    """{axis name: value} of the grid point with this flat index (with
    a design: ``sample`` = its index, then the design's values)."""
    if not spec.shape:
        return {}
    idx = np.unravel_index(int(flat_index), spec.shape)
    out = {a.name: float(a.take(np.array([i]))[0]) for a, i in zip(spec.axes, idx)}
    if spec.design is not None:
        s = int(idx[-1])
        out["sample"] = s
        out.update(zip(spec.design.names, map(float, spec.design.rows(s, s + 1)[0])))
    return out


def describe_point(spec, flat_index):
    """'externality_scale=-1.0, cost_scale=0.5' for a flat index."""
    coords = grid_coords(spec, flat_index)
    if not coords:
        return "the base point (no axes)"
    return ", ".join(f"{k}={v!r}" for k, v in coords.items())


def _flat_index(spec, index):
    index = tuple(int(i) for i in np.atleast_1d(np.asarray(index, dtype=np.int64)))
    if not spec.shape:
        if index not in ((), (0,)):
            raise IndexError(f"grid index {index} for a spec without axes")
        return index, 0
    if len(index) != len(spec.shape):
        raise IndexError(f"grid index {index} has {len(index)} entries, "
                         f"the grid has {len(spec.shape)} dimensions")
    for i, n in zip(index, spec.shape):
        if not 0 <= i < n:
            raise IndexError(f"grid index {index} outside shape {spec.shape}")
    return index, int(np.ravel_multi_index(index, spec.shape))


def point_spec_text(spec, index):
    """TOML text of a spec with no axes whose base point is the grid point
    with multi-index ``index`` (one integer per axis)."""
    import tomli_w
    index, flat = _flat_index(spec, index)
    params = spec.block(flat, flat + 1)
    sectors = [{"name": sname, **{p: float(params[p][0, j]) for p in SECTOR_PARAMS},
                "ca_weight": float(spec.ca_weight[j])}
               for j, sname in enumerate(spec.sector_names)]
    doc = {"name": spec.name if spec.name is not None else "point",
           "model": {"labor": float(params["labor"][0]),
                     "labor_share": float(params["labor_share"][0]),
                     "sectors": sectors}}
    return f"# grid point {index} ({describe_point(spec, flat)})\n" + tomli_w.dumps(doc)
