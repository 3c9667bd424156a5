"""The user's data as they have it, end to end: arrays, tensors, Datasets, DataLoaders, image
folders; streaming without a copy; augmentation in training only; regression in raw units."""

from __future__ import annotations

import io
import runpy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset, IterableDataset, TensorDataset

import jupyter_automl as ja
from jupyter_automl._errors import ConfigError, DataError
from jupyter_automl.inputs import IN_MEMORY_ENV, ImageStream
from jupyter_automl.progress import ProgressBar

COLOURS = ("red", "green", "blue")
#: a short real search: two tiny chain CNNs, one epoch each, in this process
FAST: dict[str, Any] = {
    "space": "nas-chain", "strategy": "random", "n_trials": 2, "epochs": 1, "device": "cpu",
    "storage": "memory", "display": False, "executor": "thread", "lr": 0.02,
    "space_options": {"widths": [8], "max_blocks": 2, "kernels": [3]},
}


def colour_images(n_per_class: int = 20, size: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """N×H×W×3 uint8 images whose brightest channel is the class (0 red, 1 green, 2 blue)."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for c in range(len(COLOURS)):
        batch = rng.integers(0, 80, (n_per_class, size, size, 3), dtype=np.uint8)
        batch[..., c] += 150
        images.append(batch)
        labels += [c] * n_per_class
    return np.concatenate(images), np.asarray(labels)


def write_folder(root: Path, images: np.ndarray, labels: np.ndarray, names: tuple[str, ...] = COLOURS) -> None:
    for i, (image, label) in enumerate(zip(images, labels, strict=True)):
        folder = root / names[label]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"{i:03d}.png")


def search(data: Any = None, *, out: io.StringIO | None = None, **options: Any) -> Any:
    observers = [ProgressBar(out)] if out is not None else None
    return ja.search(data, observers=observers, **{**FAST, **options})


def assert_export_reloads(result: Any, X: np.ndarray, tmp_path: Path) -> None:
    """The exported module, with the result's weights loaded, computes what the result's model does."""
    path = result.export(tmp_path / "net.py")
    torch.save(result.best_model.state_dict(), tmp_path / "weights.pt")
    namespace = runpy.run_path(str(path), run_name="exported")
    rebuilt = namespace["build_model"]()
    rebuilt.load_state_dict(torch.load(tmp_path / "weights.pt"))
    rebuilt.eval()
    x = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
    with torch.no_grad():
        assert torch.equal(rebuilt(x), result.best_model(x))
    if result.task != "regression":
        expected = np.asarray(namespace["CLASSES"])[rebuilt(x).argmax(1).numpy()]
        assert list(result.predict(X)) == list(expected)


# ------------------------------------------------------------------------------ arrays
LAYOUTS = {
    "NHWC": lambda x: x,
    "NCHW": lambda x: x.transpose(0, 3, 1, 2),
    "NHW": lambda x: x[..., 0],
    "tensor-NCHW": lambda x: torch.from_numpy(x.transpose(0, 3, 1, 2).copy()),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_image_arrays_in_any_layout_search_export_and_predict(layout: str, tmp_path: Path) -> None:
    images, labels = colour_images()
    X = LAYOUTS[layout](images)
    out = io.StringIO()
    result = search(X=X, y=labels, out=out)
    channels = 1 if layout == "NHW" else 3
    assert out.getvalue().splitlines()[0] == f"data: 60 images {channels}×8×8 (C×H×W), 3 classes"
    assert result.best_model is not None
    nchw = images.transpose(0, 3, 1, 2) if channels == 3 else images[:, None, :, :, 0]
    assert_export_reloads(result, nchw[:10].astype(np.float32), tmp_path)
    assert set(result.predict(X[:10] if not isinstance(X, torch.Tensor) else X[:10].numpy())) <= {0, 1, 2}
