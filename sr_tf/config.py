"""Default settings, one object per model family: trainers take their defaults from here and the command lines
generate their defaults and help texts from the same objects, so no default is written twice.

Super-resolution recipes are the tutorial's; PixelCNN's depend on the dataset; FastGAN's are the official code's,
plus a smoke demo sized for a CPU.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class SrRecipe:
    """One super-resolution training recipe.

    Attributes:
        steps: total training steps.
        learning_rate: a float, or (boundaries, values) of a `PiecewiseConstantDecay` schedule.
        save_best_only: write periodic checkpoints only when the validation PSNR improves.
        num_filters, num_res_blocks: the architecture of the tutorial's published weights.
        checkpoint_dir: the trainer's default checkpoint folder (the tutorial's name, under `.ckpt/`).
        batch_size, evaluate_every: batches of patches per step; steps between evaluations.
    """

    steps: int
    learning_rate: object
    save_best_only: bool
    num_filters: int
    num_res_blocks: int
    checkpoint_dir: str
    batch_size: int = 16
    evaluate_every: int = 1000


SR_RECIPES = {
    "pretrain": SrRecipe(1_000_000, 1e-4, False, 64, 16, ".ckpt/pre_generator"),
    "gan": SrRecipe(200_000, ([100_000], [1e-4, 1e-5]), False, 64, 16, ".ckpt/srgan"),
    "edsr": SrRecipe(300_000, ([200_000], [1e-4, 5e-5]), True, 64, 16, ".ckpt/edsr"),
    "wdsr": SrRecipe(300_000, ([200_000], [1e-3, 5e-4]), True, 32, 32, ".ckpt/wdsr"),
}

# The offline demo of train_srgan.py: a small EDSR on three bundled photos, scored on the fourth.
# The learning rate drops tenfold for the last quarter of the steps (lr_decay_at=0.75; 1 keeps it constant).
SR_DEMO = dict(scale=4, steps=1200, batch_size=16, evaluate_every=200, learning_rate=5e-4, lr_decay_at=0.75,
               num_filters=32, num_res_blocks=4, seed=0, checkpoint_dir=".ckpt/demo", weights_out="weights/demo/edsr-demo-x4.h5",
               output="demo_output/chelsea_bicubic_model_original.png")


@dataclasses.dataclass(frozen=True)
class PixelCNNDefaults:
    """PixelCNN settings for one dataset (the tutorial's network and schedule for MNIST)."""

    num_res_blocks: int
    hidden: int
    steps: int
    batch_size: int
    evaluate_every: int


PIXELCNN_LEARNING_RATE = 1e-3  # Adam, the tutorial's
PIXELCNN_DEFAULTS = {
    "mnist": PixelCNNDefaults(num_res_blocks=15, hidden=128, steps=20_000, batch_size=128, evaluate_every=1000),
    "digits": PixelCNNDefaults(num_res_blocks=4, hidden=32, steps=800, batch_size=64, evaluate_every=100),
    "folder": PixelCNNDefaults(num_res_blocks=5, hidden=64, steps=5000, batch_size=64, evaluate_every=250),
}
GATED_PIXELCNN_DEFAULTS = {"mnist": dict(num_res_blocks=7, hidden=64)}  # layers and width of the gated network


@dataclasses.dataclass(frozen=True)
class FastGANDefaults:
    """FastGAN settings (the official code's unless noted)."""

    im_size: int = 256
    batch_size: int = 8
    steps: int = 50_000
    ngf: int = 64
    ndf: int = 64
    nz: int = 256
    decoder_width: int = 32
    sample_every: int = 1000
    evaluate_every: int = 5000  # iterations between checkpoints (and FID, when asked for)
    ema_decay: float = 0.999
    learning_rate: float = 2e-4
    beta_1: float = 0.5
    beta_2: float = 0.999
    policy: str = "color,translation"
    recon_loss: str = "l1"  # this package's default: the paper's 'perceptual' needs ImageNet VGG16 weights


FASTGAN = FastGANDefaults()
# The smoke demo on the four bundled photos: a few minutes on a CPU.
FASTGAN_DEMO = dataclasses.replace(FASTGAN, im_size=64, steps=300, ngf=16, ndf=16, nz=64, decoder_width=8,
                                   sample_every=100, evaluate_every=100, ema_decay=0.99)
