"""The networks Real-ESRGAN runs on real photos, as families: RRDBNet (ESRGAN's generator, and Real-ESRGAN's with a
pixel-unshuffle input at x2 and x1) and SRVGGNetCompact (the small `realesr-*` models). Defaults are those of the
authors' architecture code (BasicSR 1.4.2, `rrdbnet_arch.py`, `srvgg_arch.py`); the presets are the published
weights' settings, with the recipes that trained them: Real-ESRNet (the PSNR stage, L1), Real-ESRGAN (L1,
perceptual and GAN losses with the U-Net discriminator) and ESRGAN (relativistic average GAN)."""

import dataclasses

from sr_tf.specs.base import option, register_family, register_preset
from sr_tf.specs.sr import SrArchitecture, SrRecipe


@register_family
@dataclasses.dataclass(frozen=True)
class RRDBNet(SrArchitecture):
    """RRDBNet (`sr_tf.models.realesrgan.rrdbnet`): `num_block` residual-in-residual dense blocks of `num_feat`
    channels with `num_grow_ch` growth channels; x4 by two nearest x2 upsamplings, x2 and x1 by a pixel-unshuffled
    input (Real-ESRGAN's)."""

    family = "rrdbnet"
    builder = "sr_tf.models.realesrgan:rrdbnet"
    scales = (1, 2, 4)
    num_feat: int = option(64, "features of the trunk")
    num_block: int = option(23, "residual-in-residual dense blocks")
    num_grow_ch: int = option(32, "growth channels of the dense blocks")


@register_family
@dataclasses.dataclass(frozen=True)
class SRVGGNetCompact(SrArchitecture):
    """SRVGGNetCompact (`sr_tf.models.realesrgan.srvgg_net_compact`): `num_conv` + 2 plain 3x3 convolutions with
    per-channel PReLU, a pixel shuffle, plus the nearest-upsampled input."""

    family = "srvgg"
    builder = "sr_tf.models.realesrgan:srvgg_net_compact"
    scales = (1, 2, 3, 4, 8)
    num_feat: int = option(64, "features of each convolution")
    num_conv: int = option(16, "convolutions between the first and the last")


# VGG19 layers (before their ReLU) and weights of the perceptual losses.
REALESRGAN_LAYERS = (("conv1_2", 0.1), ("conv2_2", 0.1), ("conv3_4", 1.0), ("conv4_4", 1.0), ("conv5_4", 1.0))
ESRGAN_LAYERS = (("conv5_4", 1.0),)


@dataclasses.dataclass(frozen=True)
class RealEsrganRecipe(SrRecipe):
    """How ESRGAN and Real-ESRGAN train (the authors' option files; `docs/real-world.md` cites them).

    Losses are those of the authors, on images in 0..1: `pixel_weight` x L1 + `perceptual_weight` x sum of
    `perceptual_layers` weights x L1 of VGG19 features before ReLU + `gan_weight` x the generator's GAN loss.

    Attributes (besides `SrRecipe`'s):
        pixel_weight: weight of the L1 loss.
        perceptual_layers: ((VGG19 layer, weight), ...); empty: no perceptual loss (the PSNR stage).
        perceptual_weight: weight of the perceptual loss.
        gan_loss: None (no discriminator), 'vanilla' (binary cross-entropy on logits) or 'ragan' (ESRGAN's
            relativistic average GAN).
        gan_weight: weight of the generator's GAN loss.
        discriminator: 'unet' (Real-ESRGAN's, a logit per pixel) or 'vgg128' (ESRGAN's, one logit per 128x128
            patch).
        ema_decay: decay of the generator's exponential moving average (the model saved and scored); None: no
            average (ESRGAN).
        usm_pixel, usm_perceptual, usm_gan: which losses see the ground truth sharpened by unsharp masking.
        hr_crop_size: HR patch side.
        beta_2: Adam's second moment decay (0.99; beta_1 0.9).
        degradation: how LR patches are made from HR ones by default (`--degradation`); None: the data's own LR
            (DIV2K's downloaded bicubic LR, bicubic for folders).
    """

    pixel_weight: float = 1.0
    perceptual_layers: tuple = ()
    perceptual_weight: float = 1.0
    gan_loss: str = None
    gan_weight: float = 0.1
    discriminator: str = "unet"
    ema_decay: float = 0.999
    usm_pixel: bool = True
    usm_perceptual: bool = True
    usm_gan: bool = False
    hr_crop_size: int = 256
    beta_2: float = 0.99
    degradation: str = "realesrgan"
    legacy: str = None

    def legacy_name(self, architecture, data=None, reference=None):
        """None: these families have no Keras-2 `.h5` of their own."""
        return None


# Real-ESRGAN: options/train_realesrnet_x4plus.yml and train_realesrgan_x4plus.yml (4 GPUs x 12 patches of 256);
# ESRGAN: BasicSR's options/train/ESRGAN/train_ESRGAN_x4.yml (1 GPU x 16 patches of 128, bicubic LR, no EMA).
RECIPES = {
    "rrdb": RealEsrganRecipe(1_000_000, 48, 5000, 2e-4, run="realesrnet-x{scale}", weights_dir="weights/{run}",
                             save_best_only=False, usm_perceptual=False),
    "realesrgan": RealEsrganRecipe(400_000, 48, 5000, 1e-4, run="realesrgan-x{scale}", weights_dir="weights/{run}",
                                   loss="gan", save_best_only=False, perceptual_layers=REALESRGAN_LAYERS,
                                   gan_loss="vanilla"),
    "esrgan": RealEsrganRecipe(400_000, 16, 5000, ([50_000, 100_000, 200_000, 300_000],
                                                   [1e-4, 5e-5, 2.5e-5, 1.25e-5, 6.25e-6]),
                               run="esrgan-x{scale}", weights_dir="weights/{run}", loss="gan", save_best_only=False,
                               pixel_weight=0.01, perceptual_layers=ESRGAN_LAYERS, gan_loss="ragan",
                               gan_weight=0.005, discriminator="vgg128", ema_decay=None, usm_pixel=False,
                               usm_perceptual=False, hr_crop_size=128, degradation=None),
}

register_preset("esrgan-x4", "ESRGAN x4 (RRDBNet, 23 blocks of 64 features, growth 32): the 2018 ESRGAN weights",
                RRDBNet(), RECIPES["esrgan"])
register_preset("realesrnet-x4plus", "Real-ESRNet x4plus (RRDBNet x4, 23 blocks) trained with L1 only on "
                "Real-ESRGAN's degradations: RealESRNet_x4plus.pth", RRDBNet(), RECIPES["rrdb"])
register_preset("realesrgan-x4plus", "Real-ESRGAN x4plus (RRDBNet x4, 23 blocks): RealESRGAN_x4plus.pth",
                RRDBNet(), RECIPES["realesrgan"])
register_preset("realesrgan-x2plus", "Real-ESRGAN x2plus (RRDBNet x2 with a pixel-unshuffled input): "
                "RealESRGAN_x2plus.pth", RRDBNet(scale=2), RECIPES["realesrgan"])
register_preset("realesrgan-x4plus-anime-6b", "Real-ESRGAN x4plus anime (RRDBNet x4, 6 blocks): "
                "RealESRGAN_x4plus_anime_6B.pth", RRDBNet(num_block=6), RECIPES["realesrgan"])
register_preset("realesr-general-x4v3", "Real-ESRGAN general x4v3 (SRVGGNetCompact, 32 convolutions of 64): "
                "realesr-general-x4v3.pth, the small model for phones", SRVGGNetCompact(num_conv=32),
                RECIPES["realesrgan"])
register_preset("realesr-general-wdn-x4v3", "Real-ESRGAN general x4v3, weak denoise (SRVGGNetCompact, 32 "
                "convolutions of 64): realesr-general-wdn-x4v3.pth, blended with realesr-general-x4v3 for the "
                "denoise strength", SRVGGNetCompact(num_conv=32), RECIPES["realesrgan"])
register_preset("realesr-animevideov3", "Real-ESRGAN anime video v3 (SRVGGNetCompact, 16 convolutions of 64): "
                "realesr-animevideov3.pth", SRVGGNetCompact(), RECIPES["realesrgan"])
