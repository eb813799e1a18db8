"""The exceptions of this package that mean "the input was wrong", as opposed to a bug.

Every error a user can cause (a bad argument value, a missing or unreadable file, a dataset or weights file that
cannot be obtained) is a `UserInputError`. Its message names the API argument, the file or the value and what
was expected; the command lines print it as one line, `error: ...`, with exit status 2. Any other exception is a
bug and keeps its traceback.

Problems a run goes on past (a skipped image, a damaged checkpoint) go through `warn`: inside a command line they
are printed as `warning: ...` lines of its own output, whatever Python's warning filters say (`-W ignore` and
PYTHONWARNINGS are common on clusters, to quiet TensorFlow); from the Python API they are `UserWarning`s.
"""

import contextlib
import sys
import warnings

_printing = []  # non-empty while a command line runs (`printing_warnings`)


class UserInputError(ValueError):
    """Bad input: an argument value, a file or a folder that does not fit (a `ValueError`)."""


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


def skipped_image(path, error):
    """`warn`s that the image at `path` was left out because of `error` (a `UserInputError` from reading it)."""
    reason = str(error).removeprefix(f"Cannot read image {path}: ")
    warn(f"skipped {path}: {reason}")
