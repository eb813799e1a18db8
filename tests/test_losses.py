"""Losses: the random-margin hinge and the choice of reconstruction distance (L1, MSE, perceptual VGG16)."""


import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import offline

from sr_tf import losses
from sr_tf.weights_io import save_weights


def test_hinge_losses_use_a_random_margin_between_08_and_1():
    logits = tf.fill((64, 50), 0.5)
    real = losses.hinge_real(logits).numpy()  # relu(m - 0.5), m ~ U(0.8, 1): mean 0.4
    assert real.shape == (64,) and 0.3 < real.mean() < 0.5 and (real >= 0.3).all() and (real <= 0.5).all()
    # One logit per example: each loss is one margin draw minus 0.5, uniform on [0.3, 0.5] (a constant or a
    # narrower margin fails: std of U(0.3, 0.5) is 0.0577; each fifth of the range holds about a fifth).
    one = losses.hinge_real(tf.fill((2000, 1), 0.5)).numpy()
    assert one.min() >= 0.3 and one.max() <= 0.5 and abs(one.std() - 0.2 / 12 ** 0.5) < 0.006
    counts = np.histogram(one, bins=5, range=(0.3, 0.5))[0]
    assert (np.abs(counts / len(one) - 0.2) < 0.04).all(), counts
    assert np.allclose(losses.hinge_fake(tf.fill((4, 50), -2.0)), 0)  # far on the right side: no loss
    np.testing.assert_allclose(losses.generator_hinge(tf.constant([[1.0, 3.0]])), [-2.0])


def test_recon_loss_choice_is_explicit(monkeypatch):
    with pytest.raises(ValueError, match="only used by recon_loss='perceptual'"):
        losses.reconstruction_distance("l1", perceptual_weights="vgg16.h5")

    monkeypatch.setattr(keras.applications, "VGG16", offline)
    with pytest.raises(RuntimeError,
                       match="vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5 .*perceptual_weights=PATH"):
        losses.reconstruction_distance("perceptual")


def test_perceptual_distance_from_a_local_vgg16_file(tmp_path):
    path = str(tmp_path / "vgg16_notop.h5")
    vgg = keras.applications.VGG16(weights=None, include_top=False, input_shape=(None, None, 3))
    save_weights(vgg, path)
    distance = losses.reconstruction_distance("perceptual", perceptual_weights=path)
    x, y = tf.random.uniform((2, 32, 32, 3), -1, 1), tf.random.uniform((2, 32, 32, 3), -1, 1)
    np.testing.assert_allclose(distance(x, x), 0, atol=1e-6)
    np.testing.assert_allclose(distance(x, y), distance(y, x), rtol=1e-5)
    assert (distance(x, y).numpy() > 0).all()
    # The file's weights are the ones used: every feature layer holds the saved VGG16's arrays, and a distance
    # from another VGG16 (other random weights) gives other values.
    used = [layer for layer in distance.features.layers if layer.weights]
    assert len(used) >= 10
    for layer in used:
        for a, b in zip(layer.get_weights(), vgg.get_layer(layer.name).get_weights()):
            np.testing.assert_array_equal(a, b)
    other = tmp_path / "other.h5"
    save_weights(keras.applications.VGG16(weights=None, include_top=False, input_shape=(None, None, 3)), str(other))
    elsewhere = losses.reconstruction_distance("perceptual", perceptual_weights=str(other))
    assert np.abs(elsewhere(x, y).numpy() - distance(x, y).numpy()).max() > 1e-6


# ----------------------------------------------------------------------------------------------- data
