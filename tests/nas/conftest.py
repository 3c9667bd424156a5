from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    # the machine is shared: keep every test on a single core
    torch.set_num_threads(1)
