"""PixelCNN: masks, causality, blind spot, exact fast sampling, bits/dim, data sources, trainer and CLI."""

import math
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import keras_round_trip, write_png
from PIL import Image

from sr_tf.data import mnist as mnist_lib
from sr_tf.data.mnist import DatasetUnavailableError, load_digits, load_folder, pixelcnn_dataset, quantize
from sr_tf.layers import MaskedConv2D, autoregressive_mask
from sr_tf.models import pixelcnn as P
from sr_tf.train import pixelcnn_app
from sr_tf.train.pixelcnn import PixelCNNTrainer, bits_per_dim, histogram_baseline


def randomize_batchnorm(model, seed=0):
    """Random moving statistics, so inference-mode BatchNorm is not the identity."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.moving_mean.assign(rng.normal(0, 0.2, layer.moving_mean.shape).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 1.5, layer.moving_variance.shape).astype("float32"))
    return model


def tiny_models():
    """(name, model, labels) for every network variant, tiny."""
    keras.utils.set_random_seed(3)
    return [
        ("pixelcnn-grey", randomize_batchnorm(P.pixelcnn((6, 7, 1), num_res_blocks=2, hidden=8, levels=4)), None),
        ("pixelcnn-rgb", randomize_batchnorm(P.pixelcnn((5, 6, 3), num_res_blocks=2, hidden=12, levels=5)), None),
        ("gated-grey", P.gated_pixelcnn((6, 7, 1), num_layers=3, hidden=8, levels=4), None),
        ("gated-rgb-conditional", P.gated_pixelcnn((5, 6, 3), num_layers=2, hidden=12, levels=5, num_classes=3),
         np.array([0, 1, 2, 1], np.int32)),
    ]


MODELS = tiny_models()
MODEL_IDS = [m[0] for m in MODELS]


# ------------------------------------------------------------------------------------------------ masks
def test_mask_a_and_b_grey():
    a = autoregressive_mask("A", (5, 5), 1, 1)[..., 0, 0]
    b = autoregressive_mask("B", (5, 5), 1, 1)[..., 0, 0]
    expected_a = np.zeros((5, 5))
    expected_a[:2] = 1
    expected_a[2, :2] = 1
    np.testing.assert_array_equal(a, expected_a)
    expected_a[2, 2] = 1
    np.testing.assert_array_equal(b, expected_a)


def test_mask_colour_groups_at_centre():
    # 3 input channels (R, G, B) to 6 outputs (2 per group): group g sees < g ('A') or <= g ('B') at the centre.
    for kind, allowed in (("A", np.less), ("B", np.less_equal)):
        centre = autoregressive_mask(kind, (3, 3), 3, 6, color_groups=3)[1, 1]
        for i in range(3):
            for o in range(6):
                assert centre[i, o] == float(allowed(i, o // 2)), (kind, i, o)
        # everywhere above and to the left is fully connected
        np.testing.assert_array_equal(autoregressive_mask(kind, (3, 3), 3, 6, color_groups=3)[0], 1.0)


def test_vertical_masks():
    v_a = autoregressive_mask("V_A", (3, 3), 2, 2)
    v_b = autoregressive_mask("V_B", (3, 3), 2, 2)
    np.testing.assert_array_equal(v_a[:, :, 0, 0], [[1, 1, 1], [0, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(v_b[:, :, 0, 0], [[1, 1, 1], [1, 1, 1], [0, 0, 0]])


def test_masked_conv_rejects_bad_arguments():
    with pytest.raises(ValueError, match="mask_type"):
        MaskedConv2D("C", 4, 3)
    with pytest.raises(ValueError, match="odd"):
        autoregressive_mask("A", (4, 4), 1, 1)
    with pytest.raises(ValueError, match="strides"):
        MaskedConv2D("A", 4, 3, strides=2)


def test_masked_weights_get_no_gradient_and_never_move():
    keras.utils.set_random_seed(0)
    layer = MaskedConv2D("B", 6, 3, color_groups=3)
    x = tf.random.normal((2, 5, 5, 3))
    layer(x)
    assert [w.name for w in layer.weights] == ["kernel", "bias"]  # the mask is a constant, not a variable
    before = layer.kernel.numpy().copy()
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(layer(x)))
    grad = tape.gradient(loss, layer.kernel).numpy()
    masked = layer.mask == 0
    assert masked.any() and (grad[masked] == 0).all() and (grad[~masked] != 0).any()
    optimizer = keras.optimizers.Adam(0.1)
    for _ in range(3):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(layer(x)))
        optimizer.apply_gradients([(tape.gradient(loss, layer.kernel), layer.kernel)])
    after = layer.kernel.numpy()
    np.testing.assert_array_equal(after[masked], before[masked])
    assert not np.array_equal(after[~masked], before[~masked])


@pytest.mark.parametrize("name,model,labels", MODELS, ids=MODEL_IDS)
def test_models_round_trip_as_keras(name, model, labels, tmp_path):
    loaded = keras_round_trip(model, tmp_path)
    h, w, c, levels = P._model_geometry(model)
    x = np.random.default_rng(0).integers(0, levels, (4, h, w, c)).astype("float32")
    inputs = P._model_inputs(x, labels)
    np.testing.assert_array_equal(model(inputs, training=False), loaded(inputs, training=False))


def test_pixelcnn_parameter_count_matches_the_architecture():
    # input 7x7 A conv (C -> 2h) + BN; per block 1x1 2h->h, 3x3 h->h, 1x1 h->2h, each + BN; head 2h->h, h->h, h->C*L.
    for (h, w, c), blocks, hidden, levels in [((28, 28, 1), 15, 128, 256), ((8, 8, 3), 2, 6, 4)]:
        bn = 4
        expected = 49 * c * 2 * hidden + 2 * hidden + bn * 2 * hidden
        expected += blocks * ((2 * hidden * hidden + hidden) + (9 * hidden * hidden + hidden) +
                              (hidden * 2 * hidden + 2 * hidden) + bn * (hidden + hidden + 2 * hidden))
        expected += (2 * hidden * hidden + hidden) + (hidden * hidden + hidden) + (hidden * c * levels + c * levels)
        model = P.pixelcnn((h, w, c), num_res_blocks=blocks, hidden=hidden, levels=levels)
        assert model.count_params() == expected
        assert model.output.shape[1:] == (h, w, c, levels)


# ------------------------------------------------------------------------------------------------ causality
def dependency(model, labels, seed=0, batch=4):
    """|d logits(out position, out channel) / d input(in position, in channel)| under a random projection of the
    levels, summed over `batch` random inputs (one input can leave a small network's ReLUs all off somewhere).

    Returns an array (H, W, C, H, W, C), computed in inference mode.
    """
    h, w, c, levels = P._model_geometry(model)
    rng = np.random.default_rng(seed)
    x = tf.constant(rng.integers(0, levels, (batch, h, w, c)).astype("float32"))
    projection = tf.constant(rng.normal(size=(levels,)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        logits = model(P._model_inputs(x, None if labels is None else labels[:batch]), training=False)
        projected = tf.reduce_sum(tf.tensordot(logits, projection, axes=[[4], [0]]), axis=0)  # (H, W, C)
    jacobian = tape.jacobian(projected, x)  # (H, W, C, batch, H, W, C); examples are independent
    return np.abs(jacobian.numpy()).sum(axis=3)


@pytest.mark.parametrize("name,model,labels", MODELS, ids=MODEL_IDS)
def test_causality_over_pixels_and_colours(name, model, labels):
    h, w, c, _ = P._model_geometry(model)
    dep = dependency(model, labels)
    order = np.arange(h * w * c).reshape(h, w, c)  # raster order, then R, G, B within a pixel
    later = order[None, None, None] >= order[:, :, :, None, None, None]
    assert (dep[later] == 0).all(), "an output depends on its own or a later value"
    # ... and it does see its past: the value just before it in its row, and every channel of the pixel above.
    for r in range(h):
        for col in range(w):
            for ch in range(c):
                if ch > 0:
                    assert dep[r, col, ch, r, col, ch - 1] > 0, f"{(r, col, ch)} ignores the previous channel"
                elif col > 0:
                    assert dep[r, col, ch, r, col - 1, c - 1] > 0, f"{(r, col, ch)} ignores the pixel to its left"
    for r in range(1, h):
        for col in range(w):
            assert (dep[r, col, :, r - 1, col, :] > 0).all(), f"output {(r, col)} ignores the pixel above"


def test_gated_pixelcnn_has_no_blind_spot_and_pixelcnn_has_one():
    keras.utils.set_random_seed(1)
    h = w = 9
    r, c = 6, 4
    gated = P.gated_pixelcnn((h, w, 1), num_layers=3, hidden=8, levels=4, kernel_size=3, first_kernel_size=3)
    dep = dependency(gated, None)[r, c, 0, :, :, 0]
    # first layer reaches 1 row up and 1 column each side; each of the 3 gated layers one more of each
    reach = 1 + 3
    for rr in range(r - reach, r):
        for cc in range(max(0, c - reach), min(w, c + reach + 1)):
            if r - rr <= reach:
                assert dep[rr, cc] > 0, f"blind spot at {(rr, cc)}"
    for cc in range(c - reach, c):
        assert dep[r, cc] > 0, f"blind spot at {(r, cc)}"
    plain = randomize_batchnorm(P.pixelcnn((h, w, 1), num_res_blocks=4, hidden=8, levels=4))
    plain_dep = dependency(plain, None)[r, c, 0, :, :, 0]
    # 7x7 mask A sees (r-1, c+3); masked 3x3 B layers never see (r-1, c+4): the blind spot.
    assert plain_dep[r - 1, c + 3] > 0
    assert plain_dep[r - 1, c + 4] == 0 and dep[r - 1, c + 4] > 0


# ------------------------------------------------------------------------------------------------ sampling
@pytest.mark.parametrize("name,model,labels", MODELS, ids=MODEL_IDS)
def test_fast_sampler_equals_naive_sampler(name, model, labels):
    for seed, temperature in [(0, 1.0), (7, 0.7)]:
        naive = P.sample(model, 4, seed=seed, temperature=temperature, labels=labels, method="naive")
        fast = P.sample(model, 4, seed=seed, temperature=temperature, labels=labels)
        np.testing.assert_array_equal(fast, naive)
        h, w, c, levels = P._model_geometry(model)
        assert fast.shape == (4, h, w, c) and fast.dtype == np.uint8 and fast.max() < levels
    assert not np.array_equal(P.sample(model, 4, seed=1, labels=labels), P.sample(model, 4, seed=2, labels=labels))


@pytest.mark.parametrize("name,model,labels", MODELS, ids=MODEL_IDS)
def test_fast_sampler_computes_the_models_logits(name, model, labels):
    h, w, c, levels = P._model_geometry(model)
    canvas = np.random.default_rng(5).integers(0, levels, (4, h, w, c)).astype("float32")
    full = model(P._model_inputs(canvas, labels), training=False).numpy()
    sampler = P.FastSampler(model, 4)
    for r in range(h):
        sampler.start_row(canvas, labels, r)
        for col in range(w):
            np.testing.assert_allclose(sampler.logits_at(canvas, labels, r, col).numpy(), full[:, r, col],
                                       rtol=1e-5, atol=1e-5)


def test_sampling_argument_errors():
    _, model, _ = MODELS[0]
    _, conditional, _ = MODELS[3]
    with pytest.raises(ValueError, match="temperature"):
        P.sample(model, 2, temperature=0)
    with pytest.raises(ValueError, match="class-conditional"):
        P.sample(conditional, 2)
    with pytest.raises(ValueError, match="labels"):
        P.sample(conditional, 2, labels=[0, 5])
    with pytest.raises(ValueError, match="method"):
        P.sample(model, 2, method="quick")
    image = keras.Input((4, 4, 1))
    other = keras.Model(image, keras.layers.Reshape((4, 4, 1, 1))(keras.layers.Conv2D(1, 3, padding="same")(image)))
    with pytest.raises(ValueError, match="does not support layer"):
        P.FastSampler(other, 2)


# ------------------------------------------------------------------------------------------------ metrics
def test_bits_per_dim_is_the_mean_cross_entropy_over_ln2():
    _, model, _ = MODELS[1]
    h, w, c, levels = P._model_geometry(model)
    images = np.random.default_rng(0).integers(0, levels, (5, h, w, c)).astype(np.uint8)
    logits = model(images.astype("float32"), training=False).numpy().astype(np.float64)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = -np.take_along_axis(log_probs, images[..., None].astype(int), -1).mean() / math.log(2)
    dataset = tf.data.Dataset.from_tensor_slices(images).batch(2)  # uneven last batch
    assert bits_per_dim(model, dataset) == pytest.approx(expected, rel=1e-5)


def test_histogram_baseline_approaches_the_entropy_of_independent_pixels():
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(4), size=6)  # 6 positions, 4 levels
    entropy = -(probabilities * np.log2(probabilities)).sum(1).mean()

    def draw(n):
        return np.stack([rng.choice(4, size=n, p=p) for p in probabilities], axis=1).reshape(n, 2, 3, 1)

    bits, alpha = histogram_baseline(draw(20000), draw(5000), 4)
    assert bits == pytest.approx(entropy, abs=0.03)
    assert alpha in (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)


# ------------------------------------------------------------------------------------------------ data
def test_quantize():
    values = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(quantize(values, 256), values)
    np.testing.assert_array_equal(quantize(values, 2), (values >= 128).astype(np.uint8))
    q4 = quantize(values, 4)
    assert q4.max() == 3 and (np.diff(q4.astype(int)) >= 0).all() and np.bincount(q4).tolist() == [64] * 4
    np.testing.assert_array_equal(quantize(tf.constant(values), 4).numpy(), q4)
    with pytest.raises(ValueError, match="levels"):
        quantize(values, 1)


def test_bundled_digits_splits():
    splits = load_digits()
    sizes = [len(part[0]) for part in splits]
    assert sizes == [1347, 150, 300]
    images = np.concatenate([part[0] for part in splits])
    assert images.shape[1:] == (8, 8, 1) and images.dtype == np.uint8 and images.max() == 255
    assert len(np.unique(images)) == 17  # the 17 original grey levels
    keys = [{part[0][i].tobytes() + bytes([part[1][i]]) for i in range(len(part[0]))} for part in splits]
    assert len(keys[1] & keys[2]) < 3 and set(np.unique(splits.train[1])) == set(range(10))
    assert os.path.exists(os.path.join(mnist_lib.ASSETS_DIR, "LICENSE.md"))


def test_folder_source_grey_and_rgb(tmp_path, rng):
    for i in range(5):
        write_png(str(tmp_path / "imgs" / f"sub{i % 2}" / f"{i}.png"),
                  rng.integers(0, 256, (20 + i, 30, 3), dtype=np.uint8))
    Image.fromarray(rng.integers(0, 256, (16, 16), dtype=np.uint8)).save(tmp_path / "imgs" / "grey.webp")
    grey = load_folder(str(tmp_path / "imgs"), size=12, channels=1)
    rgb = load_folder(str(tmp_path / "imgs"), size=12, channels=3)
    assert sum(len(p[0]) for p in grey) == 6 and grey.train[0].shape[1:] == (12, 12, 1)
    assert rgb.train[0].shape[1:] == (12, 12, 3) and rgb.train[1] is None
    with pytest.raises(FileNotFoundError, match="missing"):
        load_folder(str(tmp_path / "missing"), size=12)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="empty"):
        load_folder(str(tmp_path / "empty"), size=12)


def test_pixelcnn_dataset_batches_levels_and_labels():
    images = np.arange(10 * 4, dtype=np.uint8).reshape(10, 2, 2, 1) * 6
    labels = np.arange(10)
    batches = list(pixelcnn_dataset(images, labels, levels=4, batch_size=4, shuffle=False, repeat_count=1))
    assert [b[0].shape[0] for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), quantize(images, 4))
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), labels)


def test_mnist_through_tensorflow_datasets_mock():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=40):
        splits = mnist_lib.load_mnist(valid_size=10)
    assert splits.train[0].shape[1:] == (28, 28, 1) and splits.train[0].dtype == np.uint8
    assert all(len(part[0]) == len(part[1]) > 0 for part in splits) and splits.test[1].dtype == np.int32


def test_mnist_offline_error_suggests_digits(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(mnist_lib, "_can_reach", lambda host, **kwargs: False)
    with pytest.raises(DatasetUnavailableError, match="--dataset digits"):
        mnist_lib.load_mnist(str(tmp_path / "tfds"))
    status = pixelcnn_app.main(["train", "--dataset", "mnist", "--data-dir", str(tmp_path / "tfds"),
                                "--checkpoint-dir", str(tmp_path / "ckpt")])
    assert status == 2 and "--dataset digits" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------ training
def digits_datasets(levels=256, labelled=False, batch_size=64):
    splits = load_digits()
    train = pixelcnn_dataset(splits.train[0], splits.train[1] if labelled else None, levels=levels,
                             batch_size=batch_size, seed=0)
    valid = pixelcnn_dataset(splits.valid[0], splits.valid[1] if labelled else None, levels=levels,
                             batch_size=256, shuffle=False, repeat_count=1)
    test = pixelcnn_dataset(splits.test[0], splits.test[1] if labelled else None, levels=levels, batch_size=256,
                            shuffle=False, repeat_count=1)
    return splits, train, valid, test


def test_trainer_resumes_step_optimizer_and_best_score(tmp_path):
    _, train, valid, _ = digits_datasets(levels=4, labelled=True)
    keras.utils.set_random_seed(0)

    def build():
        return P.gated_pixelcnn((8, 8, 1), num_layers=1, hidden=4, levels=4, num_classes=10)

    trainer = PixelCNNTrainer(build(), tmp_path, log_every=1)
    trainer.train(train, valid, steps=4, evaluate_every=2)
    best = float(trainer.best_score.numpy())
    assert math.isfinite(best) and trainer.higher_is_better is False
    weights = [w.numpy() for w in trainer.model.weights]
    again = PixelCNNTrainer(build(), tmp_path)
    assert int(again.step.numpy()) == 4 and float(again.best_score.numpy()) == best
    assert int(again.optimizers["model"].iterations.numpy()) == 4
    for a, b in zip(weights, again.model.weights):
        np.testing.assert_array_equal(a, b.numpy())
    again.train(train, valid, steps=6, evaluate_every=2)
    assert int(again.step.numpy()) == 6
    assert os.listdir(tmp_path / "logs")


def test_short_training_on_digits_beats_the_per_pixel_histogram(tmp_path):
    splits, train, valid, test = digits_datasets()
    keras.utils.set_random_seed(0)
    model = P.pixelcnn((8, 8, 1), num_res_blocks=2, hidden=16)
    trainer = PixelCNNTrainer(model, tmp_path, log_every=10 ** 9)
    trainer.train(train, valid, steps=300, evaluate_every=75)
    trainer.restore_best()
    test_bits = bits_per_dim(model, test)
    baseline, _ = histogram_baseline(quantize(splits.train[0]), quantize(splits.test[0]), 256)
    assert test_bits < baseline - 0.1, (test_bits, baseline)


def test_train_pixelcnn_cli_train_resume_evaluate_sample(tmp_path, capsys):
    common = ["--dataset", "digits", "--levels", "4", "--num-res-blocks", "1", "--hidden", "8",
              "--evaluate-every", "5", "--batch-size", "16", "--checkpoint-dir", str(tmp_path / "ckpt"),
              "--weights-dir", str(tmp_path / "weights")]
    assert pixelcnn_app.main(["train", "--steps", "5", *common]) == 0
    out = capsys.readouterr().out
    assert "Test bits/dim" in out and "per-pixel histogram baseline" in out
    assert pixelcnn_app.main(["train", "--steps", "10", *common]) == 0
    assert "at step 5" in capsys.readouterr().out  # resumed
    model_path = str(tmp_path / "weights" / "pixelcnn-digits-4.keras")
    assert os.path.exists(tmp_path / "weights" / "pixelcnn-digits-4.weights.h5")
    assert pixelcnn_app.main(["evaluate", "--dataset", "digits", "--weights", model_path]) == 0
    assert "Test bits/dim" in capsys.readouterr().out
    grid = str(tmp_path / "grid.png")
    assert pixelcnn_app.main(["sample", "--weights", model_path, "--n", "4", "--seed", "3", "-o", grid]) == 0
    image = np.asarray(Image.open(grid))
    assert image.shape == (2 * 64 + 8, 2 * 64 + 8)  # 2x2 grid of 8x8 digits zoomed x8, 8 px apart
    assert set(np.unique(image)) <= {0, 85, 170, 255}
    assert pixelcnn_app.main(["sample", "--weights", str(tmp_path / "none.keras")]) == 2
    assert "not found" in capsys.readouterr().err
