"""Refined stores (engine/spec/refine.py): what `inspect` says about them,
and ``inspect --verify-fill N``: solve filled points and compare."""
import numpy as np

from coordsweep.engine.errors import StoreError, UsageError
from coordsweep.engine.spec import refine as zrefine


def refinement_of(store, attrs=None):
    """(Spec, Refinement) of a refined store; StoreError when it is not one."""
    from coordsweep.engine.spec.model import parse_spec
    from coordsweep.engine.store import zarrstore as zstore
    attrs = zstore.read_attrs(store) if attrs is None else attrs
    table = attrs.get("refine")
    if not table:
        raise StoreError(f"{store}: is not a refined store (no attribute refine: every "
                         "point was solved)")
    spec = parse_spec(attrs["spec"], source=attrs.get("spec_source", "<store>"))
    ref = zrefine.parse({k: table[k] for k in zrefine.KEYS if table.get(k) is not None},
                        list(spec.dims), [a.name for a in spec.axes],
                        list(spec.sector_names), where=f"{store}: attribute refine",
                        error=StoreError)
    return spec, ref


def describe_lines(table, points):
    """Lines for `inspect`: the refinement, how much was solved, the assumption
    (`table`: the attribute refine, with ``computed_now``)."""
    lines = [f"refined: on {', '.join(table['on'])}"
             + (f" (sectors {', '.join(table['sectors'])})" if table.get("sectors") else "")
             + f" along {', '.join(table['axes'])}, coarse {table['coarse']}"
             + (f", min_level {table['min_level']} (step "
                f"{table['coarse'] >> table['min_level']} solved whole)"
                if table.get("min_level") else "") + "; "
             f"levels {table.get('levels_done', 0)}/{table.get('levels', '?')} done"]
    solved = table.get("computed_now")
    levels, done = table.get("levels"), table.get("levels_done", 0)
    if levels is not None and done < levels and points:
        # (an interrupted run: its levels' points are in the run's own files,
        # nothing is filled before the last level)
        n = int(table.get("points_solved", 0))
        lines.append(f"  solved {n:,} of {points:,} points ({100 * n / points:.1f}%) in the "
                     f"levels done; none filled yet: the refinement is incomplete (run it "
                     "again with --resume)")
    elif solved is not None and points:
        lines.append(f"  solved {solved:,} of {points:,} points ({100 * solved / points:.1f}%), "
                     "the rest filled (status bit filled; variable computed)")
    lines.append(f"  assumption: {table.get('assumption', zrefine.ASSUMPTION)}")
    return lines


def verify_fill(store, n, seed=0):
    """Solve `n` random filled points of a refined store (all when fewer)
    and compare their refined outputs. Returns (points checked, filled
    points, [mismatch lines])."""
    from coordsweep import kernels
    from coordsweep.engine.store import zarrstore as zstore
    from coordsweep.kernels.codes import REGIME_NAMES
    if n < 1:
        raise UsageError(f"--verify-fill needs N >= 1, got {n}")
    attrs = zstore.read_attrs(store)
    spec, ref = refinement_of(store, attrs)
    group = zstore.open_group(store)
    computed = np.asarray(group["computed"][...]).ravel()
    if not zstore.done_chunks(store).all():
        raise StoreError(f"{store}: the refined run is incomplete; resume it first")
    filled = np.flatnonzero(~computed)
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(filled, size=min(n, filled.size), replace=False)) \
        if filled.size else filled
    if not pick.size:
        return 0, 0, []
    out = kernels.solve(**zrefine.params_at(spec, pick), solver=attrs.get("solver"),
                        **spec.outputs)
    coords = np.unravel_index(pick, spec.shape)
    lines = []
    for name, sector in ref.columns(spec.n_sectors):
        arr = group[name]
        sel = coords if sector is None else coords + (np.full(pick.size, sector),)
        stored = np.asarray(arr.get_coordinate_selection(sel))
        solved = np.asarray(out[name]) if sector is None else np.asarray(out[name])[:, sector]
        for j in np.flatnonzero(stored != solved):
            where = ", ".join(f"{d}={spec.axes[k].take(np.array([coords[k][j]]))[0]:g}"
                              if k < len(spec.axes) else f"{d}={coords[k][j]}"
                              for k, d in enumerate(spec.dims))
            label = name if sector is None else f"{name}[{spec.sector_names[sector]}]"

            def show(v, name=name):
                return REGIME_NAMES[v] if name == "regime" and 0 <= v < len(REGIME_NAMES) \
                    else str(v)
            lines.append(f"  mismatch at {where} (index {tuple(int(c[j]) for c in coords)}): "
                         f"{label} filled {show(int(stored[j]))}, solved {show(int(solved[j]))}")
    return int(pick.size), int(filled.size), lines


def format_verify_fill(checked, filled, lines):
    head = (f"verify-fill: {checked:,} of {filled:,} filled points solved again: "
            + ("every refined output matches" if not lines
               else f"{len(lines)} mismatches (a region smaller than a coarse cell was "
               "missed: lower coarse, or run without refinement)"))
    return "\n".join([head] + lines)
