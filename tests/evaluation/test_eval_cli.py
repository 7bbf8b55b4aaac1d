"""``govwatch evaluate`` as spec/interface.md fixes it."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from govwatch.cli.evaluation import register
from govwatch.errors import GovwatchError

SYSTEM = """
name: 测试体系
thresholds: {2: 60, 3: 70, 4: 80, 5: 90}
gates: {4: [pre]}
indicators:
  - id: supply
    name: 供给
    children:
      - {id: rate, name: 按时办结率, points: 50, source: metric, scale: ratio}
      - {id: pre, name: 网上预审, points: 10, source: check, scale: boolean}
  - id: visits
    name: 跑动次数
    points: 40
    children:
      - {id: visits.avg, name: 平均跑动次数, points: 40, scale: bands, better: lower,
         bands: [[0, 40], [1, 20]]}
"""


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    system = tmp_path / "system.yaml"
    system.write_text(SYSTEM, encoding="utf-8")
    values = tmp_path / "values.csv"
    values.write_text(
        "unit,indicator,value\n"
        "A,rate,0.9\nA,pre,是\nA,visits.avg,0\n"  # 45 + 10 + 40 = 95, 5 stars
        "B,rate,1.0\nB,pre,否\nB,visits.avg,0.5\n"  # 50 + 0 + 20 = 70, gate blocks 4: 3 stars
        "C,rate,0.4\nC,pre,1\nC,visits.avg,1\n"  # 20 + 10 + 20 = 50, 0 stars
        "D,rate,,\n",  # only one (missing) value
        encoding="utf-8",
    )
    groups = tmp_path / "groups.jsonl"
    groups.write_text(
        "\n".join(
            json.dumps({"unit": u, "group": g}, ensure_ascii=False)
            for u, g in [("A", "城市"), ("B", "县区"), ("C", "县区"), ("D", "县区")]
        ),
        encoding="utf-8",
    )
    return {"system": system, "values": values, "groups": groups}


def invoke(*args: str) -> object:
    group = click.Group()
    register(group)
    return CliRunner().invoke(group, list(args), catch_exceptions=False)


def test_evaluate_json_prints_one_record_per_unit_with_spec_keys(files: dict[str, Path]) -> None:
    out = invoke(
        "evaluate",
        "--system",
        str(files["system"]),
        "--values",
        str(files["values"]),
        "--groups",
        str(files["groups"]),
        "--format",
        "json",
    )
    assert out.exit_code == 0, out.output
    rows = {r["unit"]: r for r in json.loads(out.stdout)}
    assert set(rows["A"]) == {
        "unit",
        "group",
        "score",
        "stars",
        "rank",
        "group_rank",
        "points",
        "missing",
    }
    assert rows["A"] == {
        "unit": "A",
        "group": "城市",
        "score": 95.0,
        "stars": 5,
        "rank": 1,
        "group_rank": 1,
        "points": {"rate": 45.0, "pre": 10.0, "visits.avg": 40.0},
        "missing": [],
    }
    assert (rows["B"]["score"], rows["B"]["stars"], rows["B"]["rank"], rows["B"]["group_rank"]) == (
        70.0,
        3,
        2,
        1,
    )
    assert (rows["C"]["score"], rows["C"]["stars"], rows["C"]["group_rank"]) == (50.0, 0, 2)
    assert rows["D"]["missing"] == ["rate", "pre", "visits.avg"] and rows["D"]["rank"] == 4
    assert "覆盖率" in out.stderr and "D" in out.stderr


def test_evaluate_jsonl_with_uncertainty_adds_interval_and_stability(
    files: dict[str, Path],
) -> None:
    out = invoke(
        "evaluate",
        "--system",
        str(files["system"]),
        "--values",
        str(files["values"]),
        "--uncertainty",
        "200",
        "--format",
        "jsonl",
    )
    assert out.exit_code == 0
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["unit"] for r in rows] == ["A", "B", "C", "D"]
    for r in rows:
        low, high = r["rank_interval"]
        assert 1 <= low <= high <= 4
        assert 0.0 <= r["star_stability"] <= 1.0
    assert rows[0]["rank_interval"] == [1, 1] and rows[0]["star_stability"] == 1.0
    assert rows[0]["group"] is None


def test_evaluate_table_shows_two_decimals(files: dict[str, Path]) -> None:
    out = invoke("evaluate", "--system", str(files["system"]), "--values", str(files["values"]))
    assert out.exit_code == 0
    assert "95.00" in out.stdout and "★★★★★" in out.stdout


def test_unknown_indicator_in_values_is_an_error(files: dict[str, Path], tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("unit,indicator,value\nA,nope,1\n", encoding="utf-8")
    with pytest.raises(GovwatchError, match="nope"):
        invoke("evaluate", "--system", str(files["system"]), "--values", str(bad))


def test_non_numeric_value_is_an_error(files: dict[str, Path], tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"unit": "A", "indicator": "rate", "value": "high"}\n', encoding="utf-8")
    with pytest.raises(GovwatchError, match="high"):
        invoke("evaluate", "--system", str(files["system"]), "--values", str(bad))


def test_malformed_system_is_an_error(files: dict[str, Path], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: x\nindicators:\n  - {id: a, points: 90, scale: ratio}\n", encoding="utf-8"
    )
    with pytest.raises(GovwatchError, match="90"):
        invoke("evaluate", "--system", str(bad), "--values", str(files["values"]))


def test_govwatch_evaluate_as_a_process_prints_json_only_on_stdout(
    files: dict[str, Path], tmp_path: Path
) -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "govwatch.cli",
            "evaluate",
            "--system",
            str(files["system"]),
            "--values",
            str(files["values"]),
            "--groups",
            str(files["groups"]),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        cwd=root,
        check=False,
    )
    assert ok.returncode == 0
    assert [r["unit"] for r in json.loads(ok.stdout)] == ["A", "B", "C", "D"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: x\nindicators:\n  - {id: a, points: 90, scale: ratio}\n", encoding="utf-8"
    )
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "govwatch.cli",
            "evaluate",
            "--system",
            str(bad),
            "--values",
            str(files["values"]),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        cwd=root,
        check=False,
    )
    assert refused.returncode == 2 and refused.stdout == ""
    assert "90" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1


def test_explain_adds_coverage_nodes_lost_points_and_gains(files: dict[str, Path]) -> None:
    out = invoke(
        "evaluate",
        "--system",
        str(files["system"]),
        "--values",
        str(files["values"]),
        "--explain",
        "--format",
        "json",
    )
    b = {r["unit"]: r for r in json.loads(out.stdout)}["B"]
    assert b["nodes"] == {"supply": 50.0, "visits": 20.0}
    assert b["lost"] == {"rate": 0.0, "pre": 10.0, "visits.avg": 20.0}
    assert b["gain_most"] == [
        {"indicator": "visits.avg", "points": 20.0},
        {"indicator": "pre", "points": 10.0},
    ]
    assert b["coverage"] == 1.0 and b["poorly_covered"] is False
