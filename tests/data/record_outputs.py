"""Records what the code that wrote a folder's `.keras` files computes with them, for tests/test_compat.py.

Run it with the commit that wrote the files first on the path (a worktree of it), from the repository root:

    git worktree add /tmp/old_move 3ae9373 && PYTHONPATH=/tmp/old_move python tests/data/record_outputs.py \
        tests/data/before_the_move
    git worktree add /tmp/old_specs 3d15e7f && PYTHONPATH=/tmp/old_specs python tests/data/record_outputs.py \
        tests/data/before_the_specs

It loads every `<name>.keras` of the folder with that commit's classes, runs it in inference mode on the inputs of
`compat_inputs(name)` and writes `outputs.npz` ({name: output} for the deterministic models): what the files
computed when they were written, so the test compares today's code with that, not with itself.
"""

import os
import sys

import numpy as np


def compat_inputs(name):
    """The fixed inputs of a model of the folders (by file name)."""
    rng = np.random.default_rng(0)
    if name in ("edsr", "wdsr", "srgan", "srresnet"):
        return rng.uniform(0, 255, (1, 5, 6, 3)).astype("float32")
    if name == "pixelcnn":
        return rng.integers(0, 4, (2, 6, 6, 3)).astype("float32")
    if name == "gated":
        return [rng.integers(0, 4, (2, 6, 6, 1)).astype("float32"), np.array([0, 2], np.int32)]
    return rng.standard_normal((2, 8)).astype("float32")


def main(folder):
    import keras

    import sr_tf
    import sr_tf.layers  # noqa: F401 - the commit's layer classes, registered for deserialization
    import sr_tf.models  # noqa: F401

    print(f"sr_tf from {os.path.dirname(sr_tf.__file__)}")
    outputs = {}
    for file in sorted(os.listdir(folder)):
        name, ext = os.path.splitext(file)
        if ext != ".keras" or name == "fastgan":  # the generator draws noise at every call
            continue
        model = keras.saving.load_model(os.path.join(folder, file), safe_mode=True)
        outputs[name] = np.asarray(keras.tree.flatten(model(compat_inputs(name), training=False))[0])
    np.savez(os.path.join(folder, "outputs.npz"), **outputs)
    print(f"wrote {sorted(outputs)} to {os.path.join(folder, 'outputs.npz')}")


if __name__ == "__main__":
    main(sys.argv[1])
