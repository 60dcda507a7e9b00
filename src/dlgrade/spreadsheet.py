"""CSV files a person edits in a spreadsheet: reading them, and cells shown as text, never run as formulas."""
from __future__ import annotations

import io
from pathlib import Path

from dlgrade.errors import DlgradeError

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make Excel, LibreOffice or Google Sheets read a cell as a formula."""


def safe_cell(value) -> str:
    """``value`` as text; one that starts like a formula (``=HYPERLINK(...)``, ``+1``, ``@SUM``) gets a leading ``'``."""
    value = str(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_text(path, *, what: str = "the file") -> io.StringIO:
    """The text of ``path`` (UTF-8, with or without the byte-order mark spreadsheets write);
    DlgradeError naming the file when it cannot be read."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DlgradeError(f"{path}: cannot read {what} ({exc})") from None
    return io.StringIO(text)
