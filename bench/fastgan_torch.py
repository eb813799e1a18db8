#!/usr/bin/env python
"""The official FastGAN iteration in PyTorch, as the baseline of `bench/bench_fastgan.py --torch-python`.

Runs in a scratch environment with a CPU torch (never imported by sr_tf or its tests). The authors' repository
cannot be fetched on this offline machine, so the networks and the iteration are written here from the facts in
../shared/reference/fastgan.md, which describes the authors' code (upstream commit 1a848e5) layer by layer: spectrally
normalised bias-free convolutions (torch.nn.utils.spectral_norm, as theirs), BatchNorm, GLU, noise injection,
skip-layer excitation, the discriminator's two branches and three decoders, DiffAugment "color,translation" on real
and fake images, hinge losses with random margins, Adam(2e-4, (0.5, 0.999)) for both nets and the EMA of G's
parameters. The reconstruction distance is L1 (the authors use LPIPS-VGG, whose weights cannot be downloaded here;
sr_tf's side of the benchmark uses L1 too). The parameter counts are printed and checked against the counts of the
authors' code (G 29,127,846 and D 11,526,160 at 256 px), so both sides train the same networks.

    /tmp/torchenv/bin/python bench/fastgan_torch.py --im-size 256 --batch-size 8 --iterations 3

Prints one JSON line: {"seconds": [...per round...], "generator": N, "discriminator": N, "torch": version}.
"""

import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402, F401  (the bench folder's timer; no TensorFlow needed)
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from common import clock  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn.utils import spectral_norm  # noqa: E402

PUBLISHED = {256: (29_127_846, 11_526_160)}


def conv(*args, **kwargs):
    """A spectrally normalised convolution without bias."""
    return spectral_norm(nn.Conv2d(*args, bias=False, **kwargs))


class GLU(nn.Module):
    """First half of the channels gated by the sigmoid of the second half."""

    def forward(self, x):
        half = x.shape[1] // 2
        return x[:, :half] * torch.sigmoid(x[:, half:])


class Noise(nn.Module):
    """Adds fresh N(0, 1) noise (one channel) scaled by a learned scalar that starts at 0."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return x + self.weight * torch.randn(x.shape[0], 1, x.shape[2], x.shape[3])


class Swish(nn.Module):
    """x * sigmoid(x)."""

    def forward(self, x):
        return x * torch.sigmoid(x)


class Excite(nn.Module):
    """Skip-layer excitation: the big map scaled channel-wise by gates computed from the small one."""

    def __init__(self, small, big):
        super().__init__()
        self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(4), conv(small, big, 4), Swish(), conv(big, big, 1),
                                  nn.Sigmoid())

    def forward(self, small, big):
        return big * self.gate(small)


def up(i, o):
    """Nearest x2, conv3, BN, GLU."""
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), conv(i, 2 * o, 3, padding=1),
                         nn.BatchNorm2d(2 * o), GLU())


def up_comp(i, o):
    """Nearest x2 and two conv3-noise-BN-GLU stages."""
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), conv(i, 2 * o, 3, padding=1), Noise(),
                         nn.BatchNorm2d(2 * o), GLU(), conv(o, 2 * o, 3, padding=1), Noise(),
                         nn.BatchNorm2d(2 * o), GLU())


class Generator(nn.Module):
    """The 256 px generator: two outputs, 256 px (to_big) and 128 px (to_128), no tanh (as upstream below 1024)."""

    def __init__(self, ngf=64, nz=256):
        super().__init__()
        c = {4: 16 * ngf, 8: 8 * ngf, 16: 4 * ngf, 32: 2 * ngf, 64: 2 * ngf, 128: ngf, 256: ngf // 2}
        self.init = nn.Sequential(spectral_norm(nn.ConvTranspose2d(nz, 2 * c[4], 4, 1, 0, bias=False)),
                                  nn.BatchNorm2d(2 * c[4]), GLU())
        self.feat_8, self.feat_16 = up_comp(c[4], c[8]), up(c[8], c[16])
        self.feat_32, self.feat_64 = up_comp(c[16], c[32]), up(c[32], c[64])
        self.feat_128, self.feat_256 = up_comp(c[64], c[128]), up(c[128], c[256])
        self.se_64, self.se_128, self.se_256 = Excite(c[4], c[64]), Excite(c[8], c[128]), Excite(c[16], c[256])
        self.to_128, self.to_big = conv(c[128], 3, 1), conv(c[256], 3, 3, padding=1)

    def forward(self, z):
        f4 = self.init(z.view(z.shape[0], -1, 1, 1))
        f8 = self.feat_8(f4)
        f16 = self.feat_16(f8)
        f32 = self.feat_32(f16)
        f64 = self.se_64(f4, self.feat_64(f32))
        f128 = self.se_128(f8, self.feat_128(f64))
        f256 = self.se_256(f16, self.feat_256(f128))
        return [self.to_big(f256), self.to_128(f128)]


def down(i, o):
    """conv4 stride 2, BN, LeakyReLU(0.2)."""
    return nn.Sequential(conv(i, o, 4, stride=2, padding=1), nn.BatchNorm2d(o), nn.LeakyReLU(0.2))


class DownComp(nn.Module):
    """Mean of a two-convolution path and an average-pool + conv1 path."""

    def __init__(self, i, o):
        super().__init__()
        self.main = nn.Sequential(down(i, o), conv(o, o, 3, padding=1), nn.BatchNorm2d(o), nn.LeakyReLU(0.2))
        self.direct = nn.Sequential(nn.AvgPool2d(2, 2), conv(i, o, 1), nn.BatchNorm2d(o), nn.LeakyReLU(0.2))

    def forward(self, x):
        return (self.main(x) + self.direct(x)) / 2


def decoder(i):
    """Adaptive pool to 8, four up blocks (i -> 128 -> 64 -> 64 -> 32), conv3 to RGB, tanh: 128 px."""
    return nn.Sequential(nn.AdaptiveAvgPool2d(8), up(i, 128), up(128, 64), up(64, 64), up(64, 32),
                         conv(32, 3, 3, padding=1), nn.Tanh())


class Discriminator(nn.Module):
    """The 256 px discriminator: a big and a small branch, and three decoders used on real images."""

    def __init__(self, ndf=64):
        super().__init__()
        c = {4: 16 * ndf, 8: 16 * ndf, 16: 8 * ndf, 32: 4 * ndf, 64: 2 * ndf, 128: ndf, 256: ndf // 2,
             512: ndf // 4}
        self.down_from_big = nn.Sequential(conv(3, c[512], 3, padding=1), nn.LeakyReLU(0.2))
        self.down_4, self.down_8 = DownComp(c[512], c[256]), DownComp(c[256], c[128])
        self.down_16, self.down_32 = DownComp(c[128], c[64]), DownComp(c[64], c[32])
        self.down_64 = DownComp(c[32], c[16])
        self.rf_big = nn.Sequential(conv(c[16], c[8], 1), nn.BatchNorm2d(c[8]), nn.LeakyReLU(0.2), conv(c[8], 1, 4))
        self.se_2_16, self.se_4_32 = Excite(c[512], c[64]), Excite(c[256], c[32])
        self.se_8_64 = Excite(c[128], c[16])
        self.down_from_small = nn.Sequential(conv(3, c[256], 4, stride=2, padding=1), nn.LeakyReLU(0.2),
                                             down(c[256], c[128]), down(c[128], c[64]), down(c[64], c[32]))
        self.rf_small = conv(c[32], 1, 4)
        self.decoder_big, self.decoder_part, self.decoder_small = decoder(c[16]), decoder(c[32]), decoder(c[32])

    def forward(self, images, real=False, part=0):
        if not isinstance(images, list):
            images = [F.interpolate(images, size=256), F.interpolate(images, size=128)]
        f2 = self.down_from_big(images[0])
        f4 = self.down_4(f2)
        f8 = self.down_8(f4)
        f16 = self.se_2_16(f2, self.down_16(f8))
        f32 = self.se_4_32(f4, self.down_32(f16))
        last = self.se_8_64(f8, self.down_64(f32))
        small = self.down_from_small(images[1])
        logits = torch.cat([self.rf_big(last).view(-1), self.rf_small(small).view(-1)])
        if not real:
            return logits
        rows, cols = divmod(part, 2)
        quarter = f32[:, :, rows * 8:rows * 8 + 8, cols * 8:cols * 8 + 8]
        return logits, [self.decoder_big(last), self.decoder_small(small), self.decoder_part(quarter)]


def diff_augment(x):
    """DiffAugment "color,translation" with independent draws per image (formulas of the reference)."""
    b = x.shape[0]
    x = x + (torch.rand(b, 1, 1, 1) - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (torch.rand(b, 1, 1, 1) * 2) + mean
    mean = x.mean(dim=[1, 2, 3], keepdim=True)
    x = (x - mean) * (torch.rand(b, 1, 1, 1) + 0.5) + mean
    h, w = x.shape[2], x.shape[3]
    sh, sw = int(h * 0.125 + 0.5), int(w * 0.125 + 0.5)
    ty = torch.randint(-sh, sh + 1, (b, 1, 1))
    tx = torch.randint(-sw, sw + 1, (b, 1, 1))
    gb, gy, gx = torch.meshgrid(torch.arange(b), torch.arange(h), torch.arange(w), indexing="ij")
    gy = torch.clamp(gy + ty + 1, 0, h + 1)
    gx = torch.clamp(gx + tx + 1, 0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1, 0, 0, 0, 0])
    return padded.permute(0, 2, 3, 1).contiguous()[gb, gy, gx].permute(0, 3, 1, 2)


def init_weights(module):
    """Conv weights N(0, 0.02); BN gamma N(1, 0.02), beta 0 (as upstream's weights_init)."""
    name = type(module).__name__
    if "Conv" in name:
        module.weight_orig.data.normal_(0.0, 0.02)
    elif "BatchNorm" in name:
        module.weight.data.normal_(1.0, 0.02)
        module.bias.data.fill_(0)


def iteration(g, d, opt_g, opt_d, ema, real, nz):
    """One upstream iteration: D on augmented real (hinge + three L1 reconstructions) and detached fakes, one D
    update, then G against D, one G update, then the EMA of G's parameters."""
    z = torch.randn(real.shape[0], nz)
    fakes = [diff_augment(f) for f in g(z)]
    real = diff_augment(real)
    d.zero_grad()
    part = random.randint(0, 3)
    logits, recs = d(real, real=True, part=part)
    rows, cols = divmod(part, 2)
    half = real.shape[2] // 2
    quarter = real[:, :, rows * half:(rows + 1) * half, cols * half:(cols + 1) * half]
    target = F.interpolate(real, size=128)
    loss_real = (F.relu(torch.rand_like(logits) * 0.2 + 0.8 - logits).mean()
                 + (recs[0] - target).abs().mean() + (recs[1] - target).abs().mean()
                 + (recs[2] - F.interpolate(quarter, size=128)).abs().mean())
    loss_real.backward()
    logits = d([f.detach() for f in fakes])
    F.relu(torch.rand_like(logits) * 0.2 + 0.8 + logits).mean().backward()
    opt_d.step()
    g.zero_grad()
    (-d(fakes).mean()).backward()
    opt_g.step()
    with torch.no_grad():
        for p, a in zip(g.parameters(), ema):
            a.mul_(0.999).add_(0.001 * p)


def main():
    """Builds both nets, checks the parameter counts, times `rounds` x `iterations` iterations, prints JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--im-size", type=int, default=256, choices=[256])
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    random.seed(0)
    g, d = Generator(), Discriminator()
    g.apply(init_weights)
    d.apply(init_weights)
    counts = [sum(p.numel() for p in net.parameters()) for net in (g, d)]
    if tuple(counts) != PUBLISHED[args.im_size]:
        raise SystemExit(f"parameter counts {counts} differ from the authors' {PUBLISHED[args.im_size]}")
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    ema = [p.detach().clone() for p in g.parameters()]
    real = torch.rand(args.batch_size, 3, args.im_size, args.im_size) * 2 - 1
    iteration(g, d, opt_g, opt_d, ema, real, 256)  # warm-up
    seconds = []
    for _ in range(args.rounds):
        started = clock()
        for _ in range(args.iterations):
            iteration(g, d, opt_g, opt_d, ema, real, 256)
        seconds.append(started.elapsed() / args.iterations)
    print(json.dumps({"seconds": seconds, "generator": counts[0], "discriminator": counts[1],
                      "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
