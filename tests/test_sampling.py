"""PixelCNN sampling: the fast sampler equals the naive one, computes the model's logits, and checks arguments."""

import keras
import numpy as np
import pytest
from model_helpers import PIXELCNN_CASES, randomize_batchnorm, tiny_pixelcnn

from sr_tf import sampling
from sr_tf.layers.mixture import value_logits
from sr_tf.models import pixelcnn as P


@pytest.mark.parametrize("name", PIXELCNN_CASES)
def test_fast_sampler_equals_naive_sampler(name):
    model, labels = tiny_pixelcnn(name)
    for seed, temperature in [(0, 1.0), (7, 0.7)]:
        naive = sampling.sample(model, 4, seed=seed, temperature=temperature, labels=labels, method="naive")
        fast = sampling.sample(model, 4, seed=seed, temperature=temperature, labels=labels)
        np.testing.assert_array_equal(fast, naive)
        h, w, c, levels = sampling.image_geometry(model)
        assert fast.shape == (4, h, w, c) and fast.dtype == np.uint8 and fast.max() < levels
    assert not np.array_equal(sampling.sample(model, 4, seed=1, labels=labels),
                              sampling.sample(model, 4, seed=2, labels=labels))


@pytest.mark.parametrize("name", PIXELCNN_CASES)
def test_fast_sampler_computes_the_models_logits(name):
    model, labels = tiny_pixelcnn(name)
    h, w, c, levels = sampling.image_geometry(model)
    canvas = np.random.default_rng(5).integers(0, levels, (4, h, w, c)).astype("float32")
    full = value_logits(model, model(sampling.model_inputs(canvas, labels), training=False), canvas).numpy()
    sampler = sampling.FastSampler(model, 4)
    for r in range(h):
        sampler.start_row(canvas, labels, r)
        for col in range(w):
            np.testing.assert_allclose(sampler.logits_at(canvas, labels, r, col).numpy(), full[:, r, col],
                                       rtol=1e-5, atol=1e-5)


def test_sampling_argument_errors():
    model, _ = tiny_pixelcnn("pixelcnn-grey")
    conditional, _ = tiny_pixelcnn("gated-rgb-conditional")
    with pytest.raises(ValueError, match="temperature"):
        sampling.sample(model, 2, temperature=0)
    with pytest.raises(ValueError, match="class-conditional"):
        sampling.sample(conditional, 2)
    with pytest.raises(ValueError, match="labels"):
        sampling.sample(conditional, 2, labels=[0, 5])
    with pytest.raises(ValueError, match="method"):
        sampling.sample(model, 2, method="quick")
    image = keras.Input((4, 4, 1))
    other = keras.Model(image, keras.layers.Reshape((4, 4, 1, 1))(keras.layers.Conv2D(1, 3, padding="same")(image)))
    with pytest.raises(ValueError, match="does not support layer"):
        sampling.FastSampler(other, 2)


@pytest.mark.parametrize("name", PIXELCNN_CASES)
def test_completion_keeps_the_observed_rows_and_fast_equals_naive(name):
    model, labels = tiny_pixelcnn(name)
    h, w, c, levels = sampling.image_geometry(model)
    images = np.random.default_rng(3).integers(0, levels, (4, h, w, c)).astype(np.uint8)
    for rows in (1, h // 2):
        fast = sampling.complete(model, images, rows, seed=4, labels=labels)
        naive = sampling.complete(model, images, rows, seed=4, labels=labels, method="naive")
        np.testing.assert_array_equal(fast, naive)
        np.testing.assert_array_equal(fast[:, :rows], images[:, :rows])  # never changed
        assert fast.dtype == np.uint8 and fast.max() < levels
    if name.startswith("pixelcnn"):  # (the tiny gated nets barely react to their input: same argmax)
        shifted = ((images.astype(int) + levels // 2) % levels).astype(np.uint8)
        other = sampling.complete(model, shifted, h // 2, seed=4, labels=labels)
        assert not np.array_equal(other[:, h // 2:], fast[:, h // 2:])  # sampled given the observed rows
    # All rows observed returns the images; none observed is plain sampling with the same seed.
    np.testing.assert_array_equal(sampling.complete(model, images, h, seed=4, labels=labels), images)
    np.testing.assert_array_equal(sampling.complete(model, images, 0, seed=4, labels=labels),
                                  sampling.sample(model, 4, seed=4, labels=labels))


def test_completion_errors():
    model, _ = tiny_pixelcnn("pixelcnn-grey")
    h, w, c, levels = sampling.image_geometry(model)
    good = np.zeros((2, h, w, c), np.uint8)
    for images, rows in [(good, h + 1), (good[:, :-1], 1), (good + levels, 1)]:
        with pytest.raises(ValueError, match="Received: shape"):
            sampling.complete(model, images, rows)


def test_a_fast_sampler_follows_the_models_weight_changes():
    """The trainer keeps one FastSampler across training: each `sample` recomputes its per-position matrices and
    BatchNorm scales from the current weights, so it still equals the naive sampler after the weights move."""
    keras.utils.set_random_seed(4)
    model = P.pixelcnn((4, 5, 1), num_res_blocks=1, hidden=6, levels=6)
    sampler = sampling.FastSampler(model, 3)
    before = sampler.sample(seed=2)
    np.testing.assert_array_equal(before, sampling.sample_naive(model, 3, seed=2))
    randomize_batchnorm(model)
    for layer in model.layers:
        if layer.weights:
            layer.weights[0].assign(layer.weights[0] * 3.0 + 0.5)
    after = sampler.sample(seed=2)
    np.testing.assert_array_equal(after, sampling.sample_naive(model, 3, seed=2))
    assert not np.array_equal(after, before)
