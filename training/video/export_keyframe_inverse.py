#!/usr/bin/python3
"""Exports the keyframe reference transform of models/aic-inter-v1 from the image model's decoder.

    /usr/bin/python3 training/video/export_keyframe_inverse.py \
        --decoder models/aic-image-v1/decoder.onnx --out models/aic-inter-v1/keyframe-inverse.bin \
        --check-data ../shared/data/train-images

A keyframe is coded by aic-image-v1, whose decoder computes blocks = inverse(y) + refine_out(h),
then pixel_shuffle(blocks, 8) + 0.5. The reference a P-frame predicts from is the linear part
only: inverse(y) + inverse.bias + 0.5, pixel-shuffled, times 255 for pixels; the C++ core
computes it in fixed point so that sender and receiver hold the same bits. This script writes:

    192 * 192 int16 LE   Wq[o][i] = round(W[o][i] * 2^15), row-major [out][in]   (weightShift 15)
    192       int32 LE   bq[o]    = round((bias[o] + 0.5) * 255 * 2^15)          (biasShift 15)

so that, for y in latent units (symbol x inverse gain), pixel[o] = (sum_i Wq[o][i] * 255 * y[i]
+ bq[o]) / 2^15. Output channel o = c*64 + dy*8 + dx (c = R, G, B) lands on pixel (8*by + dy,
8*bx + dx) of colour plane c: the order of torch's pixel_shuffle and of ONNX DepthToSpace mode CRD
(the decoder graph's), both verified below.

The check (cheap, about 10 s): two training images are encoded with the image model's encoder
(its ONNX initializers loaded into training/image/model.py's Encoder, since onnxruntime is not
available to Python here), quantised at a few levels with the manifest's gains, dequantised, and
the linear reconstruction is computed twice: in float from the ONNX initializers, and from the
exported integers. The largest absolute pixel difference must stay below 1 (it fails otherwise).
It also reports how far the linear reference lies from the source and from the full decoder's
output (information only; the refinement is what the linear reference leaves out by design).

The bias. In decoder.onnx, refine_out.bias is an Identity of inverse.bias: the exporter merged
the two because training left them exactly equal (both start at zero and, added to the same
output, get the same gradients). The full decoder therefore adds that bias twice. The default
export follows the reference definition (inverse(y) + inverse.bias + 0.5); --include-refine-bias
folds refine_out.bias in as well (the bias twice), which the check shows to be a much closer
reference at the higher levels. The choice is recorded nowhere but in this file's command line.
"""
import argparse
import glob
import hashlib
import json
import os
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "image"))
from model import BLOCK, COEFFS, Decoder, Encoder  # noqa: E402

WEIGHT_SHIFT = 15
BIAS_SHIFT = 15
EVALUATION_SETS = ("kodak", "video", "vctk", "music")


def initializers(path):
    m = onnx.load(path)
    return {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}, m


def check_channel_order(decoder_model):
    """o = c*64 + dy*8 + dx, against torch's pixel_shuffle and ONNX DepthToSpace (CRD)."""
    modes = [onnx.helper.get_attribute_value(a) for n in decoder_model.graph.node if n.op_type == "DepthToSpace" for a in n.attribute if a.name == "mode"]
    blocks = [onnx.helper.get_attribute_value(a) for n in decoder_model.graph.node if n.op_type == "DepthToSpace" for a in n.attribute if a.name == "blocksize"]
    if modes != [b"CRD"] or blocks != [BLOCK]:
        raise SystemExit(f"decoder graph: expected one DepthToSpace(blocksize 8, mode CRD), found modes {modes} blocksizes {blocks}")
    bh, bw = 3, 5
    x = torch.arange(COEFFS * bh * bw, dtype=torch.float64).view(1, COEFFS, bh, bw)
    shuffled = F.pixel_shuffle(x, BLOCK)[0].numpy()
    # ONNX DepthToSpace CRD, written out from the operator's definition
    crd = x[0].numpy().reshape(COEFFS // (BLOCK * BLOCK), BLOCK, BLOCK, bh, bw).transpose(0, 3, 1, 4, 2).reshape(3, bh * BLOCK, bw * BLOCK)
    mine = np.zeros_like(shuffled)
    xn = x[0].numpy()
    for c in range(3):
        for dy in range(BLOCK):
            for dx in range(BLOCK):
                mine[c, dy::BLOCK, dx::BLOCK] = xn[c * 64 + dy * 8 + dx]
    if not (np.array_equal(mine, shuffled) and np.array_equal(mine, crd)):
        raise SystemExit("channel order o = c*64 + dy*8 + dx does not match pixel_shuffle / DepthToSpace CRD")
    print("channel order o = c*64 + dy*8 + dx: matches torch pixel_shuffle and ONNX DepthToSpace CRD")


def quantise_weights(W, b):
    """W [192, 192], b [192] -> int16 weights at 2^15, int32 biases (with +0.5 and x255) at 2^15."""
    scale = 1 << WEIGHT_SHIFT
    peak = float(np.abs(W).max())
    Wq = np.round(W.astype(np.float64) * scale)
    if Wq.max() > 32767 or Wq.min() < -32768:
        raise SystemExit(f"inverse.weight: max |W| = {peak:.6f} does not fit int16 at 2^{WEIGHT_SHIFT} (needs |W| < 1)")
    bq = np.round((b.astype(np.float64) + 0.5) * 255.0 * (1 << BIAS_SHIFT))
    if bq.max() > 2**31 - 1 or bq.min() < -(2**31):
        raise SystemExit("inverse.bias does not fit int32 at 2^15 x 255")
    return Wq.astype(np.int16), bq.astype(np.int32), peak


def load_rgb(path, size=256):
    img = Image.open(path).convert("RGB")
    w, h = img.size
    left, top = (w - size) // 2, (h - size) // 2
    return np.asarray(img.crop((left, top, left + size, top + size)), dtype=np.float32) / 255.0


def check(data, enc_init, dec_init, manifest, Wq, bq, refine_bias_in):
    images = sorted(glob.glob(os.path.join(data, "*.png")))[:2]
    if len(images) < 2:
        raise SystemExit(f"check: need 2 PNG images in {data}")
    enc = Encoder()
    enc.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in enc_init.items()})
    dec = Decoder()
    state = {k: torch.from_numpy(v.copy()) for k, v in dec_init.items()}
    state.setdefault("refine_out.bias", state["inverse.bias"].clone())  # the graph aliases it (Identity)
    dec.load_state_dict(state)
    enc.eval()
    dec.eval()
    W = dec_init["inverse.weight"].reshape(COEFFS, COEFFS).astype(np.float64)
    b = dec_init["inverse.bias"].astype(np.float64)
    levels = manifest["levels"]
    picks = sorted({0, len(levels) // 2, len(levels) - 1})
    worst = 0.0
    worst_rounded = 0.0
    report = []
    for path in images:
        x = torch.from_numpy(load_rgb(path)).permute(2, 0, 1).unsqueeze(0)
        with torch.no_grad():
            latent = enc(x)[0].double().numpy()  # [192, H/8, W/8]
        for li in picks:
            g = np.asarray(levels[li]["gains"], dtype=np.float64)[:, None, None]
            ig = np.asarray(levels[li]["inverseGains"], dtype=np.float64)[:, None, None]
            y = np.round(latent * g) * ig  # dequantised latent
            yf = y.reshape(COEFFS, -1)
            ref_float = (W @ yf + (2 if refine_bias_in else 1) * b[:, None] + 0.5) * 255.0  # float linear path, pixel units
            other = (W @ yf + (1 if refine_bias_in else 2) * b[:, None] + 0.5) * 255.0  # the other bias choice
            ints = (Wq.astype(np.float64) @ (yf * 255.0) + bq.astype(np.float64)[:, None]) / float(1 << WEIGHT_SHIFT)
            d = float(np.abs(ints - ref_float).max())
            # the same with rounding to whole pixel values, as a reference frame holds them
            d_rounded = float(np.abs(np.clip(np.round(ints), 0, 255) - np.clip(np.round(ref_float), 0, 255)).max())
            worst = max(worst, d)
            worst_rounded = max(worst_rounded, d_rounded)
            with torch.no_grad():
                full = dec(torch.from_numpy(y).float().unsqueeze(0))[0].double().numpy() * 255.0
            lin = F.pixel_shuffle(torch.from_numpy(ref_float.reshape(y.shape)).unsqueeze(0), BLOCK)[0].numpy()
            lin_other = F.pixel_shuffle(torch.from_numpy(other.reshape(y.shape)).unsqueeze(0), BLOCK)[0].numpy()
            src = x[0].double().numpy() * 255.0
            psnr = lambda a, r: 10 * np.log10(255.0**2 / np.mean((np.clip(a, 0, 255) - r) ** 2))  # noqa: E731
            report.append({"image": os.path.basename(path), "level": li, "maxAbsDiffIntVsFloat": d, "maxAbsDiffRounded": d_rounded,
                           "psnrLinearVsSource": psnr(lin, src), "psnrFullDecoderVsSource": psnr(full, src), "psnrLinearVsFullDecoder": psnr(lin, np.clip(full, 0, 255)),
                           "psnrOtherBiasVsSource": psnr(lin_other, src)})
    for r in report:
        print(f"  {r['image']} level {r['level']}: int vs float max |d| {r['maxAbsDiffIntVsFloat']:.4f} px (after rounding {r['maxAbsDiffRounded']:.0f}); "
              f"PSNR vs source: linear {r['psnrLinearVsSource']:.2f} dB, full decoder {r['psnrFullDecoderVsSource']:.2f} dB "
              f"(linear vs full {r['psnrLinearVsFullDecoder']:.2f} dB); linear with the bias {'once' if refine_bias_in else 'twice'} {r['psnrOtherBiasVsSource']:.2f} dB")
    if not worst < 1.0:
        raise SystemExit(f"check FAILED: integer linear path differs from the float one by {worst:.4f} pixel levels (must be < 1)")
    print(f"check passed: max |integer - float| = {worst:.4f} pixel levels (< 1) on {len(images)} training images x levels {picks}")
    return worst


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--decoder", default="models/aic-image-v1/decoder.onnx")
    p.add_argument("--out", default="models/aic-inter-v1/keyframe-inverse.bin")
    p.add_argument("--check-data", default="../shared/data/train-images", help="training images for the check (never an evaluation set)")
    p.add_argument("--include-refine-bias", action="store_true", help="fold refine_out.bias (equal to inverse.bias) into the exported bias")
    a = p.parse_args()
    if any(s in a.check_data.lower() for s in EVALUATION_SETS):
        raise SystemExit(f"--check-data {a.check_data}: evaluation sets ({', '.join(EVALUATION_SETS)}) are not used here")
    t0 = time.time()
    dec_init, dec_model = initializers(a.decoder)
    model_dir = os.path.dirname(os.path.abspath(a.decoder))
    enc_init, _ = initializers(os.path.join(model_dir, "encoder.onnx"))
    with open(os.path.join(model_dir, "manifest.json")) as f:
        manifest = json.load(f)
    W = dec_init["inverse.weight"]
    b = dec_init["inverse.bias"]
    if W.shape != (COEFFS, COEFFS, 1, 1) or b.shape != (COEFFS,):
        raise SystemExit(f"unexpected shapes: inverse.weight {W.shape}, inverse.bias {b.shape}")
    check_channel_order(dec_model)
    if a.include_refine_bias:
        rb = dec_init.get("refine_out.bias", b)  # aliased to inverse.bias in the graph when equal
        b = b + rb
    print(f"bias: inverse.bias{' + refine_out.bias' if a.include_refine_bias else ' only (refine_out.bias, equal to it, left out)'}")
    Wq, bq, peak = quantise_weights(W.reshape(COEFFS, COEFFS), b)
    print(f"inverse.weight: max |W| = {peak:.6f} -> max |Wq| = {int(np.abs(Wq.astype(np.int32)).max())} (int16 at 2^{WEIGHT_SHIFT}); "
          f"bias (with +0.5, x255) in [{int(bq.min())}, {int(bq.max())}] (int32 at 2^{BIAS_SHIFT})")
    check(a.check_data, enc_init, dec_init, manifest, Wq, bq, a.include_refine_bias)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    blob = Wq.astype("<i2").tobytes() + bq.astype("<i4").tobytes()
    assert len(blob) == COEFFS * COEFFS * 2 + COEFFS * 4
    with open(a.out, "wb") as f:
        f.write(blob)
    print(f"wrote {a.out}: {len(blob)} bytes, sha256 {hashlib.sha256(blob).hexdigest()} ({time.time() - t0:.1f} s)")


if __name__ == "__main__":
    main()
