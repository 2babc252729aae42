"""The default streaming audio codec (aic-audio-v1): 20 ms frames of 16 kHz mono.

A learned lapped transform: the encoder sees the previous frame and the current one (640
samples, its state is the previous frame) and outputs 320 coefficients; the decoder turns 320
coefficients into 640 windowed samples and overlap-adds them with its state (the second half of
the previous frame's output), so it outputs one frame per frame with one frame of delay.
Both start as the MDCT with a sine window (perfect reconstruction by time-domain alias
cancellation), plus residual refinement layers whose last weights start at zero. The state is an
explicit input and output of both ONNX graphs.

Variable rate: per-level, per-bin gains before rounding and inverse gains after, as in the image
codec. Training uses a Laplace rate proxy per (level, bin).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

FRAME = 320  # 20 ms at 16 kHz
BINS = FRAME


def mdct_basis(n=FRAME):
    """[n, 2n] MDCT matrix with a sine window, scaled so that analysis followed by synthesis with
    its transpose and overlap-add reconstructs the input exactly."""
    k = torch.arange(n, dtype=torch.float64).view(n, 1)
    t = torch.arange(2 * n, dtype=torch.float64).view(1, 2 * n)
    window = torch.sin(math.pi * (t + 0.5) / (2 * n))
    basis = torch.cos(math.pi / n * (t + 0.5 + n / 2) * (k + 0.5))
    return (math.sqrt(2.0 / n) * window * basis).float()


class AudioEncoder(nn.Module):
    def __init__(self, hidden=256):
        super().__init__()
        self.transform = nn.Linear(2 * FRAME, BINS, bias=False)
        self.refine_a = nn.Linear(BINS, hidden)
        self.refine_b = nn.Linear(hidden, BINS)
        nn.init.zeros_(self.refine_b.weight)
        nn.init.zeros_(self.refine_b.bias)

    def forward(self, frame, state):
        c = self.transform(torch.cat([state, frame], dim=-1))
        return c + self.refine_b(F.leaky_relu(self.refine_a(c), 0.1)), frame


class AudioDecoder(nn.Module):
    def __init__(self, hidden=256):
        super().__init__()
        self.inverse = nn.Linear(BINS, 2 * FRAME, bias=False)
        self.refine_a = nn.Linear(BINS, hidden)
        self.refine_b = nn.Linear(hidden, 2 * FRAME)
        nn.init.zeros_(self.refine_b.weight)
        nn.init.zeros_(self.refine_b.bias)

    def forward(self, latent, state):
        y = self.inverse(latent) + self.refine_b(F.leaky_relu(self.refine_a(latent), 0.1))
        return y[..., :FRAME] + state, y[..., FRAME:]


class AudioCodec(nn.Module):
    def __init__(self, levels=6, hidden=256, gain_range=(4.0, 300.0)):
        super().__init__()
        self.encoder = AudioEncoder(hidden)
        self.decoder = AudioDecoder(hidden)
        self.levels = levels
        basis = mdct_basis()
        with torch.no_grad():
            self.encoder.transform.weight.copy_(basis)
            self.decoder.inverse.weight.copy_(basis.t())
        lo, hi = math.log(gain_range[0]), math.log(gain_range[1])
        init = torch.linspace(lo, hi, levels).view(levels, 1).repeat(1, BINS)
        self.log_gain = nn.Parameter(init)
        self.log_igain = nn.Parameter(-init.clone())
        self.log_scale = nn.Parameter(torch.zeros(levels, BINS))

    def entropy_parameters(self):
        return [self.log_gain, self.log_igain, self.log_scale]

    def rate_bits(self, noisy, level):
        b = torch.exp(self.log_scale[level]) + 0.02

        def cdf(v):
            return 0.5 + 0.5 * torch.sign(v) * (1 - torch.exp(-torch.abs(v) / b))

        p = cdf(noisy + 0.5) - cdf(noisy - 0.5)
        return -torch.log2(torch.clamp(p, min=1e-9)).sum()

    def forward(self, clip, level):
        """clip [B, T * FRAME] -> reconstruction [B, (T-1) * FRAME] aligned with clip[:, :-FRAME]
        (one frame of delay), and the total bits."""
        batch, total = clip.shape
        frames = clip.view(batch, total // FRAME, FRAME)
        g = torch.exp(self.log_gain[level])
        ig = torch.exp(self.log_igain[level])
        enc_state = torch.zeros(batch, FRAME)
        dec_state = torch.zeros(batch, FRAME)
        outputs = []
        bits = 0.0
        for t in range(frames.shape[1]):
            latent, enc_state = self.encoder(frames[:, t], enc_state)
            ys = latent * g
            noisy = ys + torch.empty_like(ys).uniform_(-0.5, 0.5)
            hard = ys + (torch.round(ys) - ys).detach()
            bits = bits + self.rate_bits(noisy, level)
            out, dec_state = self.decoder(hard * ig, dec_state)
            outputs.append(out)
        # output t reconstructs input frame t-1
        recon = torch.stack(outputs[1:], dim=1).reshape(batch, -1)
        return recon, bits
