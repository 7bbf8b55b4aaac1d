"""DOCX writer laid out as GB/T 9704-2012 (党政机关公文格式) says.

Page: A4 (210 × 297 mm); margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm, so the
type area is 156 × 225 mm. Body: 3号 (16 pt) 仿宋, 28 characters × 22 lines, i.e. a line pitch
of 225 mm ÷ 22 ≈ 28.95 pt, set as exact line spacing and as the document grid. Order of
parts: 版头 (发文机关标志 in red 小标宋, 发文字号 centred under it, the red separator line),
标题 (2号 小标宋, centred), 主送机关, 正文 (headings 一、 in 黑体, （一） in 楷体), 附件说明,
发文机关署名, 成文日期 (Arabic numerals, 2026年7月1日, four characters from the right), then
the attachments, each on a new page with 附件N in 黑体 at the top left. Page numbers 4号
"— 1 —": odd pages on the right, even pages on the left, one character in.

The standard's typefaces (方正小标宋, 仿宋_GB2312, 黑体, 楷体_GB2312) are not free; the free
Noto CJK fonts (Debian fonts-noto-cjk) stand in for them: :data:`FONTS` names which for which.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph

from govwatch.reports.charts import render_png
from govwatch.reports.model import Notice, Table
from govwatch.reports.period import cn_date

# The standard's typeface roles and the free fonts used for them.
FONTS = {
    "xiaobiaosong": "Noto Serif CJK SC",  # 方正小标宋简体: 版头, 标题 (set bold)
    "fangsong": "Noto Serif CJK SC",  # 仿宋_GB2312: 正文
    "heiti": "Noto Sans CJK SC",  # 黑体: 一、 headings, 附件 labels
    "kaiti": "Noto Serif CJK SC",  # 楷体_GB2312: （一） headings
    "songti": "Noto Serif CJK SC",  # 宋体: page numbers, tables
}
RED = RGBColor(0xE6, 0x00, 0x12)  # 版头 red
SIZE_TITLE = Pt(22)  # 2号
SIZE_BODY = Pt(16)  # 3号
SIZE_PAGE_NUMBER = Pt(14)  # 4号
SIZE_MASTHEAD = Pt(36)  # 发文机关标志 (小初: within the standard's limit of 22 mm × 15 mm)
SIZE_TABLE = Pt(10.5)  # 五号 in tables
LINE_PITCH = Pt(28.95)  # 225 mm ÷ 22 lines
CHAR = Pt(16)  # one body character: indents count in characters
PAGE = (Mm(210), Mm(297))
MARGINS = {"top": Mm(37), "bottom": Mm(35), "left": Mm(28), "right": Mm(26)}
NUMBERED = re.compile(r"^[一二三四五六七八九十]+、")
SUBNUMBERED = re.compile(r"^（[一二三四五六七八九十]+）")
CN_NUMBERS = "一二三四五六七八九十"


def _fonts(run_or_style: object, name: str) -> None:
    """Set the Latin and East Asian font of a run (python-docx sets only the Latin one)."""
    font = run_or_style.font  # type: ignore[attr-defined]
    font.name = name
    element = run_or_style.element  # type: ignore[attr-defined]
    rpr = element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), name)


def _run(
    p: Paragraph,
    text: str,
    role: str = "fangsong",
    size: Pt = SIZE_BODY,
    *,
    bold: bool = False,
    color: RGBColor | None = None,
) -> None:
    run = p.add_run(text)
    _fonts(run, FONTS[role])
    run.font.size = size
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color


def _para(
    doc: object,
    text: str = "",
    role: str = "fangsong",
    size: Pt = SIZE_BODY,
    *,
    align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.JUSTIFY,
    indent_chars: float = 0,
    right_chars: float = 0,
    bold: bool = False,
    color: RGBColor | None = None,
    exact: bool = True,
) -> Paragraph:
    p: Paragraph = doc.add_paragraph()  # type: ignore[attr-defined]
    fmt = p.paragraph_format
    fmt.alignment = align
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    if exact:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = LINE_PITCH if size <= SIZE_BODY else Pt(max(size.pt * 1.3, 28.95))
    if indent_chars:
        fmt.first_line_indent = Pt(CHAR.pt * indent_chars)
    if right_chars:
        fmt.right_indent = Pt(CHAR.pt * right_chars)
    if text:
        _run(p, text, role, size, bold=bold, color=color)
    return p


def _border_bottom(p: Paragraph, color: str = "E60012", size_eighths: int = 12) -> None:
    """The red separator line under the 版头 (a paragraph's bottom border)."""
    ppr = p._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    bottom.set(qn("w:val"), "single")
    bottom.set(qn("w:sz"), str(size_eighths))
    bottom.set(qn("w:space"), "1")
    bottom.set(qn("w:color"), color)
    borders.append(bottom)
    ppr.append(borders)


def _grid(section: object) -> None:
    """The standard's 22 lines of 28 characters as the section's document grid."""
    sect_pr = section._sectPr  # type: ignore[attr-defined]
    for old in sect_pr.findall(qn("w:docGrid")):
        sect_pr.remove(old)
    grid = OxmlElement("w:docGrid")
    grid.set(qn("w:type"), "linesAndChars")
    grid.set(qn("w:linePitch"), str(round(LINE_PITCH.pt * 20)))
    grid.set(qn("w:charSpace"), "0")
    sect_pr.append(grid)


def _page_number(footer_paragraph: Paragraph, align: WD_ALIGN_PARAGRAPH) -> None:
    """'— N —' in 4号 宋体 with a PAGE field, one character in from the edge."""
    p = footer_paragraph
    p.paragraph_format.alignment = align
    if align == WD_ALIGN_PARAGRAPH.RIGHT:
        p.paragraph_format.right_indent = CHAR
    else:
        p.paragraph_format.left_indent = CHAR
    _run(p, "— ", "songti", SIZE_PAGE_NUMBER)
    run = p.add_run()
    _fonts(run, FONTS["songti"])
    run.font.size = SIZE_PAGE_NUMBER
    for kind, text in (
        ("begin", None),
        (None, "PAGE"),
        ("separate", None),
        (None, "1"),
        ("end", None),
    ):
        if kind is not None:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run._r.append(fld)
        elif text == "PAGE":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = " PAGE "
            run._r.append(instr)
        else:
            t = OxmlElement("w:t")
            t.text = text
            run._r.append(t)
    _run(p, " —", "songti", SIZE_PAGE_NUMBER)


def _cell_text(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table(doc: object, table: Table, caption: bool = True) -> None:
    if caption:
        _para(doc, table.title, "heiti", SIZE_BODY, align=WD_ALIGN_PARAGRAPH.CENTER)
    t = doc.add_table(rows=1, cols=len(table.columns))  # type: ignore[attr-defined]
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, name in zip(t.rows[0].cells, table.columns, strict=True):
        cell.text = ""
        p = cell.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(p, name, "heiti", SIZE_TABLE)
    # the header row repeats on every page the table runs over
    trpr = t.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    trpr.append(header)
    # text columns wider than number columns, within the 156 mm type area
    weights = (
        [
            1.0 if all(isinstance(r[c], int | float) or r[c] is None for r in table.rows) else 2.2
            for c in range(len(table.columns))
        ]
        if table.rows
        else [1.0] * len(table.columns)
    )
    widths = [Mm(156 * w / sum(weights)) for w in weights]
    t.autofit = False
    for row in table.rows:
        cells = t.add_row().cells
        for cell, value in zip(cells, row, strict=False):
            p = cell.paragraphs[0]
            p.alignment = (
                WD_ALIGN_PARAGRAPH.RIGHT
                if isinstance(value, int | float)
                else WD_ALIGN_PARAGRAPH.LEFT
            )
            _run(p, _cell_text(value), "songti", SIZE_TABLE)
    for row_cells in t.rows:
        for cell, width in zip(row_cells.cells, widths, strict=False):
            cell.width = width
    if not table.rows:
        cells = t.add_row().cells
        merged = cells[0].merge(cells[-1]) if len(cells) > 1 else cells[0]
        _run(merged.paragraphs[0], "（无）", "songti", SIZE_TABLE)
    if table.note:
        _para(doc, "注：" + table.note, "fangsong", Pt(12), exact=False)


def _heading_text(heading: str, n: int) -> str:
    if NUMBERED.match(heading) or SUBNUMBERED.match(heading):
        return heading
    return f"{CN_NUMBERS[(n - 1) % 10]}、{heading}"


def write_docx(notice: Notice, path: Path) -> Path:
    """Write the notice as a GB/T 9704-2012 DOCX; return ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = Document()
    normal = doc.styles["Normal"]
    _fonts(normal, FONTS["fangsong"])
    normal.font.size = SIZE_BODY
    section = doc.sections[0]
    section.page_width, section.page_height = PAGE
    section.top_margin = MARGINS["top"]
    section.bottom_margin = MARGINS["bottom"]
    section.left_margin = MARGINS["left"]
    section.right_margin = MARGINS["right"]
    section.header_distance = Mm(15)
    section.footer_distance = Mm(20)
    _grid(section)
    doc.settings.odd_and_even_pages_header_footer = True
    _page_number(section.footer.paragraphs[0], WD_ALIGN_PARAGRAPH.RIGHT)
    _page_number(section.even_page_footer.paragraphs[0], WD_ALIGN_PARAGRAPH.LEFT)

    # 版头
    _para(
        doc,
        notice.issuer,
        "xiaobiaosong",
        SIZE_MASTHEAD,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        bold=True,
        color=RED,
    )
    _para(doc)
    _para(doc)
    number = _para(doc, notice.doc_number, align=WD_ALIGN_PARAGRAPH.CENTER)
    _border_bottom(number)
    _para(doc)
    # 标题
    _para(doc, notice.title, "xiaobiaosong", SIZE_TITLE, align=WD_ALIGN_PARAGRAPH.CENTER, bold=True)
    _para(doc)
    # 主送机关
    if notice.addressees:
        _para(doc, notice.addressees.rstrip("：:") + "：")
    # 正文
    attached = set(notice.attachments)
    for i, s in enumerate(notice.sections, start=1):
        _para(doc, _heading_text(s.heading, i), "heiti", indent_chars=2)
        for text in s.paragraphs:
            role = "kaiti" if SUBNUMBERED.match(text) else "fangsong"
            _para(doc, text, role, indent_chars=2)
        for chart in s.charts:
            p = _para(doc, align=WD_ALIGN_PARAGRAPH.CENTER, exact=False)
            p.add_run().add_picture(io.BytesIO(render_png(chart)), width=Mm(150))
        for table in s.tables:
            if table.title not in attached:
                _table(doc, table)
    # 附件说明
    if notice.attachments:
        _para(doc)
        for n, name in enumerate(notice.attachments, start=1):
            label = "附件：" if n == 1 else "　　　"
            numbered = f"{n}. {name}" if len(notice.attachments) > 1 else name
            _para(doc, f"{label}{numbered}", indent_chars=2)
    # 署名 and 成文日期
    _para(doc)
    _para(doc)
    _para(doc, notice.issuer, align=WD_ALIGN_PARAGRAPH.RIGHT, right_chars=4)
    _para(doc, cn_date(notice.date), align=WD_ALIGN_PARAGRAPH.RIGHT, right_chars=4)
    # 附件
    tables = {t.title: t for t in notice.tables()}
    for n, name in enumerate(notice.attachments, start=1):
        brk = _para(doc)
        brk.add_run().add_break(WD_BREAK.PAGE)
        _para(doc, f"附件{n}" if len(notice.attachments) > 1 else "附件", "heiti")
        _para(doc)
        _para(doc, name, "xiaobiaosong", SIZE_TITLE, align=WD_ALIGN_PARAGRAPH.CENTER, bold=True)
        _para(doc)
        if name in tables:
            _table(doc, tables[name], caption=False)
    _ = WD_SECTION  # one section: the standard's page setup holds for the whole document
    doc.save(str(path))
    return path
