"""File and folder names as text that can be written anywhere (UTF-8 reports, HTML, CSV)."""
from __future__ import annotations


def readable(text: str) -> str:
    """``text`` (a path as the OS gave it) as valid Unicode for reports: bytes that are not UTF-8 are read as
    Latin-1 (``M\\xfcller.ipynb`` -> ``Müller.ipynb``); the file itself is still opened by its real name."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # lone surrogates that did not come from bytes (e.g. JSON escapes)
        return text.encode("utf-8", "replace").decode("utf-8")
    out = []
    while raw:
        try:
            out.append(raw.decode("utf-8"))
            break
        except UnicodeDecodeError as exc:
            out += [raw[:exc.start].decode("utf-8"), raw[exc.start:exc.end].decode("latin-1")]
            raw = raw[exc.end:]
    return "".join(out)
