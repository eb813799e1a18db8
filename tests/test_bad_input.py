"""Bad or unusual input, through the API and through every command line it applies to: each gets one line that
names the file or argument and the value (exit status 2, no traceback), never a silent wrong result, never lost
data. Command lines run in-process here (an unexpected exception would fail the test with its traceback)."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import random_image, write_png
from PIL import Image

from sr_tf import load_weights, resolve_single, save_weights
from sr_tf.cli import fastgan as fastgan_cli
from sr_tf.cli import pixelcnn as pixelcnn_cli
from sr_tf.cli import resolve as resolve_cli
from sr_tf.cli import srgan as srgan_cli
from sr_tf.cli.common import run_command
from sr_tf.data import ImageFolder, read_image
from sr_tf.data.gan import gan_dataset
from sr_tf.errors import UserInputError
from sr_tf.models import build_sr_model, edsr, load_sr_model
from sr_tf.train import DataMismatchError, EdsrTrainer
from sr_tf.weights_io import save_model


def _error(capsys):
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def _truncated_jpeg(path, rng):
    Image.fromarray(random_image(rng, 64, 64)).save(path, quality=90)
    data = open(path, "rb").read()
    open(path, "wb").write(data[: len(data) // 2])
    return path


@pytest.fixture
def edsr_weights(tmp_path):
    keras.utils.set_random_seed(0)
    model = edsr.edsr(2, num_filters=4, num_res_blocks=1)
    path = str(tmp_path / "edsr-x2.h5")
    save_weights(model, path)
    save_model(model, str(tmp_path / "edsr-x2.keras"))
    return path


RESOLVE = ["--model", "edsr", "--scale", "2", "--num-filters", "4", "--num-res-blocks", "1"]


# ---------------------------------------------------------------------------------------------- data loss
def test_resolve_outputs_never_collide_and_never_overwrite(tmp_path, rng, edsr_weights, capsys):
    for name in ("a/photo.png", "b/photo.png"):
        write_png(str(tmp_path / "in" / name), random_image(rng, 6, 7))
    Image.fromarray(random_image(rng, 6, 7)).save(tmp_path / "in" / "b" / "photo.jpg")
    inputs = [str(tmp_path / "in" / n) for n in ("a/photo.png", "b/photo.png", "b/photo.jpg")]
    out = tmp_path / "out"
    assert resolve_cli.main([*inputs, "-o", str(out), "--weights", edsr_weights, *RESOLVE]) == 0
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*.png"))
    assert written == ["a/photo.png", "b/photo_jpg.png", "b/photo_png.png"]
    before = (out / "a" / "photo.png").read_bytes()
    (out / "a" / "photo.png").write_bytes(b"the user's own file")
    assert resolve_cli.main([*inputs, "-o", str(out), "--weights", edsr_weights, *RESOLVE]) == 0  # a skip
    assert "3 of 3 outputs exist" in capsys.readouterr().out
    assert (out / "a" / "photo.png").read_bytes() == b"the user's own file"  # kept
    assert resolve_cli.main([*inputs, "-o", str(out), "--weights", edsr_weights, *RESOLVE, "--overwrite"]) == 0
    assert (out / "a" / "photo.png").read_bytes() == before


def test_resolve_refuses_to_replace_an_input(tmp_path, rng, edsr_weights, capsys):
    photo = write_png(str(tmp_path / "photos" / "holiday.png"), random_image(rng, 6, 7))
    original = open(photo, "rb").read()
    for extra in ([], ["--overwrite"]):
        status = resolve_cli.main([str(tmp_path / "photos"), "-o", str(tmp_path / "photos"), "--weights",
                                   edsr_weights, *RESOLVE, *extra])
        assert status == 2 and "is the input folder" in _error(capsys)
    assert resolve_cli.main([photo, "-o", str(tmp_path / "photos"), "--weights", edsr_weights, *RESOLVE]) == 2
    assert "would replace the input" in _error(capsys)
    assert open(photo, "rb").read() == original


# ---------------------------------------------------------------------------------------------- silent results
def _folder(root, rng, n=3, size=(32, 32), bad_jpeg=False):
    for i in range(n):
        write_png(str(root / f"{i}.png"), random_image(rng, *size))
    if bad_jpeg:
        _truncated_jpeg(str(root / "broken.jpg"), rng)
    return str(root)


def assert_skipped_line(capsys, name):
    """The command printed exactly one `warning: skipped <path>: <reason>` line, naming `name`."""
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning: skipped")]
    assert len(lines) == 1 and name in lines[0] and lines[0].count(":") >= 2, lines


def test_checkpoints_are_tied_to_their_data_in_every_script(tmp_path, rng, capsys):
    cats = _folder(tmp_path / "cats" / "imgs", rng, size=(96, 96), bad_jpeg=True)
    dogs = _folder(tmp_path / "dogs" / "imgs", rng, size=(96, 96))
    sr = ["edsr", "--scale", "2", "--steps", "1", "--evaluate-every", "1", "--num-filters", "4", "--num-res-blocks",
          "1", "--batch-size", "1", "--checkpoint-dir", str(tmp_path / "sr"), "--weights-out",
          str(tmp_path / "sr.h5")]
    # Unreadable files are skipped in every script, each named in a `warning: skipped` line of its output.
    assert srgan_cli.main([*sr, "--hr-dir", cats]) == 0
    assert_skipped_line(capsys, "broken.jpg")
    assert srgan_cli.main([*sr, "--hr-dir", dogs, "--steps", "2"]) == 2
    err = _error(capsys)
    assert "trained on other data" in err and cats in err and dogs in err and "--checkpoint-dir" in err

    px = ["train", "--dataset", "folder", "--image-size", "4", "--levels", "2", "--num-res-blocks", "1", "--hidden",
          "2", "--steps", "1", "--evaluate-every", "1", "--batch-size", "2", "--checkpoint-dir",
          str(tmp_path / "px"), "--weights-dir", str(tmp_path / "pxw")]
    assert pixelcnn_cli.main([*px, "--data-dir", cats]) == 0
    assert_skipped_line(capsys, "broken.jpg")
    assert pixelcnn_cli.main([*px, "--data-dir", dogs]) == 2 and "trained on other data" in _error(capsys)

    gan = ["train", "--im-size", "64", "--steps", "1", "--batch-size", "2", "--ngf", "4", "--ndf", "4", "--nz", "8",
           "--decoder-width", "4", "--sample-every", "0", "--evaluate-every", "1", "--checkpoint-dir",
           str(tmp_path / "gan"), "--weights-dir", str(tmp_path / "ganw")]
    assert fastgan_cli.main([*gan, "--path", cats]) == 0
    assert_skipped_line(capsys, "broken.jpg")
    assert fastgan_cli.main([*gan, "--path", dogs]) == 2 and "trained on other data" in _error(capsys)


def test_the_data_record_in_python(tmp_path):
    model = edsr.edsr(2, num_filters=4, num_res_blocks=1)
    EdsrTrainer(model, str(tmp_path), data={"hr_dir": "/photos/cats"}).save()
    assert json.load(open(tmp_path / "data.json")) == {"hr_dir": "/photos/cats"}
    with pytest.raises(DataMismatchError, match="checkpoint_dir="):
        EdsrTrainer(model, str(tmp_path), data={"hr_dir": "/photos/dogs"}).restore()
    EdsrTrainer(model, str(tmp_path), data={"hr_dir": "/photos/cats"}).restore()  # the same data resumes


def test_caches_are_rebuilt_when_a_photo_is_edited_in_place(tmp_path, rng):
    photo = write_png(str(tmp_path / "hr" / "a.png"), random_image(rng, 16, 16))
    caches = str(tmp_path / "caches")

    def first_hr():
        folder = ImageFolder(str(tmp_path / "hr"), scale=2, hr_crop_size=8, caches_dir=caches)
        return next(iter(folder.dataset(1, repeat_count=1, random_transform=False)))[1][0].numpy()

    def first_gan():
        ds, _ = gan_dataset(str(tmp_path / "hr"), 8, batch_size=1, cache_dir=caches, shuffle=False, flip=False,
                            repeat=False)
        return next(iter(ds))[0].numpy()

    hr, gan = first_hr(), first_gan()
    edited = random_image(rng, 16, 16)
    write_png(photo, edited)
    os.utime(photo, ns=(os.stat(photo).st_atime_ns, os.stat(photo).st_mtime_ns + 10 ** 9))
    np.testing.assert_array_equal(first_hr(), edited)
    assert not np.array_equal(first_hr(), hr) and not np.array_equal(first_gan(), gan)


def test_zero_and_negative_values_are_errors_not_defaults(capsys):
    for kwargs, name in [(dict(scale=0), "scale"), (dict(num_res_blocks=0), "num_res_blocks"),
                         (dict(num_filters=0), "num_filters")]:
        with pytest.raises(UserInputError, match=f"{name}=0"):
            build_sr_model("edsr", **kwargs)
    for argv, flag in [(["edsr", "--steps", "0"], "--steps"), (["edsr", "--num-res-blocks", "0"], "--num-res-blocks"),
                       (["edsr", "--num-filters", "0"], "--num-filters"), (["edsr", "--scale", "0"], "--scale"),
                       (["edsr", "--batch-size", "-1"], "--batch-size"), (["edsr", "--evaluate-every", "0"],
                                                                          "--evaluate-every")]:
        with pytest.raises(SystemExit) as info:
            srgan_cli.main(argv)
        err = _error(capsys)
        assert info.value.code == 2 and f"argument {flag}" in err and ("0" in err or "-1" in err)
    for main, argv, flag in [(pixelcnn_cli.main, ["train", "--steps", "-1"], "--steps"),
                             (pixelcnn_cli.main, ["train", "--steps", "0"], "--steps"),
                             (pixelcnn_cli.main, ["train", "--levels", "1"], "--levels"),
                             (fastgan_cli.main, ["train", "--batch-size", "0"], "--batch-size"),
                             (fastgan_cli.main, ["train", "--evaluate-every", "0"], "--evaluate-every"),
                             (fastgan_cli.main, ["train", "--ema-decay", "1.5"], "--ema-decay"),
                             (resolve_cli.main, ["x.png", "-o", "o", "--model", "edsr", "--weights", "w.h5", "--tile",
                                                 "-1"], "-t/--tile")]:
        with pytest.raises(SystemExit) as info:
            main(argv)
        err = _error(capsys)
        assert info.value.code == 2 and f"argument {flag}" in err and ": must be" in err


def test_a_keras_file_that_is_not_what_was_asked_for_is_an_error(tmp_path, rng, edsr_weights, capsys):
    keras_file = str(tmp_path / "edsr-x2.keras")
    with pytest.raises(UserInputError, match="x2 model, not the x4"):
        load_sr_model("edsr", keras_file, scale=4)
    with pytest.raises(UserInputError, match="'edsr' model, not the 'wdsr'"):
        load_sr_model("wdsr", keras_file, scale=2)
    with pytest.raises(UserInputError, match="num_filters=8"):
        load_sr_model("edsr", keras_file, num_filters=8)
    assert load_sr_model("edsr", keras_file, scale=2, num_filters=4, num_res_blocks=1) is not None
    photo = write_png(str(tmp_path / "p.png"), random_image(rng, 6, 7))
    status = resolve_cli.main([photo, "-o", str(tmp_path / "o"), "--model", "wdsr", "--scale", "2", "--weights",
                               keras_file])
    assert status == 2 and "not the 'wdsr'" in _error(capsys)


def test_an_lr_image_without_its_hr_partner_is_named(tmp_path, rng, capsys):
    write_png(str(tmp_path / "hr" / "a.png"), random_image(rng, 16, 16))
    write_png(str(tmp_path / "lr" / "a.png"), random_image(rng, 8, 8))
    write_png(str(tmp_path / "lr" / "stray.png"), random_image(rng, 8, 8))
    with pytest.raises(UserInputError, match="stray.png has no HR partner"):
        ImageFolder(str(tmp_path / "hr"), scale=2, lr_dir=str(tmp_path / "lr"), hr_crop_size=8)
    status = srgan_cli.main(["edsr", "--scale", "2", "--hr-dir", str(tmp_path / "hr"), "--lr-dir",
                             str(tmp_path / "lr"), "--checkpoint-dir", str(tmp_path / "ckpt")])
    assert status == 2 and "stray.png has no HR partner" in _error(capsys)


def test_16_bit_rgb_pngs_follow_the_1_over_257_rule(tmp_path):
    values = np.array([[[511, 0, 65535], [257 * 3 + 128, 128, 129]]], np.uint16)
    path = str(tmp_path / "deep.png")
    tf.io.write_file(path, tf.io.encode_png(values))
    rgb, alpha = read_image(path)
    np.testing.assert_array_equal(rgb, np.clip(np.round(values / 257.0), 0, 255).astype(np.uint8))
    assert alpha is None and rgb[0, 0, 0] == 2  # Pillow alone gives 1 (the high byte)
    rgba = np.concatenate([values, np.full((1, 2, 1), 65535, np.uint16)], axis=-1)
    tf.io.write_file(path, tf.io.encode_png(rgba))
    rgb, alpha = read_image(path)
    assert rgb[0, 0, 0] == 2 and (alpha == 255).all()


# ---------------------------------------------------------------------------------------------- one-line errors
def test_a_truncated_jpeg_is_found_when_the_source_is_built(tmp_path, rng):
    _folder(tmp_path / "hr", rng, bad_jpeg=True)
    with pytest.raises(UserInputError, match="broken.jpg"):
        ImageFolder(str(tmp_path / "hr"), scale=2, hr_crop_size=8)
    with pytest.warns(UserWarning, match="broken.jpg"):
        assert len(ImageFolder(str(tmp_path / "hr"), scale=2, hr_crop_size=8, skip_unreadable=True)) == 3


def test_a_file_that_breaks_after_the_check_still_gives_one_line(tmp_path, rng, capsys):
    photo = write_png(str(tmp_path / "hr" / "a.png"), random_image(rng, 16, 16))
    folder = ImageFolder(str(tmp_path / "hr"), scale=2, hr_crop_size=8)
    open(photo, "wb").write(b"broken since")

    def read_all(args):
        for _ in folder.dataset(1, repeat_count=1, random_transform=False):
            pass
        return 0

    assert run_command(read_all, None) == 2
    err = _error(capsys)
    assert err.startswith("error: Cannot read image") and "a.png" in err and err.count("\n") == 1


def test_images_smaller_than_the_scale_are_named(tmp_path, rng, capsys):
    write_png(str(tmp_path / "valid" / "tiny.png"), random_image(rng, 3, 9))
    with pytest.raises(UserInputError, match="tiny.png .* smaller than the scale 4"):
        ImageFolder(str(tmp_path / "valid"), scale=4, hr_crop_size=4, crop_to_scale=True)
    write_png(str(tmp_path / "hr" / "a.png"), random_image(rng, 96, 96))
    status = srgan_cli.main(["edsr", "--scale", "4", "--hr-dir", str(tmp_path / "hr"), "--valid-hr-dir",
                             str(tmp_path / "valid"), "--crop-to-scale", "--checkpoint-dir", str(tmp_path / "ckpt")])
    err = _error(capsys)
    assert status == 2 and "tiny.png (9x3) is smaller than the scale 4" in err


def test_broken_weights_and_model_files_are_one_line(tmp_path, rng, edsr_weights, capsys):
    model = edsr.edsr(2, num_filters=4, num_res_blocks=1)
    weights3 = str(tmp_path / "edsr.weights.h5")
    save_weights(model, weights3)
    data = open(weights3, "rb").read()
    open(weights3, "wb").write(data[: len(data) // 3])
    with pytest.raises(UserInputError, match="edsr.weights.h5 is not a readable HDF5"):
        load_weights(model, weights3)
    keras_file = str(tmp_path / "edsr-x2.keras")
    data = open(keras_file, "rb").read()
    open(str(tmp_path / "cut.keras"), "wb").write(data[: len(data) // 2])
    with pytest.raises(UserInputError, match="cut.keras is not a .keras archive"):
        load_sr_model("edsr", str(tmp_path / "cut.keras"))
    x = keras.Input((None, None, 3))
    lam = keras.Model(x, keras.layers.Lambda(lambda t: t * 2)(x))
    lam.save(str(tmp_path / "lambda.keras"))
    with pytest.raises(UserInputError, match="lambda.keras contains a Lambda layer"):
        load_sr_model("edsr", str(tmp_path / "lambda.keras"))
    photo = write_png(str(tmp_path / "p.png"), random_image(rng, 6, 7))
    for weights, expected in [(weights3, "not a readable HDF5"), (str(tmp_path / "cut.keras"), "not a .keras"),
                              (str(tmp_path / "lambda.keras"), "contains a Lambda layer"),
                              (str(tmp_path / "missing.h5"), "not found"), (edsr_weights, "does not fit")]:
        args = [photo, "-o", str(tmp_path / "o"), "--model", "edsr", "--weights", weights, "--scale", "2"]
        if weights.endswith(".h5"):
            args += ["--num-filters", "4", "--num-res-blocks", "1"] if weights != edsr_weights else []
        assert resolve_cli.main(args) == 2
        err = _error(capsys)
        assert err.startswith("error: ") and expected in err and err.count("\n") == 1


def test_a_damaged_latest_checkpoint_falls_back_to_the_previous_one(tmp_path, rng):
    keras.utils.set_random_seed(0)
    batch = (rng.integers(0, 256, (1, 4, 4, 3)).astype("float32"), rng.integers(0, 256, (1, 8, 8, 3)).astype("float32"))
    dataset = tf.data.Dataset.from_tensors(batch).repeat()
    trainer = EdsrTrainer(edsr.edsr(2, num_filters=4, num_res_blocks=1), str(tmp_path))
    trainer.train(dataset, steps=1, evaluate_every=1)
    at_step_1 = trainer.model.get_weights()
    trainer.train(dataset, steps=2, evaluate_every=1)
    assert any(not np.array_equal(a, b) for a, b in zip(at_step_1, trainer.model.get_weights()))
    shard = next(p for p in tmp_path.iterdir() if p.name.startswith("ckpt-2.data"))
    shard.write_bytes(shard.read_bytes()[:20])
    (tmp_path / "architecture.json").write_text('{"model": [["head_conv/ker')  # cut short by an old version
    with pytest.warns(UserWarning) as warned:
        again = EdsrTrainer(edsr.edsr(2, num_filters=4, num_res_blocks=1), str(tmp_path))
        again.restore()
    messages = " ".join(str(w.message) for w in warned)
    assert "ckpt-2" in messages and "damaged" in messages and "architecture.json" in messages
    assert int(again.step.numpy()) == 1
    for a, b in zip(again.model.get_weights(), at_step_1):  # the weights of checkpoint 1, not fresh ones
        np.testing.assert_array_equal(a, b)


def test_ctrl_c_before_training_is_one_line_and_status_130(capsys):
    def starting(args):
        raise KeyboardInterrupt

    assert run_command(starting, None) == 130
    assert "Interrupted" in _error(capsys)


def test_tile_must_be_a_positive_integer():
    model = edsr.edsr(2, num_filters=4, num_res_blocks=1)
    image = np.zeros((6, 6, 3), np.uint8)
    for tile, pad in [(7.5, 2), (0, 2), (True, 2), (4, -1), (4, 1.5)]:
        with pytest.raises(UserInputError, match="tile"):
            resolve_single(model, image, tile=tile, tile_pad=pad)
