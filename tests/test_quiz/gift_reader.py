"""A GIFT reader for tests that follows Moodle's importer (question/format/gift/format.php).

It splits questions on blank lines, drops ``//`` comment lines, replaces
escaped ``\\: \\# \\= \\{ \\} \\~ \\n`` before parsing, reads ``::name::``, the
``[format]`` prefix, the ``{...}`` answer block, ``####`` general feedback, and
classifies questions as Moodle does: empty block -> essay, ``#`` -> numerical,
``~`` -> multichoice (single when an ``=`` answer exists), otherwise shortanswer.
Weights use Moodle's regex ``%-*[0-9]{1,2}.?[0-9]*%``.
"""
from __future__ import annotations

import re

_ESC = {"\\:": "\x01", "\\#": "\x02", "\\=": "\x03", "\\{": "\x04", "\\}": "\x05", "\\~": "\x06", "\\n": "\x07"}
_BACK = {"\x01": ":", "\x02": "#", "\x03": "=", "\x04": "{", "\x05": "}", "\x06": "~", "\x07": "\n"}
_WEIGHT = re.compile(r"^%(-*[0-9]{1,2}\.?[0-9]*)%")


class GiftError(ValueError):
    pass


def _pre(text: str) -> str:
    text = text.replace("\\\\", "\x00")
    for k, v in _ESC.items():
        text = text.replace(k, v)
    return text.replace("\x00", "\\")


def _post(text: str) -> str:
    for k, v in _BACK.items():
        text = text.replace(k, v)
    return text.strip()


def _split_feedback(answer: str) -> tuple[str, str]:
    bits = answer.split("#", 1)
    return _post(bits[0]), _post(bits[1]) if len(bits) > 1 else ""


def read_gift(text: str) -> list[dict]:
    """Parse GIFT into dicts: name, qtype, text, category, answers [(text, fraction, feedback)], generalfeedback."""
    out, category = [], None
    for block in re.split(r"\n\s*\n", text):
        lines = [" " if ln.strip().startswith("//") else ln for ln in block.split("\n")]
        chunk = "\n".join(lines).strip()
        if not chunk:
            continue
        chunk = _pre(chunk)
        if chunk.startswith("$CATEGORY:"):
            category = chunk[len("$CATEGORY:"):].strip()
            continue
        name = None
        if chunk.startswith("::"):
            end = chunk.find("::", 2)
            if end < 0:
                raise GiftError(f"unterminated name in {chunk[:40]!r}")
            name, chunk = _post(chunk[2:end]), chunk[end + 2:].strip()
        start, finish = chunk.find("{"), chunk.find("}")
        if start < 0 or finish < 0 or finish < start or chunk.count("{") != 1 or chunk.count("}") != 1:
            raise GiftError(f"{name}: braces do not delimit one answer block")
        answer = chunk[start + 1:finish].strip()
        qtext = chunk[:start] + chunk[finish + 1:]
        fmt = None
        m = re.match(r"^\[(\w+)\]", qtext)
        if m:
            fmt, qtext = m.group(1), qtext[m.end():]
        general = ""
        if "####" in answer:
            answer, general = answer[:answer.rfind("####")].strip(), _post(answer[answer.rfind("####") + 4:])
        q = {"name": name, "text": _post(qtext), "format": fmt, "category": category,
             "generalfeedback": general, "answers": []}
        if answer == "":
            q["qtype"] = "essay"
        elif answer.startswith("#"):
            q["qtype"] = "numerical"
            for part in answer[1:].split("="):
                if not part.strip():
                    continue
                value, _ = _split_feedback(part)
                ans, _, tol = value.partition(":")
                q["answers"].append((float(ans), 1.0, float(tol or 0)))
        elif "~" in answer:
            q["qtype"] = "multichoice"
            q["single"] = "=" in answer
            for part in answer.replace("=", "~=").split("~"):
                part = part.strip()
                if not part:
                    continue
                if part.startswith("="):
                    frac, part = 1.0, part[1:]
                elif _WEIGHT.match(part):
                    w = _WEIGHT.match(part)
                    frac, part = float(w.group(1)) / 100, part[w.end():]
                else:
                    frac = 0.0
                body, fb = _split_feedback(part)
                q["answers"].append((body, frac, fb))
            if len(q["answers"]) < 2:
                raise GiftError(f"{name}: a multichoice question needs two answers")
        else:
            q["qtype"] = "shortanswer"
            for part in answer.split("="):
                part = part.strip()
                if not part:
                    continue
                w = _WEIGHT.match(part)
                frac = float(w.group(1)) / 100 if w else 1.0
                body, fb = _split_feedback(part[w.end():] if w else part)
                q["answers"].append((body, frac, fb))
        out.append(q)
    return out
