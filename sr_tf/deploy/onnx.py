"""ONNX export of the super-resolution models (the optional extra `onnx`: tf2onnx to convert, onnxruntime to check
and run), for users whose deployment runs ONNX Runtime (Windows ML, C#, JavaScript, TensorRT through ONNX).

The model is traced as a `tf.function` of a float32 NHWC input `lr` (1, H, W, 3) in 0..255, any size unless
`input_size` fixes one, and the file's output `sr` is the model's float output (round and clip it to pixels, as
`sr_tf.resolve` does). The file is checked against Keras on a probe image with ONNX Runtime before it is written.
"""

import os

import numpy as np
import tensorflow as tf

from sr_tf.atomic import atomic_write
from sr_tf.deploy.convert import check_against_keras, probe_image
from sr_tf.errors import InputFileNotFoundError, ResourceUnavailableError, UserInputError
from sr_tf.outputs import check_file

OPSET = 17


def _require(module):
    try:
        return __import__(module)
    except ImportError:
        raise ResourceUnavailableError(f"ONNX export and inference need {module}: pip install 'sr_tf[onnx]' "
                                       "(tf2onnx and onnxruntime).") from None


def _session(content_or_path):
    ort = _require("onnxruntime")
    ort.set_default_logger_severity(3)
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: its notes on converter attributes are not the user's concern
    return ort.InferenceSession(content_or_path, options, providers=["CPUExecutionProvider"])


def _run(session, batch):
    name = session.get_inputs()[0].name
    return session.run(None, {name: np.asarray(batch, np.float32)})[0]


def to_onnx(model, path=None, input_size=None, probe=None, opset=OPSET, overwrite=False):
    """Converts a super-resolution Keras model to ONNX with tf2onnx and checks it with ONNX Runtime.

    Args:
        model: the Keras model (0..255 floats in and out).
        path: where to write the `.onnx` file (atomically); None only returns the bytes.
        input_size: (height, width) for a fixed-size model; None: any size.
        probe: the image (1, H, W, 3) the file is checked on (default `probe_image()`).
        opset: the ONNX opset.
        overwrite: whether an existing file at `path` may be replaced (`sr_tf.outputs.check_file`).

    Returns:
        The serialized ONNX model (bytes).

    Raises:
        ResourceUnavailableError: tf2onnx or onnxruntime is not installed.
        ExportCheckError: the file's output is not finite or differs from Keras by more than one grey level.
    """
    if path is not None:
        check_file(path, overwrite, example="model.onnx")
    tf2onnx = _require("tf2onnx")
    _require("onnxruntime")
    shape = (1, None, None, 3) if input_size is None else (1, *input_size, 3)
    function = tf.function(lambda lr: {"sr": tf.cast(model(lr, training=False), tf.float32)})
    proto, _ = tf2onnx.convert.from_function(function, input_signature=[tf.TensorSpec(shape, tf.float32, "lr")],
                                             opset=opset)
    content = proto.SerializeToString()
    session = _session(content)
    if probe is None:
        probe = probe_image(*input_size) if input_size is not None else probe_image()
    check_against_keras(model, lambda batch: _run(session, batch), "none", probe)
    if path is not None:
        def write(tmp):
            with open(tmp, "wb") as f:
                f.write(content)

        atomic_write(path, write)
    return content


class OnnxModel:
    """An `.onnx` file written by `to_onnx`, run by ONNX Runtime and called like a Keras model (float in, float
    out), so `sr_tf.inference.resolve_single` and its tiling run it unchanged."""

    def __init__(self, path):
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise InputFileNotFoundError(f"ONNX file not found: {path}")
        try:
            self.session = _session(path)
        except Exception as e:  # noqa: BLE001 - onnxruntime raises its own exception types for unreadable files
            if isinstance(e, ResourceUnavailableError):
                raise
            raise UserInputError(f"{path} is not an ONNX model ({' '.join(str(e).split())[:150]})") from None

    def __call__(self, lr_batch, training=False):
        return tf.constant(_run(self.session, lr_batch))
