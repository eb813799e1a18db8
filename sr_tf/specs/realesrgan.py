"""The networks Real-ESRGAN runs on real photos, as families: RRDBNet (ESRGAN's generator, and Real-ESRGAN's with a
pixel-unshuffle input at x2 and x1) and SRVGGNetCompact (the small `realesr-*` models). Defaults are those of the
authors' architecture code (BasicSR 1.4.2, `rrdbnet_arch.py`, `srvgg_arch.py`); the presets are the published
weights' settings. Their training recipes are not built yet, so these presets hold none (`recipe=None`)."""

import dataclasses

from sr_tf.specs.base import register_family, register_preset
from sr_tf.specs.sr import SrArchitecture


@register_family
@dataclasses.dataclass(frozen=True)
class RRDBNet(SrArchitecture):
    """RRDBNet (`sr_tf.models.realesrgan.rrdbnet`): `num_block` residual-in-residual dense blocks of `num_feat`
    channels with `num_grow_ch` growth channels; x4 by two nearest x2 upsamplings, x2 and x1 by a pixel-unshuffled
    input (Real-ESRGAN's)."""

    family = "rrdbnet"
    builder = "sr_tf.models.realesrgan:rrdbnet"
    num_feat: int = 64
    num_block: int = 23
    num_grow_ch: int = 32


@register_family
@dataclasses.dataclass(frozen=True)
class SRVGGNetCompact(SrArchitecture):
    """SRVGGNetCompact (`sr_tf.models.realesrgan.srvgg_net_compact`): `num_conv` + 2 plain 3x3 convolutions with
    per-channel PReLU, a pixel shuffle, plus the nearest-upsampled input."""

    family = "srvgg"
    builder = "sr_tf.models.realesrgan:srvgg_net_compact"
    num_feat: int = 64
    num_conv: int = 16


register_preset("esrgan-x4", "ESRGAN x4 (RRDBNet, 23 blocks of 64 features, growth 32): the 2018 ESRGAN weights",
                RRDBNet(), None)
register_preset("realesrgan-x4plus", "Real-ESRGAN x4plus (RRDBNet x4, 23 blocks): RealESRGAN_x4plus.pth",
                RRDBNet(), None)
register_preset("realesrgan-x2plus", "Real-ESRGAN x2plus (RRDBNet x2 with a pixel-unshuffled input): "
                "RealESRGAN_x2plus.pth", RRDBNet(scale=2), None)
register_preset("realesrgan-x4plus-anime-6b", "Real-ESRGAN x4plus anime (RRDBNet x4, 6 blocks): "
                "RealESRGAN_x4plus_anime_6B.pth", RRDBNet(num_block=6), None)
register_preset("realesr-general-x4v3", "Real-ESRGAN general x4v3 (SRVGGNetCompact, 32 convolutions of 64): "
                "realesr-general-x4v3.pth, the small model for phones", SRVGGNetCompact(num_conv=32), None)
register_preset("realesr-animevideov3", "Real-ESRGAN anime video v3 (SRVGGNetCompact, 16 convolutions of 64): "
                "realesr-animevideov3.pth", SRVGGNetCompact(), None)
