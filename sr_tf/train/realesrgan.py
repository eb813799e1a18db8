"""ESRGAN and Real-ESRGAN training: the PSNR stage (`RealEsrnetTrainer`: L1 on the sharpened ground truth, an EMA
generator) and the GAN stage (`RealEsrganTrainer`: L1 + VGG19 perceptual + GAN losses against the U-Net
discriminator, or ESRGAN's relativistic average GAN against its VGG-style discriminator), with the recipes of
`sr_tf.specs.realesrgan.RECIPES`.

The authors compute their losses on images in 0..1; this package's images are 0..255, so the L1 term is divided
by 255 and the recipes' loss weights are the authors'. The models saved, scored and exported are the EMA
generators (the authors' `params_ema`) when the recipe keeps an average.
"""


import keras
import tensorflow as tf

from sr_tf.data.degradations import usm_sharpen
from sr_tf.losses import PerceptualLoss, bce_with_logits, per_example_mean, ragan_discriminator, ragan_generator
from sr_tf.models import spec_of
from sr_tf.specs.base import starting_preset
from sr_tf.specs.realesrgan import RECIPES
from sr_tf.train.ema import moving_average_copy, update_moving_average
from sr_tf.train.sr import SuperResolutionTrainer, learning_rate_schedule


def _adam(learning_rate, recipe):
    rate = learning_rate_schedule(recipe.learning_rate) if learning_rate is None else learning_rate
    return lambda: keras.optimizers.Adam(rate, beta_1=0.9, beta_2=recipe.beta_2)


class RealEsrnetTrainer(SuperResolutionTrainer):
    """The PSNR stage (Real-ESRGAN's RealESRNet; `train_srgan.py rrdb`): `pixel_weight` x L1 against the ground
    truth (sharpened by `usm_sharpen` when the recipe says so), Adam (0.9, 0.99) and an EMA generator.

    Args:
        generator: the generator (an RRDBNet or SRVGGNetCompact).
        checkpoint_dir: see `Trainer` (default '.ckpt/<run>', e.g. '.ckpt/realesrnet-x4').
        learning_rate: float or schedule (default: the recipe's).
        recipe: a `RealEsrganRecipe` (default `RECIPES['rrdb']`).
        **kwargs: `strategy`, `jit_compile`, `precision`, `log_every`, ... (see `Trainer`).
    """

    recipe_name = "rrdb"

    def __init__(self, generator, checkpoint_dir=None, learning_rate=None, recipe=None, **kwargs):
        self._start({"generator": generator}, checkpoint_dir, learning_rate, recipe, **kwargs)

    def _start(self, models, checkpoint_dir, learning_rate, recipe, **kwargs):
        recipe = RECIPES[self.recipe_name] if recipe is None else recipe
        if checkpoint_dir is None:
            spec = spec_of(models["generator"])
            checkpoint_dir = recipe.checkpoint_dir(spec, reference=starting_preset(recipe, spec))
        super().__init__(models, {name: _adam(learning_rate, recipe) for name in models}, checkpoint_dir, **kwargs)
        self.recipe = recipe

    def build_auxiliary_models(self):
        """The EMA generator (checkpointed), unless the recipe keeps no average."""
        if self.recipe.ema_decay is None:
            return {}
        return {"generator_ema": moving_average_copy(self.models["generator"])}

    @property
    def generator(self):
        """The generator being trained."""
        return self.models["generator"]

    @property
    def model(self):
        """The model scored, saved and exported: the EMA generator, or the generator without an average."""
        return self.models.get("generator_ema", self.models["generator"])

    def after_train_step(self):
        if self.recipe.ema_decay is not None:
            update_moving_average(self.models["generator_ema"], self.generator, self.recipe.ema_decay)

    def targets(self, hr):
        """(ground truth of the pixel loss, of the perceptual loss, of the discriminator): `hr` or its USM."""
        sharp = usm_sharpen(hr) if (self.recipe.usm_pixel or self.recipe.usm_perceptual or
                                    self.recipe.usm_gan) else None
        return tuple(sharp if use else hr for use in (self.recipe.usm_pixel, self.recipe.usm_perceptual,
                                                       self.recipe.usm_gan))

    def pixel_loss(self, target, sr):
        """Per-example `pixel_weight` x mean absolute difference, on the authors' 0..1 scale."""
        return self.recipe.pixel_weight * per_example_mean(tf.abs(target - sr)) / 255.0

    def train_step(self, batch):
        lr, hr = tf.cast(batch[0], tf.float32), tf.cast(batch[1], tf.float32)
        pixel_target = self.targets(hr)[0]
        with tf.GradientTape() as tape:
            sr = tf.cast(self.generator(lr, training=True), tf.float32)
            loss = tf.nn.compute_average_loss(self.pixel_loss(pixel_target, sr))
        self.apply_gradients(tape, loss, self.generator.trainable_variables, self.optimizers["generator"])
        return {"l1": loss}


class RealEsrganTrainer(RealEsrnetTrainer):
    """The GAN stage (`train_srgan.py realesrgan`): the generator minimizes `pixel_weight` x L1 +
    `PerceptualLoss` + `gan_weight` x its GAN loss; the discriminator minimizes its GAN loss on the ground truth
    (not sharpened, in Real-ESRGAN) and the generator's output. 'vanilla' is binary cross-entropy on every logit
    (the U-Net's per-pixel map); 'ragan' is ESRGAN's relativistic average loss (`ragan_generator`,
    `ragan_discriminator`). Both models see the same forward pass; each has its Adam (0.9, 0.99).

    Args:
        generator: the generator (pre-trained by the PSNR stage, as the authors start from RealESRNet).
        discriminator: `unet_discriminator()` for 'vanilla' (Real-ESRGAN), `vgg_style_discriminator()` for 'ragan'.
        checkpoint_dir: see `Trainer` (default '.ckpt/<run>', e.g. '.ckpt/realesrgan-x4').
        learning_rate: float or schedule for both optimizers (default: the recipe's).
        recipe: a `RealEsrganRecipe` (default `RECIPES['realesrgan']`; `RECIPES['esrgan']` for ESRGAN).
        perceptual: a `PerceptualLoss` to use instead of building the recipe's (tests inject random weights).
        vgg_weights: the VGG19 weights of the perceptual loss when `perceptual` is not given (see
            `sr_tf.models.realesrgan.vgg19_preactivation`).
        **kwargs: see `Trainer`.
    """

    recipe_name = "realesrgan"

    def __init__(self, generator, discriminator, checkpoint_dir=None, learning_rate=None, recipe=None,
                 perceptual=None, vgg_weights="imagenet", **kwargs):
        self._start({"generator": generator, "discriminator": discriminator}, checkpoint_dir, learning_rate,
                    recipe, **kwargs)
        self.perceptual, self._vgg_weights = perceptual, vgg_weights

    def build_auxiliary_models(self):
        """The EMA generator, and the frozen VGG19 of the perceptual loss (not checkpointed)."""
        if self.perceptual is None and self.recipe.perceptual_layers:
            self.perceptual = PerceptualLoss(self.recipe.perceptual_layers, self.recipe.perceptual_weight,
                                             self._vgg_weights)
        return super().build_auxiliary_models()

    @property
    def discriminator(self):
        """The discriminator being trained."""
        return self.models["discriminator"]

    def gan_losses(self, real_logits, fake_logits):
        """Per-example (generator's GAN loss, discriminator's loss) of the recipe's `gan_loss`."""
        if self.recipe.gan_loss == "ragan":
            return ragan_generator(real_logits, fake_logits), ragan_discriminator(real_logits, fake_logits)
        return bce_with_logits(fake_logits, True), (bce_with_logits(real_logits, True)
                                                    + bce_with_logits(fake_logits, False))

    def train_step(self, batch):
        lr, hr = tf.cast(batch[0], tf.float32), tf.cast(batch[1], tf.float32)
        pixel_target, perceptual_target, gan_target = self.targets(hr)
        generator, discriminator = self.generator, self.discriminator
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            sr = tf.cast(generator(lr, training=True), tf.float32)
            real_logits = discriminator(gan_target, training=True)
            fake_logits = discriminator(sr, training=True)
            g_gan, d_loss = self.gan_losses(real_logits, fake_logits)
            pixel = self.pixel_loss(pixel_target, sr)
            perceptual = self.perceptual(sr, perceptual_target) if self.perceptual is not None else 0.0 * pixel
            losses = {"l1": pixel, "perceptual": perceptual, "gan": self.recipe.gan_weight * g_gan}
            losses = {name: tf.nn.compute_average_loss(value) for name, value in losses.items()}
            g_loss = tf.add_n(list(losses.values()))
            d_loss = tf.nn.compute_average_loss(d_loss)
        self.apply_gradients(g_tape, g_loss, generator.trainable_variables, self.optimizers["generator"])
        self.apply_gradients(d_tape, d_loss, discriminator.trainable_variables, self.optimizers["discriminator"])
        return {**losses, "generator_loss": g_loss, "discriminator_loss": d_loss}
