"""What the pages' forms and reads share: a page built from its context (or the error page),
a change that goes back with a notice (or the error page), a file served as a download.

Each helper answers exactly as the code it replaced did: the sign-in redirect first, the
expected error (:class:`govwatch.errors.GovwatchError`) shown with the status the API gives
it, the notice carried by ``?msg=`` after a change (post/redirect/get).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import Response

from govwatch.auth.principal import Principal
from govwatch.errors import GovwatchError
from govwatch.exports import content_disposition
from govwatch.storage import Database
from govwatch.web.pages import base

T = TypeVar("T")


def refusal(
    request: Request, db: Database, caller: Principal, roles: Collection[str], message: str
) -> Response | None:
    """What a page answers a caller outside ``roles``: the sign-in page to the public, 403 with
    ``message`` to another role; None to a caller who may go on."""
    if caller.role == "public":
        return base.login_redirect(request)
    if caller.role not in roles:
        return base.error_page(request, db, caller, 403, message)
    return None


def context_page(
    request: Request,
    db: Database,
    caller: Principal,
    build: Callable[[], dict[str, Any]],
    template: str,
    json_of: Callable[[dict[str, Any]], object] | None = None,
) -> Response:
    """A signed-in page: ``build()``'s context rendered with ``template``, or as JSON with
    ``?format=json`` (``json_of(context)``, the whole context without it); an expected error
    while building it is the error page."""
    if caller.role == "public":
        return base.login_redirect(request)
    try:
        context = build()
    except GovwatchError as exc:
        return base.error_page(request, db, caller, base.status_of(exc), str(exc))
    if base.wants_json(request):
        return base.json_response(context if json_of is None else json_of(context))
    return base.render(request, db, caller, template, context)


def acted(
    request: Request,
    db: Database,
    caller: Principal,
    change: Callable[[], T],
    url: str | Callable[[T], str],
    message: str | Callable[[T], str],
) -> Response:
    """A signed-in form's change: ``change()``, then back to ``url`` with ``message`` (either may
    be read from what the change answered); an expected error is the error page."""
    if caller.role == "public":
        return base.login_redirect(request)
    try:
        done = change()
    except GovwatchError as exc:
        return base.error_page(request, db, caller, base.status_of(exc), str(exc))
    target = url if isinstance(url, str) else url(done)
    return base.back(target, message if isinstance(message, str) else message(done))


def served_file(
    request: Request, db: Database, caller: Principal, read: Callable[[], tuple[str, bytes]]
) -> Response:
    """A signed-in reader's file: ``read()`` gives its name and content (an expected error,
    e.g. a file outside the reader's scope, is the error page), served by :func:`download`."""
    if caller.role == "public":
        return base.login_redirect(request)
    try:
        name, content = read()
    except GovwatchError as exc:
        return base.error_page(request, db, caller, base.status_of(exc), str(exc))
    return download(name, content)


def download(name: str, content: bytes) -> Response:
    """A stored file as a download under its (Chinese) name, never shown inline: a file a user
    uploaded cannot run as a page of this site."""
    return Response(
        content,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": content_disposition(name),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
        },
    )
