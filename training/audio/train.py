#!/usr/bin/python3
"""Trains the default audio codec (aic-audio-v1) on ../shared/data/speech/ljspeech only.

    /usr/bin/python3 training/audio/train.py --data ../shared/data/speech/ljspeech \
        --out training/audio/checkpoints/aic-audio-v1.pt --minutes 25 --seed 1

Clips are resampled to 16 kHz, cut into random 0.4 s segments (20 frames) and coded through the
streaming model frame by frame, so the state handling is trained as it runs. Loss per step:
lambda[level] * MSE * 1e4 + kbit/s of the rate proxy, the level drawn at random per step.
Augmentation: random gain (-20..0 dB) so that quiet talkers are seen too.
"""
import argparse
import glob
import math
import os
import random
import sys
import time
import wave

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from model import FRAME, AudioCodec  # noqa: E402
from train_common import apply_schedule, make_optimizer, seed_everything  # noqa: E402

RATE = 16000
# Chosen to spread the levels over roughly 6..64 kbit/s on speech.
LAMBDAS = [0.4, 1.26, 4.0, 12.5, 40.0, 125.0]
CONFIG = dict(levels=6, hidden=256)


def read_wav(path):
    with wave.open(path, "rb") as w:
        rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2" if width == 2 else None)
    if width != 2:
        raise SystemExit(f"{path}: only 16-bit PCM is read here")
    x = data.reshape(-1, channels).mean(axis=1).astype(np.float32) / 32768.0
    return x, rate


def resample(x, src, dst):
    """Windowed-sinc low-pass at the lower Nyquist, then linear interpolation onto the new grid."""
    if src == dst:
        return x
    t = torch.from_numpy(x).view(1, 1, -1)
    if dst < src:
        cutoff = 0.95 * dst / 2 / src  # in cycles per source sample
        n = torch.arange(-64, 65, dtype=torch.float32)
        h = 2 * cutoff * torch.sinc(2 * cutoff * n) * torch.kaiser_window(129, periodic=False, beta=8.0)
        t = F.conv1d(F.pad(t, (64, 64), mode="reflect"), (h / h.sum()).view(1, 1, -1))
    pos = torch.arange(0, int(len(x) * dst / src)) * (src / dst)
    i0 = pos.floor().long().clamp(max=len(x) - 2)
    frac = (pos - i0.float()).view(1, 1, -1)
    s = t.view(-1)
    return ((1 - frac) * s[i0] + frac * s[i0 + 1]).view(-1).numpy()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=25)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--init", help="fine-tune from this checkpoint")
    ap.add_argument("--lambda-scale", type=float, default=1.0, help="multiply every level's lambda (moves all rate points)")
    ap.add_argument("--pitch-augment", action="store_true",
                    help="add copies of each clip played 0.8x, 0.9x and 1.12x as fast (lower and higher voices)")
    args = ap.parse_args()
    if "vctk" in args.data or "music" in args.data:
        raise SystemExit("refusing to train on an evaluation set")
    seed_everything(args.seed, args.threads)

    clips = []
    for f in sorted(glob.glob(os.path.join(args.data, "*.wav"))):
        x, rate = read_wav(f)
        clips.append(resample(x, rate, RATE))
        if args.pitch_augment:
            # Resampling by 1/f and playing at 16 kHz shifts pitch and formants by f: one reader
            # becomes a range of lower and higher voices.
            for factor in (0.8, 0.9, 1.12):
                clips.append(resample(x, rate, int(round(RATE / factor))))
    lambdas = [l * args.lambda_scale for l in LAMBDAS]
    print(f"{len(clips)} clips, {sum(len(c) for c in clips) / RATE:.0f} s at {RATE} Hz", flush=True)
    seg = (args.frames + 1) * FRAME

    model = AudioCodec(**CONFIG)
    if args.init:
        model.load_state_dict(torch.load(args.init, map_location="cpu")["state"])
        print(f"fine-tuning from {args.init}", flush=True)
    opt = make_optimizer(model, args.lr)
    start = time.time()
    budget = args.minutes * 60
    step = 0
    stats = {l: [0.0, 0.0, 0] for l in range(CONFIG["levels"])}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)

    def save(tag):
        torch.save({"config": CONFIG, "lambdas": lambdas, "state": model.state_dict(), "steps": step,
                    "seconds": time.time() - start, "seed": args.seed, "rate": RATE}, args.out)
        print(f"[{tag}] saved {args.out} at step {step}", flush=True)

    while time.time() - start < budget and not (args.max_steps and step >= args.max_steps):
        apply_schedule(opt, (time.time() - start) / budget)
        batch = torch.empty(args.batch, seg)
        for i in range(args.batch):
            c = random.choice(clips)
            o = random.randint(0, len(c) - seg)
            batch[i] = torch.from_numpy(c[o : o + seg].copy()) * 10 ** (-random.uniform(0, 20) / 20)
        level = random.randrange(CONFIG["levels"])
        recon, bits = model(batch, level)
        target = batch[:, : recon.shape[1]]
        mse = torch.mean((recon - target) ** 2)
        kbps = bits / (args.batch * (args.frames + 1)) * 50 / 1000  # bits per frame * 50 frames/s
        loss = lambdas[level] * mse * 1e4 + kbps
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        snr = 10 * math.log10(float(torch.mean(target ** 2)) / max(float(mse), 1e-12))
        s = stats[level]
        s[0] += float(kbps)
        s[1] += snr
        s[2] += 1
        step += 1
        if step % 200 == 0:
            parts = [f"L{l}:{b / n:.1f}kbps/{p / n:.1f}dB" for l, (b, p, n) in stats.items() if n]
            print(f"step {step} {(time.time() - start) / 60:.1f}min " + " ".join(parts), flush=True)
            stats = {l: [0.0, 0.0, 0] for l in range(CONFIG["levels"])}
    save("final")


if __name__ == "__main__":
    main()
