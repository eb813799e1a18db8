"""Sampling PixelCNNs exactly: a naive sampler (one full forward pass per value) and a fast cached one.

Sampling draws every value with the Gumbel-max rule, `argmax(logits / temperature + g)`, where the Gumbel noise
`g` of each (row, column, channel) comes from its own generator seeded by (seed, row, column, channel). The naive
sampler runs one full forward pass per value. The fast sampler computes each layer at one position per step,
reading earlier positions from per-layer caches (Ramachandran et al., 2017), and the gated network's vertical
stack one row at a time; both samplers therefore see the same logits and the same noise, and return the same
samples. A mixture head's logits for a channel are its values' log-probabilities given the pixel's earlier channels.
Only public Keras API is used: the fast sampler walks the model's layers in order and connects them
through their `input` / `output` tensors.
"""


import numpy as np

from sr_tf.errors import UserInputError
from sr_tf.sampling.common import check_sampling_args, image_geometry, model_inputs, sample_naive  # noqa: F401
from sr_tf.sampling.fast import FastSampler

__all__ = ["sample", "sample_naive", "complete", "FastSampler", "image_geometry", "model_inputs"]


def sample(model, n, seed=0, temperature=1.0, labels=None, method="fast", progress=False):
    """Draws n images from a PixelCNN, pixel by pixel and channel by channel, in inference mode.

    Both methods are exact and return the same samples for the same seed; 'fast' (the default) caches per-layer
    features instead of running the whole network for every value (see `FastSampler`).

    Args:
        model: a PixelCNN (`pixelcnn` or `gated_pixelcnn`).
        n: number of samples.
        seed: seed of the sampling noise.
        temperature: divides the logits; below 1 sharpens, above 1 flattens.
        labels: for a class-conditional model, one label or n labels.
        method: 'fast' or 'naive'.
        progress: show a progress bar.

    Returns:
        uint8 array (n, H, W, C) of levels 0..levels-1.
    """
    return _run_sampler(model, n, method, dict(seed=seed, temperature=temperature, labels=labels, progress=progress))


def _run_sampler(model, n, method, kwargs):
    if method not in ("fast", "naive"):
        raise UserInputError(f"`method` must be 'fast' or 'naive'. Received: method={method!r}")
    if method == "naive":
        return sample_naive(model, n, **kwargs)
    check_sampling_args(model, n, kwargs["temperature"], kwargs["labels"])
    return FastSampler(model, n).sample(**kwargs)


def complete(model, images, observed_rows, seed=0, temperature=1.0, labels=None, method="fast", progress=False):
    """Image completion: keeps the top `observed_rows` rows (0..H) of `images` (levels, (n, H, W, C), e.g.
    `quantize`d real images) unchanged and samples the rest given them; the other arguments are `sample`'s, and
    both methods agree for a seed. Returns uint8 levels (n, H, W, C)."""
    height, width, channels, levels = image_geometry(model)
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1:] != (height, width, channels) or not 0 <= observed_rows <= height \
            or images.min() < 0 or images.max() >= levels:
        raise UserInputError(f"`images` must be levels 0..{levels - 1} of shape (n, {height}, {width}, {channels}) "
                             f"and `observed_rows` in 0..{height}. Received: shape {images.shape}, values "
                             f"{images.min()}..{images.max()}, observed_rows={observed_rows}")
    return _run_sampler(model, len(images), method, dict(seed=seed, temperature=temperature, labels=labels,
                                                         progress=progress, observed=images,
                                                         observed_rows=observed_rows))
