#!/usr/bin/python3
"""Trains the default image codec (aic-image-v1) on ../shared/data/train-images only.

    /usr/bin/python3 training/image/train.py --data ../shared/data/train-images \
        --out training/image/checkpoints/aic-image-v1.pt --minutes 50 --seed 1

Loss per step: lambda[level] * 255^2 * MSE + bits per pixel, with the quality level drawn at
random per step so that one network serves all levels (per-level gains). The lambdas are the
usual MSE ladder of learned-compression papers. Runs on CPU (Debian's python3-torch); a
checkpoint is written every few minutes and at the end, so a run can be stopped early.
"""
import argparse
import glob
import math
import os
import random
import sys
import time

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from model import BLOCK, COEFFS, GainedCodec  # noqa: E402
from train_common import apply_schedule, make_optimizer, seed_everything  # noqa: E402

LAMBDAS = [0.0018, 0.0035, 0.0067, 0.0130, 0.0250, 0.0483, 0.0932, 0.1800]
CONFIG = dict(levels=8, contexts=4, hidden=192)


def load_images(folder):
    files = sorted(glob.glob(os.path.join(folder, "*.png")))
    if not files:
        raise SystemExit(f"no PNG files in {folder}")
    images = []
    for f in files:
        img = np.asarray(Image.open(f).convert("RGB"), dtype=np.uint8)
        images.append(torch.from_numpy(img.copy()).permute(2, 0, 1).contiguous())
    return files, images


def block_klt(images, samples=200000, seed=0):
    """Orthonormal KLT of 8x8 RGB blocks (centred at 0.5), rows sorted by decreasing variance."""
    g = torch.Generator().manual_seed(seed)
    blocks = []
    per = samples // len(images) + 1
    for img in images:
        _, h, w = img.shape
        ys = torch.randint(0, h - BLOCK, (per,), generator=g)
        xs = torch.randint(0, w - BLOCK, (per,), generator=g)
        for y, x in zip(ys.tolist(), xs.tolist()):
            blocks.append(img[:, y : y + BLOCK, x : x + BLOCK])
    b = torch.stack(blocks).float() / 255.0 - 0.5  # [N, 3, 8, 8]
    # the channel order of pixel_unshuffle: c * 64 + dy * 8 + dx
    v = b.reshape(b.shape[0], COEFFS).double()
    cov = v.t() @ v / v.shape[0]
    evals, evecs = torch.linalg.eigh(cov)
    order = torch.argsort(evals, descending=True)
    return evecs[:, order].t().float().contiguous()


def batch(images, size, count):
    out = torch.empty(count, 3, size, size)
    for i in range(count):
        img = random.choice(images)
        _, h, w = img.shape
        y = random.randint(0, h - size)
        x = random.randint(0, w - size)
        crop = img[:, y : y + size, x : x + size].float() / 255.0
        if random.random() < 0.5:
            crop = crop.flip(2)
        out[i] = crop
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=50)
    ap.add_argument("--batch", type=int, default=12)
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: time only)")
    ap.add_argument("--init", help="start from this checkpoint (fine-tuning) instead of the KLT")
    ap.add_argument("--decay-from", type=float, default=0.7, help="fraction of the budget after which the learning rate decays")
    args = ap.parse_args()

    if "kodak" in args.data or "vctk" in args.data or "music" in args.data:
        raise SystemExit("refusing to train on an evaluation set")
    seed_everything(args.seed, args.threads)

    files, images = load_images(args.data)
    print(f"{len(files)} training images from {args.data}", flush=True)
    model = GainedCodec(**CONFIG)
    if args.init:
        model.load_state_dict(torch.load(args.init, map_location="cpu")["state"])
        print(f"fine-tuning from {args.init}", flush=True)
    else:
        model.init_transform(block_klt(images, seed=args.seed))
    opt = make_optimizer(model, args.lr)
    start = time.time()
    budget = args.minutes * 60
    step = 0
    last_save = start
    stats = {l: [0.0, 0.0, 0] for l in range(CONFIG["levels"])}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)

    def save(tag):
        torch.save({"config": CONFIG, "lambdas": LAMBDAS, "state": model.state_dict(), "steps": step,
                    "seconds": time.time() - start, "seed": args.seed}, args.out)
        print(f"[{tag}] saved {args.out} at step {step}", flush=True)

    while True:
        elapsed = time.time() - start
        if elapsed > budget or (args.max_steps and step >= args.max_steps):
            break
        # learning rate: constant, then a cosine decay over the last 30% of the budget
        frac = elapsed / budget
        lr = args.lr * apply_schedule(opt, frac, args.decay_from)
        level = random.randrange(CONFIG["levels"])
        x = batch(images, args.crop, args.batch)
        x_hat, bits = model(x, level)
        mse = torch.mean((x_hat - x) ** 2)
        bpp = bits / (x.shape[0] * x.shape[2] * x.shape[3])
        loss = LAMBDAS[level] * 255 ** 2 * mse + bpp
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        s = stats[level]
        s[0] += bpp.item()
        s[1] += 10 * math.log10(1 / max(mse.item(), 1e-10))
        s[2] += 1
        step += 1
        if step % 200 == 0:
            parts = []
            for l in range(CONFIG["levels"]):
                b, p, n = stats[l]
                if n:
                    parts.append(f"L{l}:{b / n:.3f}bpp/{p / n:.2f}dB")
            print(f"step {step} {elapsed / 60:.1f}min lr {lr:.2e} " + " ".join(parts), flush=True)
            stats = {l: [0.0, 0.0, 0] for l in range(CONFIG["levels"])}
        if step == 1 or time.time() - last_save > 300:
            save("periodic")
            last_save = time.time()
    save("final")
    print(f"trained {step} steps in {(time.time() - start) / 60:.1f} min", flush=True)


if __name__ == "__main__":
    main()
