"""The default image codec network (aic-image-v1).

Designed for CPU speed: pixel-unshuffle stems instead of strided convolutions, 1x1 convolutions
(GEMMs) and depthwise 3x3 convolutions at low resolution, a simplified GDN (Johnston et al. 2019:
x / (beta + gamma |x|)) as the nonlinearity at 1/8 and 1/16 scale, and pixel-shuffle upsampling
in the decoder (no transposed convolutions). The latent is `latent_channels` x H/16 x W/16.

Variable rate comes from one network: each quality level has a per-channel gain applied to the
latent before rounding and its inverse applied after (gains live outside the ONNX graphs, in the
manifest, and are applied by the C++ core).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

PAD_MULTIPLE = 16


class SimpleGDN(nn.Module):
    """y = x / (beta + conv1x1(|x|)), or its inverse x * (...) for the decoder."""

    def __init__(self, channels, inverse=False):
        super().__init__()
        self.inverse = inverse
        self.beta_raw = nn.Parameter(torch.ones(channels))
        self.gamma_raw = nn.Parameter(torch.eye(channels).view(channels, channels, 1, 1) * 0.1)

    def forward(self, x):
        beta = F.softplus(self.beta_raw) + 1e-3  # positive, bounded away from 0
        gamma = torch.abs(self.gamma_raw)
        norm = F.conv2d(torch.abs(x), gamma, beta)
        return x * norm if self.inverse else x / norm


class SepConv(nn.Module):
    """Depthwise 3x3 followed by pointwise 1x1."""

    def __init__(self, cin, cout):
        super().__init__()
        self.dw = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, padding_mode="replicate")
        self.pw = nn.Conv2d(cin, cout, 1)

    def forward(self, x):
        return self.pw(self.dw(x))


class Encoder(nn.Module):
    def __init__(self, c4=64, c8=128, latent_channels=96):
        super().__init__()
        self.in4 = nn.Conv2d(48, c4, 1)
        self.mid4 = SepConv(c4, c4)
        self.in8 = nn.Conv2d(4 * c4, c8, 1)
        self.gdn8a = SimpleGDN(c8)
        self.mid8 = SepConv(c8, c8)
        self.gdn8b = SimpleGDN(c8)
        self.out16 = nn.Conv2d(4 * c8, latent_channels, 1)

    def forward(self, x):
        x = F.pixel_unshuffle(x - 0.5, 4)
        x = F.leaky_relu(self.in4(x), 0.1)
        x = x + F.leaky_relu(self.mid4(x), 0.1)
        x = F.pixel_unshuffle(x, 2)
        x = self.gdn8a(self.in8(x))
        x = self.gdn8b(x + self.mid8(x))
        x = F.pixel_unshuffle(x, 2)
        return self.out16(x)


class Decoder(nn.Module):
    def __init__(self, c4=64, c8=128, latent_channels=96):
        super().__init__()
        self.in16 = nn.Conv2d(latent_channels, 4 * c8, 1)
        self.igdn8a = SimpleGDN(c8, inverse=True)
        self.mid8 = SepConv(c8, c8)
        self.igdn8b = SimpleGDN(c8, inverse=True)
        self.up8 = nn.Conv2d(c8, 4 * c4, 1)
        self.mid4 = SepConv(c4, c4)
        self.out4 = nn.Conv2d(c4, 48, 1)

    def forward(self, y):
        x = F.pixel_shuffle(self.in16(y), 2)
        x = self.igdn8a(x)
        x = self.igdn8b(x + self.mid8(x))
        x = F.pixel_shuffle(self.up8(x), 2)
        x = F.leaky_relu(x, 0.1)
        x = x + F.leaky_relu(self.mid4(x), 0.1)
        x = F.pixel_shuffle(self.out4(x), 4)
        return x + 0.5


class GainedCodec(nn.Module):
    """Encoder + decoder + per-level gains + a context-conditioned Laplace rate model for training."""

    def __init__(self, levels=8, latent_channels=128, contexts=4, **widths):
        super().__init__()
        self.encoder = Encoder(latent_channels=latent_channels, **widths)
        self.decoder = Decoder(latent_channels=latent_channels, **widths)
        self.levels = levels
        self.contexts = contexts
        # log-gains per level and channel, initialised to a geometric ladder of step sizes
        init = torch.linspace(-1.2, 1.6, levels).view(levels, 1).repeat(1, latent_channels)
        self.log_gain = nn.Parameter(init)
        self.log_igain = nn.Parameter(-init.clone())
        # log-scale of the Laplace per level, channel and context bucket
        self.log_scale = nn.Parameter(torch.zeros(levels, latent_channels, contexts))

    def gains(self, level):
        return torch.exp(self.log_gain[level]).view(1, -1, 1, 1), torch.exp(self.log_igain[level]).view(1, -1, 1, 1)

    @staticmethod
    def context_of(q, contexts):
        """Context bucket of each latent from its causal neighbours (left, top): min(K-1, |l| + |t|)."""
        a = torch.abs(q)
        left = F.pad(a, (1, 0, 0, 0))[:, :, :, :-1]
        top = F.pad(a, (0, 0, 1, 0))[:, :, :-1, :]
        return torch.clamp(torch.round(left + top), max=contexts - 1).long()

    def rate_bits(self, y_noisy, ctx, level):
        scale = torch.exp(self.log_scale[level]) + 0.05  # [C, K]
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
        ctx = self.context_of(noisy.detach(), self.contexts)
        bits = self.rate_bits(noisy, ctx, level)
        x_hat = self.decoder(hard * ig)
        return x_hat, bits
