"""Statuses are named once, in ``domain/status.py``: no other module spells them.

A status written as a string elsewhere drifts (a set copied into a second module, a
typo that matches nothing); the enums and their sets are the only spelling.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from milton_desktop.domain.status import AccountStatus, AttemptOutcome, Status

PKG = Path(__file__).resolve().parents[1] / "milton_desktop"
WORDS = {s.value for s in (*Status, *AccountStatus, *AttemptOutcome)}
#: a status inside SQL text, e.g. "WHERE status = 'pending'"
IN_SQL = re.compile(r"'(" + "|".join(sorted(WORDS)) + r")'")
#: the one module allowed to spell them
HOME = PKG / "domain" / "status.py"


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


#: marks a line whose word only looks like a status (a platform's own state, an icon)
OTHER_VOCABULARY = "# not a status"


def _literals(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    docs = _docstrings(tree)
    bad = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or id(node) in docs:
            continue
        if OTHER_VOCABULARY in lines[node.lineno - 1]:
            continue
        if node.value in WORDS or IN_SQL.search(node.value):
            bad.append(f"line {node.lineno}: {node.value!r}")
    return bad


SOURCES = sorted(p for p in PKG.rglob("*.py") if p != HOME)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PKG)))
def test_no_status_literal_outside_the_domain(path):
    assert _literals(path) == [], f"{path.relative_to(PKG)} spells statuses itself"


def test_the_check_sees_a_literal(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Docs may say pending."""\n'
        "x = 'pending'\n"
        "sql = \"SELECT 1 WHERE status = 'missed'\"\n"
        "icon = 'publishing'  # not a status: an icon\n"
    )
    assert _literals(sample) == [
        "line 2: 'pending'",
        "line 3: \"SELECT 1 WHERE status = 'missed'\"",
    ]


def test_a_post_awaiting_approval_waits_and_is_never_ready_to_go_out():
    from milton_desktop.domain import status as s

    waiting = Status.AWAITING_APPROVAL
    assert waiting.value == "awaiting_approval"  # stored and printed: never renamed
    assert frozenset({waiting}) == s.APPROVABLE
    # it is still to go out: it holds its account and its queue slot, and can be
    # moved, cancelled or skipped like a pending post
    for rule in (s.WAITING, s.CANCELLABLE, s.MOVABLE, s.SKIPPABLE, s.LIVE, s.OCCUPIES_SLOT):
        assert waiting in rule
    # but nothing sends it before a member approves it, and nothing went wrong with it
    for rule in (s.PUBLISHABLE_NOW, s.NEEDS_ATTENTION, s.FINAL, s.RESOLVABLE):
        assert waiting not in rule
