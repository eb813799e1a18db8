"""Deployment formats of the super-resolution models: a SavedModel with a uint8 serving signature (TF Serving and
`tf.saved_model.load` users need nothing from this package) and TFLite flatbuffers (float32, float16 weights or
dynamic-range quantization), each checked against the Keras model on a probe image before it is written.

Both take any input size unless `input_size` fixes one. The TFLite route is `TFLiteConverter.from_keras_model`
with TFLite builtin ops only: converting a `tf.function` of these models with `from_concrete_functions` keeps the
weights as resource variables, and the interpreter then returns all-NaN images without an error (TF 2.21), which
the probe check would refuse.
"""

import collections
import contextlib
import io
import os
import re

import keras
import numpy as np
import tensorflow as tf

from sr_tf.atomic import atomic_write
from sr_tf.data.io import SAMPLES_DIR, list_images, read_image
from sr_tf.data.transforms import crop_to_multiple, downscale
from sr_tf.deploy.quality import MIN_PSNR, check_quality, measure, photo_crops
from sr_tf.deploy.quiet import quiet_converter
from sr_tf.errors import InputFileNotFoundError, UserInputError
from sr_tf.models import sr_scale
from sr_tf.outputs import check_file

__all__ = ["QUANTIZATIONS", "TOLERANCE", "ExportCheckError", "probe_image", "tflite_run", "TFLiteModel", "SavedModelSR",
           "tflite_interpreter", "interpreter_name", "representative_patches", "check_against_keras", "input_names",
           "to_tflite", "pixel_output", "tflite_ops"]

QUANTIZATIONS = ("none", "float16", "dynamic", "int8")
# Largest difference from the Keras model (grey levels, 0..255 scale) each format may show on the probe image;
# the integer formats are only checked for finite output of the right shape there: their check is the PSNR
# against Keras on photo crops (`sr_tf.deploy.quality`).
TOLERANCE = {"none": 1.0, "float16": 2.0, "dynamic": 255.0, "int8": 255.0}


class ExportCheckError(UserInputError):
    """A converted model's output is not finite, or differs from the Keras model beyond its format's tolerance."""


def probe_image(height=24, width=20, seed=0):
    """A smooth random uint8 image (1, height, width, 3) to compare a converted model with Keras."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0, 255, (1, height // 4 + 1, width // 4 + 1, 3)).astype(np.float32)
    return np.clip(tf.image.resize(coarse, (height, width), method="bicubic").numpy(), 0, 255).astype(np.uint8)


def _fixed_size(model, input_size):
    """`model` with a fixed (height, width) input, or `model` itself for None (any size)."""
    if input_size is None:
        return model
    height, width = input_size
    inputs = keras.Input((height, width, 3), batch_size=1, name="lr")
    return keras.Model(inputs, model(inputs), name=f"{model.name}_{height}x{width}")


def _quantize(values, details):
    """`values` in the dtype of the interpreter tensor `details` (quantized with its scale and zero point)."""
    values = np.asarray(values, np.float32)
    scale, zero = details["quantization"]
    if np.issubdtype(details["dtype"], np.integer) and scale:
        info = np.iinfo(details["dtype"])
        values = np.clip(np.round(values / scale + zero), info.min, info.max)
    return values.astype(details["dtype"])


def _input_key(name):
    """A TFLite input's name without the converter's decorations ('serving_default_lr:0' -> 'lr')."""
    return name.removeprefix("serving_default_").split(":")[0]


def _invoke(interpreter, inputs, names=None):
    """Runs a TFLite interpreter on one input array (1, H, W, 3) of values 0..255, or on a list of arrays
    matched by `names` (the Keras model's input names) to the file's inputs, and returns its float output (a
    quantized input is quantized and a quantized output dequantized with the file's scale and zero point)."""
    details = interpreter.get_input_details()
    if names is None:
        inputs, order = [inputs], [0]
    else:
        keys = [_input_key(d["name"]) for d in details]
        order = [keys.index(name) for name in names]
    resized = False
    for array, k in zip(inputs, order):
        if tuple(details[k]["shape"]) != tuple(np.shape(array)):
            interpreter.resize_tensor_input(details[k]["index"], np.shape(array))
            resized = True
    if resized:
        interpreter.allocate_tensors()
    for array, k in zip(inputs, order):
        interpreter.set_tensor(details[k]["index"], _quantize(array, details[k]))
    interpreter.invoke()
    target = interpreter.get_output_details()[0]
    out = interpreter.get_tensor(target["index"]).astype(np.float32)
    scale, zero = target["quantization"]
    return (out - zero) * scale if np.issubdtype(target["dtype"], np.integer) and scale else out


def tflite_interpreter(**kwargs):
    """A TFLite interpreter (`model_path=` or `model_content=`) using every core this process may run on (both
    interpreters default to one thread): the standalone LiteRT one (`ai-edge-litert`) when it is installed, else
    TensorFlow's deprecated `tf.lite.Interpreter` (its deprecation warning silenced; `interpreter_name` says
    which)."""
    kwargs.setdefault("num_threads", len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else os.cpu_count() or 1)
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return tf.lite.Interpreter(**kwargs)
    return Interpreter(**kwargs)


def interpreter_name():
    """Which interpreter `tflite_interpreter` uses, in words."""
    try:
        import ai_edge_litert.interpreter  # noqa: F401
    except ImportError:
        return "tf.lite.Interpreter (deprecated; pip install ai-edge-litert for the LiteRT one)"
    return "the LiteRT interpreter (ai-edge-litert)"


def tflite_run(content, inputs, names=None):
    """Runs a TFLite flatbuffer (bytes) on one image batch (1, H, W, 3) of values 0..255 (or on a list of arrays
    named by `names`, for a model with several inputs); the float output."""
    interpreter = tflite_interpreter(model_content=content)
    interpreter.allocate_tensors()
    return _invoke(interpreter, inputs, names)


class TFLiteModel:
    """A `.tflite` super-resolution file called like a Keras model (`model(lr_batch)` -> float SR batch), so
    `sr_tf.inference.resolve_single` and its tiling run it unchanged. For a file with several inputs (an exported
    FastGAN generator), `names` lists the Keras input names and the call takes a list of arrays in that order."""

    def __init__(self, path, names=None):
        self.names = names
        if not os.path.isfile(path):
            raise InputFileNotFoundError(f"TFLite file not found: {path}")
        try:
            self.interpreter = tflite_interpreter(model_path=os.fspath(path))
            self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as e:
            raise UserInputError(f"{path} is not a TFLite model ({' '.join(str(e).split())[:150]})") from None

    def __call__(self, lr_batch, training=False):
        inputs = [np.asarray(a) for a in lr_batch] if self.names else np.asarray(lr_batch)
        return tf.constant(_invoke(self.interpreter, inputs, self.names))


class SavedModelSR:
    """A SavedModel written by `to_saved_model` called like a Keras model (float in, float out)."""

    def __init__(self, path):
        if not os.path.isfile(os.path.join(path, "saved_model.pb")):
            raise InputFileNotFoundError(f"No SavedModel in {path} (saved_model.pb not found).")
        self.serve = tf.saved_model.load(os.fspath(path)).signatures["serving_default"]

    def __call__(self, lr_batch, training=False):
        lr = tf.cast(tf.clip_by_value(tf.round(tf.cast(lr_batch, tf.float32)), 0, 255), tf.uint8)
        return tf.cast(self.serve(lr=lr)["sr"], tf.float32)


def representative_patches(model_scale, folder=None, size=48, count=32, seed=0):
    """LR calibration patches (1, size, size, 3) float32 for full-integer quantization: random crops of the
    images of `folder` (the bundled photos by default) downscaled by the model's scale (bicubic, antialiased).

    Raises:
        InputFileNotFoundError / UserInputError: the folder is missing or holds no image.
    """
    files = list_images(SAMPLES_DIR if folder is None else folder)
    rng = np.random.default_rng(seed)
    images = [downscale(crop_to_multiple(read_image(f)[0], model_scale), model_scale).numpy() for f in files]
    images = [i for i in images if min(i.shape[:2]) >= size] or [np.asarray(
        tf.image.resize(i, (size, size), method="bicubic")).clip(0, 255).astype(np.uint8) for i in images]
    patches = []
    for k in range(count):
        image = images[k % len(images)]
        top, left = (int(rng.integers(0, image.shape[d] - size + 1)) for d in (0, 1))
        patches.append(image[None, top:top + size, left:left + size].astype(np.float32))
    return patches


def check_against_keras(model, run, quantize, probe, to_pixels=False):
    """Raises `ExportCheckError` unless `run(probe)` is finite and within the format's tolerance of Keras (of its
    output rounded and clipped to 0..255 with `to_pixels`, as the SavedModel's uint8 signature returns it).
    `probe` is one array, or a list of arrays for a model with several inputs."""
    inputs = [np.asarray(p, np.float32) for p in probe] if isinstance(probe, list) else np.asarray(probe, np.float32)
    expected = keras.ops.convert_to_numpy(model(inputs, training=False))
    if not np.all(np.isfinite(expected)):
        raise ExportCheckError("The Keras model's own output on a probe image is not finite (NaN or infinite "
                               "weights?); nothing was written.")
    if to_pixels:
        expected = np.clip(np.round(expected), 0, 255)
    got = run(probe)
    if got.shape != expected.shape:
        raise ExportCheckError(f"The converted model gives shape {got.shape} on a probe image where Keras gives "
                               f"{expected.shape}; nothing was written.")
    if not np.all(np.isfinite(got)):
        raise ExportCheckError("The converted model's output on a probe image is not finite; nothing was written.")
    difference = float(np.abs(got - expected).max())
    if not difference <= TOLERANCE[quantize]:
        raise ExportCheckError(f"The converted model differs from Keras by {difference:.2f} grey levels on a probe "
                               f"image (at most {TOLERANCE[quantize]} expected for quantize={quantize!r}); "
                               "nothing was written.")
    return difference


def pixel_output(content):
    """A full-integer flatbuffer whose uint8 output is the image itself: the output tensor's quantization set to
    scale 1 and zero point 0, so the converter's final QUANTIZE op requantizes the int8 result to pixel values and
    clamps it to 0..255. The converter gives the output the range calibration saw (e.g. scale 1.45 and zero point
    49), which an app reading the output as an image gets wrong. The int8 tensor before it keeps that range, so
    about 255 / 1.45 = 176 levels can occur: clipping to 0..255 inside the Keras graph, which would give all 256,
    made the converter quantize the sums before the final x255 with the range after it (SRVGGNetCompact: 9 dB
    against Keras) or, clipped before it, broke an EDSR (16 dB); the quality check refuses such files."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(content))
    for subgraph in model.subgraphs:
        for index in subgraph.outputs:
            tensor = subgraph.tensors[index]
            if tensor.type == flatbuffer_utils.schema_fb.TensorType.UINT8:
                tensor.quantization.scale, tensor.quantization.zeroPoint = [1.0], [0]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def input_names(model):
    """The names of a Keras model's inputs, or None for a model with one input (how `tflite_run` matches them)."""
    return [t.name for t in model.inputs] if len(model.inputs) > 1 else None


def to_tflite(model, path=None, quantize="none", input_size=None, probe=None, representative=None,
              uint8_input=True, overwrite=False, min_psnr=MIN_PSNR, on_quality=None):
    """Converts a super-resolution Keras model (float input and output in 0..255) to a TFLite flatbuffer.

    Args:
        model: the Keras model (e.g. from `sr_tf.models.load_sr_model`).
        path: where to write the `.tflite` file (atomically); None only returns the bytes.
        quantize: 'none' (float32), 'float16' (float16 weights, float compute), 'dynamic' (int8 weights,
            dynamic-range activations) or 'int8' (full-integer: int8 weights and activations, uint8 input and
            output, calibrated on `representative`).
        representative: for 'int8', a list of float32 LR batches (1, H, W, 3) in 0..255 (default
            `representative_patches` of the bundled photos), or of lists of input arrays for a model with
            several inputs.
            Its uint8 output is the image itself (scale 1, zero point 0).
        input_size: (height, width) for a fixed-size model; None: any size (the input is resized at run time).
        probe: the uint8 image (1, H, W, 3) the converted model is checked on (default `probe_image()`, or one of
            `input_size`), or a list of arrays for a model with several inputs.
        uint8_input: for 'int8', whether the input is uint8 too (an image) or stays float32 (e.g. noise); the
            output (an image in 0..255) is uint8 either way.
        overwrite: whether an existing file at `path` may be replaced (`sr_tf.outputs.check_file`).
        min_psnr: for 'dynamic' and 'int8' of a one-input model, the PSNR (dB) against Keras on photo crops below
            which nothing is written (`sr_tf.deploy.quality.MIN_PSNR`; None: written whatever it scores).
        on_quality: called with the measured `sr_tf.deploy.quality.Quality` (e.g. to print it).

    Returns:
        The flatbuffer bytes.

    Raises:
        UserInputError: an unknown `quantize`.
        ExportCheckError: the converted model's output is not finite or too far from Keras (nothing written).
        QualityError: a quantized file below `min_psnr` (nothing written).
        OutputExistsError: `path` is a folder, or a file and `overwrite` is False (checked before converting).
    """
    if path is not None:
        check_file(path, overwrite, example="model.tflite")
    if quantize not in QUANTIZATIONS:
        raise UserInputError(f"Unknown quantization. Expected one of {list(QUANTIZATIONS)}. "
                             f"Received: quantize={quantize!r}")
    converter = tf.lite.TFLiteConverter.from_keras_model(_fixed_size(model, input_size))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]  # no Flex / select TF ops
    if quantize != "none":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if quantize == "int8":
        if representative is None:
            representative = representative_patches(sr_scale(model))
        if not representative:
            raise UserInputError("int8 quantization needs at least one representative image. Received: none")
        if input_size is not None:
            representative = [tf.image.resize(r, input_size).numpy() for r in representative]
        names = input_names(model)  # the calibrator orders a list by the file's inputs: name them instead
        converter.representative_dataset = lambda: (dict(zip(names, r)) if names else [r] for r in representative)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8 if uint8_input else tf.float32
        converter.inference_output_type = tf.uint8
    with contextlib.redirect_stdout(io.StringIO()), quiet_converter():  # Keras prints its temporary signature
        content = converter.convert()
    if quantize == "int8":
        content = pixel_output(content)
    if probe is None:
        probe = probe_image(*input_size) if input_size is not None else probe_image()
    # (an int8 file's output is pixels, clamped to 0..255: it is compared with Keras's output as pixels)
    check_against_keras(model, lambda inputs: tflite_run(content, inputs, input_names(model)), quantize, probe,
                        to_pixels=quantize == "int8")
    if quantize in ("dynamic", "int8") and input_names(model) is None:
        quality = measure(model, lambda crop: tflite_run(content, crop), photo_crops(sr_scale(model), input_size))
        if on_quality is not None:
            on_quality(quality)
        check_quality(quality, quantize, min_psnr)
    if path is not None:
        atomic_write(path, lambda tmp: open(tmp, "wb").write(content))
    return content


def tflite_ops(content):
    """(Counter of the file's operators by name, TensorFlow's GPU-delegate compatibility verdict as text), from
    TensorFlow's TFLite model analyzer."""
    report = io.StringIO()
    with contextlib.redirect_stdout(report):
        tf.lite.experimental.Analyzer.analyze(model_content=content, gpu_compatibility=True)
    text = report.getvalue()
    ops = collections.Counter(re.findall(r"Op#\d+ (\w+)\(", text))
    verdict = [line.strip() for line in text.splitlines() if "GPU" in line and "delegate" in line]
    return ops, "\n".join(verdict) or "no GPU-delegate verdict from the analyzer"
