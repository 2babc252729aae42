#!/usr/bin/python3
"""Exports a trained aic-audio checkpoint as a codec model following the model contract
(docs/model-contract.md, audio section): encoder.onnx and decoder.onnx with their state as
explicit inputs and outputs, and manifest.json with per-level gains and empirical CDF tables
counted on the training speech (LJ Speech) only.

    /usr/bin/python3 training/audio/export.py --checkpoint training/audio/checkpoints/aic-audio-v1.pt \
        --data ../shared/data/speech/ljspeech --out models/aic-audio-v1

Options for the second version of the format (aic-audio-v2, see training/README.md):
  --frame-scale ALPHA,REF,STEP  code each frame's level (log2 of the latent RMS in STEP steps, one
                                symbol coded after the bins) and quantise with the gains divided by
                                (2^(level*STEP) / REF)^ALPHA, so that a quiet talker or a quiet
                                passage is not starved of bits by gains fitted to loud speech;
  --levels SPEC                 which of the checkpoint's levels to ship, and extra ones above
                                them as "L*F" (level L's gains times F), e.g. "1,2,3,4,5,5*1.8";
  --strip-refinement            leave the refinement layers out of the graphs (the transform alone);
  --mdct                        ship the exact sine-window MDCT as the transform (implies
                                --strip-refinement), with the checkpoint's gains carried over: each
                                bin's gain is divided by the least-squares scale between the MDCT's
                                coefficient and the learned transform's on the training speech, and
                                each level keeps its learned shrinkage (inverse gain x gain, relative
                                to the top trained level). The learned transform, without its
                                refinement layers, does not reconstruct exactly (SI-SNR stalls near
                                25 dB on unseen voices); the MDCT does, at the same rate and score.
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
from model import BINS, FRAME, AudioCodec, mdct_basis  # noqa: E402
from train import RATE, read_wav, resample  # noqa: E402

CONTEXTS = 9
SCALE_MIN, SCALE_MAX = -48, 8  # frame level index range (log2 RMS from -24 to 4 at STEP 0.5)


class Transform(torch.nn.Module):
    """One half of the codec without its refinement layers: the learned lapped transform."""

    def __init__(self, part, encoder):
        super().__init__()
        self.part, self.encoder = part, encoder

    def forward(self, x, state):
        if self.encoder:
            return self.part.transform(torch.cat([state, x], dim=-1)), x
        y = self.part.inverse(x)
        return y[..., :FRAME] + state, y[..., FRAME:]


def parse_levels(spec, gains, igains):
    """"1,2,5*1.8" -> (gains, inverse gains, description) for the shipped levels."""
    g, ig, desc = [], [], []
    for item in spec.split(","):
        base, _, factor = item.partition("*")
        f = float(factor) if factor else 1.0
        g.append(gains[int(base)] * f)
        ig.append(igains[int(base)] / f)
        desc.append(item)
    return np.stack(g).astype(np.float32), np.stack(ig).astype(np.float32), desc


def clip_frames(x):
    """A clip as rows of [previous frame, frame] (the encoder's input with its state)."""
    frames = x[: len(x) // FRAME * FRAME].reshape(-1, FRAME)
    return np.hstack([np.vstack([np.zeros((1, FRAME), np.float32), frames[:-1]]), frames])


def port_to_mdct(model, clips):
    """Replaces the learned transform by the MDCT and carries the gains over (see --mdct)."""
    learned = model.encoder.transform.weight.detach().numpy().astype(np.float64)
    basis = mdct_basis().numpy().astype(np.float64)
    x = np.vstack([clip_frames(c) for c in clips]).astype(np.float64)
    cl, cm = x @ learned.T, x @ basis.T
    scale = np.sum(cm * cl, axis=0) / np.maximum(np.sum(cl * cl, axis=0), 1e-30)  # cm ~ scale * cl per bin
    gains = torch.exp(model.log_gain).detach().numpy().astype(np.float64)
    igains = torch.exp(model.log_igain).detach().numpy().astype(np.float64)
    # Reconstruction points only ever move towards zero (bins the top level nearly mutes would
    # otherwise be amplified at the lower levels).
    shrink = np.minimum(1.0, (gains * igains) / (gains[-1] * igains[-1]))
    new_gains = gains / np.abs(scale)
    with torch.no_grad():
        model.encoder.transform.weight.copy_(torch.from_numpy(basis).float())
        model.decoder.inverse.weight.copy_(torch.from_numpy(basis.T.copy()).float())
        model.log_gain.copy_(torch.from_numpy(np.log(new_gains)).float())
        model.log_igain.copy_(torch.from_numpy(np.log(shrink / new_gains)).float())
    print(f"MDCT: per-bin scale {np.abs(scale).min():.3f}..{np.abs(scale).max():.3f}; shrinkage {shrink.mean(axis=1).round(3).tolist()}", flush=True)


# Table groups for --group-tables: the 16 lowest bins (where speech's statistics change fastest
# from bin to bin) each have their own tables; above them, bands of 8 to 32 bins share tables.
GROUP_EDGES = list(range(17)) + [24, 32, 40, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 288, 320]


def table_groups(channels):
    """Per coded channel, its table group; a frame-level index channel (beyond BINS) gets its own."""
    groups = np.searchsorted(GROUP_EDGES, np.arange(BINS), side="right") - 1
    return [int(g) for g in groups] + [int(groups[-1]) + 1 + i for i in range(channels - BINS)]


def frame_scale_index(lat, step):
    rms = np.sqrt(np.mean(lat.astype(np.float64) ** 2, axis=-1))
    return np.clip(np.round(np.log2(np.maximum(rms, 1e-30)) / step), SCALE_MIN, SCALE_MAX).astype(np.int64)


def frame_scale(index, alpha, ref, step):
    return (2.0 ** (index * step) / ref) ** alpha


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
    ap.add_argument("--frame-scale", help="ALPHA,REF,STEP: code a per-frame level and scale the quantiser by it")
    ap.add_argument("--levels", help="levels to ship, e.g. 1,2,3,4,5,5*1.8 (default: the checkpoint's)")
    ap.add_argument("--group-tables", action="store_true", help="share tables between neighbouring bins (GROUP_EDGES): a smaller manifest")
    ap.add_argument("--strip-refinement", action="store_true", help="export the transform alone (implies --drop-refinement)")
    ap.add_argument("--mdct", action="store_true", help="ship the exact MDCT with the gains carried over (implies --strip-refinement)")
    ap.add_argument("--description", default="Learned lapped transform (MDCT-initialised) with refinements; 20 ms frames at 16 kHz; per-level gains; context-coded coefficients.")
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
    args.strip_refinement = args.strip_refinement or args.mdct
    clips = []
    for path in sorted(glob.glob(os.path.join(args.data, "*.wav"))):
        x, rate = read_wav(path)
        clips.append(resample(x, rate, RATE))
    if args.mdct:
        port_to_mdct(model, clips)
    if args.drop_refinement or args.strip_refinement:
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
        enc = Transform(model.encoder, True) if args.strip_refinement else model.encoder
        dec = Transform(model.decoder, False) if args.strip_refinement else model.decoder
        torch.onnx.export(enc, (f, f), enc_path, input_names=["frame", "state"], output_names=["latent", "next_state"], opset_version=13)
        torch.onnx.export(dec, (torch.zeros(1, BINS), f), dec_path, input_names=["latent", "state"], output_names=["frame", "next_state"], opset_version=13)
        gains = torch.exp(model.log_gain).numpy().astype(np.float32)
        igains = torch.exp(model.log_igain).numpy().astype(np.float32)
        level_desc = [str(i) for i in range(levels)]
        if args.levels:
            gains, igains, level_desc = parse_levels(args.levels, gains, igains)
            levels = len(level_desc)
        latents = []
        for x in clips:
            frames = torch.from_numpy(x[: len(x) // FRAME * FRAME].copy()).view(-1, FRAME)
            state = torch.zeros(1, FRAME)
            for t in range(frames.shape[0]):
                lat, state = enc(frames[t : t + 1], state)
                latents.append(lat[0].numpy())
        lat = np.stack(latents)  # [N, BINS]
    print(f"{lat.shape[0]} training frames", flush=True)
    max_range = 255
    tables = []
    scale = None
    if args.frame_scale:
        alpha, ref, step = (float(v) for v in args.frame_scale.split(","))
        index = frame_scale_index(lat, step)
        scale = dict(alpha=alpha, reference=ref, stepLog2=step, min=SCALE_MIN, max=SCALE_MAX)
        divisor = frame_scale(index, alpha, ref, step).astype(np.float32)[:, None]
    channels = BINS + (1 if scale else 0)
    groups = table_groups(channels) if args.group_tables else list(range(channels))
    group_count = max(groups) + 1
    members = [[k for k in range(channels) if groups[k] == g] for g in range(group_count)]
    for level in range(levels):
        q = np.round(lat / divisor * gains[level]) if scale else np.round(lat * gains[level])
        q = q.astype(np.int64)
        if scale:
            q = np.concatenate([q, index[:, None]], axis=1)  # the level index is coded after the bins
        ctx = contexts_of(q)
        qc = np.clip(q, -max_range - 1, max_range + 1)
        for g in range(group_count):
            counts = np.zeros((CONTEXTS, 2 * max_range + 1), dtype=np.int64)
            v = qc[:, members[g]].ravel()
            idx = np.where(np.abs(v) <= max_range, v + max_range, np.where(v > 0, 2 * max_range, 0))
            np.add.at(counts, (ctx[:, members[g]].ravel(), idx), 1)
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
        "description": args.description,
        "encoder": {"file": "encoder.onnx", "sha256": sha256(enc_path), "input": "frame", "output": "latent", "stateInput": "state", "stateOutput": "next_state"},
        "decoder": {"file": "decoder.onnx", "sha256": sha256(dec_path), "input": "latent", "output": "frame", "stateInput": "state", "stateOutput": "next_state"},
        "audio": {"sampleRate": RATE, "frameSamples": FRAME, "channels": 1, "valueRange": [-1, 1], "delayFrames": 1},
        "latent": {"channels": BINS},
        "levels": [
            {"index": i, "from": level_desc[i], "gains": [float(v) for v in gains[i]], "inverseGains": [float(v) for v in igains[i]]}
            for i in range(levels)
        ],
        **({"frameScale": scale} if scale else {}),
        "entropy": {"coder": "rans-byte-32", "precision": 16, "contexts": CONTEXTS, "context": "min(2, |q[k-1]| + |q[k-2]|) over the frame's bins" + (" then its level index" if scale else ""), **({"groups": groups} if args.group_tables else {}), "tables": tables},
        "training": {"data": "LJ Speech (32 clips, 222 s)", "checkpoint": os.path.basename(args.checkpoint), "steps": ck.get("steps"), "seconds": round(ck.get("seconds", 0)), "seed": ck.get("seed"),
                     **({"transform": "exact MDCT; gains carried over from the learned transform (export.py --mdct)"} if args.mdct else {}),
                     **({"levels": args.levels} if args.levels else {})},
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, separators=(",", ":"))
    print("wrote", args.out, "with", len(tables), "tables")


if __name__ == "__main__":
    main()
