"""Super-resolution trainers: supervised (EDSR, WDSR, SRResNet pre-training) and SRGAN, with the tutorial's defaults."""

import keras
import tensorflow as tf

from sr_tf.inference import evaluate, resolve
from sr_tf.losses import per_example_mean
from sr_tf.models import srgan
from sr_tf.train.trainer import Trainer, as_float_images


def _schedule(boundaries, values):
    return keras.optimizers.schedules.PiecewiseConstantDecay(boundaries=boundaries, values=values)


class SrTrainer(Trainer):
    """Supervised super-resolution trainer: a pixel loss ('l1' or 'mse') and Adam; the score is PSNR.

    Args:
        model: the super-resolution `keras.Model`.
        loss: 'l1' (mean absolute error) or 'mse'.
        learning_rate: a float or a Keras learning-rate schedule.
        checkpoint_dir: see `Trainer`.
        **kwargs: `strategy`, `jit_compile`, `mixed_precision`, `log_every` (see `Trainer`).
    """

    score_name = "psnr"

    def __init__(self, model, loss, learning_rate, checkpoint_dir, **kwargs):
        if loss not in ("l1", "mse"):
            raise ValueError(f"`loss` must be 'l1' or 'mse'. Received: loss={loss!r}")
        self.loss = loss
        super().__init__({"model": model}, {"model": lambda: keras.optimizers.Adam(learning_rate)},
                         checkpoint_dir, **kwargs)

    def pixel_loss(self, hr, sr):
        """Per-example pixel loss between HR and SR batches in 0..255."""
        diff = hr - tf.cast(sr, tf.float32)
        return per_example_mean(tf.abs(diff) if self.loss == "l1" else tf.square(diff))

    def train_step(self, batch):
        lr, hr = as_float_images(batch[0]), as_float_images(batch[1])
        model, optimizer = self.models["model"], self.optimizers["model"]
        with tf.GradientTape() as tape:
            sr = model(lr, training=True)
            loss = tf.nn.compute_average_loss(self.pixel_loss(hr, sr))
            scaled = optimizer.scale_loss(loss)
        gradients = tape.gradient(scaled, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return {"loss": loss}

    def score(self, dataset):
        """Mean PSNR (RGB) of the model over every image of `dataset`."""
        return evaluate(self.model, dataset)

    def sample_images(self, dataset):
        lr, hr = next(iter(dataset))
        return {"lr_sr_hr": tf.concat([
            tf.image.resize(lr, tf.shape(hr)[1:3], method="nearest"), resolve(self.model, lr), hr
        ], axis=2)}


class EdsrTrainer(SrTrainer):
    """EDSR training: L1 loss, Adam with PiecewiseConstantDecay([200000], [1e-4, 5e-5])."""

    def __init__(self, model, checkpoint_dir, learning_rate=None, **kwargs):
        learning_rate = learning_rate or _schedule([200000], [1e-4, 5e-5])
        super().__init__(model, "l1", learning_rate, checkpoint_dir, **kwargs)


class WdsrTrainer(SrTrainer):
    """WDSR training: L1 loss, Adam with PiecewiseConstantDecay([200000], [1e-3, 5e-4])."""

    def __init__(self, model, checkpoint_dir, learning_rate=None, **kwargs):
        learning_rate = learning_rate or _schedule([200000], [1e-3, 5e-4])
        super().__init__(model, "l1", learning_rate, checkpoint_dir, **kwargs)


class SrganGeneratorTrainer(SrTrainer):
    """SRResNet pre-training: MSE loss, Adam 1e-4."""

    def __init__(self, model, checkpoint_dir, learning_rate=1e-4, **kwargs):
        super().__init__(model, "mse", learning_rate, checkpoint_dir, **kwargs)


class SrganTrainer(Trainer):
    """SRGAN training: VGG content loss / 12.75 plus 0.001 x adversarial BCE for the generator, BCE for D.

    Checkpoints hold the generator, the discriminator, both optimizers and the step, so training resumes (the
    original GAN trainer saved nothing). The score is the generator's PSNR on validation data.

    Args:
        generator: the generator (e.g. `srgan.generator()`, pre-trained).
        discriminator: the discriminator (e.g. `srgan.discriminator()`).
        checkpoint_dir: see `Trainer`.
        content_loss: 'VGG22' or 'VGG54'.
        learning_rate: float or schedule for both Adam optimizers.
        vgg: a feature model to use instead of building one (tests inject random weights here).
        vgg_weights: 'imagenet', a local file path or None, when `vgg` is not given.
        **kwargs: `strategy`, `jit_compile`, `mixed_precision`, `log_every` (see `Trainer`).
    """

    score_name = "psnr"

    def __init__(self, generator, discriminator, checkpoint_dir, content_loss="VGG54", learning_rate=None,
                 vgg=None, vgg_weights="imagenet", **kwargs):
        if content_loss not in ("VGG22", "VGG54"):
            raise ValueError(f"`content_loss` must be 'VGG22' or 'VGG54'. Received: content_loss={content_loss!r}")
        learning_rate = learning_rate or _schedule([100000], [1e-4, 1e-5])
        strategy = kwargs.get("strategy") or tf.distribute.get_strategy()
        with strategy.scope():
            self.vgg = vgg or (srgan.vgg_22 if content_loss == "VGG22" else srgan.vgg_54)(weights=vgg_weights)
        super().__init__({"generator": generator, "discriminator": discriminator},
                         {"generator": lambda: keras.optimizers.Adam(learning_rate),
                          "discriminator": lambda: keras.optimizers.Adam(learning_rate)},
                         checkpoint_dir, **kwargs)

    def content_loss(self, hr, sr):
        """Per-example MSE between VGG features of HR and SR (caffe preprocessing, features / 12.75)."""
        preprocess = keras.applications.vgg19.preprocess_input
        features = self.vgg(preprocess(tf.concat([hr, sr], axis=0)), training=False)
        features = tf.cast(features, tf.float32) / 12.75
        hr_features, sr_features = tf.split(features, 2, axis=0)
        return per_example_mean(tf.square(hr_features - sr_features))

    @staticmethod
    def _bce(labels, probabilities):
        return keras.losses.binary_crossentropy(labels, tf.cast(probabilities, tf.float32))

    def train_step(self, batch):
        lr, hr = as_float_images(batch[0]), as_float_images(batch[1])
        generator, discriminator = self.models["generator"], self.models["discriminator"]
        g_opt, d_opt = self.optimizers["generator"], self.optimizers["discriminator"]
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            sr = tf.cast(generator(lr, training=True), tf.float32)
            hr_output = discriminator(hr, training=True)
            sr_output = discriminator(sr, training=True)
            content = tf.nn.compute_average_loss(self.content_loss(hr, sr))
            adversarial = tf.nn.compute_average_loss(self._bce(tf.ones_like(sr_output), sr_output))
            perceptual = content + 0.001 * adversarial
            disc = tf.nn.compute_average_loss(self._bce(tf.ones_like(hr_output), hr_output)
                                              + self._bce(tf.zeros_like(sr_output), sr_output))
            g_scaled, d_scaled = g_opt.scale_loss(perceptual), d_opt.scale_loss(disc)
        g_grads = g_tape.gradient(g_scaled, generator.trainable_variables)
        d_grads = d_tape.gradient(d_scaled, discriminator.trainable_variables)
        g_opt.apply_gradients(zip(g_grads, generator.trainable_variables))
        d_opt.apply_gradients(zip(d_grads, discriminator.trainable_variables))
        return {"perceptual_loss": perceptual, "content_loss": content, "adversarial_loss": adversarial,
                "discriminator_loss": disc}

    def score(self, dataset):
        """Mean PSNR (RGB) of the generator over every image of `dataset`."""
        return evaluate(self.models["generator"], dataset)

    sample_images = SrTrainer.sample_images
