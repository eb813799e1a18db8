"""PixelCNN training by maximum likelihood (either output head); the score is bits/dim."""

import math

import keras
import numpy as np
import tensorflow as tf

from sr_tf.data.pixelcnn import levels_to_uint8
from sr_tf.losses import nats_per_dim
from sr_tf.metrics import bits_per_dim, split_batch
from sr_tf.sampling import FastSampler, image_geometry
from sr_tf.specs.base import checkpoint_folder
from sr_tf.specs.pixelcnn import PixelCNNRecipe
from sr_tf.train.trainer import Trainer


class PixelCNNTrainer(Trainer):
    """Trains a PixelCNN (`pixelcnn` or `gated_pixelcnn`) by maximum likelihood; keeps the best by bits/dim.

    Batches are uint8 levels (B, H, W, C), or (levels, labels) for a class-conditional model. The loss is the
    negative log-likelihood of the levels (`losses.nats_per_dim`: softmax cross-entropy or the logistic
    mixture's), in nats per dimension; the step also reports it in bits/dim.
    The validation score is bits/dim (lower is better).

    Args:
        model: the PixelCNN.
        checkpoint_dir: see `Trainer` (default '.ckpt/pixelcnn').
        learning_rate: Adam's learning rate (1e-3 in the tutorial).
        **kwargs: `strategy`, `jit_compile`, `precision`, `log_every` (see `Trainer`).
    """

    higher_is_better = False
    score_name = "bits_per_dim"
    default_checkpoint_dir = checkpoint_folder("pixelcnn")

    def __init__(self, model, checkpoint_dir=None, learning_rate=PixelCNNRecipe.learning_rate, **kwargs):
        super().__init__({"model": model}, {"model": lambda: keras.optimizers.Adam(learning_rate)}, checkpoint_dir,
                         **kwargs)
        self._sampler = None

    def train_step(self, batch):
        images, labels = split_batch(batch)
        model = self.models["model"]
        with tf.GradientTape() as tape:
            loss = tf.nn.compute_average_loss(nats_per_dim(model, images, labels, training=True))
        self.apply_gradients(tape, loss, model.trainable_variables, self.optimizers["model"])
        return {"loss": loss, "bits_per_dim": loss / math.log(2)}

    def score(self, dataset):
        """Bits/dim of the model (inference mode) over every example of `dataset`."""
        return bits_per_dim(self.model, dataset)

    def sample_images(self, dataset, n=8):
        """n samples from the fast sampler (labels 0..n-1 modulo the classes when conditional), as 0..255 grey."""
        levels = image_geometry(self.model)[3]
        if self._sampler is None:
            self._sampler = FastSampler(self.model, n)
        labels = None
        if len(self.model.inputs) > 1:
            _, batch_labels = split_batch(next(iter(dataset)))
            labels = np.resize(np.asarray(batch_labels), n)
        return {"samples": levels_to_uint8(self._sampler.sample(seed=0, labels=labels), levels)}
