"""Likelihood metrics: bits/dim and the per-pixel histogram baseline."""

import math

import numpy as np
import pytest
import tensorflow as tf
from model_helpers import tiny_pixelcnn

from sr_tf import sampling
from sr_tf.metrics import bits_per_dim, histogram_baseline


def test_bits_per_dim_is_the_mean_cross_entropy_over_ln2():
    model, _ = tiny_pixelcnn("pixelcnn-rgb")
    h, w, c, levels = sampling.image_geometry(model)
    images = np.random.default_rng(0).integers(0, levels, (5, h, w, c)).astype(np.uint8)
    logits = model(images.astype("float32"), training=False).numpy().astype(np.float64)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = -np.take_along_axis(log_probs, images[..., None].astype(int), -1).mean() / math.log(2)
    dataset = tf.data.Dataset.from_tensor_slices(images).batch(2)  # uneven last batch
    assert bits_per_dim(model, dataset) == pytest.approx(expected, rel=1e-5)


def test_histogram_baseline_approaches_the_entropy_of_independent_pixels():
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(4), size=6)  # 6 positions, 4 levels
    entropy = -(probabilities * np.log2(probabilities)).sum(1).mean()

    def draw(n):
        return np.stack([rng.choice(4, size=n, p=p) for p in probabilities], axis=1).reshape(n, 2, 3, 1)

    train, test = draw(20000), draw(5000)
    bits, alpha = histogram_baseline(train, test, 4)
    assert bits == pytest.approx(entropy, abs=0.03)
    # the returned smoothing is the one that gives those bits, and heavy smoothing (towards uniform) costs more
    assert histogram_baseline(train, test, 4, smoothing=(alpha,)) == (bits, alpha)
    assert histogram_baseline(train, test, 4, smoothing=(1e6,))[0] > bits + 0.3
