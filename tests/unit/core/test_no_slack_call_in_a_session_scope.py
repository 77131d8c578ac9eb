"""No Slack call inside a database transaction, read from the code: inside a `with session_scope(...)`
block nothing calls a Web API client, answers through `respond`/`tell`, or hands the client on to a
function that could. (The outbox sender's own calls are measured at run time in
tests/unit/outbox/test_no_slack_call_in_a_transaction.py.)"""

from __future__ import annotations

import ast
from pathlib import Path

import copbot

SLACK_NAMES = {"client", "respond", "tell", "say", "complete", "fail", "WebhookClient", "WebClient"}


def _opens_a_session(node: ast.With) -> bool:
    for item in node.items:
        call = item.context_expr
        if isinstance(call, ast.Call):
            name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
            if name == "session_scope":
                return True
    return False


def _slack_calls(body: list[ast.stmt]) -> list[ast.Call]:
    found = []
    for node in ast.walk(ast.Module(body=body, type_ignores=[])):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        callee = func.value if isinstance(func, ast.Attribute) else func
        arguments = [*node.args, *(k.value for k in node.keywords)]
        if (isinstance(callee, ast.Name) and callee.id in SLACK_NAMES) or any(
            isinstance(a, ast.Name) and a.id == "client" for a in arguments
        ):
            found.append(node)
    return found


def test_no_slack_call_inside_a_session_scope() -> None:
    root = Path(copbot.__file__).parent
    offenders = [
        f"{path.relative_to(root)}:{call.lineno}: {ast.unparse(call)[:80]}"
        for path in sorted(root.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.With) and _opens_a_session(node)
        for call in _slack_calls(node.body)
    ]
    assert offenders == []


def test_the_reading_finds_a_call_inside_a_session() -> None:
    code = """
with session_scope(deps.sessions) as session:
    work(session, client)
    client.views_open(trigger_id="t", view={})
"""
    (node,) = [n for n in ast.walk(ast.parse(code)) if isinstance(n, ast.With)]
    assert _opens_a_session(node) and len(_slack_calls(node.body)) == 2
