"""What the training scripts share: exit statuses, the error handling around a subcommand, option defaults and
loading saved models."""

import os
import sys

import keras

EXIT_ERROR = 2  # bad input: a message naming the file or value, no traceback
EXIT_INTERRUPTED = 130  # Ctrl-C: a checkpoint was saved; re-running resumes (the shell's status for SIGINT)


def run_command(command, args):
    """Runs `command(args)` and returns its exit status; input errors print `error: ...` and give EXIT_ERROR.

    ValueError, FileNotFoundError and RuntimeError (which `DatasetUnavailableError` is) carry messages written
    for users, so they are shown without a traceback.
    """
    try:
        return command(args)
    except (ValueError, FileNotFoundError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_ERROR


def load_keras_file(path, what, written_as):
    """Loads a whole model from a `.keras` file in safe mode, with errors naming the path.

    Args:
        path: the file.
        what: what the file holds, for the messages (e.g. "Generator").
        written_as: where the training command writes such files (e.g. "weights/pixelcnn/<name>.keras").
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{what} file not found: {path} (train writes {written_as}).")
    if not path.endswith(".keras"):
        raise ValueError(f"Expected a .keras {what.lower()} file (it holds the architecture). Received: {path}")
    return keras.saving.load_model(path, safe_mode=True)


def fill_unset(args, defaults):
    """Sets each option of `defaults` that `args` leaves None; returns the chosen ones as '--name value' text."""
    chosen = []
    for key, value in defaults.items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
            chosen.append(f"--{key.replace('_', '-')} {value}")
    return ", ".join(chosen)
