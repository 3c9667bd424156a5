"""The README's Python examples run as written, each in a fresh interpreter in an empty folder.

Only their budgets are cut (``time_budget`` to 5 s, ``n_trials`` to at most 4) so the whole file
runs in a few minutes; a block that cannot run on its own is listed in ``NOT_RUN`` with the reason.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).parents[1] / "README.md"

NOT_RUN = {  # the block's first line: why it is not run here
    'r = ja.search(data=visits, target="doctor_visits", metric="r2")   # a count target: a regression':
        "a sketch over the reader's own DataFrames (visits, df)",
    "import jupyter_automl as ja\n\nresult = ja.search(data=df, target=\"species\"":
        "the API at a glance, over the reader's df and X",
    "# jupyter_server_config.py": "a server configuration file (tests/test_server.py runs it in a real server)",
}
SETUP = {  # a block that continues something the README did before it
    "continues \"bc\"": "import jupyter_automl as ja\nja.search(data='sklearn:breast_cancer', n_trials=2, name='bc')\n",
}


def python_blocks(text: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"^```python\n(.*?)^```", text, flags=re.S | re.M)]


def _not_run(block: str) -> str | None:
    return next((why for start, why in NOT_RUN.items() if block.startswith(start)), None)


def _shorten(block: str) -> str:
    block = re.sub(r'time_budget="\d+[sm]"', 'time_budget="5s"', block)
    return re.sub(r"n_trials=(\d+)", lambda m: f"n_trials={min(4, int(m.group(1)))}", block)


BLOCKS = python_blocks(README.read_text(encoding="utf-8"))


def test_every_block_is_run_or_says_why_not():
    assert len(BLOCKS) >= 8
    skipped = [b for b in BLOCKS if _not_run(b)]
    assert len(skipped) == len(NOT_RUN), "a NOT_RUN entry matches no block: update it with the README"


@pytest.mark.parametrize("block", [b for b in BLOCKS if not _not_run(b)],
                         ids=lambda b: b.strip().splitlines()[-1][:50])
def test_readme_block_runs(block, tmp_path):
    setup = next((code for key, code in SETUP.items() if key in block), "")
    code = setup + _shorten(block)
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=500)
    assert proc.returncode == 0, f"{code}\n---\n{proc.stderr[-3000:]}"
    assert "Traceback" not in proc.stderr
