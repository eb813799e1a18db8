"""`python -m sr_tf.resolve`: the super-resolution command line, which lives in `sr_tf.cli.resolve`."""

if __name__ == "__main__":
    import sys

    from sr_tf.cli.resolve import main

    sys.exit(main())
