"""Image-quality metrics: the tutorial's RGB PSNR, and Y-channel PSNR/SSIM as benchmark tables compute them.

Benchmark protocol (what SR papers report on Set5/Set14/BSD100): convert to Y of YCbCr with BT.601
(Y = 16 + 65.481 R + 128.553 G + 24.966 B for RGB in [0, 1]), crop `scale` pixels at every border, and compute in
float64. SSIM uses an 11x11 Gaussian window with sigma 1.5, C1 = (0.01 * 255)^2 and C2 = (0.03 * 255)^2, over
the valid region of the window. Identical images give an infinite PSNR.
"""

import keras
import numpy as np
import tensorflow as tf


def psnr(x1, x2):
    """PSNR in dB over all RGB values with max 255, per image (the tutorial's metric, `tf.image.psnr`).

    Args:
        x1, x2: images or batches (..., H, W, C) in 0..255.

    Returns:
        A float32 tensor with one value per image (inf where the images are identical).
    """
    return tf.image.psnr(tf.cast(x1, tf.float32), tf.cast(x2, tf.float32), max_val=255)


def rgb_to_y(image):
    """Y channel (BT.601, studio range 16..235) of RGB images in 0..255, as float64 (..., H, W)."""
    image = np.asarray(image, dtype=np.float64) / 255.0
    return 16.0 + image @ np.array([65.481, 128.553, 24.966])


def _prepare(img1, img2, crop_border, y_only):
    img1, img2 = np.asarray(img1), np.asarray(img2)
    if img1.shape != img2.shape:
        raise ValueError(f"Images must have the same shape. Received: {img1.shape} and {img2.shape}")
    if y_only:
        img1, img2 = rgb_to_y(img1)[..., None], rgb_to_y(img2)[..., None]
    else:
        img1, img2 = img1.astype(np.float64), img2.astype(np.float64)
    if crop_border:
        c = crop_border
        img1, img2 = img1[..., c:-c, c:-c, :], img2[..., c:-c, c:-c, :]
    return img1, img2


def psnr_y(img1, img2, crop_border=0):
    """PSNR on the Y channel with `crop_border` pixels removed at each side (pass the scale), in float64.

    Args:
        img1, img2: RGB images (H, W, 3) or batches (B, H, W, 3) in 0..255.
        crop_border: pixels cropped at every border before comparing.

    Returns:
        A float for one image, or an array with one value per image of a batch.
    """
    a, b = _prepare(img1, img2, crop_border, y_only=True)
    mse = np.mean((a - b) ** 2, axis=(-3, -2, -1))
    with np.errstate(divide="ignore"):
        value = 10.0 * np.log10(255.0 ** 2 / mse)
    return float(value) if np.ndim(value) == 0 else value


def _gaussian_window(size=11, sigma=1.5):
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-(x ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def _filter_valid(x, window):
    """Separable 'valid' filtering over the two image axes of (..., H, W)."""
    k = len(window)
    x = np.lib.stride_tricks.sliding_window_view(x, k, axis=-2) @ window
    return np.lib.stride_tricks.sliding_window_view(x, k, axis=-1) @ window


def _ssim_channel(a, b):
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    w = _gaussian_window()
    mu1, mu2 = _filter_valid(a, w), _filter_valid(b, w)
    sigma1 = _filter_valid(a * a, w) - mu1 ** 2
    sigma2 = _filter_valid(b * b, w) - mu2 ** 2
    sigma12 = _filter_valid(a * b, w) - mu1 * mu2
    ssim_map = ((2 * mu1 * mu2 + c1) * (2 * sigma12 + c2)) / ((mu1 ** 2 + mu2 ** 2 + c1) * (sigma1 + sigma2 + c2))
    return ssim_map.mean(axis=(-2, -1))


def ssim(img1, img2, crop_border=0, y_only=True):
    """SSIM with an 11x11 Gaussian window (sigma 1.5), on Y by default, after cropping `crop_border` pixels.

    Args:
        img1, img2: RGB images (H, W, 3) or batches (B, H, W, 3) in 0..255.
        crop_border: pixels cropped at every border (pass the scale for benchmark numbers).
        y_only: compare the Y channel (benchmark protocol) or average the SSIM of R, G and B.

    Returns:
        A float for one image, or an array with one value per image of a batch.
    """
    a, b = _prepare(img1, img2, crop_border, y_only)
    if min(a.shape[-3:-1]) < 11:
        raise ValueError(f"SSIM needs images of at least 11x11 after cropping. Received: {a.shape[-3:-1]}")
    a, b = np.moveaxis(a, -1, -3), np.moveaxis(b, -1, -3)  # (..., C, H, W)
    value = _ssim_channel(a, b).mean(axis=-1)
    return float(value) if np.ndim(value) == 0 else value


def bicubic_upscale(lr, scale):
    """Bicubic upscaling of uint8 RGB images by `scale` (the baseline next to every model), rounded to uint8."""
    lr = tf.convert_to_tensor(lr)
    size = tf.shape(lr)[-3:-1] * scale
    sr = tf.image.resize(tf.cast(lr, tf.float32), size, method="bicubic")
    return tf.cast(tf.clip_by_value(tf.round(sr), 0, 255), tf.uint8)


# ------------------------------------------------------------------------------------------ FID and KID (GANs)
# Both compare sets of images through the 2048 pool features of ImageNet InceptionV3: FID (Heusel et al., 2017)
# as the Frechet distance of Gaussians fitted to the two feature sets, KID (Binkowski et al., 2018) as the
# unbiased squared MMD with the cubic polynomial kernel k(x, y) = (x.y / d + 1)^3, averaged over random subsets.
# Images are uint8 (or float) RGB in 0..255; they are resized (bilinear) to the network's input side and scaled
# to [-1, 1] as InceptionV3 expects.

INCEPTION_NOTOP_FILE = "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
INCEPTION_SIZE = 299


def inception_model(weights="imagenet", input_size=INCEPTION_SIZE):
    """InceptionV3 up to its global-average-pooled 2048 features.

    Args:
        weights: 'imagenet' (downloaded once), the path of the Keras notop weights file
            (inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5), or None for random weights (tests only:
            the distances then mean nothing beyond their algebra).
        input_size: the side images are resized to (299 for comparable numbers; at least 75).
    """
    from sr_tf.models.common import imagenet_application  # local import: metrics needs no models otherwise

    return imagenet_application(keras.applications.InceptionV3, weights, INCEPTION_NOTOP_FILE,
                                "--inception-weights PATH", include_top=False, pooling="avg",
                                input_shape=(input_size, input_size, 3))


def inception_features(images, model, batch_size=50):
    """Pool features (N, 2048) as float64 of images (N, H, W, 3) in 0..255, or of an iterable of such batches."""
    size = model.input_shape[1:3]

    @tf.function
    def features(batch):
        batch = tf.image.resize(tf.cast(batch, tf.float32), size, method="bilinear")
        return model(batch / 127.5 - 1.0, training=False)

    batches = images
    if isinstance(images, np.ndarray) or tf.is_tensor(images):
        batches = (images[i:i + batch_size] for i in range(0, len(images), batch_size))
    out = [features(tf.convert_to_tensor(batch)).numpy() for batch in batches]
    if not out:
        raise ValueError("inception_features needs at least one image.")
    return np.concatenate(out).astype(np.float64)


def frechet_distance(features1, features2):
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)) of two (N, D) feature sets (each N >= 2).

    The trace of the matrix square root is computed as the sum of the square roots of the eigenvalues of the
    symmetric matrix S1^(1/2) S2 S1^(1/2), which has the same eigenvalues as S1 S2.
    """
    f1, f2 = np.asarray(features1, np.float64), np.asarray(features2, np.float64)
    if len(f1) < 2 or len(f2) < 2:
        raise ValueError(f"FID needs at least 2 images per set. Received: {len(f1)} and {len(f2)}")
    mu1, mu2 = f1.mean(axis=0), f2.mean(axis=0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    values, vectors = np.linalg.eigh(s1)
    root1 = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    middle = np.linalg.eigvalsh(root1 @ s2 @ root1)
    trace_root = np.sqrt(np.clip(middle, 0, None)).sum()
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2.0 * trace_root)


def kernel_distance(features1, features2, subsets=100, subset_size=1000, seed=0):
    """Unbiased squared MMD with the kernel (x.y / d + 1)^3, over `subsets` random subsets; returns (mean, std).

    Each subset draws min(subset_size, N1, N2) rows of each set without replacement.
    """
    f1, f2 = np.asarray(features1, np.float64), np.asarray(features2, np.float64)
    m = min(subset_size, len(f1), len(f2))
    if m < 2:
        raise ValueError(f"KID needs at least 2 images per set. Received: {len(f1)} and {len(f2)}")
    d = f1.shape[1]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(subsets):
        x = f1[rng.choice(len(f1), m, replace=False)]
        y = f2[rng.choice(len(f2), m, replace=False)]
        kxx, kyy, kxy = ((a @ b.T / d + 1.0) ** 3 for a, b in ((x, x), (y, y), (x, y)))
        off_diagonal = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
        values.append(off_diagonal - 2.0 * kxy.mean())
    return float(np.mean(values)), float(np.std(values))


def _is_features(x):
    return isinstance(x, np.ndarray) and x.ndim == 2


def _feature_pair(images1, images2, model, weights):
    """Features of both sets (arrays that are already (N, D) features pass through)."""
    if not (_is_features(images1) and _is_features(images2)):
        model = model or inception_model(weights)
    return [x if _is_features(x) else inception_features(x, model) for x in (images1, images2)]


def fid(images1, images2, model=None, weights="imagenet"):
    """FID between two image sets (N, H, W, 3) in 0..255 (or (N, 2048) feature arrays).

    Args:
        images1, images2: the two sets (arrays, or iterables of batches).
        model: an `inception_model()` to reuse; built from `weights` when None.
        weights: see `inception_model`.
    """
    return frechet_distance(*_feature_pair(images1, images2, model, weights))


def kid(images1, images2, model=None, weights="imagenet", subsets=100, subset_size=1000):
    """KID (mean, std) between two image sets; arguments as `fid` and `kernel_distance`."""
    return kernel_distance(*_feature_pair(images1, images2, model, weights), subsets=subsets,
                           subset_size=subset_size)
