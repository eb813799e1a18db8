"""The command lines' error handling: bad input is one line naming flags; anything else is a bug with a traceback."""

import pytest

from sr_tf.cli.common import EXIT_ERROR, run_command
from sr_tf.cli.runner import Options, unset_text, with_options
from sr_tf.errors import Arg, InputFileNotFoundError, UserInputError
from sr_tf.specs.fastgan import OFFICIAL as FASTGAN


def test_user_input_errors_are_one_line_with_flags_instead_of_api_names(capsys):
    def bad(args):
        raise UserInputError("Checkpoint directory x was written for another architecture. Use another ",
                             Arg("checkpoint_dir"), ", or the architecture options it was trained with.")

    with pytest.raises(UserInputError, match="Use another checkpoint_dir=, or") as raised:
        bad(None)  # from Python: the API's argument
    assert raised.value.argument == "checkpoint_dir"
    assert run_command(bad, None) == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Use another --checkpoint-dir, or" in err
    assert run_command(lambda args: (_ for _ in ()).throw(InputFileNotFoundError("missing.h5")), None) == EXIT_ERROR


def test_other_exceptions_are_bugs_and_keep_their_traceback():
    def buggy(args):
        raise ValueError("a bug, not the user's input")

    with pytest.raises(ValueError, match="a bug"):
        run_command(buggy, None)
    with pytest.raises(KeyError):
        run_command(lambda args: {}["missing"], None)


def test_arguments_read_as_flags_on_the_command_line():
    cases = [(Arg("perceptual_weights", "PATH", placeholder=True), "perceptual_weights=PATH",
              "--perceptual-weights PATH"),
             (Arg("overwrite", True), "overwrite=True", "--overwrite"),
             (Arg("recon_loss", "l1"), "recon_loss='l1'", "--recon-loss l1"),
             (Arg("dataset", "digits", api="load_digits()"), "load_digits()", "--dataset digits")]
    for arg, api, flag in cases:
        error = UserInputError("use ", arg, " (bundled)")
        assert (str(error), error.command_line()) == (f"use {api} (bundled)", f"use {flag} (bundled)")
    assert UserInputError("no argument").argument is None and UserInputError("x").command_line() == "x"


def test_parsed_options_are_read_only_and_unset_ones_come_from_the_recipe():
    class Parsed:
        steps, batch_size, evaluate_every, unrelated = 0, None, None, None

    options = Options(Parsed)
    with pytest.raises(AttributeError, match="read-only"):
        options.steps = 5
    recipe = with_options(FASTGAN, options)
    assert recipe.steps == 0 and recipe.batch_size == FASTGAN.batch_size  # 0 is a value, not "unset"
    assert unset_text(options, recipe) == f"--batch-size {FASTGAN.batch_size}, --evaluate-every " \
                                          f"{FASTGAN.evaluate_every}"


def test_progress_in_a_log_file_is_a_few_plain_lines(capsys):
    import io

    from sr_tf.progress import PlainProgress, progress

    assert isinstance(progress(10), PlainProgress)  # pytest's captured output is not a terminal
    log = io.StringIO()
    bar = PlainProgress(1000, interval=3600, stream=log)
    for step in range(1, 1001):
        bar.update(step, values=[("loss", 0.5)], force=step == 500)
    lines = log.getvalue().splitlines()
    assert len(lines) == 3  # the first update, the forced one (an evaluation) and the last
    assert lines[1].startswith("step 500/1000 (50%) loss 0.5") and lines[2].startswith("step 1000/1000 (100%)")
    every = io.StringIO()
    bar = PlainProgress(5, interval=0, stream=every)
    for _ in range(5):
        bar.add(1)
    assert len(every.getvalue().splitlines()) == 5


def test_a_training_run_logged_to_a_file_writes_lines_not_a_bar(tmp_path):
    from process_helpers import run_cli

    result = run_cli(["train_pixelcnn.py", "train", "--dataset", "digits", "--levels", "2", "--num-res-blocks", "1",
                      "--hidden", "2", "--steps", "40", "--evaluate-every", "20", "--batch-size", "8",
                      "--log-interval", "3600", "--checkpoint-dir", str(tmp_path / "c"), "--weights-dir",
                      str(tmp_path / "w")])
    assert result.returncode == 0, result.stderr[-2000:]
    steps = [line for line in result.stdout.splitlines() if line.startswith("step ") and "/40" in line]
    assert [line.split()[1] for line in steps] == ["0/40", "20/40", "40/40"]  # start, evaluations, end
    assert "\x1b[" not in result.stdout and "\r" not in result.stdout
