"""Spec texts shared by the tests: one place for the sectors they use and
one writer of the TOML (``spec_text``).

Sector sets (lists of (name, {parameter: value})):

- ``TWO_SECTORS``: agro and manu, theta 0.3 / 0.8, cost 0.15: small sweeps
  over externality_scale x cost_scale hold every regime (plot, report,
  store tests);
- ``EDIT_SECTORS``: agro, manu (with a Marshallian externality, subsidy and
  cost subsidy) and tech, every numeric line unique, so a test can change
  one value with ``edit`` (spec validation tests);
- ``POLICY_SECTORS``: three sectors with eta > 0 and tau != 0 (engine tests).
"""

TWO_SECTORS = [
    ("agro", {"price": 1.0, "productivity": 1.2, "externality": 0.3, "cost": 0.15}),
    ("manu", {"price": 1.0, "productivity": 1.0, "externality": 0.8, "cost": 0.15}),
]

EDIT_SECTORS = [
    ("agro", {"price": 1.0, "productivity": 1.2, "externality": 0.2, "cost": 0.1}),
    ("manu", {"price": 1.5, "productivity": 0.9, "externality": 0.5, "cost": 0.3,
              "scale": 0.05, "subsidy": 0.1, "cost_subsidy": 0.25}),
    ("tech", {"price": 0.8, "productivity": 1.1, "externality": 1.0, "cost": 0.2}),
]

#: the sweep most tests run: theta scaled over [0, 2], costs over [0, 3]
SCALE_AXES = {"externality_scale": (0.0, 2.0, 9), "cost_scale": (0.0, 3.0, 7)}


def policy_sectors(manu_cost=0.15):
    """Three sectors, each with a Marshallian externality or a policy term."""
    return [
        ("agro", {"price": 1.0, "productivity": 1.2, "externality": 0.3, "cost": 0.15,
                  "scale": 0.1, "subsidy": 0.05}),
        ("manu", {"price": 1.0, "productivity": 1.0, "externality": 0.8, "cost": manu_cost,
                  "subsidy": -0.1, "cost_subsidy": 0.2}),
        ("serv", {"price": 1.1, "productivity": 0.9, "externality": 0.5, "cost": 0.1,
                  "scale": 0.05}),
    ]


def only(sectors, *params):
    """The sectors with just the given parameters."""
    return [(name, {p: v for p, v in values.items() if p in params})
            for name, values in sectors]


def _value(v):
    """A number as TOML (repr of the float: exact round trip)."""
    return repr(float(v))


def spec_text(name, sectors, *, axes=None, labor=1.0, labor_share=0.6, comment=""):
    """A spec's TOML text: ``comment`` lines first, then name, [model] (no
    labor line for ``labor=None``) and one [[model.sectors]] table a sector;
    ``axes`` maps an axis name to (start, stop, num) or to a list of values."""
    lines = [f"# {c}" for c in comment.splitlines()]
    lines += [f'name = "{name}"', "", "[model]"]
    if labor is not None:   # (None: the default)
        lines.append(f"labor = {_value(labor)}")
    lines.append(f"labor_share = {_value(labor_share)}")
    for sname, params in sectors:
        lines += ["", "[[model.sectors]]", f'name = "{sname}"']
        lines += [f"{p} = {_value(v)}" for p, v in params.items()]
    for axis, spec in (axes or {}).items():
        key = f'"{axis}"' if "." in axis else axis
        lines += ["", f"[axes.{key}]"]
        if isinstance(spec, tuple):
            start, stop, num = spec
            lines += [f"start = {_value(start)}", f"stop = {_value(stop)}", f"num = {num}"]
        else:
            lines.append(f"values = [{', '.join(_value(v) for v in spec)}]")
    return "\n".join(lines) + "\n"


def edit(text, old, new):
    """``text`` with the one occurrence of ``old`` replaced by ``new``."""
    assert text.count(old) == 1, f"{old!r} is not unique in the spec"
    return text.replace(old, new)
