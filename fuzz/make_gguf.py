#!/usr/bin/env python3
"""Writes the seed GGUF files of the gguf fuzz target (fuzz/corpus/gguf/).

tiny-llama.gguf is a complete llama-architecture model small enough to fuzz (one layer,
8-wide embeddings, a byte-level BPE vocabulary of 259 tokens, F32 weights): llama.cpp
loads it, creates a context and decodes with it, so mutations reach past the header into
hyperparameters, the vocabulary, tensor infos and context creation. The other seeds are
truncations of it. Deterministic: running it again rewrites the same bytes.

Usage: fuzz/make_gguf.py [OUT_DIR]   (default: fuzz/corpus/gguf next to this script)
"""
import os
import struct
import sys

# GGUF value types
U32, I32, F32, BOOL, STR, ARR = 4, 5, 6, 7, 8, 9
GGML_F32 = 0
ALIGN = 32


def gguf_str(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def value(kind, v):
    if kind == U32:
        return struct.pack("<I", v)
    if kind == I32:
        return struct.pack("<i", v)
    if kind == F32:
        return struct.pack("<f", v)
    if kind == BOOL:
        return struct.pack("<?", v)
    if kind == STR:
        return gguf_str(v)
    raise ValueError(kind)


def kv(key, kind, v, elem=None):
    out = gguf_str(key) + struct.pack("<I", kind)
    if kind == ARR:
        out += struct.pack("<IQ", elem, len(v)) + b"".join(value(elem, x) for x in v)
    else:
        out += value(kind, v)
    return out


def byte_tokens():
    """GPT-2's byte-to-unicode table: the 256 byte-level tokens."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    table = dict(zip(bs, cs))
    return [chr(table[b]) for b in range(256)]


def tiny_llama():
    n_embd, n_ff, n_head, n_ctx = 8, 16, 2, 64
    tokens = byte_tokens() + ["he", "Ġt", "<|endoftext|>"]
    types = [1] * (len(tokens) - 1) + [3]  # normal ..., control
    merges = ["h e", "Ġ t"]
    n_vocab = len(tokens)
    meta = [
        kv("general.architecture", STR, "llama"),
        kv("general.name", STR, "specfuse fuzz seed"),
        kv("llama.context_length", U32, n_ctx),
        kv("llama.embedding_length", U32, n_embd),
        kv("llama.block_count", U32, 1),
        kv("llama.feed_forward_length", U32, n_ff),
        kv("llama.attention.head_count", U32, n_head),
        kv("llama.attention.head_count_kv", U32, n_head),
        kv("llama.rope.dimension_count", U32, n_embd // n_head),
        kv("llama.attention.layer_norm_rms_epsilon", F32, 1e-5),
        kv("tokenizer.ggml.model", STR, "gpt2"),
        kv("tokenizer.ggml.pre", STR, "default"),
        kv("tokenizer.ggml.tokens", ARR, tokens, STR),
        kv("tokenizer.ggml.token_type", ARR, types, I32),
        kv("tokenizer.ggml.merges", ARR, merges, STR),
        kv("tokenizer.ggml.bos_token_id", U32, n_vocab - 1),
        kv("tokenizer.ggml.eos_token_id", U32, n_vocab - 1),
        kv("tokenizer.chat_template", STR,
           "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"),
    ]
    shapes = [("token_embd.weight", [n_embd, n_vocab]), ("output_norm.weight", [n_embd]),
              ("blk.0.attn_norm.weight", [n_embd]), ("blk.0.attn_q.weight", [n_embd, n_embd]),
              ("blk.0.attn_k.weight", [n_embd, n_embd]), ("blk.0.attn_v.weight", [n_embd, n_embd]),
              ("blk.0.attn_output.weight", [n_embd, n_embd]), ("blk.0.ffn_norm.weight", [n_embd]),
              ("blk.0.ffn_gate.weight", [n_embd, n_ff]), ("blk.0.ffn_down.weight", [n_ff, n_embd]),
              ("blk.0.ffn_up.weight", [n_embd, n_ff])]
    infos, data = b"", b""
    seed = 1
    for name, dims in shapes:
        count = 1
        for d in dims:
            count *= d
        infos += gguf_str(name) + struct.pack("<I", len(dims)) + \
            b"".join(struct.pack("<Q", d) for d in dims) + struct.pack("<IQ", GGML_F32, len(data))
        values = []
        for _ in range(count):  # a fixed LCG: small weights, norms near 1
            seed = (seed * 1103515245 + 12345) % (1 << 31)
            w = (seed / (1 << 31) - 0.5) * 0.2
            values.append(1.0 + w if "norm" in name else w)
        data += struct.pack("<%df" % count, *values)
        data += b"\0" * (-len(data) % ALIGN)
    header = b"GGUF" + struct.pack("<IQQ", 3, len(shapes), len(meta)) + b"".join(meta) + infos
    header += b"\0" * (-len(header) % ALIGN)
    return header + data, len(header)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "gguf")
    os.makedirs(out, exist_ok=True)
    full, header_len = tiny_llama()
    seeds = {
        "tiny-llama.gguf": full,
        "tiny-llama-header-only.gguf": full[:header_len],
        "tiny-llama-cut-in-metadata.gguf": full[:1024],
        "tiny-llama-cut-in-data.gguf": full[:header_len + 4096],
        "magic-only.gguf": b"GGUF",
        "not-gguf.bin": b"GGML\x01\x00\x00\x00",
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print("wrote %d seeds to %s (tiny-llama.gguf: %d bytes)" % (len(seeds), out, len(full)))


if __name__ == "__main__":
    main()
