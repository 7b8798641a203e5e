"""Functions stay short enough to read at once: over MAX_LINES lines, a function needs its
reason written on the line above it (``# Long: ...``). Complexity is ruff's (C901, 15)."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("contactcenter", "routing", "channels_app", "supervisor")
MAX_LINES = 60


def long_functions_without_a_reason() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            lines = path.read_text(encoding="utf-8").splitlines()
            for node in ast.walk(ast.parse("\n".join(lines))):
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                length = node.end_lineno - node.lineno + 1
                explained = first >= 2 and lines[first - 2].strip().startswith("# Long:")
                if length > MAX_LINES and not explained:
                    where = path.relative_to(REPO)
                    found.append(f"{where}:{node.lineno} {node.name} ({length} lines)")
    return found


def test_no_function_is_longer_than_sixty_lines_without_a_reason() -> None:
    assert long_functions_without_a_reason() == []
