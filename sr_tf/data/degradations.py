"""HR patch -> LR patch degradations as TensorFlow ops, for `tf.data` `map` with AUTOTUNE (no Python per image,
no OpenCV), drawing every random number from `Draws` so that a seeded pipeline gives the same LR patch in every
run and process.

A degradation is a callable `degrade(hr, scale, draws) -> lr`: `hr` a uint8 (H, W, 3) tensor with H and W
multiples of `scale`, `lr` uint8 (H / scale, W / scale, 3), aligned with `hr` (same field of view).

`"realesrgan"` is the second-order model of Real-ESRGAN (Wang et al., "Real-ESRGAN: Training Real-World Blind
Super-Resolution with Pure Synthetic Data", ICCVW 2021). Its defaults, `REALESRGAN`, are the ranges of the
authors' training options for RealESRGAN_x4plus (options/train_realesrgan_x4plus.yml in their repository):

- blur kernels: odd sizes 7..21; types iso / aniso / generalized iso / generalized aniso / plateau iso / plateau
  aniso with probabilities 0.45 / 0.25 / 0.12 / 0.03 / 0.12 / 0.03; sigma in [0.2, 3] (second order [0.2, 1.5]);
  generalized beta in [0.5, 4], plateau beta in [1, 2]; rotation in [-pi, pi]; a sinc (circular low-pass) kernel
  instead with probability 0.1, cutoff in [pi/3, pi] (sizes < 13) or [pi/5, pi];
- first order: blur; resize up / down / keep with probabilities 0.2 / 0.7 / 0.1 by a factor in [1, 1.5] /
  [0.15, 1] / 1 with area, bilinear or bicubic; Gaussian noise (probability 0.5, sigma in [1, 30] / 255) else
  Poisson noise (scale in [0.05, 3]), grey noise with probability 0.4; JPEG quality in [30, 95];
- second order: blur with probability 0.8; resize (0.3 / 0.4 / 0.3, [1, 1.2] / [0.3, 1], relative to the LR
  size); Gaussian noise sigma in [1, 25] / 255 or Poisson scale [0.05, 2.5], grey 0.4; then, in random order,
  [resize to the LR size + a final sinc filter with probability 0.8 (cutoff in [pi/3, pi])] and JPEG in [30, 95].

Differences, on purpose: kernels live on a 21 x 21 grid (smaller sizes are zero outside, as the authors pad them);
intermediate images are kept at least 12 pixels on a side (their 21-tap kernels need a reflection border of 10), and
the degradation runs per training patch rather than per 400 px crop.
"""

import dataclasses
import itertools
import math

import tensorflow as tf

from sr_tf.data.transforms import downscale
from sr_tf.errors import UserInputError

GRID = 21  # kernels are computed on a GRID x GRID grid
MIN_SIDE = 12
KERNEL_TYPES = ("iso", "aniso", "generalized_iso", "generalized_aniso", "plateau_iso", "plateau_aniso")


@dataclasses.dataclass(frozen=True)
class Blur:
    """One blur stage: kernel-type probabilities (`KERNEL_TYPES` order), Gaussian sigma range, generalized and
    plateau beta ranges, and the probability of a sinc kernel instead."""
    kernel_prob: tuple = (0.45, 0.25, 0.12, 0.03, 0.12, 0.03)
    sigma: tuple = (0.2, 3.0)
    beta_generalized: tuple = (0.5, 4.0)
    beta_plateau: tuple = (1.0, 2.0)
    sinc_prob: float = 0.1


@dataclasses.dataclass(frozen=True)
class Stage:
    """One order of the model: resize probabilities (up, down, keep) and ranges, noise and JPEG ranges."""
    blur: Blur = Blur()
    blur_prob: float = 1.0
    resize_prob: tuple = (0.2, 0.7, 0.1)
    resize_up: tuple = (1.0, 1.5)
    resize_down: tuple = (0.15, 1.0)
    gaussian_noise_prob: float = 0.5
    noise_sigma: tuple = (1.0, 30.0)  # in grey levels
    poisson_scale: tuple = (0.05, 3.0)
    gray_noise_prob: float = 0.4
    jpeg_quality: tuple = (30, 95)


@dataclasses.dataclass(frozen=True)
class RealEsrganParams:
    """The second-order model's parameters (defaults: the authors' RealESRGAN_x4plus training options)."""
    first: Stage = Stage()
    second: Stage = Stage(blur=Blur(sigma=(0.2, 1.5)), blur_prob=0.8, resize_prob=(0.3, 0.4, 0.3),
                          resize_up=(1.0, 1.2), resize_down=(0.3, 1.0), noise_sigma=(1.0, 25.0),
                          poisson_scale=(0.05, 2.5))
    final_sinc_prob: float = 0.8


REALESRGAN = RealEsrganParams()


def _uniform(draws, low, high):
    return draws.uniform([], float(low), float(high))


def _choice(draws, probabilities):
    """An int32 index drawn with `probabilities`."""
    edges = tf.constant(list(itertools.accumulate(probabilities)), tf.float32)
    return tf.minimum(tf.reduce_sum(tf.cast(draws.uniform([]) >= edges, tf.int32)), len(probabilities) - 1)


def _grid():
    half = GRID // 2
    ax = tf.range(-half, half + 1, dtype=tf.float32)
    return tf.meshgrid(ax, ax, indexing="xy")


def _size_mask(size):
    """1 inside the central `size` x `size` square of the grid, else 0."""
    half = tf.cast(size // 2, tf.float32)
    x, y = _grid()
    return tf.cast((tf.abs(x) <= half) & (tf.abs(y) <= half), tf.float32)


def mixed_kernel(draws, blur):
    """A random blur kernel (GRID x GRID, sums to 1) of one of the six Gaussian-family types, or a sinc kernel
    with probability `blur.sinc_prob`; the kernel size is odd in 7..21."""
    size = 7 + 2 * draws.uniform([], 0, 8, dtype=tf.int32)
    kind = _choice(draws, blur.kernel_prob)
    sigma_x, sigma_y = _uniform(draws, *blur.sigma), _uniform(draws, *blur.sigma)
    theta = _uniform(draws, -math.pi, math.pi)
    beta_g, beta_p = _uniform(draws, *blur.beta_generalized), _uniform(draws, *blur.beta_plateau)
    use_sinc = draws.uniform([]) < blur.sinc_prob
    cutoff_small, cutoff_large = _uniform(draws, math.pi / 3, math.pi), _uniform(draws, math.pi / 5, math.pi)
    isotropic = tf.equal(kind % 2, 0)
    sigma_y = tf.where(isotropic, sigma_x, sigma_y)
    theta = tf.where(isotropic, 0.0, theta)
    x, y = _grid()
    cos, sin = tf.cos(theta), tf.sin(theta)
    u, v = cos * x + sin * y, -sin * x + cos * y  # coordinates along the kernel's principal axes
    q = (u / sigma_x) ** 2 + (v / sigma_y) ** 2  # d^T Sigma^-1 d
    family = kind // 2
    kernel = tf.switch_case(family, [lambda: tf.exp(-0.5 * q), lambda: tf.exp(-0.5 * tf.pow(q, beta_g)),
                                     lambda: 1.0 / (tf.pow(q, beta_p) + 1.0)])
    cutoff = tf.where(size < 13, cutoff_small, cutoff_large)
    kernel = tf.where(use_sinc, sinc_kernel(cutoff), kernel) * _size_mask(size)
    return kernel / tf.reduce_sum(kernel)


def sinc_kernel(cutoff, size=GRID):
    """The circular low-pass (2-D sinc) kernel with cutoff frequency `cutoff` (radians per pixel) on the grid,
    masked to `size` and normalized."""
    x, y = _grid()
    r = tf.sqrt(x * x + y * y)
    safe = tf.where(r > 0, r, 1.0)
    kernel = tf.where(r > 0, cutoff * tf.math.special.bessel_j1(cutoff * safe) / (2 * math.pi * safe),
                      cutoff ** 2 / (4 * math.pi))
    kernel = kernel * _size_mask(size)
    return kernel / tf.reduce_sum(kernel)


def filter2d(image, kernel):
    """Convolves an (H, W, C) float image with a GRID x GRID kernel per channel, reflecting at the borders."""
    pad = GRID // 2
    x = tf.pad(image[None], [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="REFLECT")
    channels = tf.shape(image)[-1]
    weights = tf.tile(kernel[:, :, None, None], tf.stack([1, 1, channels, 1]))
    return tf.nn.depthwise_conv2d(x, weights, [1, 1, 1, 1], "VALID")[0]


def _resize(image, size, draws):
    """Resizes to `size` (at least MIN_SIDE a side) with area, bilinear or bicubic, drawn uniformly."""
    size = tf.maximum(tf.cast(size, tf.int32), MIN_SIDE)
    mode = draws.uniform([], 0, 3, dtype=tf.int32)
    return tf.switch_case(mode, [lambda: tf.image.resize(image, size, method="area"),
                                 lambda: tf.image.resize(image, size, method="bilinear"),
                                 lambda: tf.image.resize(image, size, method="bicubic")])


def _random_resize(image, base_size, stage, draws):
    direction = _choice(draws, stage.resize_prob)
    up, down = _uniform(draws, *stage.resize_up), _uniform(draws, *stage.resize_down)
    factor = tf.gather(tf.stack([up, down, 1.0]), direction)
    return _resize(image, tf.round(tf.cast(base_size, tf.float32) * factor), draws)


def add_noise(image, stage, draws):
    """Gaussian or Poisson noise (grey with probability `stage.gray_noise_prob`) on a float image in [0, 1]; only
    the drawn kind is computed."""
    gaussian = draws.uniform([]) < stage.gaussian_noise_prob
    gray = draws.uniform([]) < stage.gray_noise_prob
    shape = tf.shape(image)

    def gauss():
        sigma = _uniform(draws, *stage.noise_sigma) / 255.0
        noise = tf.cond(gray, lambda: tf.broadcast_to(draws.normal(tf.concat([shape[:2], [1]], 0)), shape),
                        lambda: draws.normal(shape))
        return image + sigma * noise

    def poisson():
        # Counts at a rate set by the number of distinct grey levels (a power of two), as the authors do.
        scale = _uniform(draws, *stage.poisson_scale)
        source = tf.cond(gray, lambda: tf.broadcast_to(tf.image.rgb_to_grayscale(image), shape), lambda: image)
        levels = tf.round(tf.clip_by_value(source, 0.0, 1.0) * 255.0)
        distinct = tf.cast(tf.size(tf.unique(tf.reshape(levels, [-1]))[0]), tf.float32)
        vals = tf.pow(2.0, tf.math.ceil(tf.math.log(distinct) / math.log(2.0)))
        return image + scale * (draws.poisson(levels / 255.0 * vals) / vals - levels / 255.0)

    return tf.cond(gaussian, gauss, poisson)


def jpeg(image, draws, quality_range):
    """JPEG compression at a quality drawn in `quality_range` of a float image in [0, 1]."""
    quality = draws.uniform([], quality_range[0], quality_range[1] + 1, dtype=tf.int32)
    return tf.image.adjust_jpeg_quality(tf.clip_by_value(image, 0.0, 1.0), quality)


def realesrgan(hr, scale, draws, params=REALESRGAN):
    """Real-ESRGAN's second-order degradation of one HR patch (see the module); uint8 in, uint8 out."""
    x = tf.cast(hr, tf.float32) / 255.0
    hr_size = tf.shape(hr)[:2]
    lr_size = hr_size // scale
    for order, stage in enumerate((params.first, params.second)):
        kernel = mixed_kernel(draws, stage.blur)
        blur = draws.uniform([]) < stage.blur_prob
        x = tf.cond(blur, lambda: filter2d(x, kernel), lambda: x)
        x = _random_resize(x, hr_size if order == 0 else lr_size, stage, draws)
        x = tf.clip_by_value(add_noise(x, stage, draws), 0.0, 1.0)
        if order == 0:
            x = jpeg(x, draws, stage.jpeg_quality)
    resize_first = draws.uniform([]) < 0.5
    use_sinc = draws.uniform([]) < params.final_sinc_prob
    final_kernel = sinc_kernel(_uniform(draws, math.pi / 3, math.pi), 7 + 2 * draws.uniform([], 0, 8, tf.int32))

    def resize_and_sinc(image):
        image = _resize(image, lr_size, draws)
        return tf.cond(use_sinc, lambda: filter2d(image, final_kernel), lambda: image)

    quality = params.second.jpeg_quality
    x = tf.cond(resize_first, lambda: jpeg(resize_and_sinc(x), draws, quality),
                lambda: resize_and_sinc(jpeg(x, draws, quality)))
    x = tf.image.resize(x, lr_size, method="area")  # a no-op unless MIN_SIDE enlarged a tiny LR
    return tf.cast(tf.round(tf.clip_by_value(x, 0.0, 1.0) * 255.0), tf.uint8)


def bicubic(hr, scale, draws=None):
    """This package's default LR (antialiased `tf.image.resize` bicubic)."""
    return downscale(hr, scale)


def matlab(hr, scale, draws=None):
    """MATLAB's bicubic `imresize`, as benchmark LR images are made."""
    return downscale(hr, scale, method="matlab")


PHOTO = Stage(blur=Blur(kernel_prob=(1, 0, 0, 0, 0, 0), sigma=(0.8, 1.6), sinc_prob=0.0), gaussian_noise_prob=1.0,
              noise_sigma=(3.0, 8.0), gray_noise_prob=0.0, jpeg_quality=(30, 60))


def photo(hr, scale, draws, stage=PHOTO):
    """A first-order degradation like a phone photo's, for testing models on data no training draw made:
    isotropic Gaussian blur (sigma 0.8-1.6 HR px), antialiased bicubic downscale, Gaussian colour noise (3-8 grey
    levels), JPEG at quality 30-60."""
    x = tf.cast(hr, tf.float32) / 255.0
    x = filter2d(x, mixed_kernel(draws, stage.blur))
    x = tf.image.resize(x, tf.shape(hr)[:2] // scale, method="bicubic", antialias=True)
    x = jpeg(tf.clip_by_value(add_noise(x, stage, draws), 0.0, 1.0), draws, stage.jpeg_quality)
    return tf.cast(tf.round(tf.clip_by_value(x, 0.0, 1.0) * 255.0), tf.uint8)


DEGRADATIONS = {"bicubic": bicubic, "matlab": matlab, "realesrgan": realesrgan}


def get(degradation):
    """The degradation callable named by `degradation` ('bicubic', 'matlab', 'realesrgan') or the callable
    itself.

    Raises:
        UserInputError: an unknown name.
    """
    if callable(degradation):
        return degradation
    if degradation not in DEGRADATIONS:
        raise UserInputError(f"Unknown degradation. Expected one of {list(DEGRADATIONS)} or a callable "
                             f"degrade(hr, scale, draws). Received: degradation={degradation!r}")
    return DEGRADATIONS[degradation]


def gaussian_kernel_1d(size, sigma=0.0):
    """A normalized 1-D Gaussian of odd `size` taps; sigma 0 takes OpenCV's default for the size,
    0.3 ((size - 1) / 2 - 1) + 0.8 (as `cv2.getGaussianKernel(size, 0)`, which Real-ESRGAN's USM uses)."""
    sigma = sigma if sigma > 0 else 0.3 * ((size - 1) * 0.5 - 1) + 0.8
    x = tf.range(size, dtype=tf.float32) - (size - 1) / 2
    kernel = tf.exp(-x * x / (2.0 * sigma * sigma))
    return kernel / tf.reduce_sum(kernel)


def _gaussian_blur(images, kernel):
    """Separable per-channel Gaussian blur of an NHWC batch, reflecting at the borders."""
    pad = int(kernel.shape[0]) // 2
    x = tf.pad(images, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="REFLECT")
    channels = images.shape[-1]
    rows = tf.tile(kernel[:, None, None, None], [1, 1, channels, 1])
    columns = tf.tile(kernel[None, :, None, None], [1, 1, channels, 1])
    x = tf.nn.depthwise_conv2d(x, rows, [1, 1, 1, 1], "VALID")
    return tf.nn.depthwise_conv2d(x, columns, [1, 1, 1, 1], "VALID")


def usm_sharpen(images, weight=0.5, radius=50, threshold=10):
    """Real-ESRGAN's unsharp masking of the ground truth (BasicSR's `USMSharp`): the image plus `weight` times its
    difference from a Gaussian blur (odd size `radius` + 1 when even, OpenCV's default sigma: 51 taps, sigma 8),
    clipped, blended back into the original through the blurred mask of pixels whose difference exceeds
    `threshold` grey levels.

    Args:
        images: an NHWC batch of RGB 0..255 (any float or integer type), its sides larger than half the kernel
            (26 px by default: the reflected border needs them).

    Returns:
        The sharpened float32 batch, 0..255.
    """
    size = radius + 1 if radius % 2 == 0 else radius
    kernel = gaussian_kernel_1d(size)
    x = tf.cast(images, tf.float32)
    residual = x - _gaussian_blur(x, kernel)
    mask = tf.cast(tf.abs(residual) > threshold, tf.float32)
    soft = _gaussian_blur(mask, kernel)
    sharp = tf.clip_by_value(x + weight * residual, 0.0, 255.0)
    return soft * sharp + (1.0 - soft) * x
