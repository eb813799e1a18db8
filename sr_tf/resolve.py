"""`python -m sr_tf.resolve`: the super-resolution command line, which lives in `sr_tf.cli.resolve`."""

if __name__ == "__main__":
    import sys

    try:
        from sr_tf.cli.resolve import main
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C while starting: nothing was written
    sys.exit(main())
