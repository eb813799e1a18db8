"""`sr_tf.export`: deployment formats of the super-resolution models and of a FastGAN generator (the functions live
in `sr_tf.deploy`); `python -m sr_tf.export` is the command line of `sr_tf.cli.export`."""

from sr_tf.deploy import *  # noqa: F401,F403
from sr_tf.deploy import __all__  # noqa: F401

if __name__ == "__main__":
    import sys

    from sr_tf.cli.export import main

    sys.exit(main())
