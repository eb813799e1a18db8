"""Numeric precision of training and inference: float32, or mixed bfloat16 / float16, and `auto`.

bfloat16 and float16 are Keras's mixed policies: variables, BatchNorm statistics, losses and the optimizer stay
float32, and the layers compute in 16 bits, except the few that every builder pins to float32 (the final
convolution and the 0..255 output) because their rounding shows in the image. float16 training keeps Keras's
loss scaling; bfloat16 has float32's exponent range and needs none.

`auto` picks bfloat16 on a CPU whose flags include AMX or AVX-512 BF16 (oneDNN runs bfloat16 convolutions
there 4x faster than float32), float16 on a GPU with tensor cores (compute capability 7.0 or more), and float32
elsewhere. `choose` says which and why in one line.

A precision is a property of the built layers, not of the weights: a model trained in one precision saves and
loads in any other (`with_precision` rebuilds a model of this package under another policy with its weights).
"""

import contextlib

from sr_tf.errors import UserInputError

# (keras and tensorflow are imported where they are used: the command lines read PRECISIONS before TensorFlow loads)

PRECISIONS = ("float32", "bfloat16", "float16", "auto")
POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}
BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")  # the /proc/cpuinfo flags of CPUs with fast bfloat16 arithmetic


def cpu_flags(path="/proc/cpuinfo"):
    """The CPU's feature flags (a set; empty where the file does not exist, as on macOS or Windows)."""
    try:
        with open(path, encoding="utf8") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def bf16_flags(flags=None):
    """The flags of `BF16_CPU_FLAGS` this CPU reports, e.g. ['amx_bf16', 'avx512_bf16'] (empty: none)."""
    flags = cpu_flags() if flags is None else flags
    return [flag for flag in BF16_CPU_FLAGS if flag in flags]


def tensor_core_gpus():
    """Names of the visible GPUs with compute capability 7.0 or more (tensor cores for float16)."""
    import tensorflow as tf

    found = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        if tuple(details.get("compute_capability", (0, 0))) >= (7, 0):
            found.append(details.get("device_name", gpu.name))
    return found


def check(precision, argument="precision"):
    """`precision` if it is one of `PRECISIONS`, else a `UserInputError` naming the value and the choices."""
    if precision not in PRECISIONS:
        raise UserInputError(f"Unknown {argument}={precision!r}; choose one of {', '.join(PRECISIONS)}.")
    return precision


def choose(precision="auto", flags=None, gpus=None):
    """(precision, reason): `precision` itself, or for 'auto' what this machine runs fastest with the reason
    in words ('bfloat16: the CPU reports amx_bf16, avx512_bf16').

    Args:
        precision: one of `PRECISIONS`.
        flags: the CPU flags to judge by (default: this machine's).
        gpus: names of GPUs with tensor cores (default: this machine's).
    """
    check(precision)
    if precision != "auto":
        return precision, "asked for"
    gpus = tensor_core_gpus() if gpus is None else gpus
    if gpus:
        return "float16", f"the GPU {gpus[0]} has tensor cores"
    found = bf16_flags(flags)
    if found:
        return "bfloat16", f"the CPU reports {', '.join(found)}"
    return "float32", "neither a GPU with tensor cores nor a CPU with AMX or AVX-512 BF16"


def describe_choice(precision, reason):
    """The one line the command lines print for `auto`: 'Precision auto: bfloat16 (the CPU reports amx_bf16).'"""
    return f"Precision auto: {precision} ({reason})."


def policy_name(precision):
    """Keras's policy name of a resolved precision ('bfloat16' -> 'mixed_bfloat16')."""
    if precision not in POLICIES:
        raise UserInputError(f"Unknown precision {precision!r}; choose one of {', '.join(POLICIES)}.")
    return POLICIES[precision]


def precision_of(model):
    """The precision a model was built in: 'float32', 'bfloat16' or 'float16' (by its layers' compute dtype)."""
    dtypes = {getattr(layer, "compute_dtype", "float32") for layer in model.layers}
    for precision in ("bfloat16", "float16"):
        if precision in dtypes:
            return precision
    return "float32"


@contextlib.contextmanager
def policy(precision):
    """Within the block, models are built in `precision` ('float32', 'bfloat16', 'float16'; 'auto' chosen by
    `choose`); the global Keras policy is restored after."""
    import keras

    if precision == "auto":
        precision = choose("auto")[0]
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy_name(precision))
    try:
        yield precision
    finally:
        keras.mixed_precision.set_global_policy(previous)


def with_precision(model, precision):
    """`model` itself when it is built in `precision` already, else the same model of this package (its `spec`)
    rebuilt in `precision`, with its weights (variables are float32 in every precision). A model without a
    spec is a `UserInputError`."""
    if precision == "auto":
        precision = choose("auto")[0]
    if precision_of(model) == precision:
        return model
    spec = getattr(model, "spec", None)
    if spec is None:
        raise UserInputError(f"{model.name} is not a model of this package (it has no spec), so it cannot be rebuilt "
                             f"in {precision}; build it under sr_tf.precision.policy({precision!r}) instead.")
    with policy(precision):
        rebuilt = spec.build()
    rebuilt.set_weights(model.get_weights())
    for attribute in ("final_scale",):  # set by the importers beside the spec
        if hasattr(model, attribute):
            setattr(rebuilt, attribute, getattr(model, attribute))
    return rebuilt


def training_precision(models, precision=None, mixed_precision=False):
    """The precision a trainer trains `models` (a dict of name -> model) in: with `precision` None, the one they
    were built in (float16 also with `mixed_precision`, the older flag); else `precision` resolved by `choose`,
    which must be the one they were built in (a `UserInputError` says how to build them so otherwise)."""
    built = {precision_of(model) for model in models.values()}
    if precision is None:
        return "float16" if mixed_precision or "float16" in built else "bfloat16" if "bfloat16" in built else "float32"
    if mixed_precision and precision != "float16":
        raise UserInputError(f"mixed_precision=True is precision='float16'. Received: precision={precision!r}")
    chosen = choose(precision)[0]
    if built != {chosen}:
        raise UserInputError(f"precision={precision!r} ({chosen}), but the models were built in "
                             f"{' and '.join(sorted(built))}: build them inside sr_tf.precision.policy({chosen!r}), "
                             "or leave precision unset to train them as built.")
    return chosen
