"""The README's Python examples run, and what they claim in comments holds."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_python_examples() -> None:
    assert len(_python_blocks()) >= 2


def test_readme_examples_run_and_their_comments_hold() -> None:
    namespace: dict[str, object] = {}
    checked = 0
    for block in _python_blocks():
        exec(compile(block, str(README), "exec"), namespace)
        # lines of the form `expr  # 'value'` state the expression's value
        for line in block.splitlines():
            match = re.match(r"^(\S.*?)\s+# ('[^']*'|True|False)(?!\w)", line)
            if match:
                expr, claimed = match.groups()
                assert repr(eval(expr, namespace)) == claimed, line
                checked += 1
    assert checked >= 4
    # 12 clients is under the overridden limit of 30; 31 and 48 are over it
    assert namespace["levels"] == ["low", "moderate", "moderate"]
