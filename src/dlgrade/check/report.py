"""How self-check results look: text for terminals, HTML for notebooks."""
from __future__ import annotations

import html

from dlgrade.harness.questions import QuestionResult


class CheckReport:
    """Results of public checks; renders as text (terminal) or HTML (notebook)."""

    def __init__(self, exercise: str, results: list[QuestionResult], *, sandbox: str = "",
                 notes: list[str] | None = None):
        self.exercise = exercise
        self.results = results
        self.sandbox = sandbox
        self.notes = list(notes or [])

    @property
    def passed(self) -> bool:
        return all(_ok(r) for r in self.results)

    def lines(self) -> list[str]:
        """One line per question, then what was checked: ``ok:`` what held, ``not yet:`` what did not.

        A check's message says what is expected; the prefix says whether the notebook does it, so a
        failed check never reads as a statement of fact.
        """
        out = []
        for r in self.results:
            out.append(f"{'PASS' if _ok(r) else 'FAIL'}  {r.id}: {r.title}")
            for c in r.checks:
                if c.passed:
                    out.append(f"      ok: {c.message}")
                    continue
                out.append(f"      not yet: {c.message}" + (f" [{c.detail}]" if c.detail else ""))
                if c.hint:
                    out.append(f"        hint: {c.hint}")
            if r.error:
                out.append(f"      stopped: {r.error['message']}")
        return out

    def __str__(self) -> str:
        head = [f"{self.exercise}: {sum(_ok(r) for r in self.results)}/{len(self.results)} self-checks pass"]
        if self.sandbox:
            head.append(f"(ran {self.sandbox})")
        return "\n".join([" ".join(head), *self.notes, *self.lines()])

    def _repr_pretty_(self, p, cycle):  # IPython text display
        p.text(str(self))

    def _repr_html_(self) -> str:
        rows = []
        for r in self.results:
            ok = _ok(r)
            items = [f"<li>{'ok' if c.passed else '<b>not yet</b>'}: {html.escape(c.message)}"
                     + (f" <small>({html.escape(c.detail)})</small>" if c.detail and not c.passed else "")
                     + (f"<br><i>hint: {html.escape(c.hint)}</i>" if c.hint and not c.passed else "") + "</li>"
                     for c in r.checks]
            if r.error:
                items.append(f"<li>{html.escape(r.error['message'])}</li>")
            colour = "#1a7f37" if ok else "#cf222e"
            rows.append(
                f"<tr><td style='color:{colour};font-weight:bold'>{'✔ pass' if ok else '✘ not yet'}</td>"
                f"<td><b>{html.escape(r.id)}</b> {html.escape(r.title)}"
                + (f"<ul>{''.join(items)}</ul>" if items else "") + "</td></tr>")
        return ("<div class='dlgrade-check'><table>" + "".join(rows) + "</table>"
                "<small>Self-checks only: your grade comes from the hidden tests.</small></div>")


def _ok(r: QuestionResult) -> bool:
    return r.error is None and all(c.passed for c in r.checks) and bool(r.checks)
