"""PixelCNN++'s discretized logistic mixture: the likelihood against an independent NumPy evaluation of the
paper's formula, the edge bins, normalization over all values, the per-channel conditionals, and the models'
bits/dim with the mixture head."""

import math

import numpy as np
import pytest
import tensorflow as tf

from sr_tf import sampling
from sr_tf.layers import mixture
from sr_tf.metrics import bits_per_dim
from sr_tf.models import pixelcnn as P


def _sigmoid(z):
    return np.exp(-np.logaddexp(0.0, -z))


def reference_log_prob(params, images, k, c, levels):
    """log p(pixel) in float64, straight from the paper: sum_k pi_k prod_c [F(x + h) - F(x - h)], F(+-inf) at the
    edge values. Bins right of the mean take the difference of survival functions, which is the same number
    without the cancellation of two CDFs near 1."""
    params = np.asarray(params, np.float64)
    batch = params.shape[:-1]
    logits = params[..., :k]
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    means = params[..., k:k + c * k].reshape(*batch, c, k)
    log_scales = np.maximum(params[..., k + c * k:k + 2 * c * k].reshape(*batch, c, k), -7.0)
    coefficients = np.tanh(params[..., k + 2 * c * k:].reshape(*batch, c * (c - 1) // 2, k))
    x = images.astype(np.float64) * 2.0 / (levels - 1) - 1.0
    means = means.copy()
    pair = 0
    for channel in range(1, c):
        for j in range(channel):
            means[..., channel, :] += coefficients[..., pair, :] * x[..., j, None]
            pair += 1
    h = 1.0 / (levels - 1)
    s = np.exp(log_scales)
    xs = x[..., None]
    upper, lower = (xs + h - means) / s, (xs - h - means) / s
    left = xs <= means  # the bin's centre is left of the mean: CDF differences; else survival differences
    cdf_upper = np.where(images[..., None] == levels - 1, 1.0, _sigmoid(upper))
    cdf_lower = np.where(images[..., None] == 0, 0.0, _sigmoid(lower))
    surv_lower = np.where(images[..., None] == 0, 1.0, _sigmoid(-lower))
    surv_upper = np.where(images[..., None] == levels - 1, 0.0, _sigmoid(-upper))
    probability = np.where(left, cdf_upper - cdf_lower, surv_lower - surv_upper)  # (..., C, K)
    return np.log((weights * probability.prod(axis=-2)).sum(-1))


def random_case(rng, n, k, c, levels, extreme=False):
    """Random mixture parameters (n, P) and images (n, C), with many values at the edges 0 and levels - 1."""
    images = rng.integers(0, levels, (n, c))
    images[: n // 4] = 0
    images[n // 4: n // 2] = levels - 1
    means = rng.uniform(-1.2, 1.2, (n, c, k))
    log_scales = rng.uniform(-10, 3, (n, c, k)) if extreme else rng.uniform(-2.5, 0.5, (n, c, k))
    if not extreme:  # some components sit on the value with a scale clipped at -7: a narrow, exact bin
        x = images * 2.0 / (levels - 1) - 1.0
        means[n // 8::3, :, 0] = x[n // 8::3]
        log_scales[n // 8::3, :, 0] = -9.0
    params = [rng.normal(0, 2, (n, k)), means.reshape(n, -1), log_scales.reshape(n, -1),
              rng.normal(0, 1.5, (n, c * (c - 1) // 2 * k))]
    return np.concatenate(params, axis=-1).astype(np.float32), images


@pytest.mark.parametrize("k, c, levels", [(10, 1, 256), (10, 3, 256), (3, 3, 5), (1, 2, 2)])
def test_log_likelihood_matches_an_independent_numpy_evaluation(k, c, levels):
    rng = np.random.default_rng(k * 10 + c)
    params, images = random_case(rng, 400, k, c, levels)
    assert params.shape[-1] == mixture.num_params(k, c) == k * (1 + 2 * c + c * (c - 1) // 2)
    expected = reference_log_prob(params, images, k, c, levels)
    assert np.isfinite(expected).all()
    got = mixture.log_prob(params, images, k, c, levels).numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)
    # The chain of per-channel conditionals (what samplers draw from) multiplies back to the joint.
    table = mixture.value_log_probs(params, images, k, c, levels).numpy()
    chained = np.take_along_axis(table, images[..., None], axis=-1)[..., 0].sum(-1)
    np.testing.assert_allclose(chained, expected, rtol=0, atol=1e-5)


def test_the_table_of_a_grey_pixel_is_the_likelihood_of_each_value():
    rng = np.random.default_rng(1)
    params, _ = random_case(rng, 8, 4, 1, 256)
    values = np.arange(256)[:, None]
    table = mixture.value_log_probs(params, np.zeros((8, 1), np.int64), 4, 1, 256).numpy()[:, 0]  # (8, 256)
    for i in range(8):
        expected = reference_log_prob(np.repeat(params[i:i + 1], 256, 0), values, 4, 1, 256)
        np.testing.assert_allclose(table[i], expected, rtol=0, atol=1e-5)
    # The edge bins hold the tails: a component far below the range puts nearly all its mass on value 0.
    low = np.concatenate([[0.0], [-3.0], [-3.0]]).astype(np.float32)[None]  # K=1: logit, mean -3, log s -3
    table = mixture.value_log_probs(low, np.zeros((1, 1), np.int64), 1, 1, 256).numpy()[0, 0]
    assert table[0] > math.log(0.999) and np.exp(table[1:]).sum() < 1e-3


@pytest.mark.parametrize("k, c, levels", [(10, 3, 256), (10, 1, 256), (2, 3, 7)])
def test_the_probabilities_of_all_values_sum_to_one(k, c, levels):
    rng = np.random.default_rng(7)
    params, images = random_case(rng, 200, k, c, levels, extreme=True)
    table = mixture.value_log_probs(params, images, k, c, levels).numpy()  # (200, C, levels), given x_<c
    assert np.isfinite(table).all()
    np.testing.assert_allclose(np.exp(table).sum(-1), 1.0, rtol=0, atol=1e-5)
    # Each channel's row depends only on the channels before it: changing later channels leaves it alone.
    changed = images.copy()
    changed[:, -1] = (changed[:, -1] + 1) % levels
    np.testing.assert_array_equal(mixture.value_log_probs(params, changed, k, c, levels).numpy(), table)


def test_bits_per_dim_of_a_mixture_model_is_the_mean_negative_log_likelihood_over_ln2():
    model = P.pixelcnn((4, 5, 3), num_res_blocks=1, hidden=6, head="logistic_mixture", num_mixtures=3)
    assert sampling.image_geometry(model) == (4, 5, 3, 256)
    assert model.output.shape[1:] == (4, 5, 30)
    images = np.random.default_rng(0).integers(0, 256, (5, 4, 5, 3)).astype(np.uint8)
    params = model(images.astype("float32"), training=False).numpy()
    expected = -reference_log_prob(params, images, 3, 3, 256).mean() / 3 / math.log(2)  # per pixel and channel
    dataset = tf.data.Dataset.from_tensor_slices(images).batch(2)
    assert bits_per_dim(model, dataset) == pytest.approx(expected, abs=1e-5)


def test_mixture_head_parameter_counts_and_errors():
    # The same network as the softmax head up to the last 1x1: h -> K (1 + 2C + C(C-1)/2) instead of h -> C L.
    for shape, hidden, k in [((28, 28, 1), 128, 10), ((32, 32, 3), 16, 5)]:
        c = shape[2]
        softmax = P.pixelcnn(shape, num_res_blocks=2, hidden=hidden, levels=256)
        mix = P.pixelcnn(shape, num_res_blocks=2, hidden=hidden, levels=256, head="logistic_mixture",
                         num_mixtures=k)
        per_pixel = k * (1 + 2 * c + c * (c - 1) // 2)
        assert mix.count_params() - softmax.count_params() == (hidden + 1) * (per_pixel - c * 256)
    for kwargs, match in [(dict(head="mixture"), "head"), (dict(head="logistic_mixture", num_mixtures=0), "num_mix")]:
        with pytest.raises(ValueError, match=match):
            P.pixelcnn((4, 4, 1), num_res_blocks=1, hidden=4, **kwargs)
        with pytest.raises(ValueError, match=match):
            P.gated_pixelcnn((4, 4, 1), num_layers=1, hidden=4, **kwargs)
    with pytest.raises(ValueError, match="takes 30 parameters"):
        mixture.DiscretizedLogisticMixture(3, 3)(tf.zeros((1, 2, 2, 29)))
