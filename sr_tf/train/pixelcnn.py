"""PixelCNN training: cross-entropy over `levels` values per pixel and channel; the score is bits/dim."""

import math

import keras
import numpy as np
import tensorflow as tf

from sr_tf.data.mnist import levels_to_uint8
from sr_tf.models import pixelcnn as pixelcnn_lib
from sr_tf.losses import per_example_mean
from sr_tf.train.trainer import Trainer


def _split_batch(batch):
    """(images, labels or None) from a batch of images or of (images, labels)."""
    if isinstance(batch, (tuple, list)):
        return batch[0], batch[1]
    return batch, None


def nats_per_dim(model, images, labels=None, training=False):
    """Per-example mean negative log-likelihood in nats per dimension (pixel and channel)."""
    inputs = tf.cast(images, tf.float32)
    logits = model(inputs if labels is None else [inputs, labels], training=training)
    nll = keras.losses.sparse_categorical_crossentropy(tf.cast(images, tf.int32), tf.cast(logits, tf.float32),
                                                       from_logits=True)
    return per_example_mean(nll)


def bits_per_dim(model, dataset):
    """Mean bits/dim of `model` (inference mode) over every example of a finite dataset: nats / ln 2."""
    total, count = 0.0, 0

    @tf.function
    def batch_sum(images, labels):
        return tf.reduce_sum(nats_per_dim(model, images, labels)), tf.shape(images)[0]

    for batch in dataset:
        images, labels = _split_batch(batch)
        value, n = batch_sum(images, labels)
        total += float(value)
        count += int(n)
    if count == 0:
        raise ValueError("bits_per_dim needs a non-empty dataset.")
    return total / count / math.log(2)


def histogram_baseline(train_images, test_images, levels, smoothing=(0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)):
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


class PixelCNNTrainer(Trainer):
    """Trains a PixelCNN (`pixelcnn` or `gated_pixelcnn`) by maximum likelihood; keeps the best by bits/dim.

    Batches are uint8 levels (B, H, W, C), or (levels, labels) for a class-conditional model. The loss is the
    cross-entropy of the logits against the levels, in nats per dimension; the step also reports it in bits/dim.
    The validation score is bits/dim (lower is better).

    Args:
        model: the PixelCNN.
        checkpoint_dir: see `Trainer`.
        learning_rate: Adam's learning rate (1e-3 in the tutorial).
        **kwargs: `strategy`, `jit_compile`, `mixed_precision`, `log_every` (see `Trainer`).
    """

    higher_is_better = False
    score_name = "bits_per_dim"

    def __init__(self, model, checkpoint_dir, learning_rate=1e-3, **kwargs):
        super().__init__({"model": model}, {"model": lambda: keras.optimizers.Adam(learning_rate)}, checkpoint_dir,
                         **kwargs)
        self._sampler = None

    def train_step(self, batch):
        images, labels = _split_batch(batch)
        model, optimizer = self.models["model"], self.optimizers["model"]
        with tf.GradientTape() as tape:
            loss = tf.nn.compute_average_loss(nats_per_dim(model, images, labels, training=True))
            scaled = optimizer.scale_loss(loss)
        gradients = tape.gradient(scaled, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return {"loss": loss, "bits_per_dim": loss / math.log(2)}

    def score(self, dataset):
        """Bits/dim of the model (inference mode) over every example of `dataset`."""
        return bits_per_dim(self.model, dataset)

    def sample_images(self, dataset, n=8):
        """n samples from the fast sampler (labels 0..n-1 modulo the classes when conditional), as 0..255 grey."""
        levels = int(self.model.output.shape[-1])
        if self._sampler is None:
            self._sampler = pixelcnn_lib.FastSampler(self.model, n)
        labels = None
        if len(self.model.inputs) > 1:
            _, batch_labels = _split_batch(next(iter(dataset)))
            labels = np.resize(np.asarray(batch_labels), n)
        return {"samples": levels_to_uint8(self._sampler.sample(seed=0, labels=labels), levels)}
