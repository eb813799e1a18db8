"""Likelihood metrics of autoregressive models: bits/dim, and the per-pixel histogram baseline to compare with."""

import math

import numpy as np

from sr_tf.errors import UserInputError
from sr_tf.losses import nats_per_dim
from sr_tf.ops import PerModelFunction

_BATCH_NATS = PerModelFunction(nats_per_dim)


def split_batch(batch):
    """(images, labels or None) from a batch of images or of (images, labels)."""
    if isinstance(batch, (tuple, list)):
        return batch[0], batch[1]
    return batch, None


def bits_per_image(model, dataset):
    """Bits/dim of `model` (inference mode) for each example of a finite dataset, in order, as a float64 array.

    A per-image score for out-of-distribution detection: images unlike the training data (noise, other
    domains, scrambled pixels) cost more bits. Beware that likelihood models can give some unlike images (plain,
    smooth ones) fewer bits than real ones, so compare with scores of held-out in-distribution images.
    """
    values = []
    batch_values = _BATCH_NATS(model)
    for batch in dataset:
        images, labels = split_batch(batch)
        values.append(batch_values(images, labels).numpy().astype(np.float64))
    if not values:
        raise UserInputError("bits_per_image needs a non-empty dataset.")
    return np.concatenate(values) / math.log(2)


def bits_per_dim(model, dataset):
    """Mean bits/dim of `model` (inference mode) over every example of a finite dataset: nats / ln 2."""
    try:
        return float(np.mean(bits_per_image(model, dataset)))
    except UserInputError:
        raise UserInputError("bits_per_dim needs a non-empty dataset.") from None


def histogram_baseline(train_images, test_images, levels,
                       smoothing=(0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)):
    """Test bits/dim of the best independent per-pixel model: one histogram per (row, column, channel).

    Each histogram counts the training levels at its position plus `alpha` per level (additive smoothing, so an
    unseen level does not cost infinite bits); the best `alpha` of `smoothing` is chosen on the test images
    themselves, which favours the baseline.

    Args:
        train_images, test_images: quantized levels, (N, H, W, C) integer arrays.
        levels: number of levels.
        smoothing: candidate additive-smoothing constants.

    Returns:
        (bits/dim, alpha) of the best candidate.
    """
    train = np.asarray(train_images, dtype=np.int64).reshape(len(train_images), -1)
    test = np.asarray(test_images, dtype=np.int64).reshape(len(test_images), -1)
    positions = np.arange(train.shape[1])
    counts = np.zeros((train.shape[1], levels))
    np.add.at(counts, (np.broadcast_to(positions, train.shape), train), 1.0)
    best = None
    for alpha in smoothing:
        probabilities = (counts + alpha) / (counts.sum(axis=1, keepdims=True) + alpha * levels)
        bits = -np.log2(probabilities[positions, test]).mean()
        if best is None or bits < best[0]:
            best = (float(bits), alpha)
    return best
