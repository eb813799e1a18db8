"""Metrics: super-resolution quality (`sr`: PSNR, SSIM), likelihood (`likelihood`: bits/dim and its baseline) and
GAN sample quality (`gan`: FID, KID). Every name is importable from `sr_tf.metrics`."""

from sr_tf.metrics.gan import (
                               INCEPTION_NOTOP_FILE,
                               INCEPTION_SIZE,
                               fid,
                               frechet_distance,
                               inception_features,
                               inception_model,
                               kernel_distance,
                               kid,
)
from sr_tf.metrics.likelihood import bits_per_dim, bits_per_image, histogram_baseline, split_batch
from sr_tf.metrics.sr import bicubic_upscale, psnr, psnr_y, rgb_to_y, ssim

__all__ = ["psnr", "psnr_y", "rgb_to_y", "ssim", "bicubic_upscale", "bits_per_dim", "bits_per_image",
           "histogram_baseline", "split_batch", "inception_model", "inception_features", "frechet_distance",
           "kernel_distance", "fid", "kid", "INCEPTION_NOTOP_FILE", "INCEPTION_SIZE"]
