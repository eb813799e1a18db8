"""Inputs that used to end in a traceback or a silent result: a `.keras` of another family, file names that are not
UTF-8, empty images, a legacy `.h5` renamed `.weights.h5`, skipped files under `-W ignore`, and SIGTERM."""

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
from checkpoint_helpers import assert_weights_in_checkpoint
from helpers import REPO, random_image, write_png

from sr_tf import specs
from sr_tf.errors import UserInputError

TINY_SR = ["--num-filters", "4", "--num-res-blocks", "1", "--batch-size", "2"]


def run_main(module, workdir, *args):
    """Runs `sr_tf.cli.<module>.main(args)` in this process from `workdir`, with every Python warning ignored (as
    `python -W ignore` would): returns (exit status, stdout, stderr)."""
    import importlib

    main = importlib.import_module(f"sr_tf.cli.{module}").main
    out, err, previous = io.StringIO(), io.StringIO(), os.getcwd()
    os.chdir(workdir)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            status = main([str(a) for a in args])
    finally:
        os.chdir(previous)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Tiny `.keras` files of three families."""
    root = tmp_path_factory.mktemp("families")
    paths = {"edsr": root / "edsr.keras", "pixelcnn": root / "pixelcnn.keras", "fastgan": root / "fastgan.keras"}
    specs.architecture("edsr-16-x4", num_filters=4, num_res_blocks=1).build().save(paths["edsr"])
    specs.architecture("pixelcnn-mnist", input_shape=(4, 4, 1), hidden=4, levels=4,
                       num_res_blocks=1).build().save(paths["pixelcnn"])
    specs.architecture("fastgan-demo", im_size=64, ngf=4, nz=8, decoder_width=4).build().save(paths["fastgan"])
    return paths


@pytest.mark.parametrize("module,args,given,family", [
    ("pixelcnn", ["sample", "--weights", "{edsr}", "-o", "s.png"], "edsr", "pixelcnn or gated_pixelcnn"),
    ("pixelcnn", ["evaluate", "--weights", "{fastgan}", "--dataset", "digits"], "fastgan", "pixelcnn"),
    ("pixelcnn", ["complete", "--weights", "{edsr}", "--dataset", "digits", "--observed-rows", "2"], "edsr",
     "pixelcnn"),
    ("fastgan", ["generate", "--weights", "{pixelcnn}", "-o", "out"], "pixelcnn", "fastgan"),
    ("fastgan", ["generate", "--weights", "{edsr}", "-o", "out"], "edsr", "fastgan"),
    ("resolve", ["--weights", "{pixelcnn}", "-o", "out", "{edsr}"], "pixelcnn", "super-resolution"),
    ("export", ["--weights", "{pixelcnn}", "--format", "tflite", "-o", "x.tflite"], "pixelcnn", "super-resolution"),
])
def test_a_keras_file_of_another_family_is_one_line(models, tmp_path, module, args, given, family):
    args = [a.format(**{k: str(v) for k, v in models.items()}) for a in args]
    status, out, err = run_main(module, tmp_path, *args)
    assert status == 2 and "Traceback" not in err, err[-2000:]
    line = err.strip().splitlines()[-1]
    assert line.startswith("error: ") and given in line and family in line and os.path.basename(args[
        args.index("--weights") + 1]) in line, line


def test_image_geometry_of_a_network_that_is_not_a_pixelcnn_names_it():
    import keras

    from sr_tf.sampling.common import image_geometry

    x = keras.Input((None, None, 3))
    plain = keras.Model(x, keras.layers.Conv2D(3, 3, padding="same")(x), name="plain_sr")
    with pytest.raises(UserInputError, match="Expected a PixelCNN.*plain_sr.*None, None, None, 3"):
        image_geometry(plain)


@pytest.mark.parametrize("tile", [None, 8])
@pytest.mark.parametrize("shape", [(0, 5, 3), (5, 0, 3), (0, 0, 3)])
def test_resolve_single_refuses_an_empty_image(tile, shape):
    from sr_tf.inference import resolve_single

    model = specs.architecture("edsr-16-x4", num_filters=4, num_res_blocks=1, scale=2).build()
    with pytest.raises(UserInputError, match=rf"empty.*{shape[0]}, {shape[1]}, 3"):
        resolve_single(model, np.zeros(shape, np.uint8), tile=tile)


def test_a_legacy_h5_renamed_weights_h5_loads_as_the_legacy_file(tmp_path):
    from sr_tf.weights_io import load_weights, save_weights

    architecture = specs.architecture("edsr-16-x4", num_filters=4, num_res_blocks=1, scale=2)
    model = architecture.build()
    legacy = tmp_path / "legacy.h5"
    save_weights(model, legacy)
    renamed = tmp_path / "renamed.weights.h5"
    os.rename(legacy, renamed)
    fresh = architecture.build()
    load_weights(fresh, renamed)
    for a, b in zip(model.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_skipped_images_are_lines_of_the_output_under_w_ignore_also_when_the_cache_is_reused(tmp_path):
    """A folder with a file whose name is Latin-1 (not UTF-8) and a broken image, trained with a cache folder:
    the Latin-1 file trains like any other, the broken one is named in a `warning: skipped` line in every run,
    the second run reusing the caches, while Python's warnings are all ignored."""
    rng = np.random.default_rng(3)
    folder = tmp_path / "hr"
    write_png(str(folder / "a.png"), random_image(rng, 100, 100))
    latin1 = os.path.join(os.fsencode(folder), b"caf\xe9.png")
    write_png(latin1.decode(sys.getfilesystemencoding(), "surrogateescape"), random_image(rng, 100, 100))
    (folder / "broken.png").write_bytes(b"not a png")
    args = ["edsr", "--scale", "2", "--hr-dir", "hr", "--caches-dir", "caches", "--evaluate-every", "1", *TINY_SR]
    for steps in (1, 2):
        status, out, err = run_main("srgan", tmp_path, *args, "--steps", steps)
        assert status == 0, err[-3000:]
        skipped = [line for line in err.splitlines() if line.startswith("warning: skipped")]
        assert len(skipped) == 1 and "broken.png" in skipped[0] and "caf" not in err, err[-3000:]
    assert len(os.listdir(tmp_path / "caches")) >= 1


def _train_command(tmp_path, checkpoint_dir):
    rng = np.random.default_rng(5)
    for i in range(2):
        write_png(str(tmp_path / "hr" / f"{i}.png"), random_image(rng, 100, 100))
    return [sys.executable, os.path.join(REPO, "train_srgan.py"), "edsr", "--scale", "2", "--hr-dir", "hr",
            "--evaluate-every", "1", "--checkpoint-dir", checkpoint_dir, "--weights-dir", "w", *TINY_SR]


@pytest.mark.parametrize("sig,status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sigterm_and_ctrl_c_finish_the_step_save_it_and_the_weights_resume(tmp_path, sig, status):
    """A real SIGTERM (a scheduler's stop) or SIGINT (Ctrl-C) once training runs: exit 143 or 130, a checkpoint
    at the step reached, no traceback; a re-run at that step count writes the weights that checkpoint holds."""
    import tensorflow as tf

    command = _train_command(tmp_path, "ck")
    process = subprocess.Popen([*command, "--steps", "100000"], cwd=str(tmp_path), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    try:
        deadline = time.time() + 240
        while not (tmp_path / "ck" / "checkpoint").exists():  # a condition, not a time: training has begun
            assert process.poll() is None and time.time() < deadline, process.communicate()[1][-3000:]
            time.sleep(0.2)
        process.send_signal(sig)
        stdout, stderr = process.communicate(timeout=240)
    finally:
        process.kill()
    assert process.returncode == status and "Traceback" not in stderr, stderr[-3000:]
    step = int(stdout.split("Interrupted at step ")[1].split(";")[0])
    reader = tf.train.load_checkpoint(str(tmp_path / "ck"))
    assert reader.get_tensor("step/.ATTRIBUTES/VARIABLE_VALUE") == step
    again = subprocess.run([*command, "--steps", str(step)], cwd=str(tmp_path), capture_output=True, text=True,
                           timeout=240, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert again.returncode == 0 and f"Already trained {step} of {step}" in again.stdout, again.stderr[-3000:]
    from sr_tf.models import load_model

    written = load_model(str(next((tmp_path / "w").rglob("*.keras"))))
    assert_weights_in_checkpoint(written.get_weights(), tmp_path / "ck")


def test_a_worker_whose_port_is_taken_says_so_in_one_line(tmp_path):
    """A TF_CONFIG address another process holds: one line naming it, status 2, no traceback."""
    import json
    import socket

    with socket.socket() as held, socket.socket() as other:
        held.bind(("127.0.0.1", 0))
        held.listen()
        other.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{held.getsockname()[1]}"
        config = {"cluster": {"worker": [address, f"127.0.0.1:{other.getsockname()[1]}"]},
                  "task": {"type": "worker", "index": 0}}
        result = subprocess.run([sys.executable, os.path.join(REPO, "train_pixelcnn.py"), "train", "--dataset",
                                 "digits", "--steps", "2", "--strategy", "multiworker"], cwd=str(tmp_path),
                                capture_output=True, text=True, timeout=240,
                                env={**os.environ, "TF_CONFIG": json.dumps(config), "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert f"error: This worker could not listen on {address}" in result.stderr
