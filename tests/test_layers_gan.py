"""GAN layers: spectral normalization with PyTorch semantics."""


import numpy as np
import pytest
import tensorflow as tf

from sr_tf.layers import SpectralNormConv2D, SpectralNormConv2DTranspose


def _largest_singular_value(matrix):
    return float(np.linalg.svd(np.asarray(matrix, np.float64), compute_uv=False)[0])


@pytest.mark.parametrize("layer_class, output_axis", [(SpectralNormConv2D, 3), (SpectralNormConv2DTranspose, 2)])
def test_spectral_norm_keeps_the_raw_kernel_and_normalizes_in_the_forward_pass(layer_class, output_axis):
    layer = layer_class(6, 3, padding="same", use_bias=False)
    x = tf.random.normal((2, 5, 5, 4))
    layer(x)
    assert [w.name for w in layer.trainable_weights] == ["kernel"]
    assert [w.name for w in layer.non_trainable_weights] == ["u"]
    # A clear gap between the two largest singular values, so a few power iterations converge.
    rank_one = np.einsum("i,j->ij", np.linspace(1, 2, 36), np.linspace(-1, 1, 6)).reshape(3, 3, 4, 6)
    layer.kernel.assign(layer.kernel + np.moveaxis(rank_one, -1, output_axis).astype("float32"))
    kernel = layer.kernel.numpy().copy()
    u = layer.u.numpy().copy()
    layer(x, training=False)
    np.testing.assert_array_equal(layer.u.numpy(), u)  # inference: u as stored
    for _ in range(5):
        layer(x, training=True)
    np.testing.assert_array_equal(layer.kernel.numpy(), kernel)  # never overwritten
    assert not np.allclose(layer.u.numpy(), u)  # power iterations moved u
    matrix = np.moveaxis(kernel, output_axis, -1).reshape(-1, 6)
    normalized = np.moveaxis(layer.normalized_kernel().numpy(), output_axis, -1).reshape(-1, 6)
    assert _largest_singular_value(normalized) == pytest.approx(1.0, abs=1e-3)
    np.testing.assert_allclose(normalized * _largest_singular_value(matrix), matrix, rtol=1e-3, atol=1e-6)


def test_spectral_norm_matches_one_pytorch_power_iteration_and_passes_gradients_through_sigma():
    layer = SpectralNormConv2D(3, 1, use_bias=False)
    x = tf.random.normal((1, 2, 2, 5))
    layer(x)
    w = layer.kernel.numpy().reshape(5, 3).T.astype(np.float64)  # PyTorch layout (out, in)
    u = layer.u.numpy().astype(np.float64)
    u /= np.linalg.norm(u)
    v = w.T @ u
    v /= np.linalg.norm(v)
    u = w @ v
    u /= np.linalg.norm(u)
    sigma = u @ w @ v
    with tf.GradientTape() as tape:
        y = layer(x, training=True)
        total = tf.reduce_sum(y)
    expected = np.einsum("bhwi,oi->bhwo", x.numpy(), w / sigma)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.u.numpy(), u, rtol=1e-5, atol=1e-6)
    # d(sum of W/sigma applied to x)/dW includes sigma's dependence on W: it differs from x-sums / sigma.
    gradient = tape.gradient(total, layer.kernel).numpy().reshape(5, 3)
    no_sigma_gradient = np.tile(x.numpy().sum(axis=(0, 1, 2))[:, None], (1, 3)) / sigma
    assert not np.allclose(gradient, no_sigma_gradient, atol=1e-4)


# ----------------------------------------------------------------------------------------------- DiffAugment
