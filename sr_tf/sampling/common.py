"""What both PixelCNN samplers share: the image geometry a model implies, argument checks, the seeded Gumbel-max
draw, the raster loop, and the naive sampler (one full forward pass per value)."""

import keras
import numpy as np
import tensorflow as tf

from sr_tf.errors import UserInputError
from sr_tf.layers import mixture_head
from sr_tf.layers.mixture import value_logits
from sr_tf.models import spec_of
from sr_tf.models.legacy import READERS
from sr_tf.progress import progress
from sr_tf.specs.pixelcnn import PixelCNNArchitecture


def image_geometry(model):
    """(height, width, channels, levels) of the images a PixelCNN models: from its spec, or, for a network built
    outside this package's builders from its layers, from its output head."""
    if getattr(model, "spec", None) is not None or model.name in READERS:
        spec = spec_of(model)
        if not isinstance(spec, PixelCNNArchitecture):
            raise UserInputError(f"Expected a PixelCNN. Received: a {spec.family} model ({model.name!r})")
        return (*spec.input_shape, spec.levels)
    head = mixture_head(model)
    if head is not None:
        return int(model.output.shape[1]), int(model.output.shape[2]), head.channels, head.levels
    shape = tuple(getattr(model.output, "shape", ()))[1:]
    if len(shape) != 4 or any(d is None for d in shape):
        raise UserInputError(f"Expected a PixelCNN (logits of shape (batch, height, width, channels, levels)). "
                             f"Received: model {model.name!r} with outputs of shape {(None, *shape)}")
    height, width, channels, levels = (int(d) for d in shape)
    return height, width, channels, levels


def check_sampling_args(model, n, temperature, labels):
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise UserInputError(f"`n` must be a positive integer. Received: n={n!r}")
    if not temperature > 0:
        raise UserInputError(f"`temperature` must be > 0. Received: temperature={temperature!r}")
    conditional = len(model.inputs) > 1
    if conditional and labels is None:
        raise UserInputError(f"Model '{model.name}' is class-conditional: pass `labels` (one int or n ints).")
    if not conditional:
        if labels is not None:
            raise UserInputError(f"Model '{model.name}' is not class-conditional. Received: labels={labels!r}")
        return None
    labels = np.broadcast_to(np.asarray(labels, dtype=np.int32), (n,)).copy()
    num_classes = next(layer for layer in model.layers if isinstance(layer, keras.layers.Embedding)).input_dim
    if labels.min() < 0 or labels.max() >= num_classes:
        raise UserInputError(f"`labels` must lie in 0..{num_classes - 1}. Received: labels={labels.tolist()}")
    return labels


def _gumbel(seed, row, col, channel, shape):
    """The Gumbel noise of one (row, column, channel): the same for every sampler, whatever the order."""
    return np.random.default_rng([seed, row, col, channel]).gumbel(size=shape)


def _draw(logits, seed, row, col, channel, temperature):
    """Gumbel-max draw of one value per example from (n, levels) logits."""
    logits = np.asarray(logits, dtype=np.float64)
    return np.argmax(logits / temperature + _gumbel(seed, row, col, channel, logits.shape), axis=-1)


def model_inputs(canvas, labels):
    """A PixelCNN's inputs: the canvas, or [canvas, labels] for a class-conditional model (both as tensors)."""
    if labels is None:
        return canvas
    return [tf.convert_to_tensor(canvas), tf.convert_to_tensor(labels, dtype=tf.int32)]


def _progress(total, show):
    return progress(total, unit_name="pixel") if show else None


def sample_naive(model, n, seed=0, temperature=1.0, labels=None, progress=False, rows=None, observed=None,
                 observed_rows=0):
    """The reference sampler: one full forward pass (inference mode) per pixel and channel.

    Args:
        model: a PixelCNN (`pixelcnn` or `gated_pixelcnn`).
        n: number of samples.
        seed: seed of the Gumbel noise.
        temperature: divides the logits (1.0 samples the model's distribution).
        labels: class labels (int or n ints) for a class-conditional model.
        progress: show a progress bar.
        rows: sample only the first `rows` rows (the rest stays 0); for timing.
        observed, observed_rows: completion: the first `observed_rows` rows of `observed` (levels, (n, H, W, C))
            are kept and the rest is sampled given them (see `complete`).

    Returns:
        uint8 array (n, H, W, C) of levels.
    """
    labels = check_sampling_args(model, n, temperature, labels)

    @tf.function
    def full_pass(canvas, label_values, r, c, ch):
        output = model(model_inputs(canvas, label_values), training=False)
        return value_logits(model, output[:, r, c], canvas[:, r, c])[:, ch]

    def logits_at(canvas, r, c, ch):
        return full_pass(tf.constant(canvas), labels, tf.constant(r), tf.constant(c), tf.constant(ch)).numpy()

    return raster_sample(model, n, logits_at, seed, temperature, progress, rows, observed=observed,
                          observed_rows=observed_rows)


def raster_sample(model, n, logits_at, seed, temperature, progress, rows, start_row=None, observed=None,
                   observed_rows=0, visit_observed=False):
    """The sampling loop both samplers share: rows, columns, then channels, each value drawn from its logits.

    `logits_at(canvas, r, c, ch)` returns (n, levels) logits given the canvas so far; `start_row(canvas, r)`, if
    given, runs before each row. The first `observed_rows` rows are copied from `observed` and kept; with
    `visit_observed` (the fast sampler fills its caches that way) `logits_at` still runs once per observed position.
    """
    height, width, channels, _ = image_geometry(model)
    rows = height if rows is None else rows
    canvas = np.zeros((n, height, width, channels), dtype=np.float32)
    if observed_rows:
        canvas[:, :observed_rows] = observed[:, :observed_rows]
    bar = _progress(rows * width, progress)
    for r in range(rows):
        if r < observed_rows and not visit_observed:
            continue
        if start_row is not None:
            start_row(canvas, r)
        for c in range(width):
            if r < observed_rows:
                logits_at(canvas, r, c, 0)
                continue
            for ch in range(channels):
                canvas[:, r, c, ch] = _draw(logits_at(canvas, r, c, ch), seed, r, c, ch, temperature)
            if bar:
                bar.update(r * width + c + 1)
    return canvas.astype(np.uint8)


