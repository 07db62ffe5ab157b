"""The digits: 1,797 small real handwritten digits to train a TinyVGG on, offline.

Where they come from: the UCI "Optical Recognition of Handwritten Digits" data
set (Alpaydin & Kaynak, 1998). 43 people wrote digits on forms; each 32x32
bitmap was cut into 4x4 blocks and each block's black pixels counted, giving
an 8x8 image with grey levels 0..16. scikit-learn ships the 1,797 images of its
test part inside its package (sklearn.datasets.load_digits reads that file: no
download), about 180 of each digit 0-9.

load_digits() returns them as channels-first batches, scaled to [0, 1],
optionally enlarged, with a fixed stratified train/test split.

The images need scikit-learn (a dependency of the course); it is imported
only when the digits are loaded, so the rest of conv_lib stays numpy-only.
"""

import functools
from dataclasses import dataclass

import numpy as np

from .checks import whole_number

CLASS_NAMES = tuple(str(digit) for digit in range(10))
GREY_LEVELS = 16  # the images count 0..16 black pixels per 4x4 block


@dataclass(frozen=True)
class Digits:
    """A train/test split of the digits.

    x_train: (N_train, 1, size, size) float32 in [0, 1]; y_train: (N_train,) int64 in 0..9.
    x_test:  (N_test, 1, size, size);                     y_test:  (N_test,).
    class_names: ("0", ..., "9"), class_names[y] names label y.
    train_index, test_index: (N_train,), (N_test,) the images' positions in scikit-learn's order.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple
    train_index: np.ndarray
    test_index: np.ndarray

    def __repr__(self):
        return (f"Digits(train: x {self.x_train.shape} y {self.y_train.shape}, "
                f"test: x {self.x_test.shape} y {self.y_test.shape}, classes {', '.join(self.class_names)})")


@functools.lru_cache(maxsize=1)
def _digits_8x8():
    """scikit-learn's digits as read from its package: images (1797, 8, 8) in 0..16, labels (1797,)."""
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError:
        raise ImportError(
            "the digits ship inside scikit-learn, which is not installed: "
            "run `make setup` (or `pip install scikit-learn`)"
        ) from None
    bunch = sklearn_load_digits()
    images, labels = bunch.images, bunch.target.astype(np.int64)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def split_keys(count, seed):
    """One pseudo-random 64-bit key per image, the same on every machine and numpy version.

    The first ``count`` outputs of SplitMix64 (Steele, Lea & Flood, 2014) started from state
    ``seed``, in wrapping uint64 arithmetic: written out here rather than drawn from numpy's
    Generator, whose streams numpy does not promise to keep across versions.

    Returns (count,) uint64.
    """
    golden = np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + np.arange(1, count + 1, dtype=np.uint64) * golden  # the state at each call
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def stratified_split(labels, test_fraction, seed):
    """Indices of a train/test split that keeps each class's share.

    Within each class, the images are ordered by split_keys(seed) and the first
    round(test_fraction * class count) go to the test set.

    labels: (N,) whole numbers. Returns (train_index, test_index), each sorted, together 0..N-1 once.
    """
    keys = split_keys(len(labels), seed)
    train, test = [], []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        members = members[np.argsort(keys[members], kind="stable")]
        n_test = int(round(test_fraction * len(members)))
        test.append(members[:n_test])
        train.append(members[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def enlarge(images, factor):
    """Nearest-neighbour enlargement: each pixel becomes a factor x factor block (np.kron).

    images: (N, H, W) -> (N, H*factor, W*factor), same dtype.
    """
    return np.kron(images, np.ones((1, factor, factor), dtype=images.dtype))


def load_digits(size=16, test_fraction=0.2, seed=0):
    """The 1,797 digits, scaled to [0, 1], split into train and test sets.

    size: the images' side, a multiple of 8: 8 keeps the original 8x8 images, 16
          (the default) enlarges each pixel to a 2x2 block (nearest neighbour, no
          smoothing), 24 to 3x3, and so on. Enlarging adds no information; it
          gives a TinyVGG's two 2x2 pools room to work (16 -> 8 -> 4).
    test_fraction: the share of each digit kept for testing (0.2: 359 test images, 1,438 for training).
    seed: chooses which images are tested; the same seed gives the same split on
          every run and machine (see stratified_split).
    Returns a Digits with x_train (N_train, 1, size, size) float32 in [0, 1], y_train (N_train,)
    int64, x_test, y_test, class_names and the indices of the split.

    >>> digits = load_digits()
    >>> digits.x_train.shape, digits.x_test.shape
    ((1438, 1, 16, 16), (359, 1, 16, 16))
    """
    size = whole_number(size, "size", 1)
    if size % 8:
        raise ValueError(f"size must be a multiple of 8 (the images are 8x8; 16 doubles them), got {size}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1 (e.g. 0.2 for a fifth), got {test_fraction}")
    seed = whole_number(seed, "seed", 0)
    images, labels = _digits_8x8()
    x = enlarge(images / GREY_LEVELS, size // 8).astype(np.float32)[:, None]  # (N, 1, size, size)
    train_index, test_index = stratified_split(labels, test_fraction, seed)
    return Digits(
        x_train=x[train_index], y_train=labels[train_index].copy(),
        x_test=x[test_index], y_test=labels[test_index].copy(),
        class_names=CLASS_NAMES, train_index=train_index, test_index=test_index,
    )
