#!/usr/bin/python3
"""Exports a trained aic-image checkpoint as a codec model that follows the model contract
(docs/model-contract.md): encoder.onnx, decoder.onnx and manifest.json with per-level gains and
the static CDF tables of the entropy model.

    /usr/bin/python3 training/image/export.py --checkpoint training/image/checkpoints/aic-image-v1.pt \
        --data ../shared/data/train-images --out models/aic-image-v1

The CDF tables are empirical: every training image (never an evaluation image) is encoded at
every level, the quantised latents are counted per (level, channel, context), and the counts
(plus a small smoothing so that no symbol has zero probability) are scaled to 16-bit fixed point.
Deterministic: same checkpoint and images, same files.
"""
import argparse
import glob
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from export_common import MAX_RANGE, PRECISION, sha256, to_table  # noqa: E402
from model import BLOCK, COEFFS, PAD_MULTIPLE, GainedCodec  # noqa: E402

CODER_CONTEXTS = 9  # the C++ coder's context model (native/core/entropy/cdf_tables.h)


def median_residual(q):
    """q [..., H, W] minus its LOCO-I median prediction (native/core/entropy/cdf_tables.cc)."""
    a = np.zeros_like(q)
    b = np.zeros_like(q)
    c = np.zeros_like(q)
    a[..., :, 1:] = q[..., :, :-1]
    b[..., 1:, :] = q[..., :-1, :]
    c[..., 1:, 1:] = q[..., :-1, :-1]
    p = np.where(c >= np.maximum(a, b), np.minimum(a, b), np.where(c <= np.minimum(a, b), np.maximum(a, b), a + b - c))
    p[..., 0, 1:] = q[..., 0, :-1]
    p[..., 1:, 0] = q[..., :-1, 0]
    p[..., 0, 0] = 0
    return q - p


def coded_planes(q, predicted):
    """The values the coder codes: median residuals for predicted channels, else q itself."""
    out = q.copy()
    if predicted.any():
        out[predicted] = median_residual(q[predicted])
    return out


def coder_contexts(q, coded):
    """Contexts of the C++ entropy coder: 3 * spatial + spectral, with spatial = min(2, |left| +
    |top|) of the coded values (residuals on predicted channels) and spectral = min(2, |q[c-1]| +
    |q[c-2]|) at the same place."""
    a = np.abs(coded)
    left = np.zeros_like(a)
    left[:, :, 1:] = a[:, :, :-1]
    top = np.zeros_like(a)
    top[:, 1:, :] = a[:, :-1, :]
    aq = np.abs(q)
    prev = np.zeros_like(aq)
    prev[1:] += aq[:-1]
    prev[2:] += aq[:-2]
    return 3 * np.minimum(2, left + top) + np.minimum(2, prev)


def zero_order_bits(values):
    _, counts = np.unique(values, return_counts=True)
    p = counts / counts.sum()
    return float(-(counts * np.log2(p)).sum())


def pad(x, multiple):
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    return F.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", default="aic-image-v1")
    ap.add_argument("--version", default="1.0.0")
    args = ap.parse_args()
    if "kodak" in args.data:
        raise SystemExit("refusing to build entropy tables from an evaluation set")
    torch.set_num_threads(2)

    ck = torch.load(args.checkpoint, map_location="cpu")
    model = GainedCodec(**ck["config"])
    model.load_state_dict(ck["state"])
    model.eval()
    levels, contexts = model.levels, CODER_CONTEXTS
    os.makedirs(args.out, exist_ok=True)
    enc_path = os.path.join(args.out, "encoder.onnx")
    dec_path = os.path.join(args.out, "decoder.onnx")

    with torch.no_grad():
        sample = torch.rand(1, 3, 64, 96)
        torch.onnx.export(model.encoder, sample, enc_path, input_names=["image"], output_names=["latent"], opset_version=13,
                          dynamic_axes={"image": {2: "height", 3: "width"}, "latent": {2: "lh", 3: "lw"}})
        latent = model.encoder(sample)
        torch.onnx.export(model.decoder, latent, dec_path, input_names=["latent"], output_names=["image"], opset_version=13,
                          dynamic_axes={"latent": {2: "lh", 3: "lw"}, "image": {2: "height", 3: "width"}})

        gains = torch.exp(model.log_gain).numpy().astype(np.float32)
        igains = torch.exp(model.log_igain).numpy().astype(np.float32)
        counts = np.zeros((levels, COEFFS, contexts, 2 * MAX_RANGE + 1), dtype=np.int64)
        files = sorted(glob.glob(os.path.join(args.data, "*.png")))
        latents = []
        for f in files:
            img = torch.from_numpy(np.asarray(Image.open(f).convert("RGB"), dtype=np.uint8).copy()).permute(2, 0, 1).float() / 255.0
            latents.append(model.encoder(pad(img.unsqueeze(0), PAD_MULTIPLE))[0].numpy())

        def quantise(y, level):
            return np.round(y * gains[level].reshape(-1, 1, 1)).astype(np.int64)

        # Which channels to code as median-prediction residuals: those whose residuals have less
        # zero-order entropy than their values, summed over all levels and training images.
        raw_bits = np.zeros(COEFFS)
        res_bits = np.zeros(COEFFS)
        for y in latents:
            for level in range(levels):
                q = quantise(y, level)
                r = median_residual(q)
                for c in range(COEFFS):
                    raw_bits[c] += zero_order_bits(q[c])
                    res_bits[c] += zero_order_bits(r[c])
        predicted = res_bits < 0.97 * raw_bits
        print("predicted channels:", np.nonzero(predicted)[0].tolist(), flush=True)

        for f, y in zip(files, latents):
            for level in range(levels):
                qi = quantise(y, level)
                coded = coded_planes(qi, predicted)
                ctx = coder_contexts(qi, coded)
                qn = np.clip(coded, -MAX_RANGE - 1, MAX_RANGE + 1)
                for c in range(COEFFS):
                    v = qn[c].ravel()
                    k = ctx[c].ravel()
                    keep = np.abs(v) <= MAX_RANGE
                    np.add.at(counts[level, c], (k[keep], v[keep] + MAX_RANGE), 1)
                    # out-of-range values still count towards the escape of their table
                    out = ~keep
                    if out.any():
                        np.add.at(counts[level, c], (k[out], np.where(v[out] > 0, 2 * MAX_RANGE, 0)), 1)
            print("counted", os.path.basename(f), flush=True)

    tables = []
    for level in range(levels):
        for c in range(COEFFS):
            pooled = counts[level, c].sum(axis=0)
            for k in range(contexts):
                h = counts[level, c, k]
                # Few observations: borrow the channel's pooled statistics rather than guess.
                offset, cdf = to_table(h if h.sum() >= 200 else pooled)
                tables.append([offset, cdf])

    manifest = {
        "format": "aic-model",
        "contractVersion": 1,
        "name": args.name,
        "version": args.version,
        "modality": "image",
        "description": "Learned 8x8 block transform (KLT-initialised) with learned refinements, per-level gains and context-coded latents.",
        "encoder": {"file": "encoder.onnx", "sha256": sha256(enc_path), "input": "image", "output": "latent"},
        "decoder": {"file": "decoder.onnx", "sha256": sha256(dec_path), "input": "latent", "output": "image"},
        "input": {"layout": "NCHW", "channels": "RGB", "valueRange": [0, 1]},
        "paddingMultiple": PAD_MULTIPLE,
        "latent": {"channels": COEFFS, "downsample": BLOCK},
        "levels": [
            {"index": i, "lambda": ck.get("lambdas", [None] * levels)[i], "gains": [float(v) for v in gains[i]], "inverseGains": [float(v) for v in igains[i]]}
            for i in range(levels)
        ],
        "entropy": {
            "coder": "rans-byte-32",
            "precision": PRECISION,
            "contexts": contexts,
            "context": "3 * min(2, |left| + |top|) + min(2, |prev1| + |prev2|) (docs/model-contract.md)",
            "predicted": [int(v) for v in predicted],
            "tables": tables,
        },
        "training": {
            "data": "train-images (49 photos; see ../shared/data/README.md)",
            "steps": ck.get("steps"),
            "seconds": round(ck.get("seconds", 0)),
            "seed": ck.get("seed"),
        },
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, separators=(",", ":"))
    print("wrote", args.out, "with", len(tables), "tables")


if __name__ == "__main__":
    main()
