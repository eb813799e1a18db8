"""Export of a trained FastGAN generator: the deterministic copy reproduces the training generator's images, its
TFLite files match Keras (float32 within 1 grey level, float16 within 2), the SavedModel serves uint8 images, and
the command line's errors."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from model_helpers import FASTGAN_TINY_G, keras_round_trip, randomize_batchnorm
from process_helpers import assert_one_line_errors

from sr_tf.deploy import (
    deploy_generator,
    fastgan_to_saved_model,
    fastgan_to_tflite,
    input_names,
    noise_inputs,
    tflite_run,
)
from sr_tf.deploy.fastgan import latent_walk, render, slerp
from sr_tf.errors import UserInputError
from sr_tf.layers import NoiseInjection
from sr_tf.models import fastgan
from sr_tf.ops import Draws


def trained_like(im_size=64, seed=0):
    """A tiny generator whose noise weights and BatchNorm statistics are not their initial values, so neither
    the noise nor the statistics can be lost in the copy without a test noticing."""
    model = randomize_batchnorm(fastgan.generator(im_size, **FASTGAN_TINY_G), seed)
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, NoiseInjection):
            layer.weight.assign(rng.uniform(0.3, 1.0, (1,)).astype(np.float32))
    return model


def test_the_deployed_copy_fed_the_drawn_noise_gives_the_training_generators_image(tmp_path):
    model = trained_like()
    deployed = deploy_generator(model)
    z = np.random.default_rng(1).standard_normal((2, FASTGAN_TINY_G["nz"])).astype(np.float32)
    seed = tf.constant([4, 5], tf.int64)
    with Draws(seed).active():  # the k-th draw of seeded Draws uses seed folded with k
        expected = model(z, training=False)[0].numpy() * 127.5 + 127.5
    maps = [tf.random.stateless_normal((2, *t.shape[1:]), tf.random.experimental.stateless_fold_in(seed, k)).numpy()
            for k, t in enumerate(deployed.inputs[1:])]
    assert [t.name for t in deployed.inputs] == ["noise", "feat_8_noise1_map", "feat_8_noise2_map",
                                                 "feat_32_noise1_map", "feat_32_noise2_map"]
    np.testing.assert_allclose(deployed([z, *maps]).numpy(), expected, atol=1e-3)
    assert np.abs(deployed([z, *[np.zeros_like(m) for m in maps]]).numpy() - expected).max() > 1  # noise matters
    silent = deploy_generator(model, noise="none")
    np.testing.assert_allclose(silent(z).numpy(), deployed([z, *[np.zeros_like(m) for m in maps]]).numpy(),
                               atol=1e-3)
    loaded = keras_round_trip(deployed, tmp_path)  # serializable (safe mode), no Lambda layers
    np.testing.assert_array_equal(loaded([z, *maps]).numpy(), deployed([z, *maps]).numpy())


def test_tflite_matches_keras_with_fixed_noise_inputs(tmp_path, im_size=128):
    """(At 64 px the command-line test checks float32 too.)"""
    model = trained_like(im_size)
    path = str(tmp_path / "g.tflite")
    content, deployed = fastgan_to_tflite(model, path)
    assert open(path, "rb").read() == content
    half = fastgan_to_tflite(model, quantize="float16")[0]
    names = input_names(deployed)
    for seed in (7, 8):
        inputs = noise_inputs(deployed, seed=seed)
        expected = deployed(inputs).numpy()
        assert expected.shape == (1, im_size, im_size, 3)
        assert np.abs(tflite_run(content, inputs, names) - expected).max() <= 1.0
        assert np.abs(tflite_run(half, inputs, names) - expected).max() <= 2.0
    assert len(half) < len(content)


def test_int8_and_noise_free_files(rng):
    model = trained_like()
    int8, deployed = fastgan_to_tflite(model, quantize="int8", calibration=4)
    details = tf.lite.Interpreter(model_content=int8)
    assert [d["dtype"] for d in details.get_input_details()] == [np.float32] * 5
    assert details.get_output_details()[0]["dtype"] == np.uint8
    inputs = noise_inputs(deployed, seed=3)
    got = tflite_run(int8, inputs, input_names(deployed))
    assert got.shape == (1, 64, 64, 3)
    # against the deployed Keras model on the same inputs (measured: mean 0.4-0.5, max 2.0-2.8 grey levels, where
    # the image varies by a standard deviation of 6-10): quantization error, not another image
    expected = np.asarray(deployed(inputs), np.float64)
    error = np.abs(got.astype(np.float64) - expected)
    assert error.mean() < 1.5 and error.max() < 8 and np.corrcoef(got.ravel(), expected.ravel())[0, 1] > 0.98
    silent, one_input = fastgan_to_tflite(model, noise="none")
    assert len(one_input.inputs) == 1
    z = inputs[0]
    assert np.abs(tflite_run(silent, z) - one_input(z).numpy()).max() <= 1.0
    with pytest.raises(UserInputError, match="Received: noise='fixed'"):
        deploy_generator(model, noise="fixed")
    with pytest.raises(UserInputError, match="Expected a FastGAN generator"):
        deploy_generator(keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]))


def test_saved_model_serves_uint8_images(tmp_path):
    model = trained_like()
    path, deployed = fastgan_to_saved_model(model, str(tmp_path / "fastgan_savedmodel"))
    serve = tf.saved_model.load(path).signatures["serving_default"]
    inputs = noise_inputs(deployed, seed=5, batch=2)
    out = serve(**{t.name: tf.constant(a) for t, a in zip(deployed.inputs, inputs)})["image"].numpy()
    expected = np.clip(np.round(deployed(inputs).numpy()), 0, 255)
    assert out.dtype == np.uint8 and out.shape == (2, 64, 64, 3)
    assert np.abs(out.astype(np.float32) - expected).max() <= 1
    assert sorted(os.listdir(tmp_path)) == ["fastgan_savedmodel"]


def test_export_command_line_for_fastgan(tmp_path, capsys):
    from sr_tf.cli import export as export_cli
    from sr_tf.models import build_sr_model
    from sr_tf.weights_io import save_model

    model = trained_like()
    generator_file, sr_file = str(tmp_path / "g-generator.keras"), str(tmp_path / "edsr.keras")
    save_model(model, generator_file)
    save_model(build_sr_model("edsr", scale=2, num_filters=4, num_res_blocks=1), sr_file)
    tflite = str(tmp_path / "g.tflite")
    assert export_cli.main(["--fastgan", generator_file, "-o", tflite]) == 0
    out = capsys.readouterr().out
    assert "TRANSPOSE_CONV x1" in out and "GPU delegate" in out and "feat_32_noise2_map (32, 32, 1)" in out
    deployed = deploy_generator(model, batch_size=1)
    inputs = noise_inputs(deployed, seed=2)
    got = tflite_run(open(tflite, "rb").read(), inputs, input_names(deployed))
    assert np.abs(got - deployed(inputs).numpy()).max() <= 1.0
    assert export_cli.main(["--fastgan", generator_file, "--format", "saved_model", "--noise", "none",
                            "-o", str(tmp_path / "sm")]) == 0
    assert "noise (8,)" in capsys.readouterr().out.splitlines()[-1]
    bad = [(["--fastgan", generator_file, "--model", "edsr", "-o", "x.tflite"], "--model apply to"),
           (["--fastgan", generator_file, "--input-size", "8x8", "-o", "x.tflite"], "--input-size apply to"),
           (["--weights", sr_file, "--noise", "none", "-o", "x.tflite"], "--noise applies to --fastgan"),
           (["--fastgan", sr_file, "-o", "x.tflite"], "Expected a FastGAN generator"),
           (["--fastgan", str(tmp_path / "missing.keras"), "-o", "x.tflite"], "missing.keras")]
    assert_one_line_errors(export_cli.main, bad, capsys)
    with pytest.raises(SystemExit):
        export_cli.main(["--fastgan", generator_file, "--weights", sr_file, "-o", "x.tflite"])
    assert sorted(os.listdir(tmp_path)) == ["edsr.keras", "g-generator.keras", "g.tflite", "sm"]


def test_generate_walks_and_latent_files(tmp_path, capsys):
    """Image i of a seed depends on (seed, i) only; a walk's ends are `generate --seed A` and `--seed B` exactly;
    a .npy of latent vectors generates one image each (the seeds' own vectors give the seeds' images)."""
    from PIL import Image

    from sr_tf.cli import fastgan as fastgan_cli
    from sr_tf.weights_io import save_model

    generator_file = str(tmp_path / "g-generator.keras")
    save_model(trained_like(), generator_file)

    def png(path):
        return np.asarray(Image.open(path))

    for seed, n in ((3, 2), (4, 1), (3, 1)):
        assert fastgan_cli.main(["generate", "--weights", generator_file, "--seed", str(seed), "--n", str(n),
                                 "-o", str(tmp_path / f"s{seed}n{n}")]) == 0
    first = png(tmp_path / "s3n2" / "seed3-00000.png")
    np.testing.assert_array_equal(first, png(tmp_path / "s3n1" / "seed3-00000.png"))  # independent of --n
    assert np.abs(first.astype(int) - png(tmp_path / "s3n2" / "seed3-00001.png")).max() > 0
    walk = str(tmp_path / "walk.png")
    assert fastgan_cli.main(["generate", "--weights", generator_file, "--interpolate", "3,4", "--frames", "5",
                             "-o", walk]) == 0
    strip = png(walk)
    assert strip.shape == (64, 5 * 64 + 4, 3)  # five frames, 1 px apart
    frames = [strip[:, k * 65:k * 65 + 64] for k in range(5)]
    np.testing.assert_array_equal(frames[0], first)
    np.testing.assert_array_equal(frames[4], png(tmp_path / "s4n1" / "seed4-00000.png"))
    assert all(np.abs(frames[2].astype(int) - f).max() > 0 for f in (frames[0], frames[4]))
    saved = deploy_generator(keras.saving.load_model(generator_file, safe_mode=True), noise="input", batch_size=1)
    walked = latent_walk(saved, 3, 4, 5)
    for k in (1, 2, 3):  # frame k is the generator's image of the k-th latent of the walk
        np.testing.assert_array_equal(frames[k], render(saved, walked[k]))

    deployed = deploy_generator(trained_like(), batch_size=1)
    np.save(tmp_path / "z.npy", np.concatenate([noise_inputs(deployed, 3, index=i)[0] for i in range(2)]))
    assert fastgan_cli.main(["generate", "--weights", generator_file, "--seed", "3", "--noise",
                             str(tmp_path / "z.npy"), "-o", str(tmp_path / "fromz")]) == 0
    for i in range(2):
        np.testing.assert_array_equal(png(tmp_path / "fromz" / f"z-{i:05d}.png"),
                                      png(tmp_path / "s3n2" / f"seed3-{i:05d}.png"))
    np.save(tmp_path / "bad.npy", np.zeros((2, 5), np.float32))
    capsys.readouterr()
    generate = ["generate", "--weights", generator_file, "-o", str(tmp_path / "x")]
    assert_one_line_errors(fastgan_cli.main, [([*generate, "--noise", str(tmp_path / "bad.npy")], "shape (k, 8)"),
                                              ([*generate, "--noise", str(tmp_path / "z.npy"), "--interpolate",
                                                "1,2"], "pass one"),
                                              ([*generate, "--noise", str(tmp_path / "none.npy")], "not found")],
                           capsys)


@pytest.mark.parametrize("t", [0.0, 0.25, 0.5, 0.9, 1.0])
def test_slerp_moves_along_the_great_circle(t):
    """Between two vectors of equal norm: the norm is kept and the angle to `a` is t times the angle between them
    (and to `b` the rest), the formula itself at every t, ends included."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=64), rng.normal(size=64)
    b *= np.linalg.norm(a) / np.linalg.norm(b)

    def angle(u, v):
        return np.arccos(np.clip(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)), -1, 1))

    mixed = slerp(a, b, t)
    assert np.linalg.norm(mixed) == pytest.approx(np.linalg.norm(a), rel=1e-9)
    assert angle(a, mixed) == pytest.approx(t * angle(a, b), abs=1e-6)
    assert angle(mixed, b) == pytest.approx((1 - t) * angle(a, b), abs=1e-6)


def test_latent_walk_interpolates_z_and_the_noise_maps_as_one_vector():
    deployed = deploy_generator(trained_like(), noise="input", batch_size=1)
    walk = latent_walk(deployed, 3, 4, 4)
    a, b = noise_inputs(deployed, 3), noise_inputs(deployed, 4)
    flat_a, flat_b = (np.concatenate([x.ravel() for x in v]).astype(np.float64) for v in (a, b))
    for k, frame in enumerate(walk):
        assert [x.shape for x in frame] == [x.shape for x in a]
        flat = np.concatenate([x.ravel() for x in frame])
        np.testing.assert_allclose(flat, slerp(flat_a, flat_b, k / 3), rtol=1e-5, atol=1e-6)
