"""SavedModels of the super-resolution models and FastGAN generators: a serving signature with uint8 images out,
checked against Keras before the folder is renamed into place, and never written over a user's other files."""

import os
import shutil

import numpy as np
import tensorflow as tf

from sr_tf.atomic import TMP_PREFIX
from sr_tf.deploy.convert import check_against_keras, probe_image
from sr_tf.outputs import check_folder, remove_entries

__all__ = ["write_saved_model", "to_saved_model"]


class _Serving(tf.Module):
    """A serving signature: inputs as `specs` (cast to float32 for the model), the model's output rounded and
    clipped to a uint8 image under `output_name`."""

    def __init__(self, model, specs, output_name):
        super().__init__()
        self.model, self.output_name = model, output_name
        self.serve = tf.function(self._serve, input_signature=specs)

    def _serve(self, *inputs):
        inputs = [tf.cast(t, tf.float32) for t in inputs]
        out = self.model(inputs if len(inputs) > 1 else inputs[0], training=False)
        return {self.output_name: tf.cast(tf.clip_by_value(tf.round(tf.cast(out, tf.float32)), 0, 255), tf.uint8)}


def write_saved_model(model, path, specs, output_name, probe, overwrite=False):
    """Writes a SavedModel whose `serving_default` signature takes `specs` (TensorSpecs named like the model's
    inputs) and returns the model's output as a uint8 image under `output_name`.

    The folder is written beside `path` (as `.tmp-<pid>-<name>`) and renamed into place once it loads and matches
    Keras on `probe` (within 1 grey level), so an interrupted export never leaves a half-written model at `path`.
    An existing folder at `path` is used when empty and replaced only with `overwrite` and only when it holds
    nothing but a SavedModel (`sr_tf.outputs.check_folder`): a user's other files are never removed.

    Returns:
        `path`.
    """
    path = os.fspath(path)
    exists = check_folder(path, overwrite)
    parent, name = os.path.split(os.path.abspath(path.rstrip(os.sep) or path))
    os.makedirs(parent, exist_ok=True)
    temporary = os.path.join(parent, f"{TMP_PREFIX}{os.getpid()}-{name}")
    previous = os.path.join(parent, f"{TMP_PREFIX}{os.getpid()}-old-{name}")
    shutil.rmtree(temporary, ignore_errors=True)
    module = _Serving(model, specs, output_name)
    try:
        tf.saved_model.save(module, temporary, signatures={"serving_default": module.serve})
        signature = tf.saved_model.load(temporary).signatures["serving_default"]

        def run(inputs):
            inputs = inputs if isinstance(inputs, list) else [inputs]
            feed = {spec.name: tf.constant(np.asarray(a), spec.dtype) for spec, a in zip(specs, inputs)}
            return signature(**feed)[output_name].numpy().astype(np.float32)

        check_against_keras(model, run, "none", probe, to_pixels=True)
        if not exists:
            os.replace(temporary, path)
            return path
        check_folder(path, overwrite)  # again: nothing of the user's may have arrived meanwhile
        os.replace(path, previous)
        try:
            os.replace(temporary, path)
        except OSError:
            os.replace(previous, path)  # the old model back where it was
            raise
        remove_entries(previous)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)  # this call's own folder
    return path


def to_saved_model(model, path, input_size=None, probe=None, overwrite=False):
    """Writes a super-resolution SavedModel whose `serving_default` signature maps uint8 LR `lr` (1, H, W, 3)
    to uint8 SR `sr` (any H x W unless `input_size` fixes it), checked against Keras on `probe` (default
    `probe_image()`) and written atomically (see `write_saved_model`, also for `overwrite`).

    Returns:
        `path`.
    """
    shape = (1, None, None, 3) if input_size is None else (1, *input_size, 3)
    if probe is None:
        probe = probe_image(*input_size) if input_size is not None else probe_image()
    return write_saved_model(model, path, [tf.TensorSpec(shape, tf.uint8, name="lr")], "sr", probe, overwrite)
