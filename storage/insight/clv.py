"""Lifetime value: the BG/NBD model of purchase counts (Fader, Hardie & Lee 2005, "Counting your
customers the easy way") and the Gamma-Gamma model of spend per purchase (Fader, Hardie & Lee 2005,
"RFM and CLV: using iso-value curves"), fitted by maximum likelihood on scipy. Pure functions over
numpy arrays; storage.insight.scoring reads the purchases and keeps the fitted parameters with its run.

A customer is (x, t_x, T) in one time unit (scoring uses days): x repeat purchases (all purchases but
the first), t_x the time of the last purchase and T the time now, both since the first purchase. The
log-likelihoods are written in log space (gammaln, betaln, logaddexp), so large x and T neither
overflow nor lose precision; parameters are fitted as their logarithms (positive by construction)
with L-BFGS-B.

When the model cannot be fitted (fewer than InsightConfig.min_repeat_buyers repeat buyers, default 30,
or the optimiser does not converge) the heuristic below stands in, from the customer's own rhythm:
  gap      = the mean time between their purchases (t_x / x), or `default_gap_days` with one purchase;
  P(alive) = 1 while the time since their last purchase is within one gap, then e^(−(overdue / gap)):
             a customer one whole gap overdue is alive with probability 0.37;
  expected purchases in t = P(alive) × t / gap;
  spend per purchase = their own average order value.
CLV over 12 months is, in both cases, the expected purchases in each month × the expected spend per
purchase, discounted by `monthly_discount` per month (revenue, not margin: the business has no costs
in the bot).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, special

Array = NDArray[np.float64]
MONTH_DAYS = 365.25 / 12


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    gamma: float


def bgnbd_log_likelihood(params: BgNbd, x: Array, t_x: Array, T: Array) -> Array:
    """Each customer's log-likelihood under BG/NBD (FHL 2005, eq. 6)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = special.betaln(a, b + x) - special.betaln(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(
            x > 0,
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return np.asarray(a1 + a2 + np.logaddexp(a3, a4), dtype=np.float64)


def fit_bgnbd(x: Array, t_x: Array, T: Array) -> BgNbd | None:
    """The maximum-likelihood parameters, or None when the optimiser does not converge."""

    def loss(log_params: Array) -> float:
        params = BgNbd(*np.exp(log_params))
        return float(-bgnbd_log_likelihood(params, x, t_x, T).sum() / len(x))

    result = optimize.minimize(loss, np.zeros(4), method="L-BFGS-B", bounds=[(-10.0, 10.0)] * 4)
    if not result.success or not np.all(np.isfinite(result.x)):
        return None
    return BgNbd(*(float(v) for v in np.exp(result.x)))


def _dead_odds_log(params: BgNbd, x: Array, t_x: Array, T: Array) -> Array:
    """log of a/(b+x−1) · ((α+T)/(α+t_x))^(r+x) for repeat buyers; −inf (odds 0) otherwise."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = (
            np.log(a)
            - np.log(np.maximum(b + x - 1, 1e-300))
            + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        )
    return np.where(x > 0, odds, -np.inf)


def p_alive(params: BgNbd, x: Array, t_x: Array, T: Array) -> Array:
    """P(still active | x, t_x, T) (FHL 2005, eq. 11): 1 / (1 + odds), as expit(−log odds)."""
    return np.asarray(special.expit(-_dead_odds_log(params, x, t_x, T)), dtype=np.float64)


def expected_purchases(params: BgNbd, t: float, x: Array, t_x: Array, T: Array) -> Array:
    """E[purchases in the next t | x, t_x, T] (FHL 2005, eq. 10). The paper's
    ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x−1; z) is taken through Euler's transformation,
    2F1(A, B; C; z) = (1−z)^(C−A−B) · 2F1(C−A, C−B; C; z), to ((α+T)/(α+T+t))^(a−1) ·
    2F1(a+b−1−r, a−1; a+b+x−1; z): the same value, but its parameters no longer grow with x, so a
    customer with hundreds of purchases neither overflows the series nor cancels it to noise."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    z = t / (alpha + T + t)
    term = np.exp((a - 1) * (np.log(alpha + T) - np.log(alpha + T + t))) * special.hyp2f1(
        a + b - 1 - r, a - 1, a + b + x - 1, z
    )
    head = (a + b + x - 1) / (a - 1)
    return np.asarray(head * (1 - term) * p_alive(params, x, t_x, T), dtype=np.float64)


def gamma_gamma_log_likelihood(params: GammaGamma, x: Array, mean_spend: Array) -> Array:
    """Each repeat buyer's log-likelihood of their mean spend over x purchases (FHL 2005b)."""
    p, q, g = params.p, params.q, params.gamma
    px = p * x
    return np.asarray(
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(g)
        + (px - 1) * np.log(mean_spend)
        + px * np.log(x)
        - (px + q) * np.log(g + x * mean_spend),
        dtype=np.float64,
    )


def fit_gamma_gamma(x: Array, mean_spend: Array) -> GammaGamma | None:
    """Fitted on repeat buyers only (x > 0, mean spend > 0); None when it does not converge."""
    keep = (x > 0) & (mean_spend > 0)
    x, mean_spend = x[keep], mean_spend[keep]
    if not len(x):
        return None

    def loss(log_params: Array) -> float:
        params = GammaGamma(*np.exp(log_params))
        return float(-gamma_gamma_log_likelihood(params, x, mean_spend).sum() / len(x))

    result = optimize.minimize(loss, np.zeros(3), method="L-BFGS-B", bounds=[(-10.0, 10.0)] * 3)
    if not result.success or not np.all(np.isfinite(result.x)):
        return None
    params = GammaGamma(*(float(v) for v in np.exp(result.x)))
    return params if params.q > 1 else None  # the expected spend needs q > 1


def expected_spend(params: GammaGamma, x: Array, mean_spend: Array) -> Array:
    """E[spend per purchase | x, mean spend]: the population mean p·γ/(q−1) weighted against the
    customer's own mean by x (FHL 2005b, eq. 5); the population mean for x = 0."""
    p, q, g = params.p, params.q, params.gamma
    population = p * g / (q - 1)
    weight = p * x / (p * x + q - 1)
    return np.asarray((1 - weight) * population + weight * mean_spend, dtype=np.float64)


def discounted_purchases(
    expected: Array | None, months: int, monthly_discount: float, per_month: Array | None = None
) -> Array:
    """Σ over months m of (purchases expected in month m) / (1 + d)^m, from either the cumulative
    expectations (expected[m] for m = 0..months, in an array of shape (months + 1, n)) or a constant
    rate per month."""
    factors = (1 + monthly_discount) ** -np.arange(1, months + 1)
    if expected is not None:
        return np.asarray(factors @ np.diff(expected, axis=0), dtype=np.float64)
    assert per_month is not None
    return np.asarray(per_month * factors.sum(), dtype=np.float64)


@dataclass(frozen=True)
class Model:
    """What a run fitted (either may be None: the heuristic stands in)."""

    bgnbd: BgNbd | None
    spend: GammaGamma | None

    def as_json(self) -> dict[str, object]:
        return {
            "bgnbd": None if self.bgnbd is None else vars(self.bgnbd),
            "spend": None if self.spend is None else vars(self.spend),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Model:
        bg, gg = data.get("bgnbd"), data.get("spend")
        return cls(
            BgNbd(**bg) if isinstance(bg, dict) else None,
            GammaGamma(**gg) if isinstance(gg, dict) else None,
        )


def fit(x: Array, t_x: Array, T: Array, mean_spend: Array, min_repeat_buyers: int) -> Model:
    """Both models, when there are enough repeat buyers to fit them."""
    if int((x > 0).sum()) < min_repeat_buyers:
        return Model(None, None)
    bgnbd = fit_bgnbd(x, t_x, T)
    return Model(bgnbd, fit_gamma_gamma(x, mean_spend) if bgnbd is not None else None)


@dataclass(frozen=True)
class Values:
    p_alive: Array
    expected_90d: Array
    clv_12m: Array


def _heuristic(
    x: Array, t_x: Array, T: Array, monthly_discount: float, default_gap_days: float
) -> tuple[Array, Array, Array]:
    """(P(alive), purchases in 90 days, discounted purchases in 12 months) by the module's heuristic."""
    gap = np.where(x > 0, t_x / np.maximum(x, 1), default_gap_days)
    gap = np.maximum(gap, 1.0)  # two purchases on one day are not a rhythm of minutes
    overdue = np.maximum(T - t_x - gap, 0.0)
    alive = np.exp(-overdue / gap)
    per_month = alive * MONTH_DAYS / gap
    return alive, alive * 90.0 / gap, discounted_purchases(None, 12, monthly_discount, per_month=per_month)


def values(
    model: Model,
    x: Array,
    t_x: Array,
    T: Array,
    mean_spend: Array,
    *,
    monthly_discount: float,
    default_gap_days: float,
) -> Values:
    """P(alive), purchases expected in 90 days and the 12-month CLV of customers (times in days). A
    customer for whom the model's formulas do not give finite numbers (an extreme history can overflow
    the hypergeometric function) gets the heuristic's."""
    alive, expected_90, purchases = _heuristic(x, t_x, T, monthly_discount, default_gap_days)
    if model.bgnbd is not None:
        with np.errstate(all="ignore"):  # what is not finite is replaced below
            fitted = (
                p_alive(model.bgnbd, x, t_x, T),
                expected_purchases(model.bgnbd, 90.0, x, t_x, T),
                discounted_purchases(
                    np.stack([expected_purchases(model.bgnbd, m * MONTH_DAYS, x, t_x, T) for m in range(13)]),
                    12,
                    monthly_discount,
                ),
            )
        finite = np.isfinite(fitted[0]) & np.isfinite(fitted[1]) & np.isfinite(fitted[2])
        alive, expected_90, purchases = (
            np.where(finite, f, h) for f, h in zip(fitted, (alive, expected_90, purchases), strict=True)
        )
    spend = mean_spend if model.spend is None else expected_spend(model.spend, x, mean_spend)
    return Values(alive, expected_90, purchases * spend)
