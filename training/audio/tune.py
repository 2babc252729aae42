#!/usr/bin/python3
"""The measurements behind aic-audio-v2's export options (training/README.md), on LJ Speech only.

    /usr/bin/python3 training/audio/tune.py --checkpoint training/audio/checkpoints/aic-audio-v1-ft.pt \\
        --data ../shared/data/speech/ljspeech [--augment]

Tuning set: every 4th LJ Speech clip; with --augment, each of them 6 to 24 dB quieter, some
pitch-shifted, two with generated noise at 35-45 dB SNR. For each quantiser variant and level it
prints the rate (the empirical conditional entropy of the symbols, per-bin tables with the
coder's context, plus the frame level: an estimate, a little under what static tables code) and
the library's audio score of the reconstruction (training/audio/score_pairs.mjs, needs the addon
built). Variants: the learned transform with static gains (v1), the same with the coded frame
level at several exponents, and the MDCT with the gains carried over (v2).
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "common"))
from export import clip_frames, contexts_of, frame_scale, frame_scale_index, port_to_mdct  # noqa: E402
from model import FRAME, AudioCodec  # noqa: E402
from train import RATE, read_wav, resample  # noqa: E402


def tuning_set(paths, augment):
    rng = np.random.default_rng(7)
    clips = []
    for p in paths:
        x, rate = read_wav(p)
        if not augment:
            clips.append(resample(x, rate, RATE).astype(np.float64))
            continue
        for j, (factor, gain_db, snr) in enumerate([(1.0, -6, None), (1.0, -18, 40), (0.85, -12, 45), (1.15, -24, 35)]):
            y = resample(x, rate, int(round(RATE / factor))).astype(np.float64) * 10 ** (gain_db / 20)
            if snr:
                n = rng.standard_normal(len(y))
                if j % 2:  # reddish noise
                    n = np.cumsum(n)
                    n -= np.convolve(n, np.ones(400) / 400, "same")
                y = y + n * np.sqrt(np.mean(y ** 2) / np.mean(n ** 2)) * 10 ** (-snr / 20)
            clips.append(y)
    return [c[: len(c) // FRAME * FRAME] for c in clips]


def context_bits(q):
    """Empirical conditional entropy (bits) of q [frames, bins] given (bin, min(2, |q[k-1]| + |q[k-2]|))."""
    ctx = np.arange(q.shape[1])[None, :] * 3 + contexts_of(q)
    key = ctx.astype(np.int64) * 100003 + np.clip(q, -50000, 50000) + 50000
    bits = 0.0
    for c in np.unique(ctx):
        _, n = np.unique(key[ctx == c], return_counts=True)
        bits -= float((n * np.log2(n / n.sum())).sum())
    return bits


def synthesise(c, inverse):
    y = c @ inverse.T
    out = np.zeros((len(c) + 1) * FRAME)
    for t in range(len(c)):
        out[t * FRAME : (t + 2) * FRAME] += y[t]
    return out[FRAME : FRAME + len(c) * FRAME]


def score(clips, recon):
    with tempfile.TemporaryDirectory() as d:
        for i, (x, y) in enumerate(zip(clips, recon)):
            x.astype(np.float32).tofile(os.path.join(d, f"ref_{i:03d}.f32"))
            np.clip(y, -1, 1).astype(np.float32).tofile(os.path.join(d, f"dec_{i:03d}.f32"))
        return json.loads(subprocess.check_output(["node", os.path.join(HERE, "score_pairs.mjs"), d]))


def run(name, model, clips, seconds, levels, alpha):
    forward = model.encoder.transform.weight.detach().numpy().astype(np.float64)
    inverse = model.decoder.inverse.weight.detach().numpy().astype(np.float64)
    gains = torch.exp(model.log_gain).detach().numpy().astype(np.float64)
    igains = torch.exp(model.log_igain).detach().numpy().astype(np.float64)
    coeffs = [clip_frames(c) @ forward.T for c in clips]
    allc = np.vstack(coeffs)
    index = frame_scale_index(allc, 0.5) if alpha else None
    s = frame_scale(index, alpha, 0.1, 0.5)[:, None] if alpha else 1.0
    for level in levels:
        q = np.round(allc / s * gains[level]).astype(np.int64)
        bits = context_bits(q) + (context_bits(index[:, None] - index.min()) if alpha else 0)
        decoded = q * igains[level] * s
        recon, at = [], 0
        for c in coeffs:
            recon.append(synthesise(decoded[at : at + len(c)], inverse))
            at += len(c)
        m = score(clips, recon)
        print(f"{name:<18} level {level}: {bits / seconds / 1000:5.1f} kbit/s  score {m['score']:.3f}  SI-SNR {m['siSnrDb']:5.1f} dB", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--augment", action="store_true")
    ap.add_argument("--alphas", default="0.35,0.5,0.65,0.8")
    args = ap.parse_args()
    if "vctk" in args.data or "music" in args.data:
        raise SystemExit("refusing to tune on an evaluation set")
    torch.set_num_threads(2)
    ck = torch.load(args.checkpoint, map_location="cpu")
    paths = sorted(glob.glob(os.path.join(args.data, "*.wav")))
    clips = tuning_set(paths[::4], args.augment)
    seconds = sum(len(c) for c in clips) / RATE
    print(f"{len(clips)} clips, {seconds:.0f} s", flush=True)
    model = AudioCodec(**ck["config"])
    model.load_state_dict(ck["state"])
    levels = range(model.levels)
    run("learned, static", model, clips, seconds, levels, 0)
    for alpha in (float(a) for a in args.alphas.split(",")):
        run(f"learned, level^{alpha}", model, clips, seconds, levels, alpha)
    fit = [resample(*read_wav(p), RATE) for p in paths]
    port_to_mdct(model, fit)
    run("MDCT, level^0.5", model, clips, seconds, levels, 0.5)


if __name__ == "__main__":
    main()
