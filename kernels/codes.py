"""Codes shared by the kernels and everything that reads their results.

Pure Python constants (no numba import) so the engine, the CLI and the
tests can use them cheaply. Numba treats module globals as compile-time
constants, so the kernels import them too.
"""

# --- regime_i (int8), MODEL.md "Coordination-failure conditions" --------
INERT = 0
SPONTANEOUS = 1
COORDINATION_FAILURE = 2
PARTIAL_COORDINATION = 3
NEEDS_SUBSIDY = 4
NOT_WORTH = 5

REGIME_NAMES = (
    "inert",
    "spontaneous",
    "coordination_failure",
    "partial_coordination",
    "needs_subsidy",
    "not_worth",
)

#: the code of an integer output where there is nothing: regime and
#: target_* of a point outside the domains (kernels), and every integer
#: output of a chunk never written (the store's fill value)
NO_CATEGORY = -1

# --- status (int8): a bit field, 0 = every number at the point is valid --
OK = 0
#: the labour-market root finder (eta > 0) hit its iteration cap
WAGE_NOT_CONVERGED = 1
#: a root or peak search on the GE path g_i(s) hit its iteration cap, or
#: (with [outputs] dynamics) an adjustment path had not ended after 40 time
#: units (kernels/dynamics.py)
PATH_NOT_CONVERGED = 2
#: the sampled GE path g_i(s) was neither increasing nor single-peaked (it
#: rises again after falling: large theta at high labour shares);
#: critical_mass / partial_share then come from 64 samples of g_i and are
#: right unless g_i wiggles on a finer scale
PATH_SHAPE = 4
#: a value overflowed or became NaN where the model defines a number
NON_FINITE = 8
#: the point's parameters are outside MODEL.md's domains (outputs are NaN)
INVALID_INPUT = 16
#: some sector's labour exponent e_i = 1 / (1 - eps eta_i) exceeds
#: ILL_CONDITIONED_EXPONENT (eta_i within rounding of its bound 1 - alpha):
#: L_i = [...]^e_i turns a relative error of one ulp in its base into e_i
#: ulps, so beyond 1e6 (about 2e-10 relative) the wage roots no longer hold
#: the 1e-10 to which the solver variants agree, and at e_i ~ 1e15 they
#: disagree in their discrete outputs. The outputs are still computed.
ILL_CONDITIONED = 32
ILL_CONDITIONED_EXPONENT = 1e6
#: never set by the kernels: the fill value of `status` in a results store,
#: so a point whose chunk was never written reads as "not computed"
NOT_COMPUTED = 64
#: never set by the kernels: a point of a refined store (engine/spec/refine.py)
#: that was not solved; its refined outputs hold the value shared by the
#: corners of its cell, every other output is NaN / its fill value. Bit 7
#: of the int8: the value is negative
FILLED = -128

STATUS_BITS = (
    (WAGE_NOT_CONVERGED, "wage_not_converged",
     "labour-market root finder (eta > 0) did not converge"),
    (PATH_NOT_CONVERGED, "path_not_converged",
     "root or peak search on the GE path g_i(s) did not converge, or an "
     "adjustment path (dynamics) had not ended after 40 time units"),
    (PATH_SHAPE, "path_shape",
     "GE path g_i(s) rises, falls and rises again (not single-peaked; decided "
     "exactly where every eta = 0; otherwise from its samples, the slope at "
     "s = 1 and a screen of where g_i can fall, with 64 samples where the "
     "screen is undecided); critical_mass and partial_share found from 64 "
     "samples"),
    (NON_FINITE, "non_finite",
     "a value overflowed or became NaN"),
    (INVALID_INPUT, "invalid_input",
     "parameters outside MODEL.md's domains"),
    (ILL_CONDITIONED, "ill_conditioned",
     "some sector's exponent 1/(1 - eps eta_i) exceeds 1e6 (eta_i at its bound "
     "1 - alpha up to rounding): the outputs have lost their precision"),
    (NOT_COMPUTED, "not_computed",
     "point not computed yet (store fill value: its chunk was never written)"),
    (FILLED, "filled",
     "point of a refined store not solved: refined outputs filled from the corners "
     "of its cell, the others NaN / fill value"),
)

