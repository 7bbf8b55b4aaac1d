"""PDF from the DOCX by LibreOffice headless (Debian libreoffice-writer).

LibreOffice's PDF export embeds the subsets of the fonts the document uses (the Noto CJK
fonts), so the text stays selectable and prints the same anywhere. Each conversion runs with
its own user profile in a temporary directory: conversions in parallel do not share (and
lock) one profile, and nothing is written to the user's home.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from govwatch.errors import GovwatchError

TIMEOUT_SECONDS = 180


class PdfError(GovwatchError):
    """LibreOffice is missing or could not convert the document."""


def soffice() -> str:
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    raise PdfError(
        "未找到 LibreOffice（soffice），无法生成 PDF：请安装 Debian 软件包 libreoffice-writer（make apt）"
    )


def write_pdf(docx: Path, pdf: Path) -> Path:
    """Convert ``docx`` to ``pdf`` (fonts embedded); return ``pdf``."""
    pdf.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="govwatch-pdf-") as tmp:
        work = Path(tmp)
        profile = (work / "profile").as_uri()
        out = work / "out"
        try:
            result = subprocess.run(
                [
                    soffice(),
                    f"-env:UserInstallation={profile}",
                    "--headless",
                    "--norestore",
                    "--convert-to",
                    "pdf:writer_pdf_Export",
                    "--outdir",
                    str(out),
                    str(docx),
                ],
                capture_output=True,
                text=True,
                timeout=TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise PdfError(
                f"LibreOffice 转换“{docx.name}”超过 {TIMEOUT_SECONDS} 秒未完成，PDF 未生成"
            ) from None
        made = out / (docx.stem + ".pdf")
        if result.returncode != 0 or not made.exists():
            detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["无输出"]
            raise PdfError(f"LibreOffice 未能把“{docx.name}”转换为 PDF：{detail[0]}")
        shutil.move(str(made), pdf)
    return pdf
