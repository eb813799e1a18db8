#!/usr/bin/env python
"""Train FastGAN, generate images and evaluate FID/KID (see `python train_fastgan.py --help`).

    python train_fastgan.py train                                   # smoke demo: bundled photos, 64 px, CPU
    python train_fastgan.py train --path data/obama --im-size 256   # the official setup (50,000 iterations)
    python train_fastgan.py train --path data/obama --recon-loss perceptual   # the paper's LPIPS-style loss
    python train_fastgan.py generate --weights weights/fastgan/fastgan-obama-256-generator.keras --n 100 -o out
    python train_fastgan.py evaluate --weights weights/fastgan/fastgan-obama-256-generator.keras --path data/obama

Re-running a training command resumes from its checkpoint; Ctrl-C saves a checkpoint and exits (status 130).
"""

if __name__ == "__main__":
    from sr_tf.cli.startup import script

    script("sr_tf.cli.fastgan")  # TensorFlow's log hidden unless --verbose; TensorFlow loads there: a few seconds
