"""How far a quantized export is from the float Keras model, measured on real photo crops (not noise), and the
threshold below which an export is refused.

The threshold, `MIN_PSNR` = 28 dB between the file's image and Keras's, measured with the official Real-ESRGAN
weights (their ncnn files) on these crops: their files score 32.5 (RealESRGAN_x4plus, int8), 37.8
(realesr-animevideov3, int8), 38.3 and 41.7 dB (the two, dynamic) and look as good as float, while the same int8
files read wrongly (the uint8 output taken for pixels without its scale and zero point, as this package's int8
files had to be read before their output became the image) score 23.3 and 18.9 dB. 28 dB sits between the two
groups, 4.5 dB from the worst good file and 4.7 dB from the best broken one.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from sr_tf.errors import UserInputError

MIN_PSNR = 28.0


class QualityError(UserInputError):
    """A quantized export is further from the float model on photo crops than `MIN_PSNR` allows."""


@dataclasses.dataclass(frozen=True)
class Quality:
    """The file's images against Keras's on the crops: PSNR (dB) over all of them, max and mean difference in grey
    levels, and how many crops."""

    psnr: float
    max_difference: float
    mean_difference: float
    crops: int

    def describe(self):
        """One line: 'PSNR 36.1 dB against Keras on 4 photo crops, max 50 / mean 2.07 grey levels'."""
        return (f"PSNR {self.psnr:.1f} dB against Keras on {self.crops} photo crops, max {self.max_difference:.0f} / "
                f"mean {self.mean_difference:.2f} grey levels")


def photo_crops(model_scale, input_size=None, count=4, size=32, seed=1):
    """LR crops of the bundled photos (other crops than the int8 calibration's), resized to `input_size` for a
    fixed-size model."""
    from sr_tf.deploy.convert import representative_patches

    crops = representative_patches(model_scale, size=size, count=count, seed=seed)
    if input_size is not None:
        crops = [np.clip(tf.image.resize(c, input_size).numpy(), 0, 255) for c in crops]
    return crops


def measure(model, run, crops):
    """The `Quality` of `run` (the exported file, called on one crop) against `model` on `crops`."""
    squared, total, largest, count = 0.0, 0.0, 0.0, 0
    for crop in crops:
        expected = np.clip(np.round(np.asarray(model(crop, training=False), np.float32)), 0, 255)
        got = np.clip(np.round(np.asarray(run(crop), np.float32)), 0, 255)
        difference = np.abs(got - expected)
        squared += float(np.sum(difference ** 2))
        total += float(np.sum(difference))
        largest = max(largest, float(difference.max()))
        count += difference.size
    mse = squared / count
    psnr = float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)
    return Quality(psnr, largest, total / count, len(crops))


def check_quality(quality, quantize, min_psnr=MIN_PSNR):
    """Raises `QualityError` when `quality.psnr` is below `min_psnr` (None: never)."""
    if min_psnr is not None and quality.psnr < min_psnr:
        raise QualityError(f"The {quantize} file scores {quality.describe()}: below the {min_psnr:g} dB a good "
                           "quantized file reaches; nothing was written (force=True / --force writes it anyway).")
