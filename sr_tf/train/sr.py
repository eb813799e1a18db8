"""Super-resolution trainers: supervised (EDSR, WDSR, SRResNet pre-training) and SRGAN, with the tutorial's
signatures and the recipes' defaults (`sr_tf.specs.sr.RECIPES`); a trainer's default checkpoint folder is
`.ckpt/<run>`, the run named by the recipe from the model's spec (e.g. '.ckpt/edsr-16-x4'), as on the command
line."""


import keras
import tensorflow as tf

from sr_tf.errors import UserInputError
from sr_tf.inference import evaluate, resolve
from sr_tf.losses import per_example_mean
from sr_tf.models import spec_of, srgan
from sr_tf.specs.base import starting_preset
from sr_tf.specs.sr import RECIPES
from sr_tf.train.trainer import Trainer


def learning_rate_schedule(value):
    """A recipe's learning rate as Keras takes it: a float as is, (boundaries, values) as PiecewiseConstantDecay."""
    if isinstance(value, tuple):
        boundaries, values = value
        return keras.optimizers.schedules.PiecewiseConstantDecay(boundaries=boundaries, values=values)
    return value


def _recipe_rate(name, learning_rate):
    return learning_rate_schedule(RECIPES[name].learning_rate) if learning_rate is None else learning_rate


def _checkpoint_dir(name, model, checkpoint_dir):
    """`checkpoint_dir`, or `.ckpt/<run>` of recipe `name` for `model`'s spec."""
    if checkpoint_dir is not None:
        return checkpoint_dir
    spec = spec_of(model)
    return RECIPES[name].checkpoint_dir(spec, reference=starting_preset(RECIPES[name], spec))


class SuperResolutionTrainer(Trainer):
    """What every super-resolution trainer shares: the score is the mean PSNR (RGB) of the main model over every
    validation image, and TensorBoard shows LR | SR | HR."""

    score_name = "psnr"

    def score(self, dataset):
        """Mean PSNR (RGB) of the model (the generator, for SRGAN) over every image of `dataset`."""
        return evaluate(self.model, dataset)

    def sample_images(self, dataset):
        """The first validation batch as LR (nearest-upscaled) | SR | HR, side by side."""
        lr, hr = next(iter(dataset))
        return {"lr_sr_hr": tf.concat([
            tf.image.resize(lr, tf.shape(hr)[1:3], method="nearest"), resolve(self.model, lr), hr
        ], axis=2)}


class PixelLossTrainer(SuperResolutionTrainer):
    """Supervised super-resolution trainer: a pixel loss ('l1' or 'mse') and Adam; the score is PSNR.

    Args:
        model: the super-resolution `keras.Model`.
        loss: 'l1' (mean absolute error) or 'mse'.
        learning_rate: a float or a Keras learning-rate schedule.
        checkpoint_dir: see `Trainer` (required here; the subclasses default to `.ckpt/<run>`).
        **kwargs: `strategy`, `jit_compile`, `precision`, `log_every` (see `Trainer`).
    """

    def __init__(self, model, loss, learning_rate, checkpoint_dir=None, **kwargs):
        if loss not in ("l1", "mse"):
            raise UserInputError(f"`loss` must be 'l1' or 'mse'. Received: loss={loss!r}")
        self.loss = loss
        super().__init__({"model": model}, {"model": lambda: keras.optimizers.Adam(learning_rate)},
                         checkpoint_dir, **kwargs)

    def pixel_loss(self, hr, sr):
        """Per-example pixel loss between HR and SR batches in 0..255."""
        diff = hr - tf.cast(sr, tf.float32)
        return per_example_mean(tf.abs(diff) if self.loss == "l1" else tf.square(diff))

    def train_step(self, batch):
        lr, hr = tf.cast(batch[0], tf.float32), tf.cast(batch[1], tf.float32)
        model = self.models["model"]
        with tf.GradientTape() as tape:
            loss = tf.nn.compute_average_loss(self.pixel_loss(hr, model(lr, training=True)))
        self.apply_gradients(tape, loss, model.trainable_variables, self.optimizers["model"])
        return {"loss": loss}


class RecipeTrainer(PixelLossTrainer):
    """A `PixelLossTrainer` with the loss, learning rate and checkpoint folder of the recipe `recipe_name`
    (`sr_tf.specs.sr.RECIPES`), as the tutorial's trainers take them: `(model, checkpoint_dir=None,
    learning_rate=None, **kwargs)`."""

    recipe_name = None

    def __init__(self, model, checkpoint_dir=None, learning_rate=None, **kwargs):
        name = self.recipe_name
        super().__init__(model, RECIPES[name].loss, _recipe_rate(name, learning_rate),
                         _checkpoint_dir(name, model, checkpoint_dir), **kwargs)


class EdsrTrainer(RecipeTrainer):
    """EDSR training: L1 loss, Adam with PiecewiseConstantDecay([200000], [1e-4, 5e-5]); checkpoints in
    '.ckpt/edsr-<blocks>-x<scale>' unless `checkpoint_dir` says otherwise."""

    recipe_name = "edsr"


class WdsrTrainer(RecipeTrainer):
    """WDSR training: L1 loss, Adam with PiecewiseConstantDecay([200000], [1e-3, 5e-4]); default
    '.ckpt/wdsr-<type>-<blocks>-x<scale>'."""

    recipe_name = "wdsr"


class SrganGeneratorTrainer(RecipeTrainer):
    """SRResNet pre-training: MSE loss, Adam 1e-4; default '.ckpt/pre_generator' (x4)."""

    recipe_name = "pretrain"


class SrganTrainer(SuperResolutionTrainer):
    """SRGAN training: VGG content loss (features / the recipe's `feature_scale`, 12.75) plus the recipe's
    `adversarial_weight` (0.001) x adversarial BCE for the generator, BCE for D.

    Checkpoints hold the generator, the discriminator, both optimizers and the step, so training resumes (the
    original GAN trainer saved nothing). The score is the generator's PSNR on validation data. As in the
    tutorial, `trainer.generator` and `trainer.discriminator` are the two models.

    Args:
        generator: the generator (e.g. `srgan.generator()`, pre-trained).
        discriminator: the discriminator (e.g. `srgan.discriminator()`).
        checkpoint_dir: see `Trainer` (default '.ckpt/srgan' at x4, '.ckpt/srgan-x<scale>' otherwise).
        content_loss: 'VGG22' or 'VGG54' (default: the recipe's, VGG54).
        learning_rate: float or schedule for both Adam optimizers (default: the recipe's, PiecewiseConstantDecay(
            [100000], [1e-4, 1e-5])).
        vgg: a feature model to use instead of building one (tests inject random weights here).
        vgg_weights: 'imagenet', a local file path or None, when `vgg` is not given.
        recipe: the `SrRecipe` whose loss weights and defaults apply (default `RECIPES['gan']`).
        **kwargs: `strategy`, `jit_compile`, `precision`, `log_every` (see `Trainer`).
    """

    def __init__(self, generator, discriminator, checkpoint_dir=None, content_loss=None, learning_rate=None,
                 vgg=None, vgg_weights="imagenet", recipe=None, **kwargs):
        recipe = RECIPES["gan"] if recipe is None else recipe
        content_loss = recipe.content_loss if content_loss is None else content_loss
        if content_loss not in ("VGG22", "VGG54"):
            raise UserInputError(f"`content_loss` must be 'VGG22' or 'VGG54'. Received: content_loss={content_loss!r}")
        learning_rate = learning_rate_schedule(recipe.learning_rate) if learning_rate is None else learning_rate
        if checkpoint_dir is None:
            spec = spec_of(generator)
            checkpoint_dir = recipe.checkpoint_dir(spec, reference=starting_preset(recipe, spec))
        super().__init__({"generator": generator, "discriminator": discriminator},
                         {"generator": lambda: keras.optimizers.Adam(learning_rate),
                          "discriminator": lambda: keras.optimizers.Adam(learning_rate)},
                         checkpoint_dir, **kwargs)
        self.recipe, self.content_loss_name, self.vgg, self._vgg_weights = recipe, content_loss, vgg, vgg_weights

    def build_auxiliary_models(self):
        """Builds the frozen VGG19 feature model (not checkpointed) unless one was given."""
        if self.vgg is None:
            builder = srgan.vgg_22 if self.content_loss_name == "VGG22" else srgan.vgg_54
            self.vgg = builder(weights=self._vgg_weights)
        return {}

    @property
    def generator(self):
        """The generator being trained."""
        return self.models["generator"]

    @property
    def discriminator(self):
        """The discriminator being trained."""
        return self.models["discriminator"]

    def content_loss(self, hr, sr):
        """Per-example MSE between VGG features of HR and SR (caffe preprocessing, features / `feature_scale`).

        Two passes, not one over HR and SR concatenated: the backward pass then runs through VGG for the SR half
        only (one pass over both costs the SRGAN step a fifth more on a CPU)."""
        preprocess = keras.applications.vgg19.preprocess_input
        scale = self.recipe.feature_scale
        hr_features = tf.stop_gradient(tf.cast(self.vgg(preprocess(hr), training=False), tf.float32) / scale)
        sr_features = tf.cast(self.vgg(preprocess(sr), training=False), tf.float32) / scale
        return per_example_mean(tf.square(hr_features - sr_features))

    @staticmethod
    def _bce(labels, probabilities):
        return keras.losses.binary_crossentropy(labels, tf.cast(probabilities, tf.float32))

    def train_step(self, batch):
        lr, hr = tf.cast(batch[0], tf.float32), tf.cast(batch[1], tf.float32)
        generator, discriminator = self.generator, self.discriminator
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            sr = tf.cast(generator(lr, training=True), tf.float32)
            hr_output = discriminator(hr, training=True)
            sr_output = discriminator(sr, training=True)
            content = tf.nn.compute_average_loss(self.content_loss(hr, sr))
            adversarial = tf.nn.compute_average_loss(self._bce(tf.ones_like(sr_output), sr_output))
            perceptual = content + self.recipe.adversarial_weight * adversarial
            disc = tf.nn.compute_average_loss(self._bce(tf.ones_like(hr_output), hr_output)
                                              + self._bce(tf.zeros_like(sr_output), sr_output))
        self.apply_gradients(g_tape, perceptual, generator.trainable_variables, self.optimizers["generator"])
        self.apply_gradients(d_tape, disc, discriminator.trainable_variables, self.optimizers["discriminator"])
        return {"perceptual_loss": perceptual, "content_loss": content, "adversarial_loss": adversarial,
                "discriminator_loss": disc}
