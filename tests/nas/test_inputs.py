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
from torch.utils.data import DataLoader, Dataset, TensorDataset

import jupyter_automl as ja
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


# ------------------------------------------------------------------- Datasets and DataLoaders
class PilImages(Dataset):
    """A map-style dataset of (PIL image, class index) items, as torchvision gives without a transform."""

    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[Image.Image, int]:
        return Image.fromarray(self.images[i]), int(self.labels[i])


def test_tensor_dataset_and_its_dataloader_batch_size(tmp_path: Path) -> None:
    images, labels = colour_images()
    nchw = torch.from_numpy(images.transpose(0, 3, 1, 2).astype(np.float32))
    loader = DataLoader(TensorDataset(nchw, torch.from_numpy(labels)), batch_size=16, shuffle=True)
    result = search(loader)
    assert result.dataset.summary() == "data: 60 images 3×8×8 (C×H×W), 3 classes"
    # the DataLoader's batch size is the default one; the trials trained with it
    assert {t.params.get("batch_size", 16) for t in result.study.trials} == {16}
    assert result.space.settings({}).batch_size == 16
    assert_export_reloads(result, nchw[:8].numpy(), tmp_path)
    # a batch size the user sets wins over the DataLoader's
    assert search(loader, batch_size=32).space.settings({}).batch_size == 32


def test_dataset_of_pil_images_and_labels_given_as_y(tmp_path: Path) -> None:
    images, labels = colour_images()
    result = search(PilImages(images, labels))
    assert result.dataset.summary() == "data: 60 images 3×8×8 (C×H×W), 3 classes"
    assert_export_reloads(result, images[:8].transpose(0, 3, 1, 2).astype(np.float32), tmp_path)
    # items holding the input alone, labels as y=
    only_x = TensorDataset(torch.from_numpy(images.transpose(0, 3, 1, 2).copy()))
    names = np.asarray(COLOURS)[labels]
    result = search(X=only_x, y=names)
    assert set(result.predict(images[:6])) <= set(COLOURS)


def test_two_dimensional_tensor_dataset_is_a_table_for_nas_mlp() -> None:
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    data = TensorDataset(torch.from_numpy(X[:200].astype(np.float32)), torch.from_numpy(y[:200]))
    result = search(data, space="nas-mlp", space_options={"widths": [16]})
    assert result.dataset.summary() == "data: 200 rows × 30 columns, 2 classes"
    assert result.best_score > 0.8
    assert result.space.augmentations() == ()  # auto augments images only


# ------------------------------------------------------------------------------ image folders
def test_image_folder_with_a_valid_split_is_the_validation_data(tmp_path: Path) -> None:
    images, labels = colour_images(16)
    write_folder(tmp_path / "images" / "train", images, labels)
    write_folder(tmp_path / "train_only", images, labels)
    valid_images, valid_labels = colour_images(6, seed=1)
    # valid/ labels are rotated: a model that learnt train/ scores 0 on them, a random split of train/ ~1
    write_folder(tmp_path / "images" / "valid", valid_images, (valid_labels + 1) % 3)
    out = io.StringIO()
    options = {"epochs": 4, "batch_size": 8, "holdout": "none", "strategy": "rules"}  # one sound CNN
    result = search(str(tmp_path / "images"), out=out, **options)
    assert out.getvalue().splitlines()[0] == (
        "data: 66 images 3×8×8 (C×H×W), 3 classes; validation split: the 18 images of valid/")
    assert result.best_score < 0.2  # scored on valid/ with its rotated labels
    assert search(str(tmp_path / "train_only"), **options).best_score > 0.8  # the same images split at random
    assert_export_reloads(result, valid_images[:6].transpose(0, 3, 1, 2).astype(np.float32), tmp_path)


def test_large_image_folder_streams_from_files_in_worker_processes(tmp_path: Path, monkeypatch) -> None:
    images, labels = colour_images(16)
    write_folder(tmp_path / "gray", images[..., 0], labels)  # one-channel PNGs
    monkeypatch.setenv(IN_MEMORY_ENV, "1000")  # 48 × 8 × 8 × 4 bytes is over it
    result = search(tmp_path / "gray", executor="process")
    assert isinstance(result.dataset.X, ImageStream)
    assert result.dataset.summary().startswith("data: 48 images 1×8×8 (C×H×W), 3 classes; read from the files")
    assert all(t.state.name == "COMPLETE" for t in result.study.trials)
    assert_export_reloads(result, images[:6, None, :, :, 0].astype(np.float32), tmp_path)


def test_the_magic_takes_a_folder_path_and_a_dataset_variable(tmp_path: Path, monkeypatch) -> None:
    from IPython.testing.globalipapp import get_ipython

    monkeypatch.chdir(tmp_path)
    images, labels = colour_images(10)
    write_folder(tmp_path / "pics", images, labels)
    shell = get_ipython()
    shell.run_line_magic("load_ext", "jupyter_automl")
    shell.user_ns["train_set"] = PilImages(images, labels)
    body = ("space: nas-chain\nstrategy: random\nn_trials: 1\nepochs: 1\nstorage: memory\ndisplay: false\n"
            "executor: thread\nspace_options: {widths: [8], max_blocks: 1}\n")
    try:
        for data in ("pics", "train_set"):
            shell.run_cell_magic("automl", "", f"data: {data}\n" + body)
            result = shell.user_ns["automl"]
            assert result.dataset.summary() == "data: 30 images 3×8×8 (C×H×W), 3 classes"
            assert result.best_model is not None
    finally:
        for name in ("train_set", "automl"):
            shell.user_ns.pop(name, None)


# ------------------------------------------------------------------------------ bad input
class Stream(torch.utils.data.IterableDataset):
    def __iter__(self):
        yield from ((torch.zeros(3, 8, 8), 0) for _ in range(10))


def test_what_cannot_be_read_is_refused_before_any_work_naming_what_is_accepted(tmp_path: Path) -> None:
    with pytest.raises(ja.DataError, match="iterable-style dataset"):
        search(Stream())
    (tmp_path / "loose").mkdir()
    Image.fromarray(colour_images(1)[0][0]).save(tmp_path / "loose" / "a.png")
    (tmp_path / "loose" / "red").mkdir()
    with pytest.raises(ja.DataError, match="beside the class folders"):
        search(str(tmp_path / "loose"))
    pairs = [(np.zeros((3, 8, 8)), "a label"), (np.zeros((3, 9, 9)), "b")]
    with pytest.raises(ja.DataError, match="item 1 of the dataset"):
        search(pairs_dataset(pairs))


def pairs_dataset(pairs: list[tuple[Any, Any]]) -> Dataset:
    class Pairs(Dataset):
        def __len__(self) -> int:
            return len(pairs)

        def __getitem__(self, i: int) -> tuple[Any, Any]:
            return pairs[i]

    return Pairs()


# ------------------------------------------------------------------------- augmentation
def test_augmentation_changes_training_batches_only_and_is_written_into_the_export(tmp_path: Path) -> None:
    images, labels = colour_images()
    nchw = images.transpose(0, 3, 1, 2).astype(np.float32)
    plain = search(X=nchw, y=labels, augment="none", n_trials=1)
    augmented = search(X=nchw, y=labels, augment=["crop", "flip"], n_trials=1)
    assert plain.space.augmentations() == () and augmented.space.augmentations() == ("crop", "flip")
    # same seed, same architecture: only the training batches differ, so the weights do
    same = [(a == b).all() for a, b in zip(plain.best_model.state_dict().values(),
                                            augmented.best_model.state_dict().values(), strict=True)]
    assert not all(same)
    # predictions see the images as given: predicting twice gives the same answer
    assert (augmented.predict_proba(nchw[:10]) == augmented.predict_proba(nchw[:10])).all()
    source = augmented.export(tmp_path / "net.py").read_text()
    assert "AUGMENT = ('crop', 'flip')" in source
    assert "AUGMENT = ()" in plain.export(tmp_path / "plain.py").read_text()


# ---------------------------------------------------------------------------- regression
def test_nas_mlp_regression_on_diabetes_beats_the_mean_on_held_out_rows() -> None:
    from sklearn.datasets import load_diabetes
    from sklearn.metrics import r2_score
    from sklearn.model_selection import train_test_split

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    result = ja.search(X=X_train, y=y_train, space="nas-mlp", n_trials=4, storage="memory", display=False,
                       executor="thread", device="cpu")
    predicted = result.predict(X_test)
    # in the target's units (training standardised it): better than predicting the training mean
    assert abs(float(np.mean(predicted)) - float(y_test.mean())) < 0.5 * float(y_test.std())
    assert r2_score(y_test, predicted) > 0.2
