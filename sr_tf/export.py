"""`sr_tf.export`: deployment formats of the super-resolution models and of a FastGAN generator (the functions live
in `sr_tf.deploy` and are looked up there on first use, so `python -m sr_tf.export --help` does not load
TensorFlow); `python -m sr_tf.export` is the command line of `sr_tf.cli.export`."""

import importlib


def __getattr__(name):
    """`sr_tf.export.to_tflite` and the other names of `sr_tf.deploy` (PEP 562)."""
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(importlib.import_module("sr_tf.deploy"), name)


if __name__ == "__main__":
    from sr_tf.cli.startup import script

    script("sr_tf.cli.export")
