"""Which int8 quantisation keeps the float32 encoder's vectors best, and what each costs in speed.

`python -m dev.int8_levers --work out/int8-levers` exports and fuses the float32 graph once (kept in --work), then
quantises it several ways (see :data:`VARIANTS`) and prints, for each, the lowest and mean cosine against plain
sentence-transformers float32 on every fixture and seed sentence, and sentences per second one sentence a batch
(as the runtime encodes) on one worker of two intra-op threads and on two concurrent workers of one thread each
(`--workers`), all in one run so the speeds compare. Plain sentence-transformers float32 at batch 32 is
measured in the same run as the baseline `make bench` uses.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from divergence.config import load_settings, project_root
from divergence.encoder import fast
from divergence.encoder.embed import resolve_model

# name -> keyword arguments of fast.quantise (None: the fused float32 graph, not quantised)
VARIANTS: dict[str, dict | None] = {
    "fp32-fused": None,
    "all-per-channel (old default)": {"embeddings": True},
    "matmul-per-channel": {},
    "matmul-per-tensor": {"per_channel": False},
    "matmul-per-channel-reduce-range": {"reduce_range": True},
    "matmul-per-channel-uint8": {"weight_type": "QUInt8"},
    "matmul-per-channel-keep-ffn-out": {"exclude": [r"layer\.\d+/output/dense"]},
    "matmul-per-channel-keep-first-last": {"exclude": [r"layer\.(0|11)/", r"^Attention_(0|11)$"]},
    "matmul-per-channel-keep-attention-out": {"exclude": [r"attention/output/dense"]},
}
# Which layers' FFN output projection costs the most fidelity when quantised (each left in float32 alone).
VARIANTS.update({f"keep-ffn-out-layer-{layer}": {"exclude": [rf"layer\.{layer}/output/dense"]} for layer in range(12)})

# Layer 4's FFN output projection turned out to be the one that matters: what else is worth keeping with it.
FFN_OUT_4 = r"layer\.4/output/dense"
VARIANTS.update({
    "keep-ffn-out-4-5": {"exclude": [r"layer\.(4|5)/output/dense"]},
    "keep-layer-4": {"exclude": [r"layer\.4/", r"^Attention_4$"]},
    "keep-ffn-out-4-intermediate-4": {"exclude": [FFN_OUT_4, r"layer\.4/intermediate/dense"]},
    "keep-ffn-out-4-attention-4": {"exclude": [FFN_OUT_4, r"^Attention_4$"]},
    "keep-ffn-out-4-all-attention": {"exclude": [FFN_OUT_4, r"^Attention_\d+$"]},
    "keep-ffn-out-4-all-intermediate": {"exclude": [FFN_OUT_4, r"intermediate/dense"]},
    "keep-ffn-out-attention-out": {"exclude": [r"layer\.\d+/output/dense", r"attention/output/dense"]},
    "keep-ffn-out-qkv": {"exclude": [r"layer\.\d+/output/dense", r"^Attention_\d+$"]},
})

# SmoothQuant on the feed-forward output projections (their input, after GELU, has the outlier channels): each input
# channel divided by s_j = max|x_j|^alpha / max|w_j|^(1 - alpha) and the weight row multiplied by it, so every product
# can be int8. alpha 0.7 was the best of 0.3 / 0.5 / 0.7 / 0.8 / 0.9 / 0.95 tried.
VARIANTS.update({f"smooth-ffn-out-{alpha}": {"smooth": alpha} for alpha in (0.5, 0.7, 0.8)})


def smooth_ffn_out(fused: Path, smoothed: Path, calibration: list[str], tokenizer: Path, prefix: str, alpha: float) -> None:
    """The fused float32 graph with a per-channel scale folded into each feed-forward output projection (SmoothQuant).

    The activation scale is a Mul inserted before the product (GELU comes first, so there is no linear operation to
    fold it into); the per-channel activation maxima come from running the float32 graph on ``calibration``.
    """
    import re

    import onnx
    import onnxruntime as ort
    from onnx import helper, numpy_helper
    from tokenizers import Tokenizer

    model = onnx.load(str(fused))
    weights = {tensor.name: tensor for tensor in model.graph.initializer}
    targets = [node for node in model.graph.node if re.search(r"layer\.\d+/output/dense/MatMul$", node.name)]
    probe = onnx.load(str(fused))
    for node in targets:
        probe.graph.output.append(helper.make_tensor_value_info(node.input[0], onnx.TensorProto.FLOAT, None))
    probe_path = smoothed.with_name(smoothed.stem + "-calibration.onnx")
    onnx.save(probe, str(probe_path))
    session = ort.InferenceSession(str(probe_path), providers=["CPUExecutionProvider"])
    tokens = Tokenizer.from_file(str(tokenizer))
    peaks = [np.zeros(0, dtype=np.float32)] * len(targets)
    for text in calibration:
        ids = np.array([tokens.encode(prefix + text).ids], dtype=np.int64)
        outputs = session.run([node.input[0] for node in targets], {"input_ids": ids, "attention_mask": np.ones_like(ids)})
        for k, output in enumerate(outputs):
            peak = np.abs(output.reshape(-1, output.shape[-1])).max(axis=0)
            peaks[k] = peak if not len(peaks[k]) else np.maximum(peaks[k], peak)
    for node, peak in zip(targets, peaks, strict=True):
        weight = numpy_helper.to_array(weights[node.input[1]])
        scale = (np.maximum(peak, 1e-5) ** alpha / np.maximum(np.abs(weight).max(axis=1), 1e-5) ** (1 - alpha)).astype(np.float32)
        weights[node.input[1]].CopyFrom(numpy_helper.from_array(weight * scale[:, None], node.input[1]))
        model.graph.initializer.append(numpy_helper.from_array(1.0 / scale, node.name + "/smooth_scale"))
        scaled = node.input[0] + "/smoothed"
        position = list(model.graph.node).index(node)
        model.graph.node.insert(position, helper.make_node("Mul", [node.input[0], node.name + "/smooth_scale"], [scaled],
                                                           name=node.name + "/smooth"))
        node.input[0] = scaled
    onnx.save(model, str(smoothed))


def _sentences(seeds: Path | None) -> list[str]:
    from divergence.ingest.prepare import prepare_inputs

    root = project_root() or Path.cwd()
    inputs = [root / "fixtures" / "events"] + ([seeds] if seeds is not None and seeds.is_dir() else [])
    _, claims, _ = prepare_inputs(inputs, load_settings())
    return sorted({c.text for doc_claims in claims.values() for c in doc_claims})


def _rate(encode, texts: list[str]) -> float:
    encode(texts[:8])
    start = time.perf_counter()
    encode(texts)
    return len(texts) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", type=Path, default=Path("out/int8-levers"))
    parser.add_argument("--seeds", type=Path, default=Path("../shared/seeds"))
    parser.add_argument("--only", nargs="*", default=None, help="Variant names to measure (default: all).")
    parser.add_argument("--speed-sentences", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                        help="Concurrent one-sentence runs to measure for each int8 variant (threads split between them).")
    args = parser.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # idle torch threads must not spin while ONNX Runtime runs

    settings = load_settings(embedding_cache=False)
    source = Path(resolve_model(settings))
    args.work.mkdir(parents=True, exist_ok=True)
    fused = args.work / "fused.onnx"
    dimension = json.loads((source / "config.json").read_text(encoding="utf-8"))["hidden_size"]
    if not fused.is_file():
        started = time.perf_counter()
        fast.export_fused(source, fused)
        print(f"export + fuse {time.perf_counter() - started:.0f}s", file=sys.stderr)

    texts = _sentences(args.seeds)
    speed_texts = [f"{texts[i % len(texts)]} ({i})" for i in range(args.speed_sentences)]
    from sentence_transformers import SentenceTransformer

    plain = SentenceTransformer(str(source), device="cpu")
    reference = plain.encode(texts, prompt=settings.query_prefix, batch_size=32, normalize_embeddings=True)
    print(f"{len(texts)} fixture and seed sentences, cosine to plain sentence-transformers float32:")
    runs = {"plain sentence-transformers float32, batch 32":
            lambda batch: plain.encode(batch, prompt=settings.query_prefix, batch_size=32, normalize_embeddings=True)}
    for name, options in VARIANTS.items():
        if args.only and name not in args.only:
            continue
        folder = args.work / name.split(" ")[0]
        folder.mkdir(exist_ok=True)
        model = folder / fast.MODEL_FILE
        if not model.is_file():
            if options is None:
                shutil.copyfile(fused, model)
            else:
                options = dict(options)
                graph = fused
                if "smooth" in options:  # calibrated on the fixture sentences only: the seeds are not for tuning
                    graph = folder / "smoothed.onnx"
                    smooth_ffn_out(fused, graph, _sentences(None), source / fast.TOKENIZER_FILE, settings.query_prefix,
                                   options.pop("smooth"))
                fast.quantise(graph, model, **options)
        shutil.copyfile(source / fast.TOKENIZER_FILE, folder / fast.TOKENIZER_FILE)
        (folder / fast.STAMP_FILE).write_text(json.dumps({"format": fast.ARTEFACT_FORMAT, "dimension": int(dimension),
                                                          "min_cosine": 0.0}), encoding="utf-8")
        for batch_size, workers in [(1, 1), (32, 1)] if options is None else [(1, w) for w in args.workers]:
            encoder = fast.FastEncoder(folder, batch_size=batch_size, device="cpu", workers=workers)
            cosines = np.sum(encoder.encode(texts, settings.query_prefix) * reference, axis=1)
            label = f"{name}, batch {batch_size}" + (f", {workers} workers" if workers > 1 else "")
            print(f"  {label:58s}: min {cosines.min():.4f} mean {cosines.mean():.5f}  "
                  f"{model.stat().st_size / 1e6:.0f} MB", flush=True)
            runs[label] = lambda batch, encoder=encoder: encoder.encode(batch, settings.query_prefix)
    if args.rounds < 1:
        return
    # Speeds interleaved over several rounds, median kept: the machine is shared and its load drifts within minutes.
    rates: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, encode in runs.items():
            rates[name].append(_rate(encode, speed_texts))
    baseline = float(np.median(rates[next(iter(runs))]))
    print(f"sentences/s, median of {args.rounds} interleaved rounds of {len(speed_texts)} sentences:")
    for name, values in rates.items():
        median = float(np.median(values))
        print(f"  {name:62s} {median:6.1f}/s = {median / baseline:.2f}x  (rounds: {', '.join(f'{v:.0f}' for v in values)})")

if __name__ == "__main__":
    main()
