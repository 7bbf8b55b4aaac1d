"""The error answers every route may give, declared once for the OpenAPI schema, and the
Chinese words for the answers the framework itself gives (an unknown URL, a wrong method, a
crash): ``{"detail": "页面或资源不存在"}``, never ``{"detail": "Not Found"}``."""

from __future__ import annotations

import re
from typing import Any

from govwatch.web.api.schemas import Problem

AUTH: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "未登录或令牌无效"},
    403: {"model": Problem, "description": "无权访问（角色或管辖范围不符，或缺少 CSRF 令牌）"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "不存在"}}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": Problem, "description": "当前状态不允许此操作，或已被他人处理"}
}
BAD_INPUT: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "输入不符合要求"}
}


# What an HTTP status means, in Chinese, when the code that refused said nothing more.
STATUS_MESSAGES: dict[int, str] = {
    400: "请求不符合要求",
    401: "未登录，或登录已失效，请重新登录",
    403: "无权访问此页面或资源",
    404: "页面或资源不存在：请检查地址，或从菜单进入",
    405: "不支持此请求方法",
    406: "无法按请求的格式答复",
    408: "请求超时，请重试",
    409: "当前状态不允许此操作，或已被他人处理",
    413: "提交的内容过大",
    414: "请求地址过长",
    415: "不支持提交的内容类型",
    422: "请求参数不符合要求",
    429: "请求过于频繁，请稍后再试",
    500: "服务器内部错误：操作未完成，请稍后重试；若反复出现，请联系系统管理员",
    502: "上游服务无响应，请稍后再试",
    503: "服务暂时不可用，请稍后再试",
    504: "上游服务超时，请稍后再试",
}
_CJK = re.compile(r"[\u3400-\u9fff]")


def status_message(status: int) -> str:
    return STATUS_MESSAGES.get(status, f"请求未能完成（HTTP {status}）")


def chinese_detail(status: int, detail: object) -> object:
    """``detail`` when it already says something in Chinese (or is structured), else the
    status's Chinese message (the framework's English reason phrases are replaced)."""
    if isinstance(detail, str) and _CJK.search(detail):
        return detail
    if detail is None or isinstance(detail, str):
        return status_message(status)
    return detail
