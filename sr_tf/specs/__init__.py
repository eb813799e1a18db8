"""Model families as specs: for each family a frozen dataclass of its architecture (the builder's arguments, with
the builder's defaults), one of its training recipe, and named presets, all in one registry.

    from sr_tf import specs
    specs.presets()                          # {name: one-line description}
    specs.architecture("edsr-16-x4")         # Edsr(scale=4, num_filters=64, num_res_blocks=16, ...)
    specs.architecture("edsr", scale=2)      # the builder's defaults, scale 2

`sr_tf.models.build(...)` builds them. A family is one module here (see CONTRIBUTING.md).
"""

from sr_tf.specs import fastgan, pixelcnn, realesrgan, sr  # noqa: F401 (registers the families and presets)
from sr_tf.specs.base import (  # noqa: F401
                              FAMILIES,
                              PRESETS,
                              Architecture,
                              Preset,
                              Recipe,
                              architecture,
                              default_architecture,
                              families,
                              family,
                              family_by_name,
                              family_names,
                              flags,
                              from_config,
                              option,
                              preset,
                              presets,
                              register_family,
                              register_preset,
                              starting_preset,
)
from sr_tf.specs.fastgan import FastGAN, FastGANRecipe  # noqa: F401
from sr_tf.specs.pixelcnn import GatedPixelCNN, PixelCNN, PixelCNNRecipe  # noqa: F401
from sr_tf.specs.realesrgan import RRDBNet, SRVGGNetCompact  # noqa: F401
from sr_tf.specs.sr import Edsr, SrArchitecture, SrRecipe, Srresnet, Wdsr  # noqa: F401

__all__ = ["Architecture", "Recipe", "Preset", "FAMILIES", "PRESETS", "architecture", "family", "from_config",
           "families", "family_by_name", "family_names", "flags", "option", "default_architecture",
           "preset", "presets", "register_family", "register_preset", "starting_preset",
           "Edsr", "Wdsr", "Srresnet", "SrArchitecture",
           "SrRecipe", "PixelCNN", "GatedPixelCNN", "PixelCNNRecipe", "FastGAN", "FastGANRecipe", "RRDBNet",
           "SRVGGNetCompact"]
