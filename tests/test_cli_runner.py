"""The one training runner: every training command has the shared options under the same names, the old names
still work, --no-resume refuses a folder with checkpoints, and every command writes and lists the same set of
files (`<name>.keras`, `<name>.weights.h5`, plus the legacy `.h5` for super-resolution)."""

import contextlib
import io
import os

import keras
import numpy as np
import pytest
from helpers import random_image, write_png

from sr_tf.cli import fastgan as fastgan_cli
from sr_tf.cli import pixelcnn as pixelcnn_cli
from sr_tf.cli import srgan as srgan_cli
from sr_tf.cli.runner import SHARED_OPTIONS

TRAINING = [(srgan_cli, "pretrain"), (srgan_cli, "gan"), (srgan_cli, "edsr"), (srgan_cli, "wdsr"),
            (pixelcnn_cli, "train"), (fastgan_cli, "train")]


def _subparser(module, command):
    root = module.parser()
    action = next(a for a in root._actions if a.dest == "command")
    return action.choices[command]


@pytest.mark.parametrize("module,command", TRAINING)
def test_every_training_command_has_the_shared_options(module, command):
    flags = {s for a in _subparser(module, command)._actions for s in a.option_strings}
    expected = {"--" + name.replace("_", "-") for name in SHARED_OPTIONS} | {"--no-keep-best", "--no-resume",
                                                                           "--strategy", "--jit", "--mixed-precision",
                                                                           "--steps-per-execution", "--log-interval"}
    assert expected <= flags, expected - flags


def test_the_old_names_of_the_shared_options_still_work():
    args = pixelcnn_cli.parser().parse_args(["train", "--dataset", "digits"])
    assert args.data == "digits"
    args = fastgan_cli.parser().parse_args(["train", "--path", "x", "--iterations", "3", "--checkpoint-every", "2"])
    assert (args.data, args.steps, args.evaluate_every) == ("x", 3, 2)
    args = fastgan_cli.parser().parse_args(["evaluate", "--path", "x"])
    assert args.path == "x"


def _run(module, argv, cwd):
    out, previous = io.StringIO(), os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            status = module.main(argv)
    finally:
        os.chdir(previous)
    return status, out.getvalue()


def _listed(output):
    return output.split("Saved:\n", 1)[1].split()


def test_the_commands_write_and_list_the_same_files(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(2):
        write_png(str(tmp_path / "hr" / f"{i}.png"), random_image(rng, 100, 100))
    keras.utils.set_random_seed(0)
    status, out = _run(srgan_cli, ["edsr", "--scale", "2", "--hr-dir", "hr", "--num-filters", "4", "--num-res-blocks",
                                   "1", "--batch-size", "2", "--steps", "1"], tmp_path)
    assert status == 0, out[-2000:]
    folder = os.path.join("weights", "edsr-1-x2")
    assert _listed(out) == [os.path.join(folder, name) for name in ("edsr-1-x2.keras", "edsr-1-x2.weights.h5",
                                                                    "weights.h5")]
    status, out = _run(pixelcnn_cli, ["train", "--data", "digits", "--levels", "4", "--num-res-blocks", "1",
                                      "--hidden", "4", "--steps", "1", "--evaluate-every", "1", "--batch-size", "8"],
                       tmp_path)
    assert status == 0, out[-2000:]
    folder = os.path.join("weights", "pixelcnn")
    assert _listed(out)[:2] == [os.path.join(folder, "pixelcnn-digits-4" + s) for s in (".keras", ".weights.h5")]
    for path in _listed(out):
        assert (tmp_path / path).exists(), path
    from sr_tf.models import load_model

    assert load_model(str(tmp_path / folder / "pixelcnn-digits-4.keras")).spec.levels == 4


def test_no_resume_refuses_a_folder_with_checkpoints(tmp_path):
    (tmp_path / "ck").mkdir()
    (tmp_path / "ck" / "checkpoint").write_text('model_checkpoint_path: "ckpt-1"\n')
    status, out = _run(pixelcnn_cli, ["train", "--data", "digits", "--steps", "1", "--checkpoint-dir", "ck",
                                      "--no-resume"], tmp_path)
    assert status == 2 and "--no-resume" in out and "Traceback" not in out
