"""Attachments on the pages: reading a form's uploaded files, serving a stored file as a download.

Uploads arrive as ``multipart/form-data`` (field ``files``, several allowed); what may be
uploaded is decided by :mod:`govwatch.alerts.attachments` (types, size, count), which the
workflow applies when it stores them. A file is served only to a reader whose scope covers the
alert or order it belongs to (:func:`govwatch.alerts.workflow.attachment`), always as a download
(``Content-Disposition: attachment`` with its Chinese name, ``nosniff``): a browser never
renders an uploaded file as a page of this site.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Path, Request, UploadFile
from fastapi.responses import Response

from govwatch.alerts.attachments import MAX_ATTACHMENT_BYTES, Attachment, size_text
from govwatch.alerts.workflow import attachment
from govwatch.errors import GovwatchError, InputError
from govwatch.exports import content_disposition
from govwatch.web.api.deps import DB, Caller
from govwatch.web.pages.base import error_page, login_redirect, status_of

router = APIRouter()


def read_uploads(files: Sequence[UploadFile | str]) -> list[Attachment]:
    """The files a form sent. An empty file field sends a part without a name (a browser) or
    a plain empty value (some clients): both are skipped."""
    out = []
    for f in files:
        if isinstance(f, str) or not f.filename:
            continue
        if f.size is not None and f.size > MAX_ATTACHMENT_BYTES:
            raise InputError(
                f"附件“{f.filename}”大小为 {size_text(f.size)}，"
                f"超过 {size_text(MAX_ATTACHMENT_BYTES)} 上限"
            )
        content = f.file.read(MAX_ATTACHMENT_BYTES + 1)
        out.append(Attachment(f.filename, f.content_type or "", content))
    return out


@router.get("/files/{attachment_id}", response_model=None)
def download(
    request: Request, attachment_id: Annotated[str, Path(max_length=32)], db: DB, caller: Caller
) -> Response:
    """One attachment, as a download, for a reader whose scope covers its alert or order."""
    if caller.role == "public":
        return login_redirect(request)
    try:
        caller.require("alerts.read")
        meta, content = attachment(db, caller, attachment_id)
    except GovwatchError as exc:
        return error_page(request, db, caller, status_of(exc), str(exc))
    return Response(
        content,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": content_disposition(str(meta["name"])),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
        },
    )
