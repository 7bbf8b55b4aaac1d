"""``make audit`` offline: OSV ranges, the checker run as a process, waivers, the mirror's refresh,
and ECharts pinned past its published XSS (issue 18 item 9)."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

from tools.audit_deps import affects, in_range, locked_npm, run_audit
from tools.refresh_advisories import refresh

ROOT = Path(__file__).resolve().parents[1]
AUDIT = ROOT / "tools" / "audit_deps.py"


def advisory(
    ident: str, ecosystem: str, name: str, *events: dict[str, str], **more: Any
) -> dict[str, Any]:
    return {
        "id": ident,
        "summary": f"fake advisory {ident}",
        "aliases": more.pop("aliases", []),
        "affected": [
            {
                "package": {"ecosystem": ecosystem, "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": list(events)}] if events else [],
                **({"versions": more.pop("versions")} if "versions" in more else {}),
            }
        ],
        **more,
    }


# -- the range logic ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("0.9", True),
        ("1.26.16", True),
        ("1.26.17", False),  # fixed is the first version that is not affected
        ("1.27.0", False),
        ("2.0.0", True),  # a second range opens again
        ("2.0.5", True),
        ("2.0.6", False),
        ("2.34.2", False),
    ],
)
def test_two_ranges_in_one_advisory_in_any_order(version: str, expected: bool) -> None:
    # written out of order, as some PyPA records are: OSV sorts the events by version
    events = [
        {"introduced": "2.0.0"},
        {"fixed": "2.0.6"},
        {"introduced": "0"},
        {"fixed": "1.26.17"},
    ]
    assert in_range(Version(version), events) is expected


def test_last_affected_includes_that_version_and_limit_excludes_its_own() -> None:
    last = [{"introduced": "1.0"}, {"last_affected": "1.4.2"}]
    assert in_range(Version("1.4.2"), last)
    assert not in_range(Version("1.4.3"), last)
    assert not in_range(Version("0.9"), last)
    limit = [{"introduced": "0"}, {"limit": "3.0"}]
    assert in_range(Version("2.9.9"), limit)
    assert not in_range(Version("3.0"), limit)


def test_pre_releases_compare_before_their_release_in_both_ecosystems() -> None:
    fixed = advisory("X-1", "npm", "echarts", {"introduced": "0"}, {"fixed": "6.1.0"})
    assert affects(fixed, "npm", "echarts", "6.1.0-rc.1")
    assert affects(fixed, "npm", "echarts", "5.6.0")
    assert not affects(fixed, "npm", "echarts", "6.1.0")
    py = advisory("X-2", "PyPI", "Some_Pkg", {"introduced": "0"}, {"fixed": "2.0"})
    assert affects(py, "PyPI", "some-pkg", "2.0rc1")  # names compare as PEP 503 spells them
    assert not affects(py, "PyPI", "some-pkg", "2.0.post1")


def test_listed_versions_withdrawn_records_and_other_packages() -> None:
    listed = advisory("X-3", "PyPI", "pkg", versions=["1.0", "1.2"])
    assert affects(listed, "PyPI", "pkg", "1.2.0")  # 1.2 and 1.2.0 are one version
    assert not affects(listed, "PyPI", "pkg", "1.1")
    withdrawn = advisory(
        "X-4", "PyPI", "pkg", {"introduced": "0"}, withdrawn="2024-01-01T00:00:00Z"
    )
    assert not affects(withdrawn, "PyPI", "pkg", "1.0")
    assert not affects(advisory("X-5", "PyPI", "other", {"introduced": "0"}), "PyPI", "pkg", "1.0")
    assert not affects(advisory("X-6", "npm", "pkg", {"introduced": "0"}), "PyPI", "pkg", "1.0")


# -- the checker as `make audit` runs it --------------------------------------------------------


def fake_mirror(
    tmp: Path, python: dict[str, list[dict[str, Any]]], npm: dict[str, list[dict[str, Any]]]
) -> Path:
    mirror = tmp / "advisories"
    mirror.mkdir()
    index: dict[str, Any] = {}
    for folder, packages in (("pypi", python), ("npm", npm)):
        index[folder] = {"mirrored_on": "2026-12-01", "packages": {}}
        for name, records in packages.items():
            (mirror / folder / name).mkdir(parents=True)
            for record in records:
                (mirror / folder / name / f"{record['id']}.json").write_text(json.dumps(record))
            index[folder]["packages"][name] = [r["id"] for r in records]
    (mirror / "index.json").write_text(json.dumps(index))
    return mirror


def lockfile(tmp: Path, **packages: str) -> Path:
    path = tmp / "package-lock.json"
    entries: dict[str, Any] = {"": {"name": "x"}}
    entries.update({f"node_modules/{n}": {"version": v} for n, v in packages.items()})
    path.write_text(json.dumps({"lockfileVersion": 3, "packages": entries}))
    return path


def run(
    mirror: Path, waivers: Path, lock: Path, today: str = "2026-12-06"
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(AUDIT),
            "--mirror",
            str(mirror),
            "--waivers",
            str(waivers),
            "--lockfile",
            str(lock),
            "--today",
            today,
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, Path, str]:
    """A mirror where the installed click (whatever its version) and a locked echarts 5.6.0 are
    affected; every other installed distribution is covered with no advisory."""
    click_version = importlib.metadata.version("click")
    installed = {
        d.metadata["Name"].lower().replace("_", "-").replace(".", "-")
        for d in importlib.metadata.distributions()
    }
    python: dict[str, list[dict[str, Any]]] = {name: [] for name in installed}
    python["click"] = [
        advisory(
            "PYSEC-9999-1",
            "PyPI",
            "click",
            {"introduced": "0"},
            {"fixed": "99999"},
            aliases=["CVE-9999-0001"],
        )
    ]
    npm = {
        "echarts": [
            advisory(
                "GHSA-fake-fake-fake", "npm", "echarts", {"introduced": "0"}, {"fixed": "6.1.0"}
            )
        ]
    }
    return fake_mirror(tmp_path, python, npm), lockfile(tmp_path, echarts="5.6.0"), click_version


def test_a_finding_fails_the_audit_with_one_line_each(
    world: tuple[Path, Path, str], tmp_path: Path
) -> None:
    mirror, lock, click_version = world
    answer = run(mirror, tmp_path / "no-waivers.toml", lock)
    assert answer.returncode == 1, answer.stdout + answer.stderr
    lines = answer.stdout.splitlines()
    vulnerable = [line for line in lines if line.startswith("发现漏洞 VULNERABLE")]
    assert len(vulnerable) == 2
    assert (
        f"PyPI click {click_version}  PYSEC-9999-1 (CVE-9999-0001)  修复版本 fixed in 99999"
        in vulnerable[0]
    )
    assert "npm echarts 5.6.0  GHSA-fake-fake-fake" in vulnerable[1]
    assert "未豁免 unwaived 2，已豁免 waived 0" in lines[-1]


def test_a_waiver_holds_until_its_expiry_and_an_unused_one_is_named(
    world: tuple[Path, Path, str], tmp_path: Path
) -> None:
    mirror, lock, _ = world
    waivers = tmp_path / "waivers.toml"
    waivers.write_text(
        '[[waiver]]\nid = "CVE-9999-0001"\npackage = "click"\nreason = "只在测试中"\nexpires = 2027-01-01\n'
        '[[waiver]]\nid = "GHSA-fake-fake-fake"\nreason = "升级排期中"\nexpires = 2027-01-01\n'
        '[[waiver]]\nid = "PYSEC-0000-0"\nreason = "已修复"\nexpires = 2027-01-01\n',
        encoding="utf-8",
    )
    answer = run(mirror, waivers, lock, today="2026-12-31")
    assert answer.returncode == 0, answer.stdout
    assert answer.stdout.count("已豁免 WAIVED") == 2
    assert "豁免至 until 2027-01-01：只在测试中" in answer.stdout
    assert "多余的豁免 UNUSED WAIVER  PYSEC-0000-0" in answer.stdout
    expired = run(mirror, waivers, lock, today="2027-01-01")
    assert expired.returncode == 1
    assert expired.stdout.count("豁免已于 2027-01-01 到期 waiver expired") == 2


def test_a_waiver_without_its_reason_or_date_stops_the_audit(
    world: tuple[Path, Path, str], tmp_path: Path
) -> None:
    mirror, lock, _ = world
    waivers = tmp_path / "waivers.toml"
    waivers.write_text('[[waiver]]\nid = "CVE-9999-0001"\nexpires = 2027-01-01\n', encoding="utf-8")
    answer = run(mirror, waivers, lock)
    assert answer.returncode == 2
    assert "第 1 个 [[waiver]] 缺少字段 reason" in answer.stderr
    waivers.write_text('[[waiver]]\nid = "X"\nreason = "r"\nexpires = "明年"\n', encoding="utf-8")
    answer = run(mirror, waivers, lock)
    assert answer.returncode == 2
    assert "expires 应为日期" in answer.stderr


def test_an_installed_package_the_mirror_does_not_cover_is_named(tmp_path: Path) -> None:
    mirror = fake_mirror(tmp_path, {}, {})
    report = run_audit(mirror, [], {"newdep": "1.0"}, {}, dt.date(2026, 12, 6))
    assert report.exit_code == 0
    assert report.lines[0].startswith("未收录 NOT MIRRORED  PyPI newdep 1.0")


# -- the mirror's refresh ---------------------------------------------------------------------


def test_refresh_keeps_installed_packages_only_abridged_and_once(tmp_path: Path) -> None:
    vulns = tmp_path / "pypa" / "vulns"
    (vulns / "pkg").mkdir(parents=True)
    (vulns / "unused").mkdir(parents=True)
    # the same advisory in the first schema and the current one, as the PyPA history holds it
    (vulns / "pkg" / "PYSEC-2019-1.yaml").write_text(
        "id: PYSEC-2019-1\npackage: {name: pkg, ecosystem: PyPI}\ndetails: old copy\n"
        "affects:\n  ranges:\n  - {type: ECOSYSTEM, fixed: '2.10'}\naliases: [CVE-2019-1]\n"
        "modified: '2019-01-01T00:00:00Z'\n"
    )
    long_details = "word " * 100
    (vulns / "pkg" / "PYSEC-2020-7.yaml").write_text(
        f"id: PYSEC-2020-7\ndetails: {long_details}\naliases: [CVE-2019-1]\nmodified: 2021-01-01T00:00:00Z\n"
        "affected:\n- package: {name: Pkg, ecosystem: PyPI}\n  ranges:\n"
        "  - {type: GIT, repo: r, events: [{introduced: '0'}, {fixed: abc}]}\n"
        "  - {type: ECOSYSTEM, events: [{introduced: '0'}, {fixed: '2.10'}]}\n"
        "  versions: ['1.0']\n"
        "references:\n- {type: PACKAGE, url: 'https://index.example/pkg'}\n"
        "- {type: FIX, url: 'https://example.org/fix'}\n- {type: WEB, url: 'https://example.org/fix'}\n"
    )
    (vulns / "unused" / "PYSEC-2020-8.yaml").write_text("id: PYSEC-2020-8\n")
    mirror = tmp_path / "mirror"
    index = refresh(
        tmp_path / "pypa", None, mirror, {"pkg": "1.0", "clean": "3.0"}, {}, dt.date(2026, 12, 6)
    )
    assert index["pypi"]["packages"] == {"pkg": ["PYSEC-2020-7"], "clean": []}
    assert not (mirror / "pypi" / "unused").exists()
    record = json.loads((mirror / "pypi" / "pkg" / "PYSEC-2020-7.json").read_text())
    assert record["affected"] == [
        {
            "package": {"ecosystem": "PyPI", "name": "pkg"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.10"}]}],
        }
    ]
    assert record["modified"] == "2021-01-01T00:00:00Z"  # as written, not re-spelt
    assert record["references"] == [{"type": "FIX", "url": "https://example.org/fix"}]
    assert record["details"] == ("word " * 56).strip() + "…"  # folded, cut at 280 characters


# -- ECharts ----------------------------------------------------------------------------------


def test_echarts_is_pinned_past_the_lines_tooltip_xss_and_the_mirror_finds_nothing_in_npm() -> None:
    locked = locked_npm(ROOT / "package-lock.json")
    assert Version(locked["echarts"]) >= Version("6.1.0")
    assert Version(locked["echarts"]).major == 6
    declared = json.loads((ROOT / "package.json").read_text())["dependencies"]["echarts"]
    assert declared == locked["echarts"], "package.json pins the exact version the lock holds"
    report = run_audit(ROOT / "security" / "advisories", [], {}, locked, dt.date(2026, 12, 6))
    assert report.unwaived == 0, report.lines
    assert (
        "GHSA-fgmj-fm8m-jvvx"
        in json.loads((ROOT / "security" / "advisories" / "index.json").read_text())["npm"][
            "packages"
        ]["echarts"]
    )
