"""The command lines' error handling: bad input is one line naming flags; anything else is a bug with a traceback."""

import pytest

from sr_tf.cli.common import EXIT_ERROR, as_command_line, fill_unset, run_command
from sr_tf.config import FASTGAN
from sr_tf.errors import InputFileNotFoundError, UserInputError


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
