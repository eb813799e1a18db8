#!/usr/bin/env python
"""Train, evaluate and sample PixelCNNs (see `python train_pixelcnn.py --help`).

    python train_pixelcnn.py train --dataset digits        # offline: bundled 8x8 digits, a few minutes on a CPU
    python train_pixelcnn.py train                         # MNIST via tensorflow-datasets, the tutorial's network
    python train_pixelcnn.py train --model gated --conditional
    python train_pixelcnn.py evaluate --dataset digits --weights weights/pixelcnn/pixelcnn-digits-256.keras
    python train_pixelcnn.py sample --weights weights/pixelcnn/pixelcnn-digits-256.keras --n 64 --seed 1

Re-running a training command resumes from its checkpoint; Ctrl-C saves a checkpoint and exits (status 130).
"""

if __name__ == "__main__":
    from sr_tf.cli.startup import script

    script("sr_tf.cli.pixelcnn")  # TensorFlow's log hidden unless --verbose; TensorFlow loads there: a few seconds
