"""The exceptions of this package that mean "the input was wrong", as opposed to a bug.

Every error a user can cause (a bad argument value, a missing or unreadable file, a dataset or weights file that
cannot be obtained) is a `UserInputError`. Its message names the API argument, the file or the value and what
was expected; the command lines print it as one line, `error: ...`, with exit status 2. Any other exception is a
bug and keeps its traceback. An argument the message names is an `Arg` part of it, so that the same error reads
`checkpoint_dir=` from Python and `--checkpoint-dir` on the command line (`UserInputError.command_line`), and
the error carries the argument it concerns (`argument`). An error raised inside a tf.data pipeline reaches the
caller wrapped by TensorFlow; `pipeline_error` hands back the one the pipeline's reader raised.

Problems a run goes on past (a skipped image, a damaged checkpoint) go through `warn`: inside a command line they
are printed as `warning: ...` lines of its own output, whatever Python's warning filters say (`-W ignore` and
PYTHONWARNINGS are common on clusters, to quiet TensorFlow); from the Python API they are `UserWarning`s.
"""

import contextlib
import sys
import warnings

_printing = []  # non-empty while a command line runs (`printing_warnings`)


class Arg:
    """An argument named in an error message: `name=value` from Python, `--name value` on the command line.

    Args:
        name: the API argument, e.g. 'checkpoint_dir'; its flag is `--checkpoint-dir`.
        value: shown after it (None: nothing, 'checkpoint_dir='; True: the bare flag '--overwrite'); a str value
            reads quoted in Python ('recon_loss=\'l1\'') unless `placeholder` (vgg_weights=PATH).
        api, flag: the Python and command-line texts, when they are not made from the name (load_digits() and
            --dataset digits).
    """

    def __init__(self, name, value=None, placeholder=False, api=None, flag=None):
        self.name = name
        shown = value if placeholder or not isinstance(value, str) else repr(value)
        self.api = api or f"{name}=" + ("" if value is None else f"{shown}")
        dashed = "--" + name.replace("_", "-")
        self.flag = flag or (dashed if value is None or value is True else f"{dashed} {value}")


class UserInputError(ValueError):
    """Bad input: an argument value, a file or a folder that does not fit (a `ValueError`).

    The message is made of text and `Arg` parts (one string, as usual, when it names no argument); `argument` is
    the name of the argument it concerns (the first `Arg`'s, unless given).
    """

    def __init__(self, *parts, argument=None):
        self.parts = parts
        named = [part.name for part in parts if isinstance(part, Arg)]
        self.argument = argument if argument is not None else (named[0] if named else None)
        super().__init__("".join(part.api if isinstance(part, Arg) else str(part) for part in parts))

    def command_line(self):
        """The message as a command line says it: each argument as its flag."""
        return "".join(part.flag if isinstance(part, Arg) else str(part) for part in self.parts)


class InputFileNotFoundError(UserInputError, FileNotFoundError):
    """A file or folder the user named does not exist (also a `FileNotFoundError`)."""


class ResourceUnavailableError(UserInputError, RuntimeError):
    """Data or weights that cannot be read or downloaded here (also a `RuntimeError`), e.g. with no network."""


def check_positive(**values):
    """Raises a `UserInputError` naming the first argument that is not a positive integer."""
    import numpy as np

    for name, value in values.items():
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise UserInputError(f"`{name}` must be a positive integer. Received: {name}={value!r}")


class MissingExtraError(UserInputError, ImportError):
    """An optional dependency is not installed; the message names the extra that installs it."""


def require(module, extra):
    """Imports an optional dependency, or raises `MissingExtraError` saying which extra of sr_tf installs it.

    Args:
        module: the module to import, e.g. 'matplotlib.pyplot'.
        extra: the extra of sr_tf that provides it, e.g. 'plot'.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        top = module.split(".")[0]
        raise MissingExtraError(f"{top} is not installed; it comes with sr_tf's '{extra}' extra: "
                                f"pip install -e \".[{extra}]\" (or pip install {top}).") from None


def warn(message):
    """Reports a problem the run goes on past: `warning: <message>` on stderr inside a command line
    (`printing_warnings`), else a `UserWarning` for the Python API's caller."""
    if _printing:
        print(f"warning: {message}", file=sys.stderr, flush=True)
    else:
        warnings.warn(message, UserWarning, stacklevel=3)


@contextlib.contextmanager
def printing_warnings():
    """Within the block, `warn` prints its lines itself (the command lines run inside one)."""
    _printing.append(True)
    try:
        yield
    finally:
        _printing.pop()


_pipeline_errors = []  # the last UserInputError a tf.data pipeline's Python reader raised


def in_pipeline(function):
    """`function` for `tf.numpy_function` inside a tf.data pipeline: a `UserInputError` it raises is kept for
    `pipeline_error` (TensorFlow hands the caller only an OpError whose text quotes it)."""
    import functools

    @functools.wraps(function)
    def run(*args):
        try:
            return function(*args)
        except UserInputError as e:
            _pipeline_errors[:] = [e]
            raise

    return run


def pipeline_error():
    """The `UserInputError` a pipeline's reader (`in_pipeline`) raised last, or None; it is handed back once."""
    return _pipeline_errors.pop() if _pipeline_errors else None


def skipped_image(path, error):
    """`warn`s that the image at `path` was left out because of `error` (a `UserInputError` from reading it)."""
    reason = str(error).removeprefix(f"Cannot read image {path}: ")
    warn(f"skipped {path}: {reason}")
