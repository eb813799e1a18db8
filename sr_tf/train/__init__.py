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
from sr_tf.train.trainer import Trainer, enable_mixed_precision

__all__ = ["Trainer", "ArchitectureMismatchError", "DataMismatchError", "enable_mixed_precision",
           "SuperResolutionTrainer", "PixelLossTrainer", "EdsrTrainer", "WdsrTrainer", "SrganGeneratorTrainer",
           "SrganTrainer", "PixelCNNTrainer", "FastGANTrainer", "RealEsrnetTrainer", "RealEsrganTrainer",
           "learning_rate_schedule"]
