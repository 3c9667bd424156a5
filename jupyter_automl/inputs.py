"""What users hold, turned into what the NAS spaces train on: arrays, or images read on demand.

Accepted, besides the DataFrames and arrays :mod:`jupyter_automl.data` reads itself:

- a map-style ``torch.utils.data.Dataset`` whose items are ``(x, label)`` pairs (``x`` an
  array, a tensor or a PIL image), or whose items are ``x`` alone with the labels given as ``y=``;
- a ``torch.utils.data.DataLoader`` (its dataset; its batch size becomes the default one);
- an image folder: one sub-folder per class holding PNG/JPEG files, optionally under ``train/``
  and ``valid/`` (``valid/`` is then the validation split).

Items of one dimension are table rows (``nas-mlp``); of two or three, images (``H×W``, ``C×H×W``
or ``H×W×C``). Data whose float32 copy would exceed :func:`in_memory_limit` is not copied:
it stays an :class:`ImageStream` and training reads its batches from the Dataset (or the
files). Nothing here imports torch or Pillow until such an object is seen.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from jupyter_automl._errors import DataError

__all__ = [
    "ACCEPTED",
    "IN_MEMORY_ENV",
    "IMAGE_SUFFIXES",
    "ImageFiles",
    "ImageStream",
    "Inputs",
    "channel_stats",
    "image_layout",
    "in_memory_limit",
    "is_torch_data",
    "read_image_folder",
    "read_torch_data",
]

#: Environment variable: the most bytes (as float32) data may take to be copied into one array.
IN_MEMORY_ENV = "JUPYTER_AUTOML_IN_MEMORY_BYTES"
#: Image files an image folder may hold (case-insensitive).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_VALID_NAMES = ("valid", "val", "validation")
ACCEPTED = (
    "a DataFrame, numpy arrays or torch tensors (images N×C×H×W, N×H×W×C or N×H×W; tables N×F), "
    "a map-style torch Dataset of (x, label) items, a DataLoader over one, or a folder of "
    "PNG/JPEG images with one sub-folder per class (optionally under train/ and valid/)"
)
_GRAY_MODES = ("1", "L", "LA", "I", "I;16", "F")


def in_memory_limit() -> int:
    """Bytes the data's float32 copy may take before it is streamed instead (``$JUPYTER_AUTOML_IN_MEMORY_BYTES``).

    By default a quarter of the memory available now: the search keeps the array, each worker
    process gets its own, and training needs room besides.
    """
    given = os.environ.get(IN_MEMORY_ENV, "").strip()
    if given:
        try:
            return int(float(given))
        except ValueError:
            raise DataError(f"${IN_MEMORY_ENV} must be a number of bytes, got {given!r}") from None
    try:
        import psutil

        available = int(psutil.virtual_memory().available)
    except ImportError:
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            available = 8 << 30
    return available // 4


def _size(n_bytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n_bytes < 1024 or unit == "GB":
            return f"{n_bytes:.0f} {unit}" if unit == "B" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.1f} TB"  # pragma: no cover


@dataclass
class Inputs:
    """What a user's object turned into: features, labels and what is known about them."""

    X: Any  # an array (images or a table) or an ImageStream
    y: np.ndarray
    source: str
    #: rows that form the validation split the user gave (a ``valid/`` folder), as a boolean mask
    validation: np.ndarray | None = None
    #: the batch size of a DataLoader the user gave
    batch_size: int | None = None
    #: said after the shape in the first progress line (the split used, streaming)
    detail: str = ""


# ------------------------------------------------------------------------------- layout
def image_layout(shape: Sequence[int]) -> tuple[int, int, int, bool]:
    """``(C, H, W, channels_last)`` of images shaped ``(N, ...)`` (a grayscale stack is ``N×H×W``).

    A channel axis holds 1, 3 or 4 values; channels first wins when both ends could be one.

    Examples
    --------
    >>> image_layout((10, 32, 32, 3))
    (3, 32, 32, True)
    >>> image_layout((10, 28, 28))
    (1, 28, 28, False)
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) == 3:
        return 1, shape[1], shape[2], False
    if len(shape) == 4:
        if shape[1] in (1, 3, 4):
            return shape[1], shape[2], shape[3], False
        if shape[3] in (1, 3, 4):
            return shape[3], shape[1], shape[2], True
        raise DataError(f"cannot tell the channel axis of images shaped {shape}: expected 1, 3 or 4 "
                        "channels first (N×C×H×W) or last (N×H×W×C)")
    raise DataError(f"images must be shaped N×C×H×W, N×H×W×C or N×H×W, got {shape}")


def _as_chw(x: np.ndarray, channels_last: bool) -> np.ndarray:
    """One image as float32 C×H×W."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 2:
        return x[None]
    return np.ascontiguousarray(x.transpose(2, 0, 1)) if channels_last else x


class ImageStream:
    """Images read one by one from a map-style dataset: the data stays where it is.

    Behaves like the N×C×H×W array the spaces expect as far as they use one: ``len``, ``shape``,
    views by index (``stream[train]`` is another stream, no image read), ``np.asarray`` of a
    small view, and batches read on demand (:meth:`batches`).
    """

    def __init__(self, dataset: Any, chw: tuple[int, int, int], channels_last: bool,
                 index: np.ndarray | None = None, *, labelled: bool = True) -> None:
        self.dataset = dataset
        self.chw = tuple(int(v) for v in chw)
        self.channels_last = bool(channels_last)
        self.index = np.arange(len(dataset)) if index is None else np.asarray(index, dtype=np.int64)
        self.labelled = labelled  # items are (x, label) pairs rather than x alone

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.index), *self.chw)

    @property
    def ndim(self) -> int:
        return 4

    @property
    def nbytes(self) -> int:
        """Bytes of the float32 array this stream stands for (never allocated)."""
        return int(np.prod(self.shape, dtype=np.int64)) * 4

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, (int, np.integer)):
            return self.image(int(key))
        return ImageStream(self.dataset, self.chw, self.channels_last, self.index[key],
                           labelled=self.labelled)

    def image(self, position: int) -> np.ndarray:
        """Image ``position`` of this view as float32 C×H×W (read from the dataset now)."""
        item = self.dataset[int(self.index[position])]
        x = _item_array(item[0] if self.labelled else item, int(self.index[position]))
        image = _as_chw(x, self.channels_last)
        if image.shape != self.chw:
            raise DataError(f"item {int(self.index[position])} of the dataset is shaped {tuple(x.shape)}, "
                            f"the others {self.chw} (C×H×W): every image must have the same size")
        return image

    def read(self, positions: Sequence[int]) -> np.ndarray:
        """The images at ``positions`` as one float32 N×C×H×W array."""
        if len(positions) == 0:
            return np.zeros((0, *self.chw), dtype=np.float32)
        return np.stack([self.image(int(p)) for p in positions])

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        array = self.read(range(len(self)))
        return array if dtype is None else array.astype(dtype, copy=False)

    def batches(self) -> _BatchReader:
        """Indexable by a slice or an index tensor, giving float32 torch batches read on demand."""
        return _BatchReader(self)

    def fingerprint_bytes(self, n: int = 32) -> bytes:
        """Bytes that identify the data: its shape and ``n`` images spread over it."""
        picks = np.unique(np.linspace(0, len(self) - 1, num=min(n, len(self))).astype(int))
        return repr(self.shape).encode() + self.read(picks).tobytes()

    def __repr__(self) -> str:
        return f"ImageStream({type(self.dataset).__name__}, shape={self.shape})"


class _BatchReader:
    """``reader[index]`` reads those images of a stream into a float32 torch tensor."""

    def __init__(self, stream: ImageStream) -> None:
        self.stream = stream

    def __len__(self) -> int:
        return len(self.stream)

    def __getitem__(self, key: Any) -> Any:
        import torch

        positions = range(len(self.stream))[key] if isinstance(key, slice) else np.asarray(key).ravel()
        return torch.from_numpy(self.stream.read(list(positions)))


def channel_stats(X: Any, axes: tuple[int, ...], max_items: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of ``X`` over ``axes`` (keepdims, first axis dropped).

    A stream is measured on at most ``max_items`` images spread over it (one read each).
    """
    if isinstance(X, ImageStream):
        picks = np.unique(np.linspace(0, len(X) - 1, num=min(max_items, len(X))).astype(int))
        X = X.read(picks)
    return X.mean(axis=axes, keepdims=True)[0], X.std(axis=axes, keepdims=True)[0]


# ----------------------------------------------------------------------------- torch data
def is_torch_data(obj: Any) -> bool:
    """Whether ``obj`` is a torch ``Dataset`` or ``DataLoader`` (without importing torch)."""
    if "torch" not in sys.modules or obj is None:
        return False
    from torch.utils.data import DataLoader, Dataset

    return isinstance(obj, (Dataset, DataLoader))


def _item_array(x: Any, position: int) -> np.ndarray:
    """One item's input as a numpy array (tensors, PIL images and arrays are accepted)."""
    if hasattr(x, "detach") and hasattr(x, "numpy"):
        return x.detach().cpu().numpy()
    if type(x).__module__.startswith("PIL."):
        return np.asarray(x)
    if isinstance(x, np.ndarray):
        return x
    raise DataError(f"item {position} of the dataset holds a {type(x).__name__} as its input: expected "
                    "an array, a tensor or a PIL image")


def _label_value(label: Any, position: int) -> Any:
    """One item's label as a Python scalar (int, float, bool or str)."""
    if hasattr(label, "detach") and hasattr(label, "numel"):
        if label.numel() != 1:
            raise DataError(_label_problem(position, f"a tensor of shape {tuple(label.shape)}"))
        return label.item()
    if isinstance(label, np.ndarray):
        if label.size != 1:
            raise DataError(_label_problem(position, f"an array of shape {label.shape}"))
        return label.item()
    if isinstance(label, np.generic):
        return label.item()
    if isinstance(label, (bool, int, float, str)):
        return label
    return _raise_label(position, label)


def _raise_label(position: int, label: Any) -> Any:
    raise DataError(_label_problem(position, f"a {type(label).__name__} ({label!r:.40})"))


def _label_problem(position: int, what: str) -> str:
    return (f"the label of item {position} is {what}: each label must be one int (a class index), "
            "a class name or, for a regression, one number; for one-hot labels give their argmax")


def _split_item(item: Any, position: int) -> tuple[Any, Any]:
    if isinstance(item, (tuple, list)) and len(item) == 2:
        return item[0], item[1]
    kind = f"a {len(item)}-tuple" if isinstance(item, (tuple, list)) else f"a {type(item).__name__}"
    raise DataError(f"item {position} of the dataset is {kind}: expected (input, label) pairs, as "
                    "TensorDataset(X, y) gives, or pass the labels as y= with items holding the input alone")


def read_torch_data(obj: Any, y: Any = None) -> Inputs:
    """A torch ``Dataset`` or ``DataLoader`` as :class:`Inputs` (labels from its items unless ``y``).

    Images whose float32 copy fits :func:`in_memory_limit` are copied into one array; larger
    ones become an :class:`ImageStream` (shapes checked on a sample, labels read from the
    dataset's ``targets`` when it has them, else from each item once).
    """
    from torch.utils.data import DataLoader, IterableDataset

    batch_size = None
    source = type(obj).__name__
    if isinstance(obj, DataLoader):
        batch_size = obj.batch_size
        obj = obj.dataset
        source = f"DataLoader({type(obj).__name__})"
    if isinstance(obj, IterableDataset) or not hasattr(obj, "__len__") or not hasattr(obj, "__getitem__"):
        raise DataError(f"{type(obj).__name__} is an iterable-style dataset (no length, no item by index): "
                        f"the search needs a map-style Dataset; accepted: {ACCEPTED}")
    n = len(obj)
    if n == 0:
        raise DataError(f"the {type(obj).__name__} is empty: nothing to learn from")
    labelled = y is None
    if y is not None:
        y = np.asarray(y.detach().cpu().numpy() if hasattr(y, "detach") else y)
        if len(y) != n:
            raise DataError(f"the dataset has {n} items but y has {len(y)} values: they must have the same length")
    first_item = obj[0]
    first = _item_array(_split_item(first_item, 0)[0] if labelled else _first_input(first_item), 0)
    if first.ndim == 0 or first.ndim > 3:
        raise DataError(f"item 0 of the dataset has an input shaped {first.shape}: expected a feature "
                        "vector (F,) or an image (H×W, C×H×W or H×W×C)")
    if first.ndim == 1 or n * first.size * 4 <= in_memory_limit():
        X, labels = _copy_items(obj, n, first, labelled)
        y = labels if labelled else y
        return Inputs(X=X, y=np.asarray(y) if labelled else y, source=source, batch_size=batch_size)
    c, h, w, last = image_layout((n, *first.shape))
    stream = ImageStream(obj, (c, h, w), last, labelled=labelled)
    for position in np.unique(np.linspace(0, n - 1, num=min(16, n)).astype(int)):
        stream.image(int(position))  # a ragged dataset is refused now, not in the middle of a trial
    if labelled:
        y = _labels_of(obj, n)
    detail = (f"read from the dataset batch by batch: its float32 copy ({_size(stream.nbytes)}) exceeds the "
              f"in-memory limit ({_size(in_memory_limit())}, ${IN_MEMORY_ENV})")
    return Inputs(X=stream, y=y, source=source, batch_size=batch_size, detail=detail)


def _first_input(item: Any) -> Any:
    """An item's input when the labels come from ``y=``: the item itself, or the first of a pair."""
    return item[0] if isinstance(item, (tuple, list)) else item


def _copy_items(obj: Any, n: int, first: np.ndarray, labelled: bool) -> tuple[np.ndarray, list[Any]]:
    """Every item's input stacked into one array (their own dtype), and their labels."""
    X = np.empty((n, *first.shape), dtype=first.dtype if first.dtype != object else np.float32)
    labels: list[Any] = []
    for position in range(n):
        item = obj[position]
        if labelled:
            x, label = _split_item(item, position)
            labels.append(_label_value(label, position))
        else:
            x = _first_input(item)
        array = _item_array(x, position)
        if array.shape != first.shape:
            raise DataError(f"item {position} of the dataset has an input shaped {tuple(array.shape)}, item 0 "
                            f"{tuple(first.shape)}: every item must have the same shape (resize or pad them)")
        X[position] = array
    return X, labels


def _labels_of(obj: Any, n: int) -> np.ndarray:
    """The labels of a streamed dataset: its ``targets`` (or ``labels``), else each item's once."""
    for name in ("targets", "labels"):
        given = getattr(obj, name, None)
        if given is not None and hasattr(given, "__len__") and len(given) == n:
            values = given.detach().cpu().numpy() if hasattr(given, "detach") else np.asarray(given)
            if values.ndim == 1:
                return values
    return np.asarray([_label_value(_split_item(obj[i], i)[1], i) for i in range(n)])


# ----------------------------------------------------------------------------- image folders
class ImageFiles:
    """A map-style dataset over image files: item ``i`` is ``(H×W[×C] uint8 array, label)``."""

    def __init__(self, paths: Sequence[str], labels: Sequence[Any], mode: str) -> None:
        self.paths = list(paths)
        self.labels = list(labels)
        self.mode = mode

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> tuple[np.ndarray, Any]:
        from PIL import Image

        with Image.open(self.paths[i]) as image:
            return np.asarray(image.convert(self.mode)), self.labels[i]


def read_image_folder(path: str | os.PathLike[str]) -> Inputs:
    """A folder with one sub-folder of PNG/JPEG images per class as :class:`Inputs`.

    With ``train/`` and ``valid/`` (or ``val/``, ``validation/``) sub-folders, each holding the
    class folders, ``valid/`` becomes the validation split. Every image must have the same size;
    colour images are read as RGB (alpha dropped), all-grayscale folders as one channel.

    Raises
    ------
    DataError
        For an empty class folder, a file that is not a readable PNG/JPEG, images of different
        sizes or classes in ``valid/`` that ``train/`` lacks, naming the file or folder.
    """
    from jupyter_automl._imports import require

    require("PIL", what=f"reading the image folder {str(path)!r}", extra="nas")
    root = Path(path).expanduser()
    if not root.is_dir():
        raise DataError(f"{str(root)!r} is not a folder")
    folders = _subfolders(root)
    valid_name = next((name for name in _VALID_NAMES if name in folders), None)
    if "train" in folders and valid_name is not None:
        others = sorted(set(folders) - {"train", valid_name})
        if others:
            raise DataError(f"{str(root)!r} holds train/ and {valid_name}/ but also {others}: put the class "
                            "folders inside train/ and valid/, or drop the split and keep only class folders")
        parts = [("train", root / "train"), ("valid", root / valid_name)]
    else:
        parts = [("train", root)]
    files: list[tuple[str, str, str]] = []  # (path, class, part)
    for part, folder in parts:
        files.extend((p, c, part) for p, c in _class_files(folder))
    train_classes = {c for _, c, part in files if part == "train"}
    extra = sorted({c for _, c, part in files if part == "valid"} - train_classes)
    if extra:
        raise DataError(f"{valid_name}/ has classes {extra[:5]} that train/ lacks: every validation class "
                        "needs training images")
    size, mode = _check_images([p for p, _, _ in files])
    labels = np.asarray([c for _, c, _ in files], dtype=object)
    validation = np.asarray([part == "valid" for _, _, part in files]) if len(parts) == 2 else None
    dataset = ImageFiles([p for p, _, _ in files], labels.tolist(), mode)
    channels = 1 if mode == "L" else 3
    n = len(files)
    detail = ""
    if validation is not None:
        detail = f"validation split: the {int(validation.sum())} images of {valid_name}/"
    if n * channels * size[0] * size[1] * 4 > in_memory_limit():
        stream = ImageStream(dataset, (channels, size[1], size[0]), channels == 3)
        detail = "; ".join(filter(None, [detail, f"read from the files batch by batch: their float32 copy "
                                         f"({_size(stream.nbytes)}) exceeds the in-memory limit "
                                         f"({_size(in_memory_limit())}, ${IN_MEMORY_ENV})"]))
        return Inputs(X=stream, y=labels, source=str(root), validation=validation, detail=detail)
    X = np.stack([dataset[i][0] for i in range(n)])
    return Inputs(X=X, y=labels, source=str(root), validation=validation, detail=detail)


def _subfolders(folder: Path) -> list[str]:
    """Names of ``folder``'s sub-folders; any other entry (hidden files aside) is refused."""
    names, stray = [], []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        (names if entry.is_dir() else stray).append(entry.name)
    if stray:
        raise DataError(f"{str(folder)!r} holds files {stray[:3]} beside the class folders: an image folder "
                        "holds one sub-folder per class (the images go inside them); move or delete those files")
    if not names:
        raise DataError(f"{str(folder)!r} has no sub-folders: an image folder holds one sub-folder per class "
                        f"with {'/'.join(s.lstrip('.').upper() for s in IMAGE_SUFFIXES)} images inside")
    return names


def _class_files(folder: Path) -> list[tuple[str, str]]:
    """``(path, class)`` of every image under ``folder``'s class folders, in a fixed order."""
    out: list[tuple[str, str]] = []
    for name in _subfolders(folder):
        images = []
        for entry in sorted((folder / name).iterdir()):
            if entry.name.startswith("."):
                continue
            if entry.is_dir() or entry.suffix.lower() not in IMAGE_SUFFIXES:
                raise DataError(f"{str(entry)!r} is not a PNG/JPEG image: class folders hold only "
                                f"{', '.join(IMAGE_SUFFIXES)} files; move it out of the image folder")
            images.append(str(entry))
        if not images:
            raise DataError(f"class folder {str(folder / name)!r} is empty: give it images or remove it")
        out.extend((p, name) for p in images)
    return out


def _check_images(paths: list[str]) -> tuple[tuple[int, int], str]:
    """The common ``(width, height)`` and the mode to read with (``L`` or ``RGB``)."""
    from PIL import Image, UnidentifiedImageError

    size: tuple[int, int] | None = None
    first = ""
    colour = False
    for path in paths:
        try:
            with Image.open(path) as image:
                image.verify()  # reads the whole file: a truncated one is refused here
            with Image.open(path) as image:
                this, mode = image.size, image.mode
        except (UnidentifiedImageError, OSError, SyntaxError) as exc:
            raise DataError(f"{path!r} cannot be read as an image ({type(exc).__name__}: {exc}); "
                            "remove or replace it") from None
        if size is None:
            size, first = this, path
        elif this != size:
            raise DataError(f"images differ in size: {path!r} is {this[0]}×{this[1]} but {first!r} is "
                            f"{size[0]}×{size[1]} (width×height); resize them to one size first")
        colour = colour or mode not in _GRAY_MODES
    assert size is not None
    return size, "RGB" if colour else "L"
