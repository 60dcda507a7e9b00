"""Code as a list of normalised tokens: what two students' cells are compared on.

Normalising removes what a copier changes for free and keeps the structure:

* comments, docstrings (a string that is a whole statement), blank lines and
  layout are dropped (only the logical structure stays: ``;`` ends a statement,
  ``{``/``}`` open and close a block);
* every name the student chose (variables, parameters, their own functions) becomes
  ``V``; keywords, builtins, attribute names (``.weight``) and the names the
  template provides (``np``, ``nn``, the functions the exercise asks for) stay;
* literals are bucketed by kind: ``I`` (an integer), ``F`` (a float or complex),
  ``S`` (a string, f-strings included).

A single placeholder for every chosen name (rather than ``v1, v2, ...`` in order of
first use) keeps the tokens the same when functions are reordered or variables
renamed. Each token remembers the line of the cell it came from, for highlighting.
Code that does not tokenise (a syntax error) falls back to a plain word/symbol split
with the same rules.
"""
from __future__ import annotations

import builtins
import functools
import io
import itertools
import keyword
import re
import tokenize
from dataclasses import dataclass

from dlgrade.harness.notebook import strip_magics

BUILTINS = frozenset(dir(builtins))
_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}
_FSTRING_START = getattr(tokenize, "FSTRING_START", None)
_FSTRING_END = getattr(tokenize, "FSTRING_END", None)
_STATEMENT_EDGES = (";", "{", "}")
_FALLBACK = re.compile(r"""(?P<str>'[^'\n]*'|"[^"\n]*")|(?P<num>\d[\w.]*)|(?P<name>[A-Za-z_]\w*)|(?P<op>[^\s\w])""")


@dataclass(frozen=True)
class Token:
    text: str
    line: int
    """1-based line in the cell's source."""


def normalise(source: str, *, keep: frozenset[str] = frozenset()) -> list[Token]:
    """The normalised tokens of one cell's ``source``; ``keep``: names left as they are."""
    return list(_normalise(source, frozenset(keep)))


@functools.lru_cache(maxsize=8192)
def _normalise(source: str, keep: frozenset[str]) -> tuple[Token, ...]:
    # Cells are often identical across a class (untouched or shared code): normalised once.
    code, _ = strip_magics(source)
    try:
        raw = list(tokenize.generate_tokens(io.StringIO(code + "\n").readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return tuple(_fallback(code, keep))
    out: list[Token] = []
    in_fstring = 0
    before = None  # the previous significant token
    for i, tok in enumerate(raw):
        kind, text, line = tok.type, tok.string, tok.start[0]
        if in_fstring:
            in_fstring += (kind == _FSTRING_START) - (kind == _FSTRING_END)
            continue
        if kind in _SKIP:
            continue
        previous, before = before, tok
        if kind == _FSTRING_START:
            in_fstring = 1
            out.append(Token("S", line))
        elif kind == tokenize.NEWLINE:
            if out and out[-1].text not in _STATEMENT_EDGES:
                out.append(Token(";", line))
        elif kind == tokenize.INDENT:
            out.append(Token("{", line))
        elif kind == tokenize.DEDENT:
            out.append(Token("}", line))
        elif kind == tokenize.STRING:
            if _is_docstring(previous, raw, i):
                continue
            if not (out and out[-1].text == "S"):  # implicit concatenation is one literal
                out.append(Token("S", line))
        elif kind == tokenize.NUMBER:
            out.append(Token(_number_bucket(text), line))
        elif kind == tokenize.NAME:
            after_dot = bool(out) and out[-1].text == "."
            out.append(Token(_name(text, keep, after_dot), line))
        else:
            out.append(Token(text, line))
    return tuple(out)


def _name(text: str, keep: frozenset[str], after_dot: bool) -> str:
    if after_dot or keyword.iskeyword(text) or text in BUILTINS or text in keep:
        return text
    return "V"


def _number_bucket(text: str) -> str:
    t = text.lower().replace("_", "")
    if t.endswith("j") or ("." in t or "e" in t) and not t.startswith(("0x", "0b", "0o")):
        return "F"
    return "I"


def _is_docstring(before, raw, i: int) -> bool:
    """A string token that is a whole statement (a docstring or a bare string); ``before``: the token before."""
    after = None
    for t in itertools.islice(raw, i + 1, None):
        if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.STRING):
            after = t
            break
    starts = before is None or before.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
    ends = after is None or after.type in (tokenize.NEWLINE, tokenize.ENDMARKER)
    return starts and ends


def _fallback(code: str, keep: frozenset[str]) -> list[Token]:
    out: list[Token] = []
    for number, line in enumerate(code.splitlines(), start=1):
        line = line.split("#", 1)[0]
        for m in _FALLBACK.finditer(line):
            if m["str"]:
                out.append(Token("S", number))
            elif m["num"]:
                out.append(Token(_number_bucket(m["num"]), number))
            elif m["name"]:
                out.append(Token(_name(m["name"], keep, bool(out) and out[-1].text == "."), number))
            else:
                out.append(Token(m["op"], number))
        if out and out[-1].line == number and out[-1].text != ";":
            out.append(Token(";", number))
    return out
