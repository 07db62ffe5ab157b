"""Training: how the filters are learned, one mini-batch at a time.

Each step takes a mini-batch of training images, runs the network forward,
measures the loss (softmax cross-entropy), runs it backward to get every
weight's gradient, and moves each weight a little against its gradient (SGD
with momentum). An epoch is one pass over the shuffled training set; after
each, the test images (never trained on) are scored.

RECIPE (also named DEFAULTS) is the recipe notebook 06 and
benchmarks/bench_train.py use: a TinyVGG (two blocks of [3x3 conv, ReLU] x 2
and a 2x2 max pool, with 8 and 16 filters, then one fully connected layer) on
the 16x16 digits. run_recipe() trains it as the notebook does; the same seed
gives the same weights, batches and numbers.

numpy only (conv_lib.data needs scikit-learn to read the digits).
"""

import time
from dataclasses import dataclass, field

import numpy as np

from . import models
from .layers import SGD, Sequential, softmax_cross_entropy


@dataclass(frozen=True)
class Recipe:
    """Everything that decides a training run, in one place.

    size: the digits' side (16: 8x8 images enlarged 2x); channels: the filters of the two blocks;
    epochs, lr, lr_schedule, momentum, batch_size, weight_decay: as in train(); seed: seeds
    two Generators, one for the weights, one for the shuffling (the split is load_digits' own).
    Read a setting as RECIPE.lr or RECIPE["lr"]; change one with dataclasses.replace(RECIPE, epochs=3).
    """

    size: int = 16
    channels: tuple = (8, 16)
    epochs: int = 10
    lr: float = 0.03
    lr_schedule: str = "linear"
    momentum: float = 0.9
    batch_size: int = 32
    weight_decay: float = 0.0
    seed: int = 0

    def __getitem__(self, name):
        """RECIPE["lr"] is RECIPE.lr: the recipe reads like a dict too."""
        if name not in self.__dataclass_fields__:
            raise KeyError(f"a recipe has no setting {name!r}; it has {', '.join(self.keys())}")
        return getattr(self, name)

    def keys(self):
        """The settings' names, so that dict(RECIPE) and f(**RECIPE) work."""
        return list(self.__dataclass_fields__)


#: The course's recipe (see benchmarks/README.md for its measured time and accuracy).
RECIPE = Recipe()
DEFAULTS = RECIPE  # the same object under a second name


@dataclass
class History:
    """What happened during training, for plots and checks.

    batch_loss:     one loss per step (mini-batch), in order.
    epoch_loss:     per epoch, the mean of its steps' losses.
    train_accuracy: per epoch, the share of training images the network classified
                    right *during* the epoch, while it was still learning (free: the scores
                    are computed anyway; a little below the end-of-epoch accuracy).
    test_accuracy:  per epoch, the share of test images classified right after the epoch.
    seconds:        per epoch, the seconds since training started (test scoring included).
    """

    batch_loss: list = field(default_factory=list)
    epoch_loss: list = field(default_factory=list)
    train_accuracy: list = field(default_factory=list)
    test_accuracy: list = field(default_factory=list)
    seconds: list = field(default_factory=list)

    def __getitem__(self, name):
        """history["test_accuracy"] is history.test_accuracy."""
        if name not in self.__dataclass_fields__:
            raise KeyError(f"a history has no {name!r}; it has {', '.join(self.__dataclass_fields__)}")
        return getattr(self, name)

    def seconds_to_reach(self, test_accuracy):
        """Seconds from the start until the first epoch whose test accuracy reached the given share, or None."""
        for accuracy, seconds in zip(self.test_accuracy, self.seconds):
            if accuracy >= test_accuracy:
                return seconds
        return None


def build_model(recipe=RECIPE, rng=None):
    """A He-initialised TinyVGG for the recipe's digits: input (N, 1, size, size) -> scores (N, 10).

    rng: a numpy Generator; by default one seeded with recipe.seed.
    """
    rng = np.random.default_rng(recipe.seed) if rng is None else rng
    specs = models.tiny_vgg(classes=10, channels=recipe.channels)
    return Sequential.from_specs(specs, (1, recipe.size, recipe.size), rng)


def predict(model, x, batch_size=256):
    """The class with the highest score for each image.

    x: (N, C, H, W). Returns (N,) int64. Runs in batches of batch_size images.
    """
    return np.concatenate([model.forward(x[start : start + batch_size]).argmax(axis=1)
                           for start in range(0, len(x), batch_size)])


def accuracy(model, x, y, batch_size=256):
    """The share of images whose predicted class is the label: x (N, C, H, W), y (N,). Returns a float in [0, 1]."""
    return float(np.mean(predict(model, x, batch_size) == y))


LR_SCHEDULES = ("constant", "linear")


def learning_rate(lr, step, total_steps, schedule="linear"):
    """The learning rate of one step: lr throughout ("constant"), or falling in a straight
    line from lr at the first step towards 0 after the last ("linear": big steps while the
    weights are far off, small ones to settle at the end)."""
    if schedule == "constant":
        return lr
    if schedule == "linear":
        return lr * (1 - step / total_steps)
    raise ValueError(f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}, got {schedule!r}")


def train(model, data, epochs, lr, momentum=0.9, batch_size=32, rng=None, on_epoch=None, on_batch=None,
          weight_decay=0.0, lr_schedule="linear"):
    """Train a model with mini-batch SGD and momentum on data's training set.

    model:   a layers.Sequential returning class scores (N, classes).
    data:    anything with x_train (N, C, H, W), y_train (N,), x_test, y_test (a data.Digits).
    epochs:  passes over the training set; momentum, weight_decay: as in layers.SGD.
    lr, lr_schedule: the first step's learning rate and how it changes (see learning_rate).
    batch_size: images per step; the last, smaller batch of an epoch is used too.
    rng:     a numpy Generator that shuffles the training set each epoch (default: seed 0).
    on_batch(step, loss): called after every step (step counts from 0 over all epochs).
    on_epoch(epoch, history): called after every epoch (epoch counts from 0).
    Returns a History. The model's weights are changed in place.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    learning_rate(lr, 0, 1, lr_schedule)  # an unknown schedule fails now, not after the first epoch
    optimizer = SGD(model.parameters(), lr, momentum, weight_decay)
    history, step, start = History(), 0, time.perf_counter()
    count = len(data.x_train)
    total_steps = epochs * -(-count // batch_size)
    for epoch in range(epochs):
        order = rng.permutation(count)
        losses, right = [], 0
        for first in range(0, count, batch_size):
            batch = order[first : first + batch_size]
            x, y = data.x_train[batch], data.y_train[batch]
            scores = model.forward(x)
            loss, dscores = softmax_cross_entropy(scores, y)
            model.backward(dscores)  # every parameter's gradient is overwritten
            optimizer.lr = learning_rate(lr, step, total_steps, lr_schedule)
            optimizer.step()
            right += int(np.sum(scores.argmax(axis=1) == y))
            losses.append(loss)
            history.batch_loss.append(loss)
            if on_batch is not None:
                on_batch(step, loss)
            step += 1
        history.epoch_loss.append(float(np.mean(losses)))
        history.train_accuracy.append(right / count)
        history.test_accuracy.append(accuracy(model, data.x_test, data.y_test))
        history.seconds.append(time.perf_counter() - start)
        if on_epoch is not None:
            on_epoch(epoch, history)
    return history


def run_recipe(recipe=RECIPE, data=None, on_epoch=None, on_batch=None):
    """Load the digits (unless given), build the recipe's TinyVGG and train it, as notebook 06 does.

    The weights come from np.random.default_rng(recipe.seed), the shuffling from a second,
    fresh np.random.default_rng(recipe.seed): the same recipe gives the same numbers.
    Returns (model, history).
    """
    if data is None:
        from .data import load_digits

        data = load_digits(size=recipe.size)
    model = build_model(recipe, np.random.default_rng(recipe.seed))
    history = train(model, data, recipe.epochs, recipe.lr, recipe.momentum, recipe.batch_size,
                    np.random.default_rng(recipe.seed),
                    on_epoch=on_epoch, on_batch=on_batch, weight_decay=recipe.weight_decay,
                    lr_schedule=recipe.lr_schedule)
    return model, history
