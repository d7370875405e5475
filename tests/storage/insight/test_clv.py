"""BG/NBD and Gamma-Gamma fitted on the CDNOW sample (tests/data/cdnow) reproduce Fader, Hardie & Lee
(2005): r 0.243, α 4.414, a 0.793, b 2.426, and p 6.25, q 3.74, γ 15.44, each within 1% (relative;
the published figures are rounded to 3-4 digits, and the fit lands within 0.1% of them); the paper's
worked example (x 2, t_x 30.43, T 38.86 expects 1.226 purchases in the next 39 weeks) within 0.5%.
Then the heuristic for a business too small to fit."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from storage.insight import clv

DATA = Path(__file__).parents[2] / "data" / "cdnow" / "cdnow_customers_summary_with_transactions.csv"
TOLERANCE = 0.01


@pytest.fixture(scope="module")
def cdnow() -> dict[str, np.ndarray]:
    with DATA.open() as fh:
        rows = list(csv.DictReader(fh))
    return {key: np.array([float(row[key]) for row in rows]) for key in ("x", "t_x", "T", "zbar")}


def test_the_sample_is_the_published_one(cdnow: dict[str, np.ndarray]) -> None:
    assert len(cdnow["x"]) == 2357
    assert int((cdnow["x"] > 0).sum()) == 946  # repeat buyers, as in the paper
    assert cdnow["x"].sum() == 2457


def test_bgnbd_reproduces_the_published_estimates(cdnow: dict[str, np.ndarray]) -> None:
    params = clv.fit_bgnbd(cdnow["x"], cdnow["t_x"], cdnow["T"])
    assert params is not None
    fitted = (params.r, params.alpha, params.a, params.b)
    assert fitted == pytest.approx((0.243, 4.414, 0.793, 2.426), rel=TOLERANCE)
    ll = clv.bgnbd_log_likelihood(params, cdnow["x"], cdnow["t_x"], cdnow["T"]).sum()
    assert ll == pytest.approx(-9582.4, abs=0.1)  # the paper's maximised log-likelihood


def test_the_papers_worked_example(cdnow: dict[str, np.ndarray]) -> None:
    params = clv.BgNbd(0.243, 4.414, 0.793, 2.426)
    x, t_x, T = np.array([2.0]), np.array([30.43]), np.array([38.86])
    assert clv.expected_purchases(params, 39, x, t_x, T)[0] == pytest.approx(1.226, rel=0.005)
    # A one-time buyer is alive for sure under BG/NBD (nobody drops out before a repeat purchase);
    # a repeat buyer long silent is less likely alive than a recent one.
    alive = clv.p_alive(params, np.array([0.0, 5.0, 5.0]), np.array([0.0, 10.0, 38.0]), np.full(3, 39.0))
    assert alive[0] == 1.0 and alive[1] < 0.2 and alive[2] > 0.85


def test_gamma_gamma_reproduces_the_published_estimates(cdnow: dict[str, np.ndarray]) -> None:
    params = clv.fit_gamma_gamma(cdnow["x"], cdnow["zbar"])
    assert params is not None
    assert (params.p, params.q, params.gamma) == pytest.approx((6.25, 3.74, 15.44), rel=TOLERANCE)
    # The population's mean spend per purchase, p·γ/(q−1): the paper's $35.2 (rounded).
    assert params.p * params.gamma / (params.q - 1) == pytest.approx(35.2, abs=0.05)


def test_the_fitted_values_hold_together(cdnow: dict[str, np.ndarray]) -> None:
    model = clv.fit(cdnow["x"], cdnow["t_x"], cdnow["T"], cdnow["zbar"], min_repeat_buyers=30)
    assert model.bgnbd is not None and model.spend is not None
    values = clv.values(
        model, cdnow["x"], cdnow["t_x"], cdnow["T"], cdnow["zbar"], monthly_discount=0.01, default_gap_days=60
    )
    assert np.all((values.p_alive > 0) & (values.p_alive <= 1))
    assert np.all(values.expected_90d >= 0) and np.all(np.isfinite(values.clv_12m))
    # (In weeks here: 90 "days" are 90 weeks; still, more repeat purchases mean more expected.)
    best = int(np.argmax(values.clv_12m))
    assert cdnow["x"][best] >= 10


def test_too_few_repeat_buyers_fall_back_to_the_heuristic() -> None:
    x = np.array([0.0, 3.0, 3.0])
    t_x = np.array([0.0, 60.0, 60.0])  # every 20 days
    T = np.array([10.0, 70.0, 140.0])  # 10 days since, then 80 days since (three gaps overdue)
    spend = np.array([40.0, 25.0, 25.0])
    model = clv.fit(x, t_x, T, spend, min_repeat_buyers=30)
    assert model == clv.Model(None, None)
    values = clv.values(model, x, t_x, T, spend, monthly_discount=0.0, default_gap_days=60)
    assert values.p_alive.tolist() == pytest.approx([1.0, 1.0, np.exp(-3)])
    assert values.expected_90d.tolist() == pytest.approx([1.5, 4.5, 4.5 * np.exp(-3)])
    # Undiscounted: a year's purchases at the customer's rhythm × their order value.
    assert values.clv_12m[1] == pytest.approx(365.25 / 20 * 25)
    discounted = clv.values(model, x, t_x, T, spend, monthly_discount=0.01, default_gap_days=60)
    assert discounted.clv_12m[1] < values.clv_12m[1]


def test_the_model_survives_json() -> None:
    model = clv.Model(clv.BgNbd(0.2, 4.0, 0.8, 2.4), None)
    assert clv.Model.from_json(model.as_json()) == model


def test_expected_purchases_stay_finite_for_hundreds_of_purchases() -> None:
    """The paper's form of eq. 10 overflows (nan) for x in the thousands; the transformed one does not,
    and agrees with it where both are finite."""
    params = clv.BgNbd(0.243, 4.414, 0.793, 2.426)
    x = np.array([10.0, 100.0, 5000.0])
    t_x, T = np.array([38.0, 38.0, 39.0]), np.full(3, 39.0)
    expected = clv.expected_purchases(params, 52.0, x, t_x, T)
    assert np.all(np.isfinite(expected))

    def paper(i: int) -> float:  # FHL 2005 eq. 10 as printed
        from scipy import special

        r, alpha, a, b = params.r, params.alpha, params.a, params.b
        z = 52.0 / (alpha + T[i] + 52.0)
        ratio = ((alpha + T[i]) / (alpha + T[i] + 52.0)) ** (r + x[i])
        bracket = 1 - ratio * special.hyp2f1(r + x[i], b + x[i], a + b + x[i] - 1, z)
        alive = clv.p_alive(params, x[i : i + 1], t_x[i : i + 1], T[i : i + 1])[0]
        return float((a + b + x[i] - 1) / (a - 1) * bracket * alive)

    assert expected[0] == pytest.approx(paper(0), rel=1e-9)
    # A customer buying at (r+x)/(α+T) ≈ 115 a week who bought just now: fewer than 115 × 52 over a
    # year (each purchase may be their last, with P ≈ a/(a+b+x−1)), but more than half of it.
    rate = (params.r + 5000) / (params.alpha + 39.0) * 52
    assert 0.5 * rate < expected[2] < rate
