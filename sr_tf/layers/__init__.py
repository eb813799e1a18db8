"""Small serializable layers, by family: super-resolution (`sr`), masked convolutions (`masked`), PixelCNN++'s
logistic-mixture output (`mixture`), GAN (`gan`), and the fused BatchNormalization they share (`normalization`).

Every layer is registered as 'sr_tf>ClassName', so `.keras` files load in safe mode once this package is
imported; files written before the layers moved into families (which name the module `sr_tf.layers`) load too.
"""

from sr_tf.layers.gan import (
                              GLU,
                              NoiseInjection,
                              QuadrantCrop,
                              SpectralNormConv2D,
                              SpectralNormConv2DTranspose,
                              crop_quadrant,
)
from sr_tf.layers.masked import MaskedConv2D, autoregressive_mask
from sr_tf.layers.mixture import DiscretizedLogisticMixture, mixture_head
from sr_tf.layers.normalization import FusedBatchNormalization
from sr_tf.layers.sr import (
                              PACKAGE,
                              BilinearUpsample,
                              CropToScaled,
                              Denormalize,
                              NearestUpsample,
                              Normalize,
                              PadToMultiple,
                              PixelShuffle,
                              PixelUnshuffle,
                              PReLU,
                              Scale,
                              WeightNormConv2D,
)

__all__ = ["PixelShuffle", "PReLU", "PixelUnshuffle", "NearestUpsample", "BilinearUpsample", "PadToMultiple",
           "CropToScaled", "Normalize", "Denormalize", "Scale", "WeightNormConv2D", "MaskedConv2D",
           "autoregressive_mask", "DiscretizedLogisticMixture", "mixture_head", "SpectralNormConv2D",
           "SpectralNormConv2DTranspose", "GLU", "NoiseInjection", "QuadrantCrop", "crop_quadrant",
           "FusedBatchNormalization", "PACKAGE"]
