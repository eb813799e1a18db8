"""The command line as people use it: every Pillow format in folders, skipped files named, outputs never
becoming inputs, re-runs that skip, a user's file surviving, --ext / --suffix / -t 0, the Python API's refusals,
and the start-up (no TensorFlow log, --help without TensorFlow, the sr-tf command)."""

import os
import subprocess
import sys

import numpy as np
import pytest
from helpers import REPO, random_image

from sr_tf.errors import UserInputError


@pytest.fixture(scope="module")
def tiny_keras(tmp_path_factory):
    from sr_tf.models import build
    from sr_tf.weights_io import save_model

    path = str(tmp_path_factory.mktemp("m") / "tiny.keras")
    save_model(build("edsr", scale=2, num_filters=4, num_res_blocks=1), path)
    return path


def _photos(folder, rng):
    from PIL import Image

    os.makedirs(folder, exist_ok=True)
    for name, kind in (("a.webp", "WEBP"), ("b.bmp", "BMP"), ("c.tif", "TIFF"), ("d.png", "PNG"), ("e", "PNG")):
        Image.fromarray(random_image(rng, 7, 6)).save(os.path.join(folder, name), format=kind)
    with open(os.path.join(folder, "notes.txt"), "w") as f:
        f.write("a user's notes")


def test_folders_take_every_format_and_name_what_they_pass_over(tmp_path, rng, tiny_keras, capsys):
    from sr_tf.cli import resolve as resolve_cli

    photos = str(tmp_path / "photos")
    _photos(photos, rng)
    out = os.path.join(photos, "upscaled")  # inside the input folder
    assert resolve_cli.main([photos, "-o", out, "--weights", tiny_keras]) == 0
    printed = capsys.readouterr().out
    assert f"skipped {os.path.join(photos, 'notes.txt')}: not an image Pillow reads (.txt)" in printed
    assert "5 of 5 images written" in printed
    assert sorted(os.listdir(out)) == ["a.png", "b.png", "c.png", "d.png", "e.png"]
    # a second run: the outputs are not inputs, and existing outputs are kept (a skip, not a failure)
    mine = os.path.join(out, "a.png")
    with open(mine, "wb") as f:
        f.write(b"the user's own file")
    assert resolve_cli.main(["-i", photos, "-o", out, "--weights", tiny_keras]) == 0
    printed = capsys.readouterr().out
    assert "5 of 5 outputs exist" in printed and "0 of 5 images written" in printed and "5 kept" in printed
    assert open(mine, "rb").read() == b"the user's own file" and sorted(os.listdir(out))[0] == "a.png"
    assert len(os.listdir(out)) == 5


def test_output_equal_to_the_input_folder_needs_a_suffix_and_outputs_are_never_inputs(tmp_path, rng, tiny_keras,
                                                                                       capsys):
    from PIL import Image

    from sr_tf.cli import resolve as resolve_cli

    photos = str(tmp_path / "jp")
    _photos(photos, rng)
    assert resolve_cli.main([photos, "-o", photos, "--weights", tiny_keras]) == 2
    assert "is the input folder" in capsys.readouterr().err
    for _ in range(2):
        assert resolve_cli.main([photos, "-o", photos, "--weights", tiny_keras, "--suffix", "out", "--ext", "jpg",
                                 "--quality", "80"]) == 0
    printed = capsys.readouterr().out
    assert "an output of an earlier run (--suffix out)" in printed
    outputs = sorted(n for n in os.listdir(photos) if "_out" in n)
    assert outputs == ["a_out.jpg", "b_out.jpg", "c_out.jpg", "d_out.jpg", "e_out.jpg"]
    assert Image.open(os.path.join(photos, "a_out.jpg")).size == (12, 14)  # x2, not x4: no output was an input
    a_file = str(tmp_path / "file.png")
    Image.fromarray(random_image(rng, 4, 4)).save(a_file)
    assert resolve_cli.main([photos, "-o", a_file, "--weights", tiny_keras]) == 2
    assert "is a file; the output is a folder" in capsys.readouterr().err


def test_webp_output_and_automatic_tiles_equal_whole_images(tmp_path, rng, tiny_keras):
    from PIL import Image

    from sr_tf.cli import resolve as resolve_cli
    from sr_tf.inference import choose_tile, resolve_single
    from sr_tf.models import load_model

    image = random_image(rng, 40, 30)
    Image.fromarray(image).save(tmp_path / "p.png")
    assert resolve_cli.main([str(tmp_path / "p.png"), "-o", str(tmp_path / "o"), "--weights", tiny_keras,
                             "--ext", "webp", "-t", "0"]) == 0
    assert Image.open(tmp_path / "o" / "p.webp").format == "WEBP"
    model = load_model(tiny_keras)
    assert choose_tile(model, (40, 30)) is None  # fits easily
    tile = choose_tile(model, (4000, 3000), tile_pad=4, memory=64 * 2**20)
    assert tile is not None and tile >= 32 and tile % 16 == 0
    assert choose_tile(model, (4000, 3000), memory=2**40) is None
    whole = resolve_single(model, image)
    np.testing.assert_array_equal(resolve_single(model, image, tile=16, tile_pad=8), whole)


def test_resolve_single_refuses_what_load_image_does_not_give():
    from sr_tf.inference import resolve, resolve_single
    from sr_tf.models import build

    model = build("edsr", scale=2, num_filters=4, num_res_blocks=1)
    for bad, shown in ((np.zeros((5, 5, 3), np.float32), "float32"), (np.zeros((5, 5, 4), np.uint8), "(5, 5, 4)"),
                       (np.zeros((5, 5), np.uint8), "(5, 5)")):
        with pytest.raises(UserInputError,
                           match=r"resolve_single\(\) takes one \(H, W, 3\) uint8 image.*resolve_photo"):
            resolve_single(model, bad)
        with pytest.raises(UserInputError, match=shown.replace("(", r"\(").replace(")", r"\)")):
            resolve_single(model, bad)
    with pytest.raises(UserInputError, match=r"resolve\(\) takes a \(B, H, W, 3\) uint8 batch"):
        resolve(model, np.zeros((1, 5, 5, 3), np.float64))
    assert resolve_single(model, np.zeros((5, 5, 3), np.uint8)).shape == (10, 10, 3)


def test_training_crops_ordinary_photos_to_the_scale_and_says_so(tmp_path, rng, capsys):
    from PIL import Image

    from sr_tf.cli.srgan import main

    hr = tmp_path / "hr"
    hr.mkdir()
    for i in range(2):
        Image.fromarray(random_image(rng, 98, 101)).save(hr / f"p{i}.png")
    common = ["edsr", "--data", "folder", "--hr-dir", str(hr), "--steps", "1", "--num-filters", "4",
              "--num-res-blocks", "1", "--batch-size", "2"]
    assert main([*common, "--no-crop-to-scale", "--checkpoint-dir", str(tmp_path / "c1"),
                 "--weights-dir", str(tmp_path / "w1")]) == 2
    assert "does not divide" in capsys.readouterr().err
    assert main([*common, "--checkpoint-dir", str(tmp_path / "c2"), "--weights-dir", str(tmp_path / "w2")]) == 0
    assert "Cropped 2 of 2 HR images at the bottom/right to a multiple of 4: p0.png 101x98 -> 100x96" in \
        capsys.readouterr().out


def test_the_log_filter_drops_tensorflows_lines_and_passes_the_rest():
    from sr_tf.cli.startup import LogFilter

    out = []
    log = LogFilter(out.append)
    stream = (b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
              b"I0000 00:00:1796204156.328719    2435 port.cc:153] oneDNN custom operations are on.\n"
              b"E0000 00:00:1796204170.801165    4404 cuda_platform.cc:52] failed call to cuInit\n"
              b"image 1/5 (20%)\rimage 2/5 (40%)\r" b"error: photo.png: bad\n" b"I think, therefore\n")
    for i in range(0, len(stream), 7):  # in pieces, as a pipe delivers it
        log.feed(stream[i:i + 7])
    log.close()
    assert b"".join(out) == b"image 1/5 (20%)\rimage 2/5 (40%)\rerror: photo.png: bad\nI think, therefore\n"
    errors_only = []
    log = LogFilter(errors_only.append, min_level=2)  # the user's TF_CPP_MIN_LOG_LEVEL=2: errors shown
    log.feed(stream)
    assert b"cuInit" in b"".join(errors_only) and b"oneDNN" not in b"".join(errors_only)


def test_a_command_shows_no_tensorflow_log_and_help_needs_no_tensorflow(tmp_path, rng, tiny_keras):
    from PIL import Image

    Image.fromarray(random_image(rng, 6, 6)).save(tmp_path / "p.png")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    run = subprocess.run([sys.executable, "-m", "sr_tf.resolve", str(tmp_path / "p.png"), "-o", str(tmp_path / "o"),
                          "--weights", tiny_keras], capture_output=True, text=True, timeout=300, env=env, cwd=REPO)
    assert run.returncode == 0 and "1 of 1 images written" in run.stdout, run.stderr
    assert "port.cc" not in run.stderr and "absl" not in run.stderr and "cuda" not in run.stderr, run.stderr
    code = ("import sys\nfrom sr_tf.cli import export, resolve, startup\n"
            "for parse in (resolve._parse_args, export.parser().parse_args, startup.main):\n"
            "    try:\n        parse(['--help'])\n    except SystemExit:\n        pass\n"
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow was imported'\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert run.returncode == 0, run.stderr
    assert "resolve" in run.stdout and "train-srgan" in run.stdout


def test_the_sr_tf_command_runs_each_tool(capsys):
    from sr_tf.cli.startup import COMMANDS, main

    assert main(["--help"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in COMMANDS)
    assert main(["nope"]) == 2 and "unknown command 'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        main(["export", "--help"])
    assert stop.value.code == 0 and "--overwrite" in capsys.readouterr().out



def test_the_constants_written_for_help_are_the_libraries():
    from sr_tf.cli import common
    from sr_tf.train import distribute

    assert (common.STRATEGIES, common.COLLECTIVE_TIMEOUT) == (distribute.STRATEGIES, distribute.COLLECTIVE_TIMEOUT)


@pytest.mark.parametrize("script", ["train_srgan.py", "train_pixelcnn.py", "train_fastgan.py"])
def test_training_help_needs_no_tensorflow(script):
    code = (f"import runpy, sys\nsys.argv = [{script!r}, '--help']\n"
            f"try:\n    runpy.run_path({os.path.join(REPO, script)!r}, run_name='__main__')\n"
            "except SystemExit as e:\n    assert e.code == 0\n"
            "assert 'tensorflow' not in sys.modules, 'TensorFlow was imported'\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert run.returncode == 0 and "usage:" in run.stdout, run.stderr


def test_a_legacy_h5_of_another_size_says_which_flags_fit(tmp_path, capsys):
    from sr_tf.cli import resolve as resolve_cli
    from sr_tf.models import build, load_sr_model
    from sr_tf.weights_io import save_weights

    weights = str(tmp_path / "small.h5")
    save_weights(build("edsr", scale=2, num_filters=8, num_res_blocks=3), weights)
    with pytest.raises(UserInputError, match=r"It fits edsr\(scale=2, num_filters=8, num_res_blocks=3"):
        load_sr_model("edsr", weights)
    photo = str(tmp_path / "p.png")
    from PIL import Image

    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(photo)
    assert resolve_cli.main([photo, "-o", str(tmp_path / "o"), "--model", "edsr", "--weights", weights]) == 2
    assert "--scale 2 --num-filters 8 --num-res-blocks 3" in capsys.readouterr().err
    assert load_sr_model("edsr", weights, scale=2, num_filters=8, num_res_blocks=3).spec.num_res_blocks == 3


def test_an_unreadable_image_is_named_once(tmp_path):
    from sr_tf.data.io import read_image

    bad = tmp_path / "photo.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(UserInputError) as info:
        read_image(str(bad))
    assert str(info.value).count("photo.png") == 1, str(info.value)
