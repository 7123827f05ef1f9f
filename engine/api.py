"""Small entry points of the Python API that are not a sweep run."""
from coordsweep.engine.errors import StoreError
from coordsweep.engine.spec import Spec, load_spec


def solve(spec):
    """Every per-point output of MODEL.md at the spec's base point (axes
    ignored): ``{name: value}``, per-sector outputs as arrays of length N.

    ``spec`` is a :class:`Spec` or the path of a spec file."""
    from coordsweep import kernels
    if not isinstance(spec, Spec):
        spec = load_spec(spec)
    out = kernels.solve(**spec.base_point())
    return {name: v[0] for name, v in out.items()}


def open_store(store):
    """Open a coordsweep results store as an xarray Dataset (lazily, dask-backed)."""
    from coordsweep.engine import store as zstore
    path = zstore.normalize(store)
    if not zstore.exists(path):
        raise StoreError(f"{path}: no such store")
    zstore.read_attrs(path)
    return zstore.open_dataset(path)
