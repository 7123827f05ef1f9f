"""The Python API (``import coordsweep``): specs from files, TOML text or
dicts; runs that create, resume or open a store (so a re-run notebook cell
works) or stay in memory; one point; plots onto a matplotlib Axes; export.

>>> import coordsweep
>>> spec = coordsweep.load_spec({"model": {...}, "axes": {...}})   # or a path, or TOML text
>>> ds = coordsweep.run(spec)                          # small grid: in memory
>>> ds = coordsweep.run(spec, store="results/x.zarr")  # create, resume or open
>>> coordsweep.solve(spec, labor_share=0.7)["regime"]
>>> fig = coordsweep.plot(ds, x="cost_scale", var="regime", sector="agro")
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from coordsweep.engine.errors import SpecError, StoreError, UsageError
from coordsweep.engine.spec.model import Spec, parse_spec
from coordsweep.engine.spec.model import load_spec as _load_spec_file

if TYPE_CHECKING:  # pragma: no cover
    import pathlib

    import matplotlib.figure
    import xarray

#: the largest grid ``run(spec)`` keeps in memory (about 0.4 kB a point)
MEMORY_MAX_POINTS = 500_000
#: points solved at once by an in-memory run
MEMORY_BLOCK_POINTS = 20_000
RUN_MODES = ("auto", "create", "resume", "overwrite", "open")


def load_spec(source: Spec | Mapping[str, Any] | str | os.PathLike[str]) -> Spec:
    """A validated sweep spec from a file, TOML text or a dict.

    Parameters
    ----------
    source : Spec, dict, str or path-like
        A :class:`Spec` (returned as it is); a dict shaped like the TOML of
        CONTRACT.md (``{"model": {...}, "axes": {...}}``); a string holding
        TOML text (it contains a newline or ``=`` and is not an existing
        file); otherwise the path of a spec file.

    Returns
    -------
    Spec

    Raises
    ------
    SpecError
        The spec is invalid (the message names the key), or the file cannot
        be read.
    """
    if isinstance(source, Spec):
        return source
    if isinstance(source, Mapping):
        import tomli_w
        try:
            text = tomli_w.dumps(_plain(source))
        except (TypeError, ValueError) as exc:
            raise SpecError(f"<dict>: cannot be written as TOML ({exc})") from None
        return parse_spec(text, source="<dict>")
    if isinstance(source, str) and ("\n" in source or "=" in source) \
            and not os.path.exists(source):
        return parse_spec(source, source="<text>")
    if not isinstance(source, (str, os.PathLike)):
        raise SpecError(f"a spec is a path, TOML text, a dict or a Spec, "
                        f"got {type(source).__name__}")
    return _load_spec_file(source)


def _plain(value):
    """numpy scalars and arrays -> Python values, so tomli-w can write them."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in (value.tolist() if isinstance(value, np.ndarray) else value)]
    if isinstance(value, np.generic):
        return value.item()
    return value


def point_spec(spec: Spec | Mapping[str, Any] | str | os.PathLike[str],
               at: Mapping[str, float] | None = None) -> Spec:
    """The spec of one point: the base point with the values ``at`` applied
    as the spec's axes would apply them (in the order given), the spec's own
    axes ignored.

    Parameters
    ----------
    spec : Spec, dict, str or path-like
        Anything :func:`load_spec` takes.
    at : dict, optional
        ``{axis name: value}``: any axis name of CONTRACT.md
        (``externality_scale``, ``cost_scale``, ``ca_spread``, ``labor_share``,
        ``cost``, ``productivity.agro``...), not only the spec's axes.

    Returns
    -------
    Spec
        A spec without axes (``coordsweep solve`` solves its base point).
    """
    import tomli_w

    from coordsweep.engine.spec.model import tomllib
    spec = load_spec(spec)
    at = dict(at or {})
    if not at:
        return spec
    doc = tomllib.loads(spec.text)
    axes = {}
    for name, value in at.items():
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise UsageError(f"--at {name}={value!r}: not a number") from None
        axes[str(name)] = {"values": [value]}
    doc["axes"] = axes
    doc.pop("design", None)  # a design's points are not the base point either
    one = parse_spec(tomli_w.dumps(doc), source=spec.source)
    one.check_grid()
    point = parse_spec(one.point_spec_text((0,) * len(one.shape)), source=spec.source)
    point.outputs = dict(spec.outputs)  # (the point's text has no [outputs])
    return point


def solve(spec: Spec | Mapping[str, Any] | str | os.PathLike[str],
          at: Mapping[str, float] | None = None, **overrides: float) -> dict[str, Any]:
    """Every per-point output of MODEL.md at one point.

    Parameters
    ----------
    spec : Spec, dict, str or path-like
        Anything :func:`load_spec` takes; its axes are ignored.
    at : dict, optional
        Axis values to apply to the base point, e.g. ``{"cost.agro": 0.2}``
        (names that are not Python identifiers go here).
    **overrides : float
        More axis values, e.g. ``labor_share=0.7, externality_scale=1.5``.

    Returns
    -------
    dict
        ``{output name: value}``: scalars for per-point outputs, arrays of
        length N (sector order) for per-sector outputs, and the optional
        outputs the spec's ``[outputs]`` asks for (``eq_*``: arrays of
        length K, best first).

    Raises
    ------
    SpecError
        A value is outside MODEL.md's domains, or a name is unknown.
    """
    from coordsweep import kernels
    one = point_spec(spec, {**(at or {}), **overrides})
    out = kernels.solve(**one.base_point(), **one.outputs)
    return {name: v[0] for name, v in out.items()}


def open_store(store: str | os.PathLike[str]) -> xarray.Dataset:
    """Open a results store (or a netCDF file written by ``export``) lazily.

    Parameters
    ----------
    store : str or path-like
        A zarr store (path or URL) written by ``coordsweep run``, or an
        exported ``.nc`` file.

    Returns
    -------
    xarray.Dataset
        The outputs over the axes (and ``sector``, whose coordinate is the
        sector names).

    Raises
    ------
    StoreError
        Nothing is there, or it is not a coordsweep store.
    """
    from coordsweep.engine.analysis.export import open_results
    return open_results(store)


def run(spec: Spec | Mapping[str, Any] | str | os.PathLike[str],
        store: str | os.PathLike[str] | None = None, *, mode: str = "auto",
        scheduler: Any = None, workers: int | None = None,
        chunk_points: int | None = None, progress: bool = True,
        solver: str | Mapping[str, str] | None = None) -> xarray.Dataset:
    """Run a sweep and return its results.

    Parameters
    ----------
    spec : Spec, dict, str or path-like
        Anything :func:`load_spec` takes.
    store : str, path-like or None
        The zarr store to write (path or URL). ``None`` (default): compute
        the grid in this process and return it in memory, nothing written
        (grids up to :data:`MEMORY_MAX_POINTS` points; the spec's
        ``[run] store`` is used by the command line, not here).
    mode : {"auto", "create", "resume", "overwrite", "open"}
        What to do with ``store``. ``"auto"``: create it when it is not
        there, resume it when it holds an incomplete run of the same spec,
        open it when it holds the complete run of the same spec and solver
        variants (so running a notebook cell again computes nothing); a
        store of another spec, or a complete one of other variants, is an
        error (never recomputed silently: ``"overwrite"`` replaces it,
        ``"open"`` reads it); an incomplete one of other variants is
        refused as by ``"resume"``. ``"create"`` refuses an existing
        store; ``"resume"`` continues one; ``"overwrite"`` replaces one;
        ``"open"`` only opens.
    scheduler : str, distributed.Client or cluster, optional
        Where a store's chunks are computed: ``"local"`` (a
        ``dask.distributed`` LocalCluster), ``"threads"``,
        ``"synchronous"``, a scheduler address ``tcp://host:port``, a
        ``distributed.Client`` or a cluster object. Default: the active
        dask client (a ``Client(...)`` made earlier in this process) when
        there is one, else ``"local"``.
    workers : int, optional
        Worker processes (``local``) or threads (``threads``).
    chunk_points : int, optional
        Points per task and zarr chunk.
    progress : bool
        Show progress (a bar in Jupyter, a line every few seconds in logs).
    solver : str or dict, optional
        Solver variants (CONTRACT.md "Solver variants"), e.g.
        ``"wage=brent,equilibria=mitm"`` or ``{"wage": "brent"}``;
        overrides the spec's ``[run.solver]`` slot by slot (the slots it
        names; the spec's others stay); recorded in the attribute
        ``solver``.

    Returns
    -------
    xarray.Dataset
        Lazily opened from the store, or in memory when ``store`` is None.

    Raises
    ------
    SpecError, StoreError, UsageError
        Bad spec, store or arguments; nothing is written then.
    """
    # (over 80 lines: most of them the docstring, the reference of the API)
    from coordsweep.engine.store import zarrstore as zstore
    from coordsweep.engine.store.conventions import is_complete
    from coordsweep.engine.run.runner import run_sweep
    if mode not in RUN_MODES:
        raise UsageError(f"mode must be one of {', '.join(RUN_MODES)}, got {mode!r}")
    spec = load_spec(spec)
    if store is None:
        if mode not in ("auto", "create"):
            raise UsageError(f"mode={mode!r} needs a store")
        return run_in_memory(spec, progress=progress, solver=solver)
    if mode == "open":
        return open_store(store)
    path = zstore.normalize(store)
    resume = overwrite = False
    if mode == "auto" and zstore.exists(path):
        attrs = zstore.read_attrs(path)
        if attrs.get("spec") != spec.text:
            raise StoreError(f"{path}: holds a run of another spec "
                             f"({attrs.get('spec_source', '?')}); mode='overwrite' replaces it")
        if is_complete(attrs):
            from coordsweep.engine.run.runner import resolve_solver
            asked = resolve_solver(spec, solver)
            if attrs.get("solver", asked) != asked:  # (a store that records its variants)
                raise StoreError(f"{path}: holds results of solver {attrs.get('solver')}; "
                                 f"this run asks for {asked}: mode='overwrite' replaces "
                                 "them, mode='open' reads them")
            return zstore.open_dataset(path)
        resume = True
    elif mode == "resume":
        resume = True
    elif mode == "overwrite":
        overwrite = True
    return run_sweep(spec, path, scheduler=scheduler, workers=workers, resume=resume,
                     overwrite=overwrite, chunk_points=chunk_points,
                     progress=progress, solver=solver).dataset


def _refined_in_memory(spec, progress, solver):
    """A refined run ([run.refine]) in this process, through a temporary
    store (its levels are recorded as a store's are), loaded into memory."""
    import shutil
    import tempfile
    from coordsweep.engine.run.runner import run_sweep
    from coordsweep.engine.store import zarrstore as zstore
    where = tempfile.mkdtemp(prefix="coordsweep-refine-")
    try:
        store = os.path.join(where, "refined.zarr")
        run_sweep(spec, store, scheduler="synchronous", progress=progress, solver=solver)
        ds = zstore.open_dataset(store).load()
    finally:
        shutil.rmtree(where, ignore_errors=True)
    ds = ds.drop_vars(["chunk_done", "chunk"])
    for key in ("chunks_total", "chunks_done", "chunk_shape", "run_id", "run_token"):
        ds.attrs.pop(key, None)
    return ds


def run_in_memory(spec: Spec | Mapping[str, Any] | str | os.PathLike[str], *,
                  progress: bool = True,
                  solver: str | Mapping[str, str] | None = None) -> xarray.Dataset:
    """Solve every grid point in this process; the Dataset a store would
    hold (same variables, dtypes, coordinates and attributes), in memory.

    Raises
    ------
    UsageError
        The grid has more than :data:`MEMORY_MAX_POINTS` points.
    """
    from coordsweep import kernels
    from coordsweep.engine.store import conventions
    from coordsweep.engine.store import zarrstore as zstore
    from coordsweep.engine.spec.layout import Layout
    from coordsweep.engine.run.progress import Progress
    from coordsweep.engine.run.runner import resolve_solver
    spec = load_spec(spec)
    solver = resolve_solver(spec, solver)
    size = spec.size
    if size > MEMORY_MAX_POINTS:
        raise UsageError(f"{spec.source}: {size:,} points are too many to keep in memory "
                         f"(at most {MEMORY_MAX_POINTS:,}); pass store='results/....zarr'")
    spec.check_grid()
    from coordsweep.engine.spec import refine as zrefine
    if zrefine.of_spec(spec) is not None:
        return _refined_in_memory(spec, progress, solver)
    layout = Layout.for_grid(spec.shape, max(size, 1))
    ds = zstore.template(spec, layout)
    flat = {name: np.empty((size,) + ds[name].shape[len(spec.shape):], ds[name].dtype)
            for name in (o.name for o in spec.output_rows)}
    bar = Progress(size, enabled=progress)
    try:
        for start in range(0, size, MEMORY_BLOCK_POINTS):
            stop = min(size, start + MEMORY_BLOCK_POINTS)
            out = kernels.solve(**spec.block(start, stop), solver=solver, **spec.outputs)
            for name in flat:
                flat[name][start:stop] = out[name]
            bar.update(stop - start)
    finally:
        bar.close()
    shape = tuple(spec.shape)
    for name, a in flat.items():
        ds[name] = (ds[name].dims, a.reshape(shape + a.shape[1:]), ds[name].attrs)
    if spec.design is not None:  # the design's points, as a store holds them
        rows = spec.design.rows(0, spec.design.size)
        for k, name in enumerate(spec.design.names):
            ds = ds.assign_coords({name: (ds[name].dims, rows[:, k], ds[name].attrs)})
    ds = ds.drop_vars(["chunk_done", "chunk"])
    for key in ("chunks_total", "chunks_done", "chunk_shape", "run_id", "run_token"):
        ds.attrs.pop(key, None)
    from coordsweep.kernels import solvers
    ds.attrs.update(complete=1, completed=conventions.now_iso(), **solvers.record(solver))
    return conventions.decode_sectors(ds)


def plot(data: xarray.Dataset | str | os.PathLike[str], *, x: str, var: str,
         y: str | None = None, sector: str | None = None,
         select: Mapping[str, float] | None = None, ax: Any = None,
         out: str | os.PathLike[str] | None = None,
         width: int = 800, height: int = 600) -> matplotlib.figure.Figure:
    """Plot an output over one axis (a line) or two (a map).

    Parameters
    ----------
    data : xarray.Dataset, str or path-like
        Results (from :func:`run` or :func:`open_store`) or a store path.
    x, y : str
        Axes on the horizontal and (for a map) the vertical.
    var : str
        The output to plot (categorical outputs get a legend).
    sector : str, optional
        The sector, for per-sector outputs.
    select : dict, optional
        ``{axis: value}`` fixing the other axes (nearest value).
    ax : matplotlib.axes.Axes, optional
        Draw there; default: a new Figure of ``width`` x ``height`` pixels.
    out : str or path-like, optional
        Also write the figure to this PNG file.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on (Jupyter shows it when it ends a cell).
    """
    from coordsweep.engine.viz.plot import plot as _plot
    from coordsweep.engine.store.conventions import decode_sectors
    ds = decode_sectors(data) if not isinstance(data, (str, os.PathLike)) else open_store(data)
    res = _plot(ds, x=x, var=var, y=y, sector=sector, select=dict(select or {}),
                out=out, width=width, height=height, ax=ax)
    return res["figure"]


def export(store: str | os.PathLike[str], out: str | os.PathLike[str],
           format: str | None = None, *, incomplete: bool = False,
           overwrite: bool = False) -> pathlib.Path:
    """Export a store's computed points to netCDF-4 (CF), Parquet or CSV.

    Parameters
    ----------
    store : str or path-like
        The zarr results store.
    out : str or path-like
        The file to write.
    format : {"netcdf", "parquet", "csv"}, optional
        Default: from the suffix of ``out``, else netCDF.
    incomplete : bool
        Export a store whose run is not complete.
    overwrite : bool
        Replace ``out`` if it exists.

    Returns
    -------
    pathlib.Path
        The file written (see :func:`coordsweep.engine.analysis.export.export`).
    """
    from coordsweep.engine.analysis.export import export as _export
    return _export(store, out, format, incomplete=incomplete, overwrite=overwrite)
