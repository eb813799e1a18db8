"""What a checkpoint folder records about its checkpoints besides the checkpoints: the architecture of its models
(`architecture.json`) and the data they were trained on (`data.json`), both written atomically and compared on
every restart so that a folder is never resumed with other models or other data; and restoring the newest
readable checkpoint of such a folder."""

import json
import os

import tensorflow as tf

from sr_tf.atomic import atomic_write_text
from sr_tf.errors import Arg, UserInputError, warn


class ArchitectureMismatchError(UserInputError):
    """A checkpoint directory was written for a different architecture than the trainer's models."""


class DataMismatchError(UserInputError):
    """A checkpoint directory was trained on other data than the trainer is given now."""


def as_json(value):
    """`value` as it reads back from JSON (tuples become lists), so records compare equal to what was saved."""
    return json.loads(json.dumps(value))


def read_record(path):
    """The JSON record at `path`, or None when it is missing or unreadable (with a warning naming it)."""
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        warn(f"ignoring the unreadable record {path} ({e}); it is written again at the next checkpoint")
        return None


def write_record(path, value):
    """Writes a JSON record atomically (a reader sees the old record or the new one)."""
    atomic_write_text(path, json.dumps(value, indent=1))


def architecture_of(models):
    """{model name: [[weight path, shape], ...]}: what must match for a checkpoint to restore into `models`."""
    return {name: [[w.path, list(w.shape)] for w in model.weights] for name, model in models.items()}


def check_architecture(saved, current, checkpoint_dir):
    """Raises `ArchitectureMismatchError` naming the first difference when `saved` is not `current`."""
    if saved is None:
        return
    for name in sorted(set(saved) | set(current)):
        a, b = saved.get(name), current.get(name)
        if a == b:
            continue
        if a is None or b is None:
            detail = f"model '{name}' exists only in the {'trainer' if a is None else 'checkpoint'}"
        else:
            pairs = [(x, y) for x, y in zip(a, b) if x != y]
            first = pairs[0] if pairs else (a[len(b):len(b) + 1] or ["-"], b[len(a):len(a) + 1] or ["-"])
            detail = (f"model '{name}' has {len(b)} weights, the checkpoint {len(a)}; first difference: "
                      f"checkpoint {first[0]} vs model {first[1]}")
        raise ArchitectureMismatchError(
            f"Checkpoint directory {checkpoint_dir} was written for another architecture ({detail}). Use another ",
            Arg("checkpoint_dir"), ", or the architecture options it was trained with."
        )


def _describe(data):
    return ", ".join(f"{k}={v}" for k, v in data.items()) if isinstance(data, dict) else str(data)


def check_data(saved, current, checkpoint_dir):
    """Raises `DataMismatchError` when the folder was trained on other data than `current` (None: not recorded)."""
    if saved is None or current is None or saved == as_json(current):
        return
    raise DataMismatchError(
        f"Checkpoint directory {checkpoint_dir} was trained on other data ({_describe(saved)}) than this run's "
        f"({_describe(current)}). Use another ", Arg("checkpoint_dir"), " to train on this data, or the data it was "
        "trained on."
    )


def restore_newest_readable(checkpoint, paths):
    """Restores into `checkpoint` (a `tf.train.Checkpoint`) the first of `paths` (newest first) that reads;
    returns its path, or None when every one is damaged.

    A damaged checkpoint (cut short by a full disk or a killed copy) is skipped with a warning naming it. An intact
    one whose optimizer variables this run lays out differently is a `UserInputError` that says so: Keras restores
    them by position, and a fixed learning rate adds one that a schedule has not. Every older checkpoint of the
    folder was written with the same settings, so none is tried.
    """
    for path in paths:
        try:
            checkpoint.restore(path).assert_existing_objects_matched()
            return path
        except ValueError as e:
            if "incompatible tensor" in str(e):
                raise UserInputError(
                    f"Checkpoint {path} holds other optimizer state than this run builds: a fixed learning rate "
                    f"against a schedule (or the reverse), or another optimizer. Resume with the learning-rate "
                    f"settings it was written with, or use another checkpoint folder.") from None
            error = e
        except (tf.errors.OpError, IndexError, AssertionError) as e:
            error = e
        reason = " ".join(str(error).split())[:200]
        warn(f"skipped the damaged checkpoint {path} ({type(error).__name__}: {reason})")
    return None


def checkpointing(folder, **objects):
    """(checkpoint of `objects`, its manager in `folder` keeping the newest 3, its manager of the best checkpoint
    in `folder/best`); creates no file."""
    checkpoint = tf.train.Checkpoint(**objects)
    return (checkpoint, tf.train.CheckpointManager(checkpoint, folder, max_to_keep=3),
            tf.train.CheckpointManager(checkpoint, os.path.join(folder, "best"), max_to_keep=1))


def write_missing(folder, **values):
    """Writes `<folder>/<kind>.json` for each kind of `values` that is not None and not recorded yet."""
    for kind, value in values.items():
        path = os.path.join(folder, f"{kind}.json")
        if value is not None and read_record(path) is None:
            write_record(path, value)
