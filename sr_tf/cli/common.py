"""What the command lines share: exit statuses, the error handling around a subcommand, the mapping from the
library's argument names to command-line flags, option defaults, and loading saved models."""

import dataclasses
import os
import sys

import keras

from sr_tf.errors import InputFileNotFoundError, UserInputError

EXIT_ERROR = 2  # bad input: a message naming the file or value, no traceback
EXIT_INTERRUPTED = 130  # Ctrl-C: a checkpoint was saved; re-running resumes (the shell's status for SIGINT)

# Library messages name API arguments; on the command line they read as the flags that set them.
API_TO_FLAGS = (
    ("checkpoint_dir=,", "--checkpoint-dir,"),
    ("checkpoint_dir=", "--checkpoint-dir "),
    ("crop_to_scale=True", "--crop-to-scale"),
    ("vgg_weights=PATH", "--vgg-weights PATH"),
    ("perceptual_weights=PATH", "--perceptual-weights PATH"),
    ("perceptual_weights=", "--perceptual-weights "),
    ("recon_loss='perceptual'", "--recon-loss perceptual"),
    ("recon_loss='l1' or 'mse'", "--recon-loss l1 or mse"),
    ("recon_loss=", "--recon-loss "),
    ("inception_model(weights=PATH)", "--inception-weights PATH"),
    ("load_digits()", "--dataset digits"),
    ("load_folder(path)", "--dataset folder --data-dir DIR"),
)


def as_command_line(message):
    """A library error message with API argument names replaced by the flags that set them."""
    for api, flag in API_TO_FLAGS:
        message = message.replace(api, flag)
    return message


def run_command(command, args):
    """Runs `command(args)` and returns its exit status.

    A `UserInputError` (bad input: its message names the file, the value and what was expected) is printed as
    one line, `error: ...`, and gives EXIT_ERROR; any other exception is a bug and raises with its traceback.
    """
    try:
        return command(args)
    except UserInputError as e:
        print(f"error: {as_command_line(str(e))}", file=sys.stderr)
        return EXIT_ERROR


def load_keras_file(path, what, written_as):
    """Loads a whole model from a `.keras` file in safe mode, with errors naming the path.

    Args:
        path: the file.
        what: what the file holds, for the messages (e.g. "Generator").
        written_as: where the training command writes such files (e.g. "weights/pixelcnn/<name>.keras").
    """
    if not os.path.isfile(path):
        raise InputFileNotFoundError(f"{what} file not found: {path} (train writes {written_as}).")
    if not path.endswith(".keras"):
        raise UserInputError(f"Expected a .keras {what.lower()} file (it holds the architecture). Received: {path}")
    return keras.saving.load_model(path, safe_mode=True)


def fill_unset(args, defaults):
    """Sets each option of `defaults` (a dict or dataclass) that `args` leaves None; returns the chosen ones as
    '--name value' text."""
    if dataclasses.is_dataclass(defaults):
        defaults = dataclasses.asdict(defaults)
    chosen = []
    for key, value in defaults.items():
        if hasattr(args, key) and getattr(args, key) is None:
            setattr(args, key, value)
            chosen.append(f"--{key.replace('_', '-')} {value}")
    return ", ".join(chosen)


def positive(name, value, allow_zero=False):
    """Raises a `UserInputError` naming `--name` unless `value` is >= 1 (>= 0 with `allow_zero`)."""
    if value < (0 if allow_zero else 1):
        bound = "0 (never) or more" if allow_zero else "at least 1"
        raise UserInputError(f"--{name.replace('_', '-')} must be {bound}. Received: {value}")
