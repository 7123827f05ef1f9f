"""An interactive page for a results store, served on a local port.

``serve(store, host, port, solve=...)`` returns a :class:`ViewServer`
(a standard-library ``ThreadingHTTPServer``); ``coordsweep view``
(engine/cli/view.py) runs it. The page (``static/``: one HTML file, one
script, one style sheet, nothing fetched from elsewhere) asks the server
for what it shows:

- ``api/meta``: the store's variables, sectors, axes (or design
  parameters), completion, and the colour table of continuous outputs;
- ``api/slice``: one 2-D slice (grid: a map over two axes; design: every
  sample, for a scatter over two parameters, or on one line for a design
  of one parameter) of one variable, as a small
  JSON header (kind, legend with the colours and names of ``plot``,
  colour range) followed by the values (float64, NaN where there is no
  number) and one byte a point (0 written, 1 its chunk not written yet,
  2 filled by a refinement). Only the zarr chunks that the slice crosses
  are read;
- ``api/point``: every output at one point; ``api/solve``: that point
  solved again with the kernel (through the ``solve`` callable the command
  passes in), with what the store does not hold;
- ``api/progress``: chunks written, so the page follows a running sweep.
"""
import json
import math
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import parse_qs, urlsplit

import matplotlib
import matplotlib.colors as mcolors
import numpy as np

from coordsweep.engine.errors import CoordsweepError, UsageError
from coordsweep.engine.analysis.flags import describe_status
from coordsweep.engine.analysis.geometry import is_geometric, layout_of, sector_names, sweep_axes
from coordsweep.engine.viz.plot import (
    MISSING_COLOR, NONFINITE_COLOR, axis_label, category_colors, cell_edges, value_label)
from coordsweep.engine.viz.plotdata import (
    FAILED_BITS, categorize, is_discrete, plottable_variables, variable_kind)
from coordsweep.kernels import codes
from coordsweep.kernels.outputs import OUTPUT
from coordsweep.engine.analysis.jsonvalue import json_value
from coordsweep.engine.store.conventions import EQ_MASK_FILL

__all__ = ["StoreView", "ViewServer", "serve", "is_loopback"]



def is_loopback(host):
    """True for a name or address of this machine's loopback interface."""
    import ipaddress
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
#: the status bit of a point filled by a refinement (bit 7 of the int8)
FILLED_BIT = 128
#: the sample dimension of a design
SAMPLE = "sample"
#: a scatter shows at most this many samples (evenly strided beyond)
MAX_SCATTER = 200_000
#: point flags sent with a slice
OK, MISSING, FILLED, UNSOLVED = 0, 1, 2, 3
STATIC = ("index.html", "view.js", "view.css")
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8"}


class StoreView:
    """What the page reads from one store (opened lazily; each request reads
    the chunks it needs, so a running sweep's new chunks are seen)."""

    def __init__(self, store):
        from coordsweep.engine.store import zarrstore as zstore
        self.path = zstore.existing(store)
        self._zstore = zstore
        self.ds = zstore.open_dataset(self.path)
        self.group = zstore.open_group(self.path)
        ds = self.ds
        self.axes = list(sweep_axes(ds))
        self.design = SAMPLE in self.axes
        self.grid_axes = [a for a in self.axes if a != SAMPLE]
        self.sectors = sector_names(ds)
        order = {name: k for k, name in enumerate(OUTPUT)}
        self.variables = sorted(plottable_variables(ds),
                                key=lambda n: (order.get(n, len(order)), n))
        self.dims = {v: tuple(ds[v].dims) for v in self.variables}
        self.params = []
        if self.design:   # in the spec's order (the attribute), else as stored
            found = [str(c) for c in ds.coords if ds[c].dims == (SAMPLE,) and c != SAMPLE]
            listed = [str(p) for p in np.atleast_1d(ds.attrs.get("design_params", []))]
            self.params = [p for p in listed if p in found] + \
                [p for p in found if p not in listed]
        #: other dimensions of outputs (``equilibrium``), each a slider
        self.extra_dims = []
        for v in self.variables:
            for d in self.dims[v]:
                if d not in self.axes and d not in ("sector", "chunk") \
                        and d not in self.extra_dims:
                    self.extra_dims.append(d)
        self.sizes = {d: int(n) for d, n in ds.sizes.items()}
        self.coords = {a: np.asarray(ds[a].values, dtype=float) for a in self.grid_axes}
        self.layout = layout_of(ds)
        self.refined = "computed" in ds.data_vars
        #: (output, sector position or None) a refinement fills at the points
        #: it does not solve (the others hold fill values there: not solved)
        self.filled_columns = None
        if self.refined:
            from coordsweep.engine.analysis.refined import refinement_of
            from coordsweep.engine.errors import StoreError
            try:
                spec, ref = refinement_of(self.path, ds.attrs)
                self.filled_columns = set(ref.columns(spec.n_sectors))
            except StoreError:
                pass
        self._params_cache = {}
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- meta

    def progress(self):
        """{"done", "total", "complete"}: chunks written now."""
        attrs = self._zstore.read_attrs(self.path)
        done = self._done()
        total = int(done.size) if done is not None else 0
        n = int(done.sum()) if done is not None else 0
        complete = bool(int(attrs.get("complete", 0))) or (done is not None and n == total)
        return {"done": n, "total": total, "complete": complete}

    def _done(self):
        if "chunk_done" not in self.ds.data_vars:
            return None
        token = self._zstore.read_attrs(self.path).get("run_token", 1)   # (as it is now)
        with self._zstore_quiet():
            return np.asarray(self.group["chunk_done"][...]).ravel() == token

    def meta(self):
        ds = self.ds
        variables = []
        for v in self.variables:
            kind, cats = variable_kind(ds[v], v)
            variables.append({
                "name": v, "dims": list(self.dims[v]), "kind": kind,
                "per_sector": "sector" in self.dims[v],
                "long_name": str(ds[v].attrs.get("long_name", v)),
                "units": str(ds[v].attrs.get("units", "")),
                "categories": ({str(k): n for k, n in cats.items()} if cats else None)})
        axes = [{"name": a, "size": self.sizes[a], "label": axis_label(ds, a),
                 "values": json_value(self.coords[a]),
                 "log": is_geometric(self.coords[a], ds[a].attrs)} for a in self.grid_axes]
        extra = [{"name": d, "size": self.sizes[d],
                  "values": (json_value(np.asarray(ds[d].values)) if d in ds.coords
                             else list(range(self.sizes[d])))} for d in self.extra_dims]
        params = [{"name": p, "label": axis_label(ds, p),
                   "log": str(ds[p].attrs.get("spacing", "")).lower() == "log"}
                  for p in self.params]
        default_var = "regime" if "regime" in self.variables else self.variables[0]
        if self.design:
            choices = self.params
        else:
            # the last two axes: the fewest chunks to read (chunks hold whole trailing axes)
            choices = list(reversed([a for a in self.grid_axes if self.sizes[a] > 1])) \
                or list(self.grid_axes)
        lut = matplotlib.colormaps["viridis"](np.linspace(0, 1, 256))
        return {
            "store": str(self.path), "title": str(ds.attrs.get("title", "")),
            "design": self.design, "refined": self.refined,
            "variables": variables, "sectors": self.sectors,
            "axes": axes, "params": params, "extra": extra,
            "samples": self.sizes.get(SAMPLE, 0),
            "defaults": {"variable": default_var, "x": choices[0] if choices else None,
                         "y": choices[1] if len(choices) > 1 else None},
            "viridis": [mcolors.to_hex(c) for c in lut],
            "colors": {"missing": MISSING_COLOR, "nonfinite": NONFINITE_COLOR},
            "progress": self.progress(),
        }

    # ---------------------------------------------------------------- slices

    def _var(self, name):
        if name not in self.variables:
            raise UsageError(f"unknown variable {name!r}; valid variables: "
                             f"{', '.join(self.variables)}")
        return name

    def _index(self, dim, q, default=None):
        """The index of ``dim`` from the query (``i.DIM``), checked."""
        raw = q.get(f"i.{dim}")
        n = self.sizes[dim]
        if raw is None:
            if default is None:
                raise UsageError(f"no index for {dim!r}")
            return default
        try:
            i = int(raw)
        except ValueError:
            raise UsageError(f"index of {dim!r}: {raw!r} is not an integer") from None
        if not 0 <= i < n:
            raise UsageError(f"index of {dim!r}: {i} outside 0..{n - 1}")
        return i

    def _sector(self, q):
        s = q.get("sector")
        if s not in self.sectors:
            raise UsageError(f"unknown sector {s!r}; valid sectors: {', '.join(self.sectors)}")
        return self.sectors.index(s)

    def _read(self, name, index):
        """``name`` at ``index`` ({dim: int, or None for the whole dim}) as an
        array over the whole dims (in the variable's dim order)."""
        key = tuple(slice(None) if index.get(d) is None else index[d]
                    for d in self.dims.get(name) or self.ds[name].dims)
        with self._zstore_quiet():
            return np.asarray(self.group[name][key])

    def _zstore_quiet(self):
        from coordsweep.engine.store.arrays import quiet
        return quiet()

    def _point_flags(self, index, free):
        """uint8 flags over the ``free`` axes (in axis order) at ``index``:
        MISSING where the point's chunk is not written, FILLED where a
        refinement filled it."""
        shape = tuple(self.sizes[a] for a in free)
        out = np.zeros(shape, np.uint8)
        done = self._done()
        if done is not None and not done.all() and self.layout is not None:
            grid, chunks = self.layout.grid, self.layout.chunks
            strides = np.cumprod((1,) + tuple(reversed(grid[1:])))[::-1]
            cid = np.zeros(shape, np.int64)
            for k, a in enumerate(self.axes):
                if a in free:
                    j = free.index(a)
                    shp = [1] * len(free)
                    shp[j] = self.sizes[a]
                    cid = cid + ((np.arange(self.sizes[a]) // chunks[k]) * strides[k]
                                 ).reshape(shp)
                else:
                    cid = cid + (index[a] // chunks[k]) * strides[k]
            out[~done[cid]] = MISSING
        if self.refined:
            computed = self._read("computed", index).astype(bool)
            out[(out == OK) & ~computed] = FILLED
        return out

    def slice(self, q):
        """(header dict, list of arrays to send) of one slice (see module doc)."""
        var = self._var(q.get("variable"))
        dims = self.dims[var]
        index = {}
        if "sector" in dims:
            index["sector"] = self._sector(q)
        for d in self.extra_dims:
            if d in dims:
                index[d] = self._index(d, q, 0)
        if self.design:
            free = [SAMPLE]
            for a in self.grid_axes:
                index[a] = self._index(a, q, self.sizes[a] // 2)
            x, y = q.get("x"), q.get("y") or None
            for role, p in (("x", x), ("y", y)):
                if p is None and role == "y":  # (a design of one parameter: a strip)
                    continue
                if p not in self.params:
                    raise UsageError(f"unknown parameter {p!r} for {role}; valid: "
                                     f"{', '.join(self.params)}")
        else:
            x, y = q.get("x"), q.get("y") or None
            for role, a in (("x", x), ("y", y)):
                if a is None and role == "y":
                    continue
                if a not in self.grid_axes:
                    raise UsageError(f"unknown axis {a!r} for {role}; valid axes: "
                                     f"{', '.join(self.grid_axes)}")
            if x == y:
                raise UsageError(f"x and y are the same axis {x!r}")
            free = [a for a in self.axes if a in (x, y)]
            for a in self.grid_axes:
                if a not in free:
                    index[a] = self._index(a, q, self.sizes[a] // 2)
        for a in free:
            index[a] = None
        raw = self._read(var, index)
        flags_ = self._point_flags(index, free)
        if not self._filled(var, index.get("sector")):
            flags_[flags_ == FILLED] = UNSOLVED
        status = None
        if raw.dtype.kind == "f" and var != "status" and "status" in self.variables:
            status = self._read("status", index).astype(np.int64)
        kind, categories = variable_kind(self.ds[var], var)
        vals = raw.astype(np.float64)
        if var == "eq_mask":  # an empty slot is not a cooperation set
            vals[raw == EQ_MASK_FILL] = np.nan
        if raw.dtype.kind == "f" and status is not None:
            failed = ((status & FAILED_BITS) != 0) & ((status & codes.NOT_COMPUTED) == 0)
            vals[failed] = np.nan
        vals[(flags_ == MISSING) | (flags_ == UNSOLVED)] = np.nan
        header = {"variable": var, "kind": kind, "design": self.design,
                  "sector": q.get("sector") if "sector" in dims else None,
                  "missing": int((flags_ == MISSING).sum()),
                  "filled": int((flags_ == FILLED).sum()),
                  "unsolved": int((flags_ == UNSOLVED).sum()),
                  "selection": {a: json_value(self.coords[a][index[a]])
                                for a in self.grid_axes if index.get(a) is not None}}
        if self.design:
            n = vals.size
            take = np.arange(n) if n <= MAX_SCATTER else \
                np.linspace(0, n - 1, MAX_SCATTER).round().astype(np.int64)
            xs = self._param(x)
            ys = self._param(y) if y is not None else np.zeros(n)
            vals, flags_ = vals[take], flags_[take]
            arrays = [vals, xs[take], ys[take], take.astype(np.float64)]
            header.update(n=int(take.size), total=int(n), x=x, y=y,
                          xlabel=axis_label(self.ds, x),
                          ylabel=axis_label(self.ds, y) if y is not None else "")
        else:
            xc = self.coords[x]
            xo = np.argsort(xc, kind="stable")
            xlog = is_geometric(xc, self.ds[x].attrs)
            if y is not None:
                if free.index(x) < free.index(y):
                    vals, flags_ = vals.T, flags_.T
                yc = self.coords[y]
                yo = np.argsort(yc, kind="stable")
                ylog = is_geometric(yc, self.ds[y].attrs)
                vals, flags_ = vals[np.ix_(yo, xo)], flags_[np.ix_(yo, xo)]
            else:
                yc, yo, ylog = np.array([0.0]), np.array([0]), False
                vals, flags_ = vals[xo][None, :], flags_[xo][None, :]
            xe = cell_edges(xc[xo], xlog)
            ye = cell_edges(yc[yo], ylog)
            t = (lambda e, log: np.log10(e) if log else e)
            header.update(nx=int(xo.size), ny=int(yo.size), x=x, y=y,
                          xc=json_value(xc[xo]), yc=json_value(yc[yo]) if y else None,
                          xi=xo.tolist(), yi=yo.tolist() if y else [0],
                          xe=json_value(t(xe, xlog)), ye=json_value(t(ye, ylog)),
                          xlog=bool(xlog), ylog=bool(ylog),
                          xlabel=axis_label(self.ds, x),
                          ylabel=axis_label(self.ds, y) if y else "")
            arrays = [vals]
        header.update(self._legend(var, kind, categories, vals, flags_))
        header["n"] = int(vals.size)
        return header, arrays + [flags_.astype(np.uint8)]

    def _filled(self, var, sector=None):
        """Whether a refinement fills ``var`` (of the sector at position
        ``sector``) at the points it does not solve: the refined outputs
        and ``status`` (its bit filled); every output of a store that is
        not refined."""
        if self.filled_columns is None or var == "status":
            return True
        return (var, sector if "sector" in self.dims[var] else None) in self.filled_columns

    def _param(self, name):
        with self._lock:
            if name not in self._params_cache:
                self._params_cache[name] = self._read(name, {SAMPLE: None}).astype(float)
            return self._params_cache[name]

    def _legend(self, var, kind, categories, vals, flags_):
        """How the page colours the slice, as ``plot`` would: discrete
        outputs a legend of (code, name, colour, count); continuous ones a
        colour range and label."""
        out = {"label": value_label(self.ds[var], var)}
        shown = np.where(flags_ == MISSING, np.nan, vals)
        if is_discrete(kind, shown):
            present, names, cats, counts = categorize(var, kind, categories or {}, shown)
            listed = list(present)
            if kind in ("categorical", "bool"):
                listed = sorted(set(categories) | set(present))
            colors = category_colors(var, kind, categories, listed)
            found = {c: 0 for c in listed}
            ok = np.isfinite(shown)
            if ok.any():
                cs, ns = np.unique(shown[ok].astype(np.int64), return_counts=True)
                found.update(dict(zip(cs.tolist(), ns.tolist())))
            out["discrete"] = True
            out["legend"] = [{"code": int(c), "name": cats.get(c, names.get(c, str(c))),
                              "color": colors[c], "count": int(found.get(c, 0))}
                             for c in listed]
        else:
            fin = np.isfinite(shown)
            if fin.any():
                lo, hi = float(shown[fin].min()), float(shown[fin].max())
                if lo == hi:
                    d = 0.5 * max(abs(lo), 1.0)
                    lo, hi = lo - d, hi + d
            else:
                lo, hi = 0.0, 1.0
            out.update(discrete=False, vmin=lo, vmax=hi,
                       nonfinite=int((~fin & (flags_ == OK)).sum()))
        return out

    # ---------------------------------------------------------------- points

    def _point_index(self, q):
        index = {a: self._index(a, q) for a in self.axes}
        return index

    def point(self, q):
        """Every output at one point (``i.AXIS`` for every axis)."""
        index = self._point_index(q)
        flags_ = self._point_flags(index, [])
        state = {OK: "computed", MISSING: "not computed yet (its chunk is not written)",
                 FILLED: "filled (not solved: the value of its refinement cell's corners)"}
        out = {"coordinates": self._coordinates(index), "state": state[int(flags_)],
               "sectors": self.sectors, "outputs": {}}
        if int(flags_) == MISSING:
            return out
        for v in self.variables:
            a = self._read(v, index)
            kind, cats = variable_kind(self.ds[v], v)
            value = json_value(a)
            if v == "eq_mask":  # empty slots: null, like NaN
                value = [None if m == EQ_MASK_FILL else m for m in value]
            entry = {"value": value, "long_name": str(self.ds[v].attrs.get(
                "long_name", v)), "per_sector": "sector" in self.dims[v]}
            if int(flags_) == FILLED:
                # (a refinement's fill values of the outputs it does not fill)
                keep = [self._filled(v, j) for j in range(len(self.sectors))] \
                    if "sector" in self.dims[v] else [self._filled(v)]
                if not all(keep):
                    entry["not_solved"] = True
                    entry["value"] = [x if k else None for x, k in zip(value, keep)] \
                        if "sector" in self.dims[v] else None
                    if not any(keep):
                        out["outputs"][v] = entry
                        continue
            if kind == "categorical" and cats:
                entry["names"] = json_value(np.vectorize(
                    lambda c: cats.get(int(c), str(c)), otypes=[object])(a)) if a.size else []
            elif kind == "bitfield":
                entry["names"] = describe_status(int(a), cats)
            if entry.get("not_solved") and "names" in entry:
                entry["names"] = [n if x is not None else None
                                  for n, x in zip(entry["names"], entry["value"])]
            out["outputs"][v] = entry
        return out

    def _coordinates(self, index):
        c = {a: json_value(self.coords[a][index[a]]) for a in self.grid_axes}
        if self.design:
            c[SAMPLE] = index[SAMPLE]
            for p in self.params:
                c[p] = json_value(self._param(p)[index[SAMPLE]])
        return c

    def at(self, q):
        """{parameter: value} of one point, as ``coordsweep.solve(at=...)``
        takes it: the axes in spec order, then the design's parameters."""
        index = self._point_index(q)
        at = {a: float(self.coords[a][index[a]]) for a in self.grid_axes}
        if self.design:
            for p in self.params:
                at[p] = float(self._param(p)[index[SAMPLE]])
        return at, index

    def spec_text(self):
        return str(self.ds.attrs.get("spec", ""))


class _Handler(BaseHTTPRequestHandler):
    server_version = "coordsweep-view"

    def log_message(self, format, *args):  # noqa: A002 - quiet: the page polls
        pass

    def _send(self, status, body, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, obj, status=HTTPStatus.OK):
        self._send(status, json.dumps(obj, allow_nan=False).encode(),
                   "application/json")

    def _host_ok(self):
        """Loopback servers answer only to loopback host names (a page of
        another site cannot reach them through DNS rebinding)."""
        if not self.server.loopback:
            return True
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        return is_loopback(host)

    def do_GET(self):  # noqa: N802 - http.server's name
        try:
            if not self._host_ok():
                self._send(HTTPStatus.FORBIDDEN, b"forbidden host", "text/plain")
                return
            url = urlsplit(self.path)
            q = {k: v[-1] for k, v in parse_qs(url.query).items()}
            path = url.path
            view = self.server.view
            if path in ("/", "/index.html"):
                self._static("index.html")
            elif path.startswith("/static/") and path[len("/static/"):] in STATIC:
                self._static(path[len("/static/"):])
            elif path == "/favicon.ico":
                self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
            elif path == "/api/meta":
                self._json(view.meta())
            elif path == "/api/progress":
                self._json(view.progress())
            elif path == "/api/slice":
                header, arrays = view.slice(q)
                self._send(HTTPStatus.OK, _pack(header, arrays), "application/octet-stream")
            elif path == "/api/point":
                self._json(view.point(q))
            elif path == "/api/solve":
                self._json(self.server.solve_point(q))
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
        except CoordsweepError as exc:
            self._json({"error": str(exc)}, HTTPStatus.BAD_REQUEST)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as exc:  # noqa: BLE001 - the page shows it; the server goes on
            try:
                self._json({"error": f"{type(exc).__name__}: {exc}"},
                           HTTPStatus.INTERNAL_SERVER_ERROR)
            except OSError:
                pass

    def _static(self, name):
        body = resources.files("coordsweep.engine.viz").joinpath("static", name).read_bytes()
        ext = name[name.rfind("."):]
        self._send(HTTPStatus.OK, body, CONTENT_TYPES[ext])


def _pack(header, arrays):
    """uint32 length of the JSON header, the header, zero padding to 8 bytes,
    then each array's bytes (little-endian; float64 arrays first)."""
    head = json.dumps(json_value(header), allow_nan=False).encode()
    pad = (-(4 + len(head))) % 8
    parts = [np.uint32(len(head) + pad).tobytes(), head, b" " * pad]
    for a in arrays:
        a = np.ascontiguousarray(a)
        parts.append(a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes())
    return b"".join(parts)


class ViewServer(ThreadingHTTPServer):
    """The page's server: one :class:`StoreView`, a ``solve`` callable
    (``solve(spec_text, at) -> {name: value}``, may be None)."""
    daemon_threads = True

    def __init__(self, view, host, port, solve=None):
        import socket
        if ":" in host:
            self.address_family = socket.AF_INET6
        self.view = view
        self.solve = solve
        self.loopback = is_loopback(host)
        super().__init__((host, port), _Handler)

    @property
    def url(self):
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}/"

    def solve_point(self, q):
        """The kernel's outputs at a point next to the store's: those the
        store holds (and whether they agree), and those it does not."""
        if self.solve is None:
            raise UsageError("solving is not available")
        view = self.view
        at, index = view.at(q)
        solved = self.solve(view.spec_text(), at)
        stored = view.point(q)
        rows, lacks = [], []
        for name, value in solved.items():
            entry = {"name": name, "solved": json_value(np.asarray(value))}
            if name in stored["outputs"] and not stored["outputs"][name].get("not_solved"):
                entry["stored"] = stored["outputs"][name]["value"]
                entry["same"] = _same(np.asarray(value), stored["outputs"][name]["value"])
                rows.append(entry)
            else:
                lacks.append(entry)
        return {"at": at, "coordinates": stored["coordinates"], "state": stored["state"],
                "sectors": view.sectors, "outputs": rows, "lacks": lacks}


def _same(solved, stored):
    """Solved and stored values agree (floats within 1e-10 relative)."""
    if stored is None or isinstance(stored, str):
        a = np.asarray(solved, dtype=float)
        return bool(np.all(np.isnan(a))) if stored is None else bool(np.all(np.isinf(a)))
    s = np.asarray([np.nan if v is None else (math.inf if v == "inf" else
                    -math.inf if v == "-inf" else v)
                    for v in np.atleast_1d(np.asarray(stored, dtype=object)).tolist()],
                   dtype=float)
    a = np.atleast_1d(np.asarray(solved, dtype=float))
    if a.shape != s.shape:
        return False
    return bool(np.all((a == s) | (np.isnan(a) & np.isnan(s))
                       | (np.abs(a - s) <= 1e-10 * np.maximum(np.abs(a), np.abs(s)))))


def serve(store, host="127.0.0.1", port=0, solve=None):
    """A :class:`ViewServer` for ``store`` bound to ``host:port`` (0: a
    free port), not yet serving (call ``serve_forever``)."""
    view = StoreView(store)
    return ViewServer(view, host, port, solve=solve)
