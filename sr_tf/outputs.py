"""The one rule for every file or folder a command writes at a user-visible path.

Nothing a person owns is deleted or replaced unless they ask (`overwrite=True`, the command lines' --overwrite),
and then only the named target is replaced, never other contents of a folder:

- a file destination that is an existing folder (or `.`, or a path ending in a separator) is refused;
- an existing file is refused unless `overwrite`;
- a folder destination (a SavedModel) that is an existing file, the current folder or one above it is refused;
  an existing empty folder is used; an existing folder holding only what that format writes is replaced with
  `overwrite`; a folder holding anything else is refused, naming the first such entry.

Each refusal is an `OutputExistsError` (a `UserInputError`) whose message names the path and what to do. The
writing itself goes through `sr_tf.atomic` (a temporary file or folder, then a rename).
"""

import os

from sr_tf.errors import Arg, UserInputError

# What tf.saved_model.save writes into its folder (and Keras's older exports): the entries an overwrite may replace.
SAVED_MODEL_ENTRIES = frozenset({"saved_model.pb", "saved_model.pbtxt", "variables", "assets", "fingerprint.pb",
                                 "keras_metadata.pb"})


class OutputExistsError(UserInputError):
    """A destination that holds something the command would replace or lose (see the module's rule)."""


def _is_folder_like(path):
    return path in ("", ".", "..") or path.endswith(("/", os.sep)) or os.path.isdir(path)


def check_file(path, overwrite=False, example="model.tflite"):
    """Checks that a file may be written at `path` by the module's rule.

    Args:
        path: the destination file.
        overwrite: whether an existing file there may be replaced.
        example: a file name for the message when `path` is a folder.

    Raises:
        OutputExistsError: `path` is a folder, or an existing file and `overwrite` is False.
    """
    path = os.fspath(path)
    if _is_folder_like(path):
        raise OutputExistsError(f"{path or '.'} is a folder; the output is a file: name one, e.g. "
                                f"{os.path.join(path or '.', example)}")
    if os.path.lexists(path) and not overwrite:
        raise OutputExistsError(f"{path} exists; pass ", Arg("overwrite", True), " to replace it, or choose another "
                                "path.")
    return path


def check_folder(path, overwrite=False, entries=SAVED_MODEL_ENTRIES, what="a SavedModel"):
    """Checks that the folder `path` may be written (or replaced) by the module's rule.

    Args:
        path: the destination folder.
        overwrite: whether an existing folder holding only `entries` may be replaced.
        entries: the names the format writes into its folder.
        what: the format, for the messages.

    Returns:
        True when `path` exists (empty, or to be replaced), False when it is new.

    Raises:
        OutputExistsError: see the module's rule.
    """
    path = os.fspath(path)
    if path in ("",):
        raise OutputExistsError("The output folder is empty text; name a new folder, e.g. model_savedmodel/")
    absolute = os.path.realpath(path)
    here = os.path.realpath(os.getcwd())
    if absolute == here or here.startswith(absolute.rstrip(os.sep) + os.sep) or absolute == os.sep:
        raise OutputExistsError(f"{path} is the current folder (or holds it); {what} is written as a folder of its "
                                f"own: name a new one, e.g. {os.path.join(path, 'model_savedmodel')}")
    if os.path.isfile(path) or (os.path.lexists(path) and not os.path.isdir(path)):
        raise OutputExistsError(f"{path} is a file; {what} is a folder: name a new folder, e.g. "
                                f"{os.path.splitext(path)[0]}_savedmodel/")
    if not os.path.isdir(path):
        return False
    present = sorted(os.listdir(path))
    foreign = [name for name in present if name not in entries]
    if foreign:
        more = f" and {len(foreign) - 1} more" if len(foreign) > 1 else ""
        raise OutputExistsError(f"{path} holds {foreign[0]}{more}, which is not part of {what}; nothing was written. "
                                "Name a new or empty folder.")
    if present and not overwrite:
        raise OutputExistsError(f"{path} holds {what} already; pass ", Arg("overwrite", True), " to replace it, or "
                                "choose another folder.")
    return True


def remove_entries(folder, entries=SAVED_MODEL_ENTRIES):
    """Removes the entries of `folder` named in `entries` (what a format writes), then the folder itself when
    nothing else is left in it: anything else found there stays."""
    import shutil

    for name in os.listdir(folder):
        if name in entries:
            target = os.path.join(folder, name)
            if os.path.isdir(target) and not os.path.islink(target):
                shutil.rmtree(target)
            else:
                os.remove(target)
    if not os.listdir(folder):
        os.rmdir(folder)


def check_folder_path(path):
    """Checks that `path`, where a command writes files, is not an existing file (it may be new or a folder).

    Raises:
        OutputExistsError: naming the file.
    """
    path = os.fspath(path)
    if os.path.lexists(path) and not os.path.isdir(path):
        raise OutputExistsError(f"{path} is a file; the output is a folder of images: name a folder, e.g. "
                                f"{os.path.splitext(path)[0]}_upscaled/")
    return path
