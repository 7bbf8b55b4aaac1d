"""Fake but well-formed personal data and organisation codes.

- Resident ID numbers (GB 11643): 6-digit region, birth date, sequence, ISO 7064 MOD 11-2
  check character.
- Unified social credit codes (GB 32100): 18 characters with an organisation code
  (GB 11714, its own check digit) and the final check character.
- Chinese names and 11-digit mobile numbers.
"""

from __future__ import annotations

import random

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰建国建华志强海燕晓东丽娟文博子轩浩然欣怡"
    "梓涵雨桐思远嘉怡俊杰宇航雪梅春梅红梅国庆德华永红晨曦婷婷佳琪子豪一鸣心怡天佑宏伟凯文佩琳慧敏"
)
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
    "155", "156", "157", "158", "159", "166", "173", "176", "177", "178", "180", "181", "182",
    "183", "185", "186", "187", "188", "189", "191", "195", "198", "199",
)  # fmt: skip

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(_USCC_CHARS)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_BODY = "0123456789ABCDEFGHJKLMNPQRTUWXY"

# Birth dates are drawn from 1950-01-01 .. 2004-12-28 using 28-day months (always valid).
_BIRTH_YEARS = tuple(str(y) for y in range(1950, 2005))
_MONTHS = tuple(f"{m:02d}" for m in range(1, 13))
_DAYS = tuple(f"{d:02d}" for d in range(1, 29))


def id_check_char(first17: str) -> str:
    total = 0
    for digit, weight in zip(first17, _ID_WEIGHTS, strict=True):
        total += (ord(digit) - 48) * weight
    return _ID_CHECK[total % 11]


def resident_id(rng: random.Random, region6: str) -> str:
    """An 18-character resident ID with a valid check character."""
    body = (
        region6
        + _BIRTH_YEARS[int(rng.random() * 55)]
        + _MONTHS[int(rng.random() * 12)]
        + _DAYS[int(rng.random() * 28)]
        + f"{int(rng.random() * 1000):03d}"
    )
    return body + id_check_char(body)


def id_is_valid(text: str) -> bool:
    return len(text) == 18 and text[:17].isdigit() and id_check_char(text[:17]) == text[17]


def person_name(rng: random.Random) -> str:
    surname = SURNAMES[int(rng.random() * len(SURNAMES))]
    first = GIVEN[int(rng.random() * len(GIVEN))]
    if rng.random() < 0.6:
        return surname + first + GIVEN[int(rng.random() * len(GIVEN))]
    return surname + first


def mobile(rng: random.Random) -> str:
    return (
        MOBILE_PREFIXES[int(rng.random() * len(MOBILE_PREFIXES))] + f"{int(rng.random() * 1e8):08d}"
    )


def org_code(body8: str) -> str:
    """A 9-character organisation code (GB 11714): 8 characters and a check character."""
    total = sum(_USCC_VALUE[c] * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body8 + ("X" if check == 10 else "0" if check == 11 else str(check))


def uscc(authority: str, kind: str, region6: str, body8: str) -> str:
    """An 18-character unified social credit code (GB 32100) with a valid check character."""
    first17 = authority + kind + region6 + org_code(body8)
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return first17 + _USCC_CHARS[(31 - total % 31) % 31]


def uscc_is_valid(text: str) -> bool:
    if len(text) != 18 or any(c not in _USCC_VALUE for c in text):
        return False
    total = sum(_USCC_VALUE[c] * w for c, w in zip(text[:17], _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31] == text[17]


def random_body8(rng: random.Random) -> str:
    return "".join(
        _ORG_BODY[int(rng.random() * 10 if i < 2 else rng.random() * 31)] for i in range(8)
    )
