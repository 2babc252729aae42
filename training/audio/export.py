#!/usr/bin/python3
"""Exports a trained aic-audio checkpoint as a codec model following the model contract
(docs/model-contract.md, audio section): encoder.onnx and decoder.onnx with their state as
explicit inputs and outputs, and manifest.json with per-level gains and empirical CDF tables
counted on the training speech (LJ Speech) only.

    /usr/bin/python3 training/audio/export.py --checkpoint training/audio/checkpoints/aic-audio-v1.pt \
        --data ../shared/data/speech/ljspeech --out models/aic-audio-v1
"""
import argparse
import glob
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "common"))
from export_common import sha256, to_table  # noqa: E402
from model import BINS, FRAME, AudioCodec  # noqa: E402
from train import RATE, read_wav, resample  # noqa: E402

CONTEXTS = 9


def contexts_of(q):
    """The C++ coder's contexts for one frame laid out as BINS channels of one position: the
    spatial part is 0 (no neighbours), the spectral part min(2, |q[k-1]| + |q[k-2]|)."""
    a = np.abs(q)
    prev = np.zeros_like(a)
    prev[..., 1:] += a[..., :-1]
    prev[..., 2:] += a[..., :-2]
    return np.minimum(2, prev)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", default="aic-audio-v1")
    ap.add_argument("--version", default="1.0.0")
    ap.add_argument("--drop-refinement", action="store_true",
                    help="zero the residual refinement layers (keep the learned transform and gains): "
                         "the refinements are not windowed, and once trained they can leave steps at frame edges")
    args = ap.parse_args()
    if "vctk" in args.data or "music" in args.data:
        raise SystemExit("refusing to build tables from an evaluation set")
    torch.set_num_threads(2)
    ck = torch.load(args.checkpoint, map_location="cpu")
    model = AudioCodec(**ck["config"])
    model.load_state_dict(ck["state"])
    model.eval()
    if args.drop_refinement:
        with torch.no_grad():
            for layer in (model.encoder.refine_b, model.decoder.refine_b):
                layer.weight.zero_()
                layer.bias.zero_()
    levels = model.levels
    os.makedirs(args.out, exist_ok=True)
    enc_path = os.path.join(args.out, "encoder.onnx")
    dec_path = os.path.join(args.out, "decoder.onnx")
    with torch.no_grad():
        f = torch.zeros(1, FRAME)
        torch.onnx.export(model.encoder, (f, f), enc_path, input_names=["frame", "state"], output_names=["latent", "next_state"], opset_version=13)
        torch.onnx.export(model.decoder, (torch.zeros(1, BINS), f), dec_path, input_names=["latent", "state"], output_names=["frame", "next_state"], opset_version=13)
        gains = torch.exp(model.log_gain).numpy().astype(np.float32)
        igains = torch.exp(model.log_igain).numpy().astype(np.float32)
        latents = []
        for path in sorted(glob.glob(os.path.join(args.data, "*.wav"))):
            x, rate = read_wav(path)
            x = resample(x, rate, RATE)
            frames = torch.from_numpy(x[: len(x) // FRAME * FRAME].copy()).view(-1, FRAME)
            state = torch.zeros(1, FRAME)
            for t in range(frames.shape[0]):
                lat, state = model.encoder(frames[t : t + 1], state)
                latents.append(lat[0].numpy())
        lat = np.stack(latents)  # [N, BINS]
    print(f"{lat.shape[0]} training frames", flush=True)
    max_range = 255
    tables = []
    for level in range(levels):
        q = np.round(lat * gains[level]).astype(np.int64)
        ctx = contexts_of(q)
        qc = np.clip(q, -max_range - 1, max_range + 1)
        for k in range(BINS):
            counts = np.zeros((CONTEXTS, 2 * max_range + 1), dtype=np.int64)
            v = qc[:, k]
            idx = np.where(np.abs(v) <= max_range, v + max_range, np.where(v > 0, 2 * max_range, 0))
            np.add.at(counts, (ctx[:, k], idx), 1)
            pooled = counts.sum(axis=0)
            for c in range(CONTEXTS):
                h = counts[c]
                tables.append(list(to_table(h if h.sum() >= 200 else pooled)))
    manifest = {
        "format": "aic-model",
        "contractVersion": 1,
        "name": args.name,
        "version": args.version,
        "modality": "audio",
        "description": "Learned lapped transform (MDCT-initialised) with refinements; 20 ms frames at 16 kHz; per-level gains; context-coded coefficients.",
        "encoder": {"file": "encoder.onnx", "sha256": sha256(enc_path), "input": "frame", "output": "latent", "stateInput": "state", "stateOutput": "next_state"},
        "decoder": {"file": "decoder.onnx", "sha256": sha256(dec_path), "input": "latent", "output": "frame", "stateInput": "state", "stateOutput": "next_state"},
        "audio": {"sampleRate": RATE, "frameSamples": FRAME, "channels": 1, "valueRange": [-1, 1], "delayFrames": 1},
        "latent": {"channels": BINS},
        "levels": [
            {"index": i, "lambda": ck["lambdas"][i], "gains": [float(v) for v in gains[i]], "inverseGains": [float(v) for v in igains[i]]}
            for i in range(levels)
        ],
        "entropy": {"coder": "rans-byte-32", "precision": 16, "contexts": CONTEXTS, "context": "min(2, |q[k-1]| + |q[k-2]|) over the frame's bins", "tables": tables},
        "training": {"data": "LJ Speech (32 clips, 222 s)", "steps": ck.get("steps"), "seconds": round(ck.get("seconds", 0)), "seed": ck.get("seed")},
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, separators=(",", ":"))
    print("wrote", args.out, "with", len(tables), "tables")


if __name__ == "__main__":
    main()
