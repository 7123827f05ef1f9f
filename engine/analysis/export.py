"""Export a results store: a CF netCDF-4 file, or the point table as
Parquet or CSV (``coordsweep export``, :func:`coordsweep.export`).

- netCDF-4 (default): every output over the same dimensions as the store,
  compressed (zlib), with the store's CF attributes (flags typed with the
  variable's dtype), ``sector`` an integer coordinate with the names in
  ``flag_meanings`` and as the label variable ``sector_name``. The
  completion record (``chunk_done``) stays behind. An incomplete store is
  refused unless ``incomplete=True`` (then points not computed carry the
  fill values and the ``not_computed`` status bit).
- Parquet / CSV: one row a point (C order over the dimensions): the
  coordinates, the scalar outputs, then one column ``<output>.<sector>`` per
  sector output and sector. Categorical outputs stay integer codes (their
  meanings: ``coordsweep inspect``, or the store's ``flag_meanings``).
  Only computed points (rows): a point not computed yet has no row.
- A refined store (``[run.refine]``): its filled points are exported too,
  marked by ``computed`` = False (a column, or a variable) and the status
  bit ``filled``; their refined outputs hold the value of their cell's
  corners, the others NaN / the fill value.

The file is written next to its destination under a temporary name and
renamed at the end: an interrupted export leaves nothing half-written, and
an existing file is replaced only with ``overwrite=True``.
"""
import json
import os
import uuid
from pathlib import Path

import numpy as np

from coordsweep.engine.store import conventions
from coordsweep.engine.errors import CoordsweepError, StoreError, UsageError

FORMATS = ("netcdf", "parquet", "csv")
SUFFIXES = {".nc": "netcdf", ".nc4": "netcdf", ".netcdf": "netcdf",
            ".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
#: bookkeeping of the store that is not a result
BOOKKEEPING = ("chunk_done",)
#: netCDF attribute naming the dataset attributes written as JSON text
#: (nested values: ``design_bounds``, ``refine``), decoded by open_netcdf
JSON_ATTRS = "coordsweep_json_attributes"


def guess_format(out):
    return SUFFIXES.get(Path(str(out)).suffix.lower(), "netcdf")


def _open(store):
    from coordsweep.engine.store import zarrstore as zstore
    path = zstore.existing(store)
    return path, zstore.read_attrs(path), zstore.open_dataset(path)


def results(ds):
    """The Dataset without its bookkeeping (completion record, chunk dim)."""
    ds = ds.drop_vars([v for v in BOOKKEEPING if v in ds.variables])
    if "chunk" in ds.coords:
        ds = ds.drop_vars("chunk")
    return ds


def typed_flags(ds):
    """flag_values / flag_masks / valid_min / valid_range as arrays of their variable's dtype
    (zarr's JSON attributes read back as plain ints)."""
    ds = ds.copy()
    for name, var in ds.variables.items():
        for key in ("flag_values", "flag_masks", "valid_min", "valid_range"):
            if key in var.attrs and var.dtype.kind in "iuf":
                var.attrs[key] = np.asarray(var.attrs[key]).astype(var.dtype)
    return ds


def _cf_name(name):
    import re
    return re.sub(r"[^A-Za-z0-9_]", "_", str(name))


def netcdf_dataset(ds):
    """The Dataset as written to netCDF: results only, typed flags, integer
    sector coordinate with a ``sector_name`` label, an export history line."""
    ds = typed_flags(conventions.encode_sectors(results(ds)))
    if "sector" in ds.coords:
        names = str(ds["sector"].attrs.get("flag_meanings", "")).split()
        if len(names) == ds.sizes["sector"]:
            # a CF label (section 6.1) as a char array: netCDF tools and
            # CF checkers read those; vlen strings they may not
            ds = ds.assign_coords(sector_name=("sector", np.array(names, dtype="S"),
                                               {"long_name": "sector name"}))
            ds["sector"].attrs = {k: v for k, v in ds["sector"].attrs.items()
                                  if k not in ("flag_values", "flag_meanings")}
            ds["sector"].attrs["comment"] = "sector names: the label variable sector_name"
    for name, var in ds.data_vars.items():
        if var.dtype == bool:  # written as int8 0/1 (netCDF has no bool)
            var.attrs.update(flag_values=np.array([0, 1], dtype=np.int8),
                             flag_meanings="false true")
    # CF names are letters, digits and underscores: "productivity.agro" is
    # written as "productivity_agro", its own name kept in coordsweep_name
    renames = {n: _cf_name(n) for n in list(ds.variables) + list(ds.dims)
               if _cf_name(n) != n}
    for var in ds.variables.values():  # (xarray writes them anew, renamed)
        var.encoding.pop("coordinates", None)
        var.attrs.pop("coordinates", None)
    if renames:
        ds = ds.rename(renames)
        for old_name, new_name in renames.items():
            if new_name in ds.variables:
                ds[new_name].attrs["coordsweep_name"] = old_name
    attrs = dict(ds.attrs)
    attrs["history"] = (str(attrs.get("history", "")).rstrip() + "\n"
                        + f"{conventions.now_iso()}: {conventions.command_line()} "
                          "(exported to netCDF-4)").lstrip()
    attrs["complete"] = int(conventions.is_complete(attrs))
    encoded = []
    for key, value in list(attrs.items()):
        if isinstance(value, bool):
            attrs[key] = int(value)
        elif value is None:
            del attrs[key]
        elif isinstance(value, dict) or (
                isinstance(value, (list, tuple))
                and any(isinstance(v, (list, tuple, dict)) for v in value)):
            # netCDF attributes are flat: nested values (design_bounds, the
            # refinement record) as JSON, named in JSON_ATTRS for open_netcdf
            attrs[key] = json.dumps(value)
            encoded.append(key)
    if encoded:
        attrs[JSON_ATTRS] = " ".join(encoded)
    ds.attrs = attrs
    return ds


def _netcdf_engine():
    for engine, modules in (("netcdf4", ("netCDF4",)), ("h5netcdf", ("h5netcdf", "h5py"))):
        try:
            for module in modules:
                __import__(module)
            return engine
        except ImportError:
            continue
    raise CoordsweepError("netCDF export needs netCDF4 (or h5netcdf and h5py): "
                          "pip install netCDF4")


def write_netcdf(ds, path, complevel=4):
    ds = netcdf_dataset(ds)
    encoding = {}
    for name, var in ds.variables.items():
        enc = {}
        if var.ndim > 0 and var.dtype.kind != "O":
            enc.update(zlib=True, complevel=complevel, shuffle=True)
        if var.dtype.kind == "f" and name not in ds.coords:
            enc["_FillValue"] = np.nan
        elif var.dtype.kind != "O":
            enc["_FillValue"] = None
        encoding[name] = enc
    ds.to_netcdf(path, engine=_netcdf_engine(), format="NETCDF4", encoding=encoding)


def point_table(ds, computed_only=True):
    """The store as a pandas DataFrame, one row a point (C order over the
    point dimensions): per-sector outputs as columns ``NAME.SECTOR``, the
    equilibrium list as ``NAME.RANK`` (``eq_mask.0`` the best); only the
    computed points unless ``computed_only`` is False."""
    import pandas as pd
    ds = results(ds)
    point_dims = [d for d in ds["status"].dims]
    sectors = ([str(s) for s in np.asarray(ds["sector"].values).tolist()]
               if "sector" in ds.dims else [])
    shape = tuple(ds.sizes[d] for d in point_dims)
    size = int(np.prod(shape)) if shape else 1
    columns = {}
    if point_dims:
        index = np.unravel_index(np.arange(size), shape)
        for dim, idx in zip(point_dims, index):
            columns[dim] = np.asarray(ds[dim].values)[idx] if dim in ds.coords else idx
        # non-dimension coordinates along a point dim (design parameters)
        for name, coord in ds.coords.items():
            if name in columns or name == "sector" or coord.ndim != 1 \
                    or coord.dims[0] not in point_dims:
                continue
            columns[name] = np.asarray(coord.values)[index[point_dims.index(coord.dims[0])]]
    from coordsweep.kernels.outputs import OUTPUT
    order = [n for n in OUTPUT if n in ds.data_vars]
    order += [n for n in ds.data_vars if n not in order]
    for name in order:
        var = ds[name]
        extra = [d for d in var.dims if d not in point_dims]
        if extra:  # sector (columns NAME.SECTOR) or equilibrium (NAME.RANK)
            dim, = extra
            labels = sectors if dim == "sector" else range(ds.sizes[dim])
            values = np.asarray(var.transpose(*point_dims, dim).values)
            values = values.reshape(size, ds.sizes[dim])
            for j, s in enumerate(labels):
                columns[f"{name}.{s}"] = values[:, j]
        else:
            columns[name] = np.asarray(var.transpose(*point_dims).values).reshape(size)
    df = pd.DataFrame(columns)
    if computed_only:
        from coordsweep.kernels.codes import NOT_COMPUTED
        df = df[(df["status"].astype(np.int64) & NOT_COMPUTED) == 0].reset_index(drop=True)
    return df


def _temp_path(out):
    out = Path(out)
    return out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.tmp")


def export(store, out, format=None, *, incomplete=False, overwrite=False):
    """Export a results store.

    Parameters
    ----------
    store : str or path-like
        The zarr results store (path or URL).
    out : str or path-like
        The file to write.
    format : {"netcdf", "parquet", "csv"}, optional
        Default: from the suffix of ``out`` (``.nc``, ``.parquet``, ``.csv``),
        else netCDF.
    incomplete : bool
        Export a store whose run is not complete (netCDF: every point, the
        ones not computed with fill values; tables: the computed rows).
    overwrite : bool
        Replace ``out`` if it exists.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    fmt = format or guess_format(out)
    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    out = Path(out)
    if out.exists() and not overwrite:
        raise UsageError(f"{out}: exists; pass --overwrite to replace it")
    if not out.parent.is_dir():
        raise UsageError(f"{out}: no such directory {out.parent}")
    path, attrs, ds = _open(store)
    if not conventions.is_complete(attrs) and not incomplete:
        from coordsweep.engine.store import zarrstore as zstore
        done = zstore.done_chunks(path)
        raise StoreError(f"{path}: the run is incomplete ({int(done.sum())}/{done.size} "
                         "chunks done); finish it with "
                         "`coordsweep run --resume`, or pass --incomplete to export "
                         "what is there")
    if fmt == "parquet":
        import importlib.util
        if importlib.util.find_spec("pyarrow") is None:
            raise CoordsweepError("Parquet export needs pyarrow: pip install pyarrow")
    tmp = _temp_path(out)
    try:
        if fmt == "netcdf":
            write_netcdf(ds, tmp)
        else:
            df = point_table(ds)
            if fmt == "parquet":
                df.to_parquet(tmp, index=False)
            else:
                df.to_csv(tmp, index=False)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out


def open_netcdf(path):
    """An exported netCDF file as a Dataset shaped like ``open_store``'s:
    sector names as the coordinate."""
    import xarray as xr
    ds = xr.open_dataset(path, engine=_netcdf_engine())
    if "sector_name" in ds.variables:
        names = [n.decode() if isinstance(n, bytes) else str(n)
                 for n in np.asarray(ds["sector_name"].values).tolist()]
        ds = ds.drop_vars("sector_name")
        ds = ds.assign_coords(sector=("sector", np.array(names, dtype=object),
                                      {"long_name": "sector name"}))
    back = {n: v.attrs["coordsweep_name"] for n, v in ds.variables.items()
            if "coordsweep_name" in v.attrs}
    if back:
        ds = ds.rename(back)
        for name in back.values():
            del ds[name].attrs["coordsweep_name"]
    for key in str(ds.attrs.pop(JSON_ATTRS, "")).split():
        if isinstance(ds.attrs.get(key), str):
            ds.attrs[key] = json.loads(ds.attrs[key])
    for var in ds.data_vars.values():
        if var.dtype == bool and var.attrs.get("flag_meanings") == "false true":
            del var.attrs["flag_values"], var.attrs["flag_meanings"]
    return conventions.decode_sectors(ds)


def read_table(path, format=None):
    """A Parquet or CSV point table as a pandas DataFrame."""
    import pandas as pd
    fmt = format or guess_format(path)
    return pd.read_parquet(path) if fmt == "parquet" else pd.read_csv(path)


def open_results(store):
    """A results store (zarr) or a netCDF file written by :func:`export`,
    opened lazily as an xarray Dataset (``coordsweep.open_store``)."""
    from coordsweep.engine.store import zarrstore as zstore
    path = zstore.normalize(store)
    if str(path).lower().endswith((".nc", ".nc4")) and os.path.isfile(path):
        return open_netcdf(path)
    return zstore.open_dataset(zstore.existing(path))
