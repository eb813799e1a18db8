"""PixelCNN++'s output distribution: a discretized mixture of logistics (Salimans et al., 2017).

For every pixel the network predicts, from earlier pixels only, K mixture weights and per channel and component a
mean and a log-scale, plus (for RGB) the coefficients of the linear dependence of G on R and of B on R and G
(squashed by tanh). With x the image scaled to [-1, 1] and one bin of half-width 1/(levels - 1) per value:

    p(x) = sum_k pi_k prod_c p_k(x_c | x_<c),   p_k(x_c | x_<c) = F((x_c + h - m_ck) / s_ck) - F((x_c - h - m_ck) /
    s_ck)

where F is the logistic CDF, s_ck = exp(log_scale_ck) with the log-scale clipped below at -7 as in the paper, and
m_ck = mu_ck + sum_{j<c} a_cjk x_j. The lowest value takes all mass below its bin (F(-inf) = 0) and the highest all
mass above (F(+inf) = 1), so the values' probabilities sum to 1. The difference of CDFs is computed in log space as
log F(a) + log F(-b) + log(1 - exp(b - a)), which is exact and stable however narrow the bin is relative to s
(the paper falls back to the density times the bin width below a threshold instead). The arithmetic is float64:
with s down to e^-7 (1/1100 of the range), float32 rounding of a bin edge would move log p by up to 1e-4.

Parameters per pixel, in this order: K mixture logits, C x K means, C x K log-scales, C(C-1)/2 x K coefficients
(pairs (1, 0), (2, 0), (2, 1), ...), so 3K for grey and 10K for RGB.
"""

import math

import keras
import tensorflow as tf

from sr_tf.errors import UserInputError, check_positive
from sr_tf.layers.sr import PACKAGE

MIN_LOG_SCALE = -7.0  # the paper's lower clip of log s


def num_params(num_mixtures, channels):
    """Parameters per pixel of a K-component mixture over C channels: K (1 + 2C + C(C-1)/2)."""
    return num_mixtures * (1 + 2 * channels + channels * (channels - 1) // 2)


def _split(params, num_mixtures, channels):
    """(log mixture weights (..., K), means (..., C, K), log-scales (..., C, K), coefficients (..., C(C-1)/2, K))."""
    k, c = num_mixtures, channels
    batch = tf.shape(params)[:-1]

    def block(start, rows):
        return tf.reshape(params[..., start * k:(start + rows) * k], tf.concat([batch, [rows, k]], axis=0))

    log_weights = tf.nn.log_softmax(params[..., :k], axis=-1)
    means = block(1, c)
    log_scales = tf.maximum(block(1 + c, c), MIN_LOG_SCALE)
    coefficients = tf.tanh(block(1 + 2 * c, c * (c - 1) // 2)) if c > 1 else None
    return log_weights, means, log_scales, coefficients


def _log1mexp(d):
    """log(1 - exp(-d)) for d > 0, accurate for small and large d."""
    return tf.where(d < math.log(2.0), tf.math.log(-tf.math.expm1(-d)), tf.math.log1p(-tf.exp(-d)))


def _bin_log_prob(x, means, log_scales, levels):
    """log P(value) of the discretized logistic for values x in [-1, 1] (broadcast against means / log-scales)."""
    half = 1.0 / (levels - 1)
    inverse_scale = tf.exp(-log_scales)
    upper = inverse_scale * (x - means + half)
    lower = inverse_scale * (x - means - half)
    log_cdf_upper = -tf.nn.softplus(-upper)  # log F(upper)
    log_survival_lower = -tf.nn.softplus(lower)  # log (1 - F(lower))
    interior = log_cdf_upper + log_survival_lower + _log1mexp(2.0 * half * inverse_scale)
    return tf.where(x < -1.0 + half, log_cdf_upper, tf.where(x > 1.0 - half, log_survival_lower, interior))


def _adjusted_means(means, coefficients, x, channels):
    """m_c = mu_c + sum_{j<c} a_cj x_j for every component; x is (..., C) in [-1, 1], means (..., C, K)."""
    if channels == 1:
        return means
    rows, pair = [means[..., 0, :]], 0
    for c in range(1, channels):
        m = means[..., c, :]
        for j in range(c):
            m = m + coefficients[..., pair, :] * x[..., j:j + 1]
            pair += 1
        rows.append(m)
    return tf.stack(rows, axis=-2)


def _scaled(levels_values, levels):
    return tf.cast(levels_values, tf.float64) * (2.0 / (levels - 1)) - 1.0


def _at_values(params, images, num_mixtures, channels, levels):
    """(log weights (..., K), adjusted means and log-scales (..., C, K), log P of each channel's own value under
    each component (..., C, K)) for float64 parameters and the image's integer levels."""
    log_weights, means, log_scales, coefficients = _split(tf.cast(params, tf.float64), num_mixtures, channels)
    x = _scaled(images, levels)
    means = _adjusted_means(means, coefficients, x, channels)
    return log_weights, means, log_scales, _bin_log_prob(x[..., None], means, log_scales, levels)


def log_prob(params, images, num_mixtures, channels, levels):
    """log p(pixel) in nats, per pixel: params (..., P) and integer levels images (..., C) -> (...)."""
    log_weights, _, _, per_channel = _at_values(params, images, num_mixtures, channels, levels)
    return tf.cast(tf.reduce_logsumexp(log_weights + tf.reduce_sum(per_channel, axis=-2), axis=-1), tf.float32)


def value_log_probs(params, images, num_mixtures, channels, levels):
    """log p(x_c = v | x_<c) for every channel c and value v: (..., P), (..., C) -> (..., C, levels).

    Channel c's row depends only on the image's channels before c at the pixel (through the coefficients and
    through the components' posterior weights given those channels), so it is the distribution a sampler draws
    channel c from; the row at the image's own value is that channel's factor of `log_prob`.
    """
    log_weights, means, log_scales, observed = _at_values(params, images, num_mixtures, channels, levels)
    earlier = tf.cumsum(observed, axis=-2, exclusive=True)  # sum over channels before c
    posterior = tf.nn.log_softmax(log_weights[..., None, :] + earlier, axis=-1)  # (..., C, K)
    grid = _scaled(tf.range(levels), levels)  # (levels,)
    every = _bin_log_prob(grid, means[..., None], log_scales[..., None], levels)  # (..., C, K, levels)
    return tf.cast(tf.reduce_logsumexp(posterior[..., None] + every, axis=-2), tf.float32)


@keras.saving.register_keras_serializable(package=PACKAGE)
class DiscretizedLogisticMixture(keras.layers.Layer):
    """The output layer of a PixelCNN++ head: passes the per-pixel mixture parameters through (in its compute
    dtype; the builders make it float32 under mixed precision) and records what they parameterize (mixtures,
    channels, levels), so losses and samplers can read it from a model.

    Args:
        num_mixtures: K, the mixture components (10 in the paper).
        channels: colour channels of the modelled image (1 or 3).
        levels: values per channel (256 for 8-bit images).
    """

    def __init__(self, num_mixtures, channels, levels=256, **kwargs):
        super().__init__(**kwargs)
        check_positive(num_mixtures=num_mixtures, channels=channels)
        if not isinstance(levels, int) or levels < 2:
            raise UserInputError(f"`levels` must be an integer >= 2. Received: levels={levels!r}")
        self.num_mixtures, self.channels, self.levels = num_mixtures, channels, levels

    def build(self, input_shape):
        expected = num_params(self.num_mixtures, self.channels)
        if input_shape[-1] != expected:
            raise UserInputError(f"A {self.num_mixtures}-component mixture over {self.channels} channels takes "
                                 f"{expected} parameters per pixel. Received: input_shape={input_shape}")
        super().build(input_shape)

    def call(self, inputs):
        return tf.cast(inputs, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def log_prob(self, params, images):
        """log p(pixel) in nats per pixel (see the module's `log_prob`)."""
        return log_prob(params, images, self.num_mixtures, self.channels, self.levels)

    def value_log_probs(self, params, images):
        """log-probabilities (..., C, levels) of every value of every channel (see the module's function)."""
        return value_log_probs(params, images, self.num_mixtures, self.channels, self.levels)

    def get_config(self):
        return {**super().get_config(), "num_mixtures": self.num_mixtures, "channels": self.channels,
                "levels": self.levels}


def mixture_head(model):
    """The model's `DiscretizedLogisticMixture` output layer, or None for a softmax (logits) head."""
    last = model.layers[-1] if model.layers else None
    return last if isinstance(last, DiscretizedLogisticMixture) else None


def value_logits(model, output, images):
    """Unnormalized log-probabilities (..., C, levels) of every value of every channel, for either PixelCNN head.

    `output` is the model's output for `images` (or its slice at some pixels, with `images` sliced alike): the
    logits themselves for a softmax head, `value_log_probs` of the mixture for a mixture head. Channel c's row is
    conditioned on the image's values before it, so a sampler draws each channel from its row.
    """
    head = mixture_head(model)
    return output if head is None else head.value_log_probs(output, images)
