"""GAN metrics: FID and KID on InceptionV3 features."""


import keras
import numpy as np
import pytest
from helpers import offline

from sr_tf import metrics


def test_fid_of_a_set_with_itself_is_zero_and_grows_with_a_shift(random_inception, rng):
    images = rng.integers(0, 200, (24, 32, 32, 3)).astype(np.uint8)
    features = metrics.inception_features(images, random_inception)
    distances = [metrics.fid(features, metrics.inception_features(images + shift, random_inception))
                 for shift in (0, 25, 50)]  # (each FID of 2048 features costs seconds: three points)
    assert distances[0] == pytest.approx(0.0, abs=1e-6)
    assert all(a < b for a, b in zip(distances, distances[1:])), distances
    kids = [metrics.kid(features, metrics.inception_features(images + s, random_inception), subsets=10)[0]
            for s in (0, 50)]
    assert abs(kids[0]) < kids[1]


def test_frechet_distance_of_a_translated_set_is_the_squared_translation(rng):
    features = rng.normal(size=(50, 6))
    shift = rng.normal(size=6)
    assert metrics.frechet_distance(features, features + shift) == pytest.approx(np.sum(shift ** 2), rel=1e-6)
    with pytest.raises(ValueError, match="at least 2 images"):
        metrics.frechet_distance(features[:1], features)


def test_inception_download_failure_names_the_local_file_option(monkeypatch):
    monkeypatch.setattr(keras.applications, "InceptionV3", offline)
    with pytest.raises(RuntimeError,
                       match="inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5 "
                             ".*inception_model\\(weights=PATH\\)"):
        metrics.inception_model()
