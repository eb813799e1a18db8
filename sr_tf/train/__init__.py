"""Trainers: the `Trainer` base and its subclasses for super-resolution (ESRGAN and Real-ESRGAN too), PixelCNN and
FastGAN (no command-line
code here: that is `sr_tf.cli`)."""

from sr_tf.train.fastgan import FastGANTrainer
from sr_tf.train.pixelcnn import PixelCNNTrainer
from sr_tf.train.realesrgan import RealEsrganTrainer, RealEsrnetTrainer
from sr_tf.train.records import ArchitectureMismatchError, DataMismatchError
from sr_tf.train.sr import (
                            EdsrTrainer,
                            PixelLossTrainer,
                            SrganGeneratorTrainer,
                            SrganTrainer,
                            SuperResolutionTrainer,
                            WdsrTrainer,
                            learning_rate_schedule,
)
from sr_tf.train.trainer import Trainer


def enable_mixed_precision(precision="float16"):
    """Sets Keras's global policy to `precision`'s (mixed_float16; see `sr_tf.precision.policy` for a block)."""
    import keras

    from sr_tf.precision import choose, policy_name

    keras.mixed_precision.set_global_policy(policy_name(choose(precision)[0]))


__all__ = ["Trainer", "ArchitectureMismatchError", "DataMismatchError", "enable_mixed_precision",
           "SuperResolutionTrainer", "PixelLossTrainer", "EdsrTrainer", "WdsrTrainer", "SrganGeneratorTrainer",
           "SrganTrainer", "PixelCNNTrainer", "FastGANTrainer", "RealEsrnetTrainer", "RealEsrganTrainer",
           "learning_rate_schedule"]
