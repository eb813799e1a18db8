"""Deployment formats: TFLite flatbuffers and SavedModels of the super-resolution models (`convert`) and of a
trained FastGAN generator (`fastgan`), each checked against Keras before it is written."""

from sr_tf.deploy.convert import *  # noqa: F401,F403
from sr_tf.deploy.convert import __all__ as _convert
from sr_tf.deploy.fastgan import *  # noqa: F401,F403
from sr_tf.deploy.fastgan import __all__ as _fastgan

__all__ = [*_convert, *_fastgan]
