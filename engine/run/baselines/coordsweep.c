/* coordsweep.c: the per-point algorithm of kernels/ in plain C, as the
 * benchmark's "machine limit" baseline.
 *
 * Same algorithm as kernels/economy.py + kernels/point.py + kernels/rootfind.py:
 * closed-form wage for eta = 0 (linear-scale sums), safeguarded Newton in
 * log w for eta > 0, pruned depth-first search over the equilibrium family,
 * brute-force first best, threshold wages in closed form, the GE path g_i
 * certified increasing where every eta = 0 and X0 > (2 alpha - 1)(xb_i - xa_i)
 * (kernels/sectors.py path_increasing: then no samples, Brent on [0, 1]),
 * else sampled at 8 (or 64) shares, Brent for its crossings and golden
 * section for an interior peak.  Compiled by coordsweep bench with the system cc at
 * -O3 -march=native (no -ffast-math: NaN checks must survive).
 *
 * Outputs (per point): wage_nc, welfare_nc, n_equilibria, welfare_best_eq,
 * wage_best_eq, welfare_fb, best mask, first-best mask, fiscal_cost_nc,
 * status; per sector: regime, critical_mass, partial_share,
 * gain_coordinate, threshold_wage, subsidy_needed.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#define MAXN 24
#define FAST_RANGE 600.0
#define NEWTON_MAXITER 100
#define XTOL 1e-16
#define RTOL (4.0 * 2.220446049250313e-16)
#define MAXITER 200
#define PEAK_XTOL 1e-11
#define INVPHI 0.6180339887498949
#define SHAPE_SAMPLES 8
#define DENSE_SAMPLES 64
#define SHAPE_RTOL 1e-12
#define SLOPE_STEP 1e-7
#define TIE_RTOL 1e-13
#define CERT_MARGIN 1e-9

enum { INERT = 0, SPONT = 1, CAND = 2 };
enum { R_INERT = 0, R_SPONT = 1, R_CF = 2, R_PARTIAL = 3, R_SUBSIDY = 4, R_NOTWORTH = 5 };
enum { WAGE_NC = 1, PATH_NC = 2, PATH_SHAPE = 4, NON_FINITE = 8, INVALID = 16 };

typedef struct {
    int n;
    double alpha, eps, logl, labor, c0, logxa0, xa0, logcoef, logalpha;
    int eta0, fast;
    double lqa[MAXN], eta[MAXN], tau[MAXN], sigma[MAXN], cost[MAXN], theta[MAXN];
    double logm1[MAXN], k[MAXN], b0[MAXN], s0[MAXN], xa[MAXN], xb[MAXN];
    double ya[MAXN], yb[MAXN], xbar[MAXN], logu[MAXN], logk[MAXN];
    int kind[MAXN];
    double logm[MAXN], logL[MAXN];
    int st;
} WS;

static double log_expm1_(double a) {
    if (a > 30.0) return a + log1p(-exp(-a));
    return log(expm1(a));
}

static double log_m(double s, double a) {
    if (a < 700.0) return log1p(s * expm1(a));
    return a + log(s + (1.0 - s) * exp(-a));
}

static int prepare(WS *w, int n, double labor, double alpha, const double *price,
                   const double *prod, const double *theta, const double *cost,
                   const double *eta, const double *tau, const double *sigma) {
    w->n = n;
    w->st = 0;
    int ok = labor > 0.0 && alpha > 0.0 && alpha < 1.0 && isfinite(labor) && isfinite(alpha);
    if (ok)
        for (int i = 0; i < n; i++) {
            if (!(price[i] > 0.0 && prod[i] > 0.0 && theta[i] >= 0.0 && cost[i] >= 0.0
                  && eta[i] >= 0.0 && eta[i] < 1.0 - alpha && tau[i] > -1.0
                  && sigma[i] >= 0.0 && sigma[i] <= 1.0)) ok = 0;
            if (!(isfinite(price[i]) && isfinite(prod[i]) && isfinite(theta[i])
                  && isfinite(cost[i]) && isfinite(tau[i]))) ok = 0;
        }
    if (!ok) { w->st = INVALID; return 0; }
    double eps = 1.0 / (1.0 - alpha);
    w->alpha = alpha; w->eps = eps; w->labor = labor; w->logl = log(labor);
    w->logcoef = log((1.0 - alpha) / alpha);
    w->logalpha = log(alpha);
    int eta0 = 1;
    double c0 = -INFINITY;
    for (int i = 0; i < n; i++) {
        double lqa = log(price[i] * (1.0 + tau[i])) + log(prod[i]);
        w->lqa[i] = lqa; w->eta[i] = eta[i]; w->tau[i] = tau[i];
        w->sigma[i] = sigma[i]; w->cost[i] = cost[i]; w->theta[i] = theta[i];
        double logm1 = eps * log1p(theta[i]);
        w->logm1[i] = logm1;
        double denom = 1.0 - eps * eta[i];
        w->k[i] = eps / denom;
        w->b0[i] = eps * (w->logalpha + lqa) / denom;
        if (eta[i] != 0.0) eta0 = 0;
        if (eps * lqa + logm1 > c0) c0 = eps * lqa + logm1;
        int kind = theta[i] == 0.0 ? INERT : ((1.0 - sigma[i]) * cost[i] == 0.0 ? SPONT : CAND);
        w->kind[i] = kind;
        w->s0[i] = kind == SPONT ? 1.0 : 0.0;
    }
    w->c0 = c0; w->eta0 = eta0;
    int fast = eta0;
    double xa0 = 0.0;
    for (int i = 0; i < n; i++) {
        double logu = eps * w->lqa[i] - c0;
        w->logu[i] = logu;
        if (logu < -FAST_RANGE) fast = 0;
        double xa = exp(logu), xb = exp(logu + w->logm1[i]);
        w->xa[i] = xa; w->xb[i] = xb;
        w->ya[i] = xa / (1.0 + tau[i]); w->yb[i] = xb / (1.0 + tau[i]);
        xa0 += w->s0[i] == 1.0 ? xb : xa;
    }
    w->fast = fast;
    w->logxa0 = fast ? log(xa0) : NAN;
    w->xa0 = fast ? xa0 : NAN;
    double log1ma = log(1.0 - alpha);
    for (int i = 0; i < n; i++)
        w->logk[i] = log1ma + w->logu[i] + alpha * w->logl + (1.0 - alpha) * c0;
    for (int i = 0; i < n; i++) {
        if (w->kind[i] == INERT) w->xbar[i] = NAN;
        else if (w->kind[i] == SPONT) w->xbar[i] = INFINITY;
        else {
            double logm1 = w->logm1[i], denom = 1.0 - eps * eta[i];
            double b = w->b0[i] + logm1 / denom;
            double omk = -eps * (alpha + eta[i]) / denom;
            double target = log((1.0 - sigma[i]) * cost[i]) - log_expm1_(logm1);
            w->xbar[i] = (target - w->logcoef - b + logm1) / omk;
        }
    }
    return 1;
}

/* log w for the profile in w->logm; fills w->logL */
static double log_wage(WS *w) {
    int n = w->n;
    if (w->eta0) {
        double mx = -INFINITY;
        for (int i = 0; i < n; i++) {
            double t = w->logu[i] + w->logm[i];
            w->logL[i] = t;
            if (t > mx) mx = t;
        }
        double s = 0.0;
        for (int i = 0; i < n; i++) s += exp(w->logL[i] - mx);
        double logx = mx + log(s);
        for (int i = 0; i < n; i++) w->logL[i] = w->logL[i] - logx + w->logl;
        return w->logalpha + (1.0 - w->alpha) * (logx + w->c0 - w->logl);
    }
    double eps = w->eps, L = w->logl, lo = -INFINITY, hi = -INFINITY, lnn = log((double)n);
    for (int i = 0; i < n; i++) {
        double b = w->b0[i] + w->logm[i] / (1.0 - eps * w->eta[i]);
        w->logL[i] = b;
        double v = (b - L) / w->k[i];
        if (v > lo) lo = v;
        v = (b - L + lnn) / w->k[i];
        if (v > hi) hi = v;
    }
    double x = lo;
    int conv = 0;
    for (int it = 0; it < NEWTON_MAXITER; it++) {
        double mx = -INFINITY;
        for (int i = 0; i < n; i++) {
            double t = w->logL[i] - w->k[i] * x;
            if (t > mx) mx = t;
        }
        double s = 0.0, ds = 0.0;
        for (int i = 0; i < n; i++) {
            double e = exp(w->logL[i] - w->k[i] * x - mx);
            s += e; ds += w->k[i] * e;
        }
        double h = mx + log(s) - L;
        if (h <= 0.0) { conv = 1; break; }
        double step = h * s / ds, xn = x + step;
        if (xn > hi) xn = 0.5 * (x + hi);
        if (step <= 4.0 * 2.220446049250313e-16 * fmax(1.0, fabs(x))) { x = xn; conv = 1; break; }
        x = xn;
    }
    if (!conv) w->st |= WAGE_NC;
    for (int i = 0; i < n; i++) w->logL[i] -= w->k[i] * x;
    return x;
}

static void set_binary(WS *w, int64_t mask) {
    for (int i = 0; i < w->n; i++) w->logm[i] = (mask >> i) & 1 ? w->logm1[i] : 0.0;
}

static double binary_log_wage(WS *w, int64_t mask) {
    if (w->fast) {
        double xs = 0.0;
        for (int i = 0; i < w->n; i++) xs += (mask >> i) & 1 ? w->xb[i] : w->xa[i];
        return w->logalpha + (1.0 - w->alpha) * (log(xs) + w->c0 - w->logl);
    }
    set_binary(w, mask);
    return log_wage(w);
}

static double binary_welfare(WS *w, int64_t mask, double *xout) {
    int n = w->n;
    double alpha = w->alpha, csum = 0.0;
    if (w->fast) {
        double xs = 0.0, ys = 0.0;
        for (int i = 0; i < n; i++) {
            if ((mask >> i) & 1) { xs += w->xb[i]; ys += w->yb[i]; csum += w->cost[i]; }
            else { xs += w->xa[i]; ys += w->ya[i]; }
        }
        double x = w->logalpha + (1.0 - alpha) * (log(xs) + w->c0 - w->logl);
        *xout = x;
        return exp(x) * w->labor / alpha * (ys / xs) - csum;
    }
    set_binary(w, mask);
    double x = log_wage(w), vsum = 0.0;
    for (int i = 0; i < n; i++) {
        vsum += exp(x + w->logL[i]) / (1.0 + w->tau[i]);
        if ((mask >> i) & 1) csum += w->cost[i];
    }
    *xout = x;
    return vsum / alpha - csum;
}

static double set_path(WS *w, int i, double s) {
    for (int j = 0; j < w->n; j++) w->logm[j] = w->s0[j] == 1.0 ? w->logm1[j] : 0.0;
    double a = w->eps * log1p(w->theta[i] * s);
    w->logm[i] = log_m(s, a);
    return a;
}

static double path_g(WS *w, int i, double s) {
    double eps = w->eps, alpha = w->alpha;
    double net = (1.0 - w->sigma[i]) * w->cost[i];
    if (w->fast) {
        /* candidates only here (s0 = 0) */
        double e = expm1(eps * log1p(w->theta[i] * s));
        double xs = w->xa0 + w->xa[i] * s * e;
        return exp(w->logk[i] - alpha * log(xs)) * e - net;
    }
    double a = set_path(w, i, s);
    double x = log_wage(w);
    double logr = w->logcoef + x + w->logL[i] - w->logm[i];
    return exp(logr + log_expm1_(a)) - net;
}

static double path_welfare(WS *w, int i, double s) {
    set_path(w, i, s);
    double x = log_wage(w), vsum = 0.0, csum = 0.0;
    for (int j = 0; j < w->n; j++) {
        vsum += exp(x + w->logL[j]) / (1.0 + w->tau[j]);
        csum += (j == i ? s : w->s0[j]) * w->cost[j];
    }
    return vsum / w->alpha - csum;
}

static double log_rent_full(WS *w, int i, double x) {
    double b = w->b0[i] + w->logm1[i] / (1.0 - w->eps * w->eta[i]);
    return w->logcoef + x + (b - w->k[i] * x) - w->logm1[i];
}

static int brent_root(WS *w, int i, double a, double b, double fa, double fb, double *root) {
    if (fa == 0.0) { *root = a; return 1; }
    if (fb == 0.0) { *root = b; return 1; }
    double xpre = a, xcur = b, fpre = fa, fcur = fb, xblk = 0, fblk = 0, spre = 0, scur = 0;
    for (int it = 0; it < MAXITER; it++) {
        if (fpre * fcur < 0.0) { xblk = xpre; fblk = fpre; spre = xcur - xpre; scur = spre; }
        if (fabs(fblk) < fabs(fcur)) {
            xpre = xcur; xcur = xblk; xblk = xpre;
            fpre = fcur; fcur = fblk; fblk = fpre;
        }
        double delta = (XTOL + RTOL * fabs(xcur)) / 2.0, sbis = (xblk - xcur) / 2.0;
        if (fcur == 0.0 || fabs(sbis) < delta) { *root = xcur; return 1; }
        if (fabs(spre) > delta && fabs(fcur) < fabs(fpre)) {
            double stry;
            if (xpre == xblk) stry = -fcur * (xcur - xpre) / (fcur - fpre);
            else {
                double dpre = (fpre - fcur) / (xpre - xcur), dblk = (fblk - fcur) / (xblk - xcur);
                stry = -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre));
            }
            if (2.0 * fabs(stry) < fmin(fabs(spre), 3.0 * fabs(sbis) - delta)) { spre = scur; scur = stry; }
            else { spre = sbis; scur = sbis; }
        } else { spre = sbis; scur = sbis; }
        xpre = xcur; fpre = fcur;
        if (fabs(scur) > delta) xcur += scur; else xcur += sbis > 0 ? delta : -delta;
        fcur = path_g(w, i, xcur);
    }
    *root = xcur;
    return 0;
}

static int golden_peak(WS *w, int i, double a, double b, double *sp, double *gp) {
    double c = b - INVPHI * (b - a), d = a + INVPHI * (b - a);
    double fc = path_g(w, i, c), fd = path_g(w, i, d);
    for (int it = 0; it < MAXITER; it++) {
        if (b - a <= PEAK_XTOL) break;
        if (fc >= fd) { b = d; d = c; fd = fc; c = b - INVPHI * (b - a); fc = path_g(w, i, c); }
        else { a = c; c = d; fc = fd; d = a + INVPHI * (b - a); fd = path_g(w, i, d); }
    }
    int conv = b - a <= PEAK_XTOL;
    if (fc >= fd) { *sp = c; *gp = fc; } else { *sp = d; *gp = fd; }
    return conv;
}

static int popcount64(int64_t m) { return __builtin_popcountll((unsigned long long)m); }

static int better(double w, int k, int64_t mask, double bw, int bk, int64_t bmask) {
    double tol = TIE_RTOL * fmax(fabs(w), fabs(bw));
    if (w > bw + tol) return 1;
    if (w < bw - tol) return 0;
    if (k != bk) return k < bk;
    return mask < bmask;
}

static int sample_path(WS *w, int i, double g0, double g1, double *gs, int nk) {
    gs[0] = g0; gs[nk] = g1;
    for (int k = 1; k < nk; k++) gs[k] = path_g(w, i, (double)k / nk);
    int falling = 0;
    for (int k = 1; k <= nk; k++) {
        double tol = SHAPE_RTOL * fmax(fmax(fabs(gs[k]), fabs(gs[k - 1])), fabs(g0));
        if (gs[k] < gs[k - 1] - tol) falling = 1;
        else if (gs[k] > gs[k - 1] + tol && falling) return 0;
    }
    return 1;
}

static int first_crossing(WS *w, int i, const double *gs, int hi, int nk, double *root) {
    int k = 1;
    while (k < hi && gs[k] < 0.0) k++;
    return brent_root(w, i, (double)(k - 1) / nk, (double)k / nk, gs[k - 1], gs[k], root);
}

static int analyse(WS *w, int i, double w_nc, int64_t zmask, double *cm, double *ps,
                   double *gain, double *sub) {
    double gs[DENSE_SAMPLES + 1];
    int64_t mask1 = zmask | ((int64_t)1 << i);
    double x1, w1 = binary_welfare(w, mask1, &x1);
    double cost = w->cost[i];
    double lr = log_rent_full(w, i, x1);
    *sub = fmax(0.0, 1.0 - exp(lr + log_expm1_(w->logm1[i]) - log(cost)));
    double g0 = -(1.0 - w->sigma[i]) * cost;
    *ps = NAN;
    if (w->fast && (w->alpha <= 0.5 || w->xa0 > (2.0 * w->alpha - 1.0)
                    * (w->xb[i] - w->xa[i]) * (1.0 + CERT_MARGIN))) {
        /* g_i certified increasing: regime 2 iff g_i(1) >= 0, else 4/5 */
        *gain = w1 - w_nc;
        if (x1 <= w->xbar[i]) {
            double g1 = path_g(w, i, 1.0);
            if (g1 >= 0.0) { if (!brent_root(w, i, 0.0, 1.0, g0, g1, cm)) w->st |= PATH_NC; }
            else *cm = 1.0;
            return R_CF;
        }
        *cm = NAN;
        return w1 - w_nc > 0.0 ? R_SUBSIDY : R_NOTWORTH;
    }
    double g1 = path_g(w, i, 1.0);
    int K = SHAPE_SAMPLES;
    if (!sample_path(w, i, g0, g1, gs, K)) {
        w->st |= PATH_SHAPE;
        K = DENSE_SAMPLES;
        sample_path(w, i, g0, g1, gs, K);
    }
    *ps = NAN;
    if (x1 <= w->xbar[i]) {
        if (g1 >= 0.0) { if (!first_crossing(w, i, gs, K, K, cm)) w->st |= PATH_NC; }
        else *cm = 1.0;
        *gain = w1 - w_nc;
        return R_CF;
    }
    int kmax = 0;
    for (int k = 1; k <= K; k++) if (gs[k] > gs[kmax]) kmax = k;
    double speak = (double)kmax / K, gpeak = gs[kmax];
    int sampled = gpeak >= 0.0;
    int klo = kmax - 1 > 0 ? kmax - 1 : 0, khi = kmax + 1 < K ? kmax + 1 : K;
    if (!sampled && (kmax < K || path_g(w, i, 1.0 - SLOPE_STEP) >= g1)) {
        if (!golden_peak(w, i, (double)klo / K, (double)khi / K, &speak, &gpeak)) w->st |= PATH_NC;
    }
    if (gpeak >= 0.0 && speak < 1.0) {
        int c1, c2;
        if (sampled) {
            c1 = first_crossing(w, i, gs, kmax, K, cm);
            int j = K - 1;
            while (gs[j] < 0.0) j--;
            c2 = brent_root(w, i, (double)j / K, (double)(j + 1) / K, gs[j], gs[j + 1], ps);
        } else {
            c1 = brent_root(w, i, (double)klo / K, speak, gs[klo], gpeak, cm);
            c2 = brent_root(w, i, speak, (double)khi / K, gpeak, gs[khi], ps);
        }
        if (!(c1 && c2)) w->st |= PATH_NC;
        *gain = path_welfare(w, i, *ps) - w_nc;
        return R_PARTIAL;
    }
    *cm = NAN;
    *gain = w1 - w_nc;
    return w1 - w_nc > 0.0 ? R_SUBSIDY : R_NOTWORTH;
}

static void enumerate(WS *w, int64_t zmask, const int *cand, int ncand, int64_t *count,
                      int64_t *best_mask, double *best_w, double *best_x) {
    double x0, w0 = binary_welfare(w, zmask, &x0);
    *count = 1; *best_mask = zmask; *best_w = w0; *best_x = x0;
    int best_k = popcount64(zmask);
    if (ncand == 0) return;
    int pos[MAXN + 1];
    int64_t masks[MAXN + 1];
    double minx[MAXN + 1];
    int depth = 0;
    pos[0] = 0; masks[0] = zmask; minx[0] = INFINITY;
    while (depth >= 0) {
        if (pos[depth] >= ncand) { depth--; if (depth >= 0) pos[depth]++; continue; }
        int j = cand[pos[depth]];
        int64_t mask = masks[depth] | ((int64_t)1 << j);
        double bound = fmin(minx[depth], w->xbar[j]);
        double x = binary_log_wage(w, mask);
        if (x <= bound) {
            (*count)++;
            double xw, ww = binary_welfare(w, mask, &xw);
            int k = popcount64(mask);
            if (better(ww, k, mask, *best_w, best_k, *best_mask)) {
                *best_w = ww; best_k = k; *best_mask = mask; *best_x = xw;
            }
            masks[depth + 1] = mask; minx[depth + 1] = bound;
            pos[depth + 1] = pos[depth] + 1;
            depth++;
        } else pos[depth]++;
    }
}

static void first_best(WS *w, const int *active, int nactive, int64_t *fbmask, double *fbw) {
    int64_t bm = 0; double bw = -INFINITY; int bk = 0;
    for (int64_t code = 0; code < ((int64_t)1 << nactive); code++) {
        int64_t mask = 0;
        for (int b = 0; b < nactive; b++) if ((code >> b) & 1) mask |= (int64_t)1 << active[b];
        double x, ww = binary_welfare(w, mask, &x);
        int k = popcount64(mask);
        if (code == 0 || better(ww, k, mask, bw, bk, bm)) { bw = ww; bk = k; bm = mask; }
    }
    *fbmask = bm; *fbw = bw;
}

/* Solve npts points of n sectors; sector inputs are row-major (npts, n). */
void cs_solve_block(int64_t npts, int n, const double *labor, const double *alpha,
                    const double *price, const double *prod, const double *theta,
                    const double *cost, const double *eta, const double *tau,
                    const double *sigma,
                    double *wage_nc, double *welfare_nc, int64_t *n_eq,
                    double *welfare_best, double *wage_best, double *welfare_fb,
                    int64_t *best_mask, int64_t *fb_mask, double *fiscal_nc, int8_t *status,
                    int8_t *regime, double *cm, double *ps, double *gain, double *thr,
                    double *sub) {
    WS w;
    for (int64_t p = 0; p < npts; p++) {
        int64_t o = p * n;
        if (!prepare(&w, n, labor[p], alpha[p], price + o, prod + o, theta + o, cost + o,
                     eta + o, tau + o, sigma + o)) {
            wage_nc[p] = welfare_nc[p] = welfare_best[p] = wage_best[p] = welfare_fb[p] = NAN;
            fiscal_nc[p] = NAN; n_eq[p] = 0; best_mask[p] = fb_mask[p] = 0;
            status[p] = (int8_t)w.st;
            for (int i = 0; i < n; i++) {
                regime[o + i] = -1;
                cm[o + i] = ps[o + i] = gain[o + i] = thr[o + i] = sub[o + i] = NAN;
            }
            continue;
        }
        int64_t zmask = 0;
        int cand[MAXN], active[MAXN], ncand = 0, nactive = 0;
        for (int i = 0; i < n; i++) {
            if (w.kind[i] == SPONT) zmask |= (int64_t)1 << i;
            if (w.kind[i] == CAND) cand[ncand++] = i;
            if (w.kind[i] != INERT) active[nactive++] = i;
        }
        set_binary(&w, zmask);
        double x_nc = log_wage(&w), fiscal = 0.0;
        for (int i = 0; i < n; i++) {
            double v = exp(x_nc + w.logL[i]) / (w.alpha * (1.0 + w.tau[i]));
            fiscal += w.tau[i] * v + w.sigma[i] * w.s0[i] * w.cost[i];
        }
        double wnc = binary_welfare(&w, zmask, &x_nc);
        wage_nc[p] = exp(x_nc); welfare_nc[p] = wnc; fiscal_nc[p] = fiscal;
        int64_t cnt, bmask; double bw, bx;
        enumerate(&w, zmask, cand, ncand, &cnt, &bmask, &bw, &bx);
        n_eq[p] = cnt; welfare_best[p] = bw; wage_best[p] = exp(bx); best_mask[p] = bmask;
        int64_t fm; double fw;
        first_best(&w, active, nactive, &fm, &fw);
        fb_mask[p] = fm; welfare_fb[p] = fw;
        for (int i = 0; i < n; i++) {
            thr[o + i] = exp(w.xbar[i]);
            if (w.kind[i] == INERT) {
                regime[o + i] = R_INERT; cm[o + i] = ps[o + i] = NAN; gain[o + i] = 0.0;
                thr[o + i] = NAN; sub[o + i] = NAN;
            } else if (w.kind[i] == SPONT) {
                regime[o + i] = R_SPONT; cm[o + i] = 0.0; ps[o + i] = NAN;
                gain[o + i] = 0.0; sub[o + i] = 0.0;
            } else {
                regime[o + i] = (int8_t)analyse(&w, i, wnc, zmask, cm + o + i, ps + o + i,
                                                gain + o + i, sub + o + i);
            }
        }
        status[p] = (int8_t)w.st;
    }
}
