"""FastGAN: the architecture of the generator and discriminator pair, the official code's recipe, and presets."""

import dataclasses

from sr_tf.specs.base import Architecture, Recipe, register_family, register_preset


@register_family
@dataclasses.dataclass(frozen=True)
class FastGAN(Architecture):
    """A FastGAN generator (`sr_tf.models.fastgan.generator`: im_size, ngf, nz) and the discriminator trained
    with it (`discriminator`: im_size, ndf, decoder_width). `build()` builds the generator."""

    family = "fastgan"
    builder = "sr_tf.models.fastgan:generator"
    kind = "FastGAN generator"
    exportable = True
    im_size: int = 256
    ngf: int = 64
    ndf: int = 64
    nz: int = 256
    decoder_width: int = 32

    def arguments(self):
        return dict(im_size=self.im_size, ngf=self.ngf, nz=self.nz)

    def discriminator_arguments(self):
        """The keyword arguments of `sr_tf.models.fastgan.discriminator`."""
        return dict(im_size=self.im_size, ndf=self.ndf, decoder_width=self.decoder_width)


IM_SIZES = (64, 128, 256, 512, 1024)  # the image sides the official code builds
RECON_LOSSES = ("perceptual", "l1", "mse")  # the decoders' reconstruction losses (losses.reconstruction_loss)

@dataclasses.dataclass(frozen=True)
class FastGANRecipe(Recipe):
    """FastGAN training (the official code's settings unless noted): Adam(2e-4, 0.5, 0.999), DiffAugment
    'color,translation', generator EMA; `evaluate_every` is the checkpoint period (and FID's, when asked for)."""

    learning_rate: float = 2e-4
    run: str = "fastgan-{data}-{im_size}"
    weights_dir: str = "weights/fastgan"
    artifact: str = "{run}-generator"
    sample_every: int = 1000
    ema_decay: float = 0.999
    beta_1: float = 0.5
    beta_2: float = 0.999
    policy: str = "color,translation"
    recon_loss: str = "l1"  # this package's default: the paper's 'perceptual' needs ImageNet VGG16 weights


OFFICIAL = FastGANRecipe(steps=50_000, batch_size=8, evaluate_every=5000)
# The smoke demo on the four bundled photos: a few minutes on a CPU.
DEMO = dataclasses.replace(OFFICIAL, steps=300, sample_every=100, evaluate_every=100, ema_decay=0.99)

register_preset("fastgan-256", "FastGAN at 256 px with the official code's settings (ngf = ndf = 64, nz = 256)",
                FastGAN(), OFFICIAL)
register_preset("fastgan-1024", "FastGAN at 1024 px, the official code's largest model", FastGAN(im_size=1024),
                OFFICIAL)
register_preset("fastgan-demo", "Small FastGAN at 64 px for the smoke demo on the bundled photos (a few CPU "
                "minutes)", FastGAN(im_size=64, ngf=16, ndf=16, nz=64, decoder_width=8), DEMO)
