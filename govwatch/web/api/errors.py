"""The error answers every route may give, declared once for the OpenAPI schema."""

from __future__ import annotations

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
