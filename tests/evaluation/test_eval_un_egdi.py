"""A real published composite index: the UN E-Government Development Index 2018.

EGDI is the plain mean of three normalised components (OSI, HCI, TII); value groups are
very high ≥ 0.75, high 0.50–0.75, middle 0.25–0.50, low < 0.25 (40, 71, 66, 16 countries).
A system of the three components as ``ratio`` leaves of 100/3 points each must reproduce the
published index, its ranks and its value groups.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from govwatch.evaluation import evaluate_records, parse_system

DATA = Path("/work/shared/data/un-egdi-2018.csv")
THIRD = 100 / 3

SYSTEM = f"""
name: UN E-Government Development Index 2018
thresholds: {{2: 25, 3: 50, 4: 75}}
indicators:
  - {{id: osi, name: Online Service Index, points: {THIRD!r}, source: check, scale: ratio}}
  - {{id: hci, name: Human Capital Index, points: {THIRD!r}, source: check, scale: ratio}}
  - {{id: tii, name: Telecommunication Infrastructure Index, points: {THIRD!r},
     source: check, scale: ratio}}
"""


@pytest.fixture(scope="module")
def countries() -> list[dict[str, str]]:
    if not DATA.exists():
        pytest.skip(f"{DATA} is not present")
    with DATA.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def results(countries: list[dict[str, str]]) -> dict[str, object]:
    system = parse_system(SYSTEM)
    rows = [
        {"unit": c["country-code"], "indicator": k, "value": c[k]}
        for c in countries
        for k in ("osi", "hci", "tii")
    ]
    return evaluate_records(system, rows).by_unit()  # type: ignore[return-value]


def test_scores_reproduce_the_published_index(countries, results) -> None:  # type: ignore[no-untyped-def]
    for c in countries:
        assert round(results[c["country-code"]].score / 100, 4) == pytest.approx(
            float(c["e-gov-index"]), abs=1e-9
        ), c["country-name"]


def test_star_levels_reproduce_the_value_groups(results) -> None:  # type: ignore[no-untyped-def]
    names = {5: "very high", 4: "very high", 3: "high", 2: "middle", 0: "low"}
    counts = Counter(names[r.stars] for r in results.values())
    assert counts == {"very high": 40, "high": 71, "middle": 66, "low": 16}


def test_ranks_reproduce_the_published_ranks(countries, results) -> None:  # type: ignore[no-untyped-def]
    # Published ranks rank the index rounded to 4 decimals; unrounded means may only split a
    # published tie, never reorder two countries whose published index differs.
    published = {c["country-code"]: int(c["e-gov-rank"]) for c in countries}
    index = {c["country-code"]: float(c["e-gov-index"]) for c in countries}
    for code, r in results.items():
        ties = [k for k in index if index[k] == index[code]]
        assert published[code] <= r.rank < published[code] + len(ties), code
    exact = sum(1 for code, r in results.items() if r.rank == published[code])
    assert exact >= 185


def test_ranks_of_the_published_index_itself_match_exactly(countries) -> None:  # type: ignore[no-untyped-def]
    system = parse_system(
        "name: EGDI\nindicators:\n  - {id: egdi, name: EGDI, points: 100, scale: ratio}\n"
    )
    rows = [
        {"unit": c["country-code"], "indicator": "egdi", "value": c["e-gov-index"]}
        for c in countries
    ]
    got = evaluate_records(system, rows).by_unit()
    assert {k: r.rank for k, r in got.items()} == {
        c["country-code"]: int(c["e-gov-rank"]) for c in countries
    }


def test_minmax_of_a_component_spans_zero_to_full_points(countries) -> None:  # type: ignore[no-untyped-def]
    system = parse_system(
        "name: OSI\nindicators:\n  - {id: osi, name: OSI, points: 100, scale: minmax}\n"
    )
    rows = [{"unit": c["country-code"], "indicator": "osi", "value": c["osi"]} for c in countries]
    got = evaluate_records(system, rows).by_unit()
    top = max(countries, key=lambda c: float(c["osi"]))["country-code"]
    bottom = min(countries, key=lambda c: float(c["osi"]))["country-code"]
    assert got[top].score == pytest.approx(100) and got[bottom].score == pytest.approx(0)
