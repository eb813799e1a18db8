"""GAN metrics on ImageNet InceptionV3 features: FID and KID.

Both compare sets of images through the 2048 pool features of ImageNet InceptionV3: FID (Heusel et al., 2017)
as the Frechet distance of Gaussians fitted to the two feature sets, KID (Binkowski et al., 2018) as the
unbiased squared MMD with the cubic polynomial kernel k(x, y) = (x.y / d + 1)^3, averaged over random subsets.
Images are uint8 (or float) RGB in 0..255; they are resized (bilinear) to the network's input side and scaled
to [-1, 1] as InceptionV3 expects.
"""

import keras
import numpy as np
import tensorflow as tf

from sr_tf.errors import Arg, UserInputError
from sr_tf.models.common import imagenet_application
from sr_tf.ops import PerModelFunction

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
    return imagenet_application(keras.applications.InceptionV3, weights, INCEPTION_NOTOP_FILE,
                                Arg("inception_weights", "PATH", placeholder=True, api="inception_model(weights=PATH)"),
                                include_top=False, pooling="avg",
                                input_shape=(input_size, input_size, 3))


def _features(model, batch):
    size = model.input_shape[1:3]
    batch = tf.image.resize(tf.cast(batch, tf.float32), size, method="bilinear")
    return model(batch / 127.5 - 1.0, training=False)


_FEATURES = PerModelFunction(_features)


def inception_features(images, model, batch_size=50):
    """Pool features (N, 2048) as float64 of images (N, H, W, 3) in 0..255, or of an iterable of such batches."""
    features = _FEATURES(model)
    batches = images
    if isinstance(images, np.ndarray) or tf.is_tensor(images):
        batches = (images[i:i + batch_size] for i in range(0, len(images), batch_size))
    out = [features(tf.convert_to_tensor(batch)).numpy() for batch in batches]
    if not out:
        raise UserInputError("inception_features needs at least one image.")
    return np.concatenate(out).astype(np.float64)


def frechet_distance(features1, features2):
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)) of two (N, D) feature sets (each N >= 2).

    The trace of the matrix square root is computed as the sum of the square roots of the eigenvalues of the
    symmetric matrix S1^(1/2) S2 S1^(1/2), which has the same eigenvalues as S1 S2.
    """
    f1, f2 = np.asarray(features1, np.float64), np.asarray(features2, np.float64)
    if len(f1) < 2 or len(f2) < 2:
        raise UserInputError(f"FID needs at least 2 images per set. Received: {len(f1)} and {len(f2)}")
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
        raise UserInputError(f"KID needs at least 2 images per set. Received: {len(f1)} and {len(f2)}")
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
        model = inception_model(weights) if model is None else model
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
