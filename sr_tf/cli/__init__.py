"""Command lines: argparse, exit statuses and printed tables. `train_srgan.py`, `train_pixelcnn.py`,
`train_fastgan.py` and `python -m sr_tf.resolve` (or `python -m sr_tf.cli.resolve`) run the `main` of
`srgan`, `pixelcnn`, `fastgan` and `resolve` here."""
