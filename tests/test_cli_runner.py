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
    run = "edsr-1-x2-num-filters-4"  # the template shows blocks and scale; the filters differ from edsr-16-x4's
    folder = os.path.join("weights", run)
    assert _listed(out) == [os.path.join(folder, name) for name in (f"{run}.keras", f"{run}.weights.h5",
                                                                    "weights.h5")]
    status, out = _run(pixelcnn_cli, ["train", "--data", "digits", "--levels", "4", "--num-res-blocks", "1",
                                      "--hidden", "4", "--steps", "1", "--evaluate-every", "1", "--batch-size", "8"],
                       tmp_path)
    assert status == 0, out[-2000:]
    folder = os.path.join("weights", "pixelcnn")
    run = "pixelcnn-digits-4-num-res-blocks-1-hidden-4"
    assert _listed(out)[:2] == [os.path.join(folder, run + s) for s in (".keras", ".weights.h5")]
    for path in _listed(out):
        assert (tmp_path / path).exists(), path
    from sr_tf.models import load_model

    assert load_model(str(tmp_path / folder / f"{run}.keras")).spec.levels == 4


def test_no_resume_refuses_a_folder_with_checkpoints(tmp_path):
    (tmp_path / "ck").mkdir()
    (tmp_path / "ck" / "checkpoint").write_text('model_checkpoint_path: "ckpt-1"\n')
    status, out = _run(pixelcnn_cli, ["train", "--data", "digits", "--steps", "1", "--checkpoint-dir", "ck",
                                      "--no-resume"], tmp_path)
    assert status == 2 and "--no-resume" in out and "Traceback" not in out


def test_run_names_carry_every_setting_that_differs_from_the_preset():
    from sr_tf import specs

    edsr = specs.preset("edsr-16-x4")
    recipe, reference = edsr.recipe, edsr.architecture
    assert recipe.run_name(reference, reference=reference) == "edsr-16-x4"
    # blocks and scale are in the template already; filters and scaling are not
    assert recipe.run_name(reference.replace(num_res_blocks=4, scale=2), reference=reference) == "edsr-4-x2"
    assert recipe.run_name(reference.replace(num_filters=32), reference=reference) == "edsr-16-x4-num-filters-32"
    assert (recipe.run_name(reference.replace(num_filters=8, res_block_scaling=0.1), reference=reference)
            == "edsr-16-x4-num-filters-8-res-block-scaling-0.1")
    assert recipe.weights_folder(reference.replace(num_filters=8), reference=reference) == os.path.join(
        "weights", "edsr-16-x4-num-filters-8")
    # a setting the template shows through a derived field (SRGAN's scale suffix) adds nothing
    srgan = specs.preset("srgan-x4")
    assert srgan.recipe.run_name(srgan.architecture.replace(scale=2), reference=srgan.architecture) == "srgan-x2"
    # tuples read as sizes; the template's own fields (the data, the levels) stay where they are
    pixel = specs.preset("pixelcnn-digits")
    changed = pixel.architecture.replace(input_shape=(5, 4, 1), levels=4)
    assert pixel.recipe.run_name(changed, "digits", pixel.architecture) == "pixelcnn-digits-4-input-shape-5x4x1"
    assert pixel.recipe.run_name(changed, "digits") == "pixelcnn-digits-4"  # without a preset: the template


def test_runs_that_differ_in_filters_get_their_own_checkpoints_and_the_old_folder_is_named(tmp_path):
    from sr_tf.cli.runner import Options, complete_plan, note_earlier_folder
    from sr_tf.cli.srgan import SrFamily, parser

    plans = []
    for filters in ("4", "8"):
        family = SrFamily("edsr")
        args = parser().parse_args(["edsr", "--scale", "2", "--num-res-blocks", "1", "--num-filters", filters])
        plans.append(complete_plan(family, family.plan(Options(args))))
    assert [p.run for p in plans] == ["edsr-1-x2-num-filters-4", "edsr-1-x2-num-filters-8"]
    assert [p.checkpoint_dir for p in plans] == [os.path.join(".ckpt", p.run) for p in plans]
    earlier = tmp_path / ".ckpt" / "edsr-1-x2"  # what earlier versions named both runs
    earlier.mkdir(parents=True)
    (earlier / "checkpoint").write_text('model_checkpoint_path: "ckpt-1"\n')
    out, previous = io.StringIO(), os.getcwd()
    os.chdir(tmp_path)
    try:
        with contextlib.redirect_stdout(out):
            note_earlier_folder(plans[0])
    finally:
        os.chdir(previous)
    assert f"--checkpoint-dir {os.path.join('.ckpt', 'edsr-1-x2')}" in out.getvalue()
