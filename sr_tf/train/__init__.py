"""Trainers: the `Trainer` base and its subclasses for super-resolution, PixelCNN and FastGAN."""

from sr_tf.train.fastgan import FastGANTrainer
from sr_tf.train.pixelcnn import PixelCNNTrainer
from sr_tf.train.sr import EdsrTrainer, SrganGeneratorTrainer, SrganTrainer, SrTrainer, WdsrTrainer
from sr_tf.train.trainer import ArchitectureMismatchError, Trainer, enable_mixed_precision

__all__ = ["Trainer", "ArchitectureMismatchError", "enable_mixed_precision", "SrTrainer", "EdsrTrainer",
           "WdsrTrainer", "SrganGeneratorTrainer", "SrganTrainer", "PixelCNNTrainer", "FastGANTrainer"]
