"""FastGAN training: hinge GAN with DiffAugment, a self-supervised discriminator and an EMA generator."""

import os

import keras
import numpy as np
import tensorflow as tf

from sr_tf.data.io import image_grid, save_image
from sr_tf.data.transforms import diff_augment, parse_policy
from sr_tf.errors import UserInputError
from sr_tf.inference import generate_images, signed_to_uint8
from sr_tf.layers import crop_quadrant
from sr_tf.losses import generator_hinge, hinge_fake, hinge_real, reconstruction_distance
from sr_tf.metrics import frechet_distance, inception_features
from sr_tf.models import fastgan, spec_of
from sr_tf.ops import Draws
from sr_tf.specs.base import checkpoint_folder
from sr_tf.specs.fastgan import OFFICIAL as RECIPE
from sr_tf.train.ema import moving_average_copy, update_moving_average
from sr_tf.train.trainer import Trainer


class FastGANTrainer(Trainer):
    """FastGAN's training loop in the Trainer hierarchy; the validation score is FID (lower is better).

    One iteration: draw noise and one quadrant per image; augment the real batch and each generator output with
    DiffAugment (independent draws); one discriminator step on real images (random-margin hinge plus the three
    decoders' reconstruction losses, summed over the batch as in the official code) and on the detached fakes
    (hinge); then one generator step (-mean D(fake), through the updated discriminator). Both use Adam 2e-4,
    betas (0.5, 0.999). After each iteration the EMA generator's trainable weights move towards the generator's
    (`avg = decay * avg + (1 - decay) * w`) and its non-trainable ones (BatchNorm statistics, spectral-norm
    vectors) are copied. The EMA generator, in inference mode, makes the samples, the FID and the saved weights.

    Checkpoints hold the generator, the discriminator, the EMA generator, both optimizers and the iteration.

    Args:
        generator, discriminator: `fastgan.generator()` and `fastgan.discriminator()` of the same `im_size`.
        checkpoint_dir: see `Trainer` (default '.ckpt/fastgan'); sample grids go to `checkpoint_dir/samples`.
        policy: DiffAugment policy, e.g. 'color,translation' (the official default).
        recon_loss: 'perceptual', 'l1' or 'mse' (see `sr_tf.losses.reconstruction_distance`).
        perceptual_weights: VGG16 weights for 'perceptual' ('imagenet' or a file).
        recon_distance: a per-example distance to use instead of `recon_loss` (tests inject one).
        learning_rate, beta_1, beta_2: Adam's, for both networks.
        ema_decay: decay of the generator's moving average.
        sample_every: iterations between sample and reconstruction grids (0: never).
        inception: an `sr_tf.metrics.inception_model()` for `score` (FID); None disables scoring.
        seed: seed of the fixed noise of the sample grids.
        **kwargs: `strategy`, `jit_compile`, `precision`, `log_every` (see `Trainer`).
    """

    higher_is_better = False
    score_name = "fid"
    default_checkpoint_dir = checkpoint_folder("fastgan")

    def __init__(self, generator, discriminator, checkpoint_dir=None, policy=RECIPE.policy,
                 recon_loss=RECIPE.recon_loss, perceptual_weights=None, recon_distance=None,
                 learning_rate=RECIPE.learning_rate, beta_1=RECIPE.beta_1, beta_2=RECIPE.beta_2,
                 ema_decay=RECIPE.ema_decay, sample_every=RECIPE.sample_every, inception=None, seed=0, **kwargs):
        self.policy = ",".join(parse_policy(policy))
        self.im_size = spec_of(generator).im_size
        if spec_of(discriminator).im_size != self.im_size:
            raise UserInputError(f"The generator makes {self.im_size}px images but the discriminator takes "
                                 f"{spec_of(discriminator).im_size}px ones.")
        self.small_size = fastgan.small_size(self.im_size)
        self.rec_size = fastgan.reconstruction_size(self.im_size)
        self.nz = spec_of(generator).nz
        self.recon = (reconstruction_distance(recon_loss, perceptual_weights) if recon_distance is None
                      else recon_distance)
        self.ema_decay = float(ema_decay)
        self.sample_every = sample_every
        self.inception = inception
        self.discriminator_logits = keras.Model(discriminator.inputs[:2], discriminator.outputs[0],
                                                name="discriminator_logits")

        def adam():
            return keras.optimizers.Adam(learning_rate, beta_1=beta_1, beta_2=beta_2)

        super().__init__({"generator": generator, "discriminator": discriminator},
                         {"generator": adam, "discriminator": adam}, checkpoint_dir, **kwargs)
        self.fixed_noise = np.random.default_rng(seed).standard_normal((8, self.nz)).astype(np.float32)
        self.fixed_reals = None
        self.seed = int(seed)

    def build_auxiliary_models(self):
        """The EMA generator: a copy of the generator, checkpointed with the other models."""
        return {"generator_ema": moving_average_copy(self.models["generator"])}

    # --------------------------------------------------------------------------------------- the iteration
    def _resize(self, images, size):
        return tf.image.resize(images, (size, size), method="nearest")

    def discriminator_real(self, real, part, training=True):
        """Logits and the three (reconstruction, target) pairs of the discriminator on real images."""
        logits, rec_big, rec_small, rec_part = self.models["discriminator"](
            [real, self._resize(real, self.small_size), part], training=training)
        whole = self._resize(real, self.rec_size)
        quadrant = self._resize(crop_quadrant(real, part), self.rec_size)
        return logits, [(rec_big, whole), (rec_small, whole), (rec_part, quadrant)]

    def draws(self):
        """This step's random numbers: seeded by (`seed`, step), drawn for the global batch, this replica's rows
        (so a run is reproducible, and N replicas draw what one device would draw for the N batches)."""
        context = tf.distribute.get_replica_context()
        return Draws(tf.stack([tf.constant(self.seed, tf.int64), self.step.read_value()]),
                     replica=context.replica_id_in_sync_group, replicas=context.num_replicas_in_sync)

    def train_step(self, batch):
        with self.draws().active() as draws:  # the noise layers and the random-margin hinge draw from it too
            return self._iteration(tf.cast(batch, tf.float32), draws)

    def _iteration(self, real, draws):
        n = tf.shape(real)[0]
        generator, discriminator = self.models["generator"], self.models["discriminator"]
        g_opt, d_opt = self.optimizers["generator"], self.optimizers["discriminator"]
        z = draws.normal((n, self.nz), per_image=True)
        part = draws.uniform((n,), 0, 4, dtype=tf.int32, per_image=True)
        with tf.GradientTape() as g_tape:
            fakes = [diff_augment(tf.cast(f, tf.float32), self.policy, draws) for f in generator(z, training=True)]
            with g_tape.stop_recording():
                real = diff_augment(real, self.policy, draws)
                with tf.GradientTape() as d_tape:
                    logits_real, pairs = self.discriminator_real(real, part)
                    real_loss = tf.nn.compute_average_loss(hinge_real(logits_real))
                    recon_loss = tf.add_n([tf.reduce_sum(self.recon(rec, target)) for rec, target in pairs])
                    logits_fake = self.discriminator_logits([tf.stop_gradient(f) for f in fakes], training=True)
                    fake_loss = tf.nn.compute_average_loss(hinge_fake(logits_fake))
                    d_loss = real_loss + recon_loss + fake_loss
                self.apply_gradients(d_tape, d_loss, discriminator.trainable_variables, d_opt)
            g_loss = tf.nn.compute_average_loss(generator_hinge(self.discriminator_logits(fakes, training=True)))
        self.apply_gradients(g_tape, g_loss, generator.trainable_variables, g_opt)
        return {"d_real": real_loss, "d_recon": recon_loss, "d_fake": fake_loss, "g_loss": g_loss}

    def update_ema(self):
        """One EMA step: trainable weights `avg = decay * avg + (1 - decay) * w`; non-trainable ones copied."""
        update_moving_average(self.models["generator_ema"], self.models["generator"], self.ema_decay)

    def after_train_step(self):
        self.update_ema()

    def host_every(self):
        return [self.sample_every] if self.sample_every else []

    def on_step_end(self, step):
        if self.sample_every and step % self.sample_every == 0 and self.is_chief:
            self.write_grids(step)

    def on_train_begin(self, dataset):
        """Keeps the first training batch (up to 8 images) for the reconstruction grids."""
        if self.fixed_reals is None:
            self.fixed_reals = next(iter(dataset))[:8]

    # --------------------------------------------------------------------------------------- outputs
    def samples(self, n=None):
        """Images (uint8) of the EMA generator, in inference mode, for the fixed noise (first n of 8)."""
        z = self.fixed_noise[:n]
        return signed_to_uint8(self.models["generator_ema"](z, training=False)[0])

    def reconstructions(self, real):
        """A uint8 grid source: per real image, the target, the big, small and part reconstructions and the
        quadrant target, all at the reconstruction size (discriminator in inference mode)."""
        real = tf.cast(real, tf.float32)
        part = tf.range(tf.shape(real)[0], dtype=tf.int32) % 4
        _, pairs = self.discriminator_real(real, part, training=False)
        (rec_big, whole), (rec_small, _), (rec_part, quadrant) = pairs
        rows = tf.stack([whole, rec_big, rec_small, quadrant, rec_part], axis=1)  # (B, 5, r, r, 3)
        return signed_to_uint8(tf.reshape(rows, (-1, self.rec_size, self.rec_size, 3)))

    def write_grids(self, step):
        """Writes `samples/{step}.png` (fixed-noise EMA samples) and `samples/{step}-rec.png` (per row: target,
        big, small, quadrant target, part reconstruction); returns their paths."""
        folder = os.path.join(self.checkpoint_dir, "samples")
        paths = [save_image(os.path.join(folder, f"{step:06d}.png"), image_grid(self.samples(), columns=4))]
        if self.fixed_reals is not None:
            paths.append(save_image(os.path.join(folder, f"{step:06d}-rec.png"),
                                    image_grid(self.reconstructions(self.fixed_reals), columns=5)))
        return paths

    def sample_images(self, dataset):
        return {"samples": self.samples()}

    def score(self, dataset):
        """FID between the dataset's images and as many EMA-generator images (needs `inception`)."""
        if self.inception is None:
            raise UserInputError("FastGANTrainer.score needs an Inception model: pass inception=inception_model(...).")
        real = np.concatenate([signed_to_uint8(batch) for batch in dataset])
        fake = generate_images(self.models["generator_ema"], max(len(real), 2), seed=1)
        return frechet_distance(inception_features(real, self.inception), inception_features(fake, self.inception))
