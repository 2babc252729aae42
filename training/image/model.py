"""The default image codec network (aic-image-v1).

A learned block transform with learned refinements, designed to train quickly on a CPU and run
fast in ONNX Runtime:

- Encoder: pixel-unshuffle by 8 (each 8x8x3 block becomes 192 channels), a 1x1 convolution that
  starts as the Karhunen-Loeve transform of 8x8 RGB blocks of the training set (so the untrained
  network is already an orthonormal, invertible transform), plus a residual refinement branch
  (depthwise 3x3 + pointwise, seeing neighbouring blocks) whose last layer starts at zero.
- Decoder: the inverse 1x1 transform (starting as the KLT's transpose) plus a residual
  correction computed from a 3x3 neighbourhood of coefficient blocks (two depthwise-separable
  layers), which learns deblocking and dequantisation; pixel-shuffle back to full resolution.
  No transposed convolutions.
- Variable rate from one network: per quality level and channel, a gain multiplies the latent
  before rounding and an inverse gain multiplies it after (both in the manifest, applied by the
  C++ core). Training draws the level at random per step.
- Rate model for training: a Laplace per (level, channel, context), the context being
  min(K-1, |left| + |top|) of the quantised neighbours in the same channel - the same context the
  C++ entropy coder uses with the empirical tables built by export.py.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

BLOCK = 8
COEFFS = 3 * BLOCK * BLOCK  # 192
PAD_MULTIPLE = 16


class SepConv(nn.Module):
    """Depthwise 3x3 followed by pointwise 1x1."""

    def __init__(self, cin, cout):
        super().__init__()
        self.dw = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, padding_mode="replicate")
        self.pw = nn.Conv2d(cin, cout, 1)

    def forward(self, x):
        return self.pw(self.dw(x))


class Encoder(nn.Module):
    def __init__(self, hidden=192):
        super().__init__()
        self.transform = nn.Conv2d(COEFFS, COEFFS, 1)
        self.refine_a = SepConv(COEFFS, hidden)
        self.refine_b = nn.Conv2d(hidden, COEFFS, 1)
        nn.init.zeros_(self.refine_b.weight)
        nn.init.zeros_(self.refine_b.bias)

    def forward(self, x):
        c = self.transform(F.pixel_unshuffle(x - 0.5, BLOCK))
        return c + self.refine_b(F.leaky_relu(self.refine_a(c), 0.1))


class Decoder(nn.Module):
    def __init__(self, hidden=192):
        super().__init__()
        self.inverse = nn.Conv2d(COEFFS, COEFFS, 1)
        self.refine_a = SepConv(COEFFS, hidden)
        self.refine_b = SepConv(hidden, hidden)
        self.refine_out = nn.Conv2d(hidden, COEFFS, 1)
        nn.init.zeros_(self.refine_out.weight)
        nn.init.zeros_(self.refine_out.bias)

    def forward(self, y):
        h = F.leaky_relu(self.refine_a(y), 0.1)
        h = F.leaky_relu(self.refine_b(h), 0.1)
        blocks = self.inverse(y) + self.refine_out(h)
        return F.pixel_shuffle(blocks, BLOCK) + 0.5


class GainedCodec(nn.Module):
    def __init__(self, levels=8, contexts=4, hidden=192, gain_range=(3.0, 45.0)):
        super().__init__()
        self.encoder = Encoder(hidden)
        self.decoder = Decoder(hidden)
        self.levels = levels
        self.contexts = contexts
        self.latent_channels = COEFFS
        lo, hi = torch.log(torch.tensor(gain_range[0])), torch.log(torch.tensor(gain_range[1]))
        init = torch.linspace(float(lo), float(hi), levels).view(levels, 1).repeat(1, COEFFS)
        self.log_gain = nn.Parameter(init)
        self.log_igain = nn.Parameter(-init.clone())
        self.log_scale = nn.Parameter(torch.zeros(levels, COEFFS, contexts))

    def init_transform(self, klt):
        """klt: [192, 192] orthonormal rows (eigenvectors of the block covariance)."""
        with torch.no_grad():
            self.encoder.transform.weight.copy_(klt.view(COEFFS, COEFFS, 1, 1))
            self.encoder.transform.bias.zero_()
            self.decoder.inverse.weight.copy_(klt.t().contiguous().view(COEFFS, COEFFS, 1, 1))
            self.decoder.inverse.bias.zero_()

    def entropy_parameters(self):
        return [self.log_gain, self.log_igain, self.log_scale]

    def gains(self, level):
        return torch.exp(self.log_gain[level]).view(1, -1, 1, 1), torch.exp(self.log_igain[level]).view(1, -1, 1, 1)

    @staticmethod
    def context_of(q, contexts):
        a = torch.abs(q)
        left = F.pad(a, (1, 0, 0, 0))[:, :, :, :-1]
        top = F.pad(a, (0, 0, 1, 0))[:, :, :-1, :]
        return torch.clamp(left + top, max=contexts - 1).long()

    def rate_bits(self, y_noisy, ctx, level):
        scale = torch.exp(self.log_scale[level]) + 0.02  # [C, K]
        c = y_noisy.shape[1]
        idx = torch.arange(c).view(1, c, 1, 1).expand_as(ctx)
        b = scale[idx, ctx]

        def cdf(v):
            return 0.5 + 0.5 * torch.sign(v) * (1 - torch.exp(-torch.abs(v) / b))

        p = cdf(y_noisy + 0.5) - cdf(y_noisy - 0.5)
        return -torch.log2(torch.clamp(p, min=1e-9)).sum()

    def forward(self, x, level):
        y = self.encoder(x)
        g, ig = self.gains(level)
        ys = y * g
        noisy = ys + torch.empty_like(ys).uniform_(-0.5, 0.5)
        hard = ys + (torch.round(ys) - ys).detach()  # straight-through rounding for the decoder
        ctx = self.context_of(torch.round(ys).detach(), self.contexts)
        bits = self.rate_bits(noisy, ctx, level)
        x_hat = self.decoder(hard * ig)
        return x_hat, bits
