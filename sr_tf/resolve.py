"""`python -m sr_tf.resolve`: the super-resolution command line, which lives in `sr_tf.cli.resolve`."""

if __name__ == "__main__":
    from sr_tf.cli.startup import script

    script("sr_tf.cli.resolve")
