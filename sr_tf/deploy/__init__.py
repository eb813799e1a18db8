"""Deployment formats: TFLite flatbuffers and SavedModels of the super-resolution models (`convert`) and of a
trained FastGAN generator (`fastgan`), and ONNX files of the super-resolution models (`onnx`, optional extra),
each checked against Keras before it is written."""

from sr_tf.deploy.convert import *  # noqa: F401,F403
from sr_tf.deploy.convert import __all__ as _convert
from sr_tf.deploy.fastgan import *  # noqa: F401,F403
from sr_tf.deploy.fastgan import __all__ as _fastgan
from sr_tf.deploy.onnx import OnnxModel, to_onnx
from sr_tf.deploy.saved_model import *  # noqa: F401,F403
from sr_tf.deploy.saved_model import __all__ as _saved_model

__all__ = [*_convert, *_saved_model, *_fastgan, "to_onnx", "OnnxModel"]
