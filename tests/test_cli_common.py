"""The command lines' error handling: bad input is one line naming flags; anything else is a bug with a traceback."""

import pytest

from sr_tf.cli.common import EXIT_ERROR, as_command_line, fill_unset, run_command
from sr_tf.errors import InputFileNotFoundError, UserInputError
from sr_tf.specs.fastgan import OFFICIAL as FASTGAN


def test_user_input_errors_are_one_line_with_flags_instead_of_api_names(capsys):
    def bad(args):
        raise UserInputError("Checkpoint directory x was written for another architecture. Use another "
                             "checkpoint_dir=, or the architecture options it was trained with.")

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


def test_api_names_map_to_flags():
    assert as_command_line("pass perceptual_weights=PATH") == "pass --perceptual-weights PATH"
    assert as_command_line("Use load_digits() (bundled)") == "Use --dataset digits (bundled)"


def test_fill_unset_keeps_zero_and_fills_none():
    class Args:
        steps, batch_size, unrelated = 0, None, None

    chosen = fill_unset(Args, FASTGAN)
    assert Args.steps == 0 and Args.batch_size == FASTGAN.batch_size and Args.unrelated is None
    assert chosen == f"--batch-size {FASTGAN.batch_size}"


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
    from helpers import run_cli

    result = run_cli(["train_pixelcnn.py", "train", "--dataset", "digits", "--levels", "2", "--num-res-blocks", "1",
                      "--hidden", "2", "--steps", "40", "--evaluate-every", "20", "--batch-size", "8",
                      "--log-interval", "3600", "--checkpoint-dir", str(tmp_path / "c"), "--weights-dir",
                      str(tmp_path / "w")])
    assert result.returncode == 0, result.stderr[-2000:]
    steps = [line for line in result.stdout.splitlines() if line.startswith("step ") and "/40" in line]
    assert [line.split()[1] for line in steps] == ["0/40", "20/40", "40/40"]  # start, evaluations, end
    assert "\x1b[" not in result.stdout and "\r" not in result.stdout
