"""A design's points in the store: coordinates along ``sample``, one per
design parameter (named as it), declared in the template and written
block by block by the driver before any task runs."""
import numpy as np

from coordsweep.engine.spec.designs import DIM
from coordsweep.engine.store.arrays import Lazy
from coordsweep.engine.store.arrays import quiet as _quiet

#: rows a driver-side block holds while writing the design into a store
WRITE_BLOCK = 262_144


def template_coords(spec, layout, long_name):
    """The design's coordinates for the store template: arrays without data
    yet (Lazy) along ``sample``, chunked as the layout chunks ``sample``;
    their data is written by :func:`write_coords`."""
    design = spec.design
    chunk = layout.chunks[-1]
    coords = {}
    for p in design.params:
        attrs = {"long_name": long_name(p), "design_low": p.low, "design_high": p.high,
                 "spacing": p.spacing}
        coords[p.name] = (DIM, Lazy((design.size,), np.float64, (chunk,)), attrs)
    return coords


def write_coords(store, spec, layout):
    """Write the design's points into the store's coordinates (block by
    block: bounded memory for sobol/random), unless already written."""
    import zarr
    design = spec.design
    with _quiet():
        group = zarr.open_group(str(store), mode="r+")
        if group.attrs.get("design_written", False):
            return
        chunk = layout.chunks[-1]
        block = max(chunk, (WRITE_BLOCK // chunk) * chunk)
        arrays = [group[name] for name in design.names]
        for start in range(0, design.size, block):
            stop = min(design.size, start + block)
            rows = design.rows(start, stop)
            for k, arr in enumerate(arrays):
                arr[start:stop] = rows[:, k]
        group.attrs["design_written"] = 1  # an int: no boolean attributes
        zarr.consolidate_metadata(str(store))
