"""A fictional province: its cities, counties and the departments that implement items.

Codes follow GB/T 2260: the fictional province ``江川省`` takes the unassigned prefix ``39``;
cities are ``39CC00``; districts ``39CC01``–``20``, counties ``21``–``80``, county-level
cities ``81``+. Departments carry 18-character unified social credit codes of government
bodies (registration authority ``1``, kind ``1`` 机关) over their region's code.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from govwatch.generator.people import random_body8, uscc

PROVINCE_CODE = "390000"
PROVINCE_NAME = "江川省"

# (city name, [(county name, county kind)]); kinds: D district, C county, S county-level city.
CITIES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "临川市",
        (("东城区", "D"), ("西湖区", "D"), ("青山县", "C"), ("安平县", "C"), ("白沙市", "S")),
    ),
    ("云阳市", (("云岩区", "D"), ("南溪区", "D"), ("石门县", "C"), ("丰乐县", "C"))),
    (
        "清河市",
        (("河东区", "D"), ("河西区", "D"), ("桃源县", "C"), ("永宁县", "C"), ("长乐市", "S")),
    ),
    ("金沙市", (("金城区", "D"), ("沙湾区", "D"), ("凤鸣县", "C"), ("新和市", "S"))),
)

# Departments: (short code used in actor ids, name).
DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("SC", "市场监督管理局"),
    ("GA", "公安局"),
    ("MZ", "民政局"),
    ("RS", "人力资源和社会保障局"),
    ("ZR", "自然资源局"),
    ("ZJ", "住房和城乡建设局"),
    ("JT", "交通运输局"),
    ("WJ", "卫生健康委员会"),
    ("JY", "教育局"),
    ("HB", "生态环境局"),
    ("NY", "农业农村局"),
    ("WL", "文化和旅游局"),
    ("YB", "医疗保障局"),
    ("YJ", "应急管理局"),
)

CLERKS_PER_DEPARTMENT = 4
STAFF_PER_DEPARTMENT = 12


@dataclass(frozen=True)
class Region:
    code: str  # 6 digits
    name: str  # full name, e.g. 江川省临川市东城区
    short: str  # own name, e.g. 东城区
    level: str  # A.2: 2 province, 3 city, 4 county


@dataclass(frozen=True)
class Department:
    code: str  # unified social credit code
    name: str
    region: Region
    kind: str  # short code, e.g. SC
    clerks: tuple[str, ...]  # window staff: accept and reject
    staff: tuple[str, ...]  # handlers: steps and decisions


@dataclass(frozen=True)
class Province:
    regions: tuple[Region, ...]
    counties: tuple[Region, ...]
    departments: dict[tuple[str, str], Department]  # (region code, kind) -> department


def _regions() -> tuple[Region, ...]:
    regions = [Region(PROVINCE_CODE, PROVINCE_NAME, PROVINCE_NAME, "2")]
    for ci, (city, counties) in enumerate(CITIES, start=1):
        city_code = f"39{ci:02d}00"
        regions.append(Region(city_code, PROVINCE_NAME + city, city, "3"))
        seq = {"D": 1, "C": 21, "S": 81}
        for county, kind in counties:
            seq[kind] += 1
            code = f"39{ci:02d}{seq[kind]:02d}"
            regions.append(Region(code, PROVINCE_NAME + city + county, county, "4"))
    return tuple(regions)


def build_province(rng: random.Random) -> Province:
    """The province with one department of every kind in every region."""
    regions = _regions()
    departments: dict[tuple[str, str], Department] = {}
    for region in regions:
        prefix = region.name if region.level == "2" else region.name[len(PROVINCE_NAME) :]
        for kind, name in DEPARTMENTS:
            code = uscc("1", "1", region.code, random_body8(rng))
            tag = f"{region.code[2:]}{kind}"
            clerks = tuple(f"{tag}C{n:02d}" for n in range(1, CLERKS_PER_DEPARTMENT + 1))
            staff = tuple(f"{tag}S{n:02d}" for n in range(1, STAFF_PER_DEPARTMENT + 1))
            departments[(region.code, kind)] = Department(
                code, prefix + name, region, kind, clerks, staff
            )
    counties = tuple(r for r in regions if r.level == "4")
    return Province(regions, counties, departments)
