"""CSV cells that a spreadsheet shows as text, never runs as a formula."""
from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make Excel, LibreOffice or Google Sheets read a cell as a formula."""


def safe_cell(value) -> str:
    """``value`` as text; one that starts like a formula (``=HYPERLINK(...)``, ``+1``, ``@SUM``) gets a leading ``'``."""
    value = str(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value
