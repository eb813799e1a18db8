"""The published weights of the presets that have them: file name, release address, SHA-256 where one is
published, the member of an archive (read by `sr_tf.models.hub.from_preset`; here, with no TensorFlow, so that the
command lines list them in --help at once).

Sources: Real-ESRGAN's `inference_realesrgan.py` (its `-n` model table; github.com/xinntao/Real-ESRGAN releases
v0.1.0 to v0.2.5.0; BasicSR's re-release of ESRGAN is named with the first 8 hex digits of its SHA-256), and the
README of the TF2 SRGAN tutorial (github.com/krasserm/super-resolution, "Pre-trained weights").
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Published:
    """A preset's published weights: the file's name and address, its SHA-256 (or the start of it, as BasicSR's
    file names give; None where none is published) and, for an archive, the member that holds the weights."""

    file: str
    url: str
    sha256: str = None
    member: str = None


_REAL_ESRGAN = "https://github.com/xinntao/Real-ESRGAN/releases/download"
_TUTORIAL = "https://martin-krasser.de/sisr"


PUBLISHED = {
    "realesrgan-x4plus": Published("RealESRGAN_x4plus.pth", f"{_REAL_ESRGAN}/v0.1.0/RealESRGAN_x4plus.pth"),
    "realesrnet-x4plus": Published("RealESRNet_x4plus.pth", f"{_REAL_ESRGAN}/v0.1.1/RealESRNet_x4plus.pth"),
    "realesrgan-x2plus": Published("RealESRGAN_x2plus.pth", f"{_REAL_ESRGAN}/v0.2.1/RealESRGAN_x2plus.pth"),
    "realesrgan-x4plus-anime-6b": Published("RealESRGAN_x4plus_anime_6B.pth",
                                            f"{_REAL_ESRGAN}/v0.2.2.4/RealESRGAN_x4plus_anime_6B.pth"),
    "realesr-general-x4v3": Published("realesr-general-x4v3.pth",
                                      f"{_REAL_ESRGAN}/v0.2.5.0/realesr-general-x4v3.pth"),
    "realesr-general-wdn-x4v3": Published("realesr-general-wdn-x4v3.pth",
                                          f"{_REAL_ESRGAN}/v0.2.5.0/realesr-general-wdn-x4v3.pth"),
    "realesr-animevideov3": Published("realesr-animevideov3.pth",
                                      f"{_REAL_ESRGAN}/v0.2.5.0/realesr-animevideov3.pth"),
    # ESRGAN as BasicSR re-released it (the 2018 Google Drive file has no stable address)
    "esrgan-x4": Published("ESRGAN_SRx4_DF2KOST_official-ff704c30.pth",
                           f"{_REAL_ESRGAN}/v0.1.1/ESRGAN_SRx4_DF2KOST_official-ff704c30.pth", sha256="ff704c30"),
    "edsr-16-x4": Published("weights-edsr-16-x4.tar.gz", f"{_TUTORIAL}/weights-edsr-16-x4.tar.gz",
                            member="weights/edsr-16-x4/weights.h5"),
    "wdsr-b-32-x4": Published("weights-wdsr-b-32-x4.tar.gz", f"{_TUTORIAL}/weights-wdsr-b-32-x4.tar.gz",
                              member="weights/wdsr-b-32-x4/weights.h5"),
    "srresnet-x4": Published("weights-srgan.tar.gz", f"{_TUTORIAL}/weights-srgan.tar.gz",
                             member="weights/srgan/pre_generator.h5"),
    "srgan-x4": Published("weights-srgan.tar.gz", f"{_TUTORIAL}/weights-srgan.tar.gz",
                          member="weights/srgan/gan_generator.h5"),
}
DEFAULT_PRESET = "realesr-general-x4v3"  # what `resolve` runs when no model is named: small, for photos
