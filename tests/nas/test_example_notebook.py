from __future__ import annotations

import pytest


@pytest.mark.slow
def test_nas_digits_notebook_runs(run_notebook) -> None:
    nb = run_notebook("04_nas_digits.ipynb", timeout=600)
    outputs = "".join(
        str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
        for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
    )
    assert "identical predictions: True" in outputs
    accuracy = float(outputs.split("test accuracy of the found cell: ")[1][:5])
    assert accuracy > 0.9
