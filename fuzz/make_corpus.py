#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# make_corpus.py - regenerate the seed corpus fuzz/corpus/gguf: small valid
# GGUF files (the bundled models' headers cut down to 16 tokens and a few
# small tensors, synthetic files with every metadata type and every tensor
# type amxrt reads, versions 2 and 3, alignments 1, 32 and 64,
# vocabulary-only) and near-valid ones (each broken in one place, as the
# reader's refusals list them). Run from the repository root:
#     python3 fuzz/make_corpus.py
import os
import struct

OUT = "fuzz/corpus/gguf"

U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
SCALAR = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i",
          F32: "<f", BOOL: "<B", U64: "<Q", I64: "<q", F64: "<d"}
BLOCK = {0: (1, 4), 1: (1, 2), 30: (1, 2), 2: (32, 18), 3: (32, 20),
         8: (32, 34), 12: (256, 144)}


def gstr(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def value(t, v):
    if t == STR:
        return gstr(v)
    if t == ARR:
        et, items = v
        out = struct.pack("<IQ", et, len(items))
        for x in items:
            out += value(et, x)
        return out
    return struct.pack(SCALAR[t], v)


def build(kvs, tensors, version=3, alignment=32, data_tail=True):
    """kvs: [(key, type, value)]; tensors: [(name, type, ne, bytes)]."""
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for k, t, v in kvs:
        out += gstr(k) + struct.pack("<I", t) + value(t, v)
    off, offs = 0, []
    for name, t, ne, data in tensors:
        offs.append(off)
        out += gstr(name) + struct.pack("<I", len(ne))
        out += b"".join(struct.pack("<Q", n) for n in ne)
        out += struct.pack("<IQ", t, off)
        off = (off + len(data) + alignment - 1) // alignment * alignment
    if tensors or data_tail:
        out += b"\0" * (-len(out) % alignment)
    blob = b""
    for (name, t, ne, data), o in zip(tensors, offs):
        blob += b"\0" * (o - len(blob)) + data
    return out + blob


def tensor(name, t, ne, fill=1):
    n = 1
    for x in ne:
        n *= x
    bv, bb = BLOCK[t]
    size = n // bv * bb
    return (name, t, ne, bytes((i * 7 + fill) & 0xFF for i in range(size)))


def read(path):
    """Parse a GGUF file into (kvs, tensors) with tensor data."""
    b = open(path, "rb").read()
    pos = 24
    n_t, n_kv = struct.unpack_from("<QQ", b, 8)

    def rs():
        nonlocal pos
        (n,) = struct.unpack_from("<Q", b, pos)
        s = b[pos + 8:pos + 8 + n]
        pos += 8 + n
        return s

    def rv(t):
        nonlocal pos
        if t == STR:
            return rs()
        if t == ARR:
            et, n = struct.unpack_from("<IQ", b, pos)
            pos += 12
            return (et, [rv(et) for _ in range(n)])
        (x,) = struct.unpack_from(SCALAR[t], b, pos)
        pos += struct.calcsize(SCALAR[t])
        return x

    kvs = []
    for _ in range(n_kv):
        k = rs().decode()
        (t,) = struct.unpack_from("<I", b, pos)
        pos += 4
        kvs.append((k, t, rv(t)))
    infos = []
    for _ in range(n_t):
        name = rs().decode()
        (nd,) = struct.unpack_from("<I", b, pos)
        ne = list(struct.unpack_from("<%dQ" % nd, b, pos + 4))
        t, off = struct.unpack_from("<IQ", b, pos + 4 + 8 * nd)
        pos += 4 + 8 * nd + 12
        infos.append((name, t, ne, off))
    data = (pos + 31) // 32 * 32
    tensors = []
    for name, t, ne, off in infos:
        n = 1
        for x in ne:
            n *= x
        bv, bb = BLOCK[t]
        tensors.append((name, t, ne, b[data + off:data + off + n // bv * bb]))
    return kvs, tensors


def trim(kvs, n=16, maxstr=256):
    out = []
    for k, t, v in kvs:
        if t == ARR:
            v = (v[0], v[1][:n])
        elif t == STR:
            v = v[:maxstr]
        out.append((k, t, v))
    return out


def every_type():
    return [
        ("general.architecture", STR, "llama"),
        ("test.u8", U8, 200), ("test.i8", I8, -100),
        ("test.u16", U16, 60000), ("test.i16", I16, -30000),
        ("test.u32", U32, 4000000000), ("test.i32", I32, -2000000000),
        ("test.f32", F32, 0.5), ("test.bool", BOOL, 1),
        ("test.str", STR, "hello"), ("test.u64", U64, 1 << 40),
        ("test.i64", I64, -(1 << 40)), ("test.f64", F64, 0.25),
        ("test.arr_i32", ARR, (I32, [1, -2, 3])),
        ("test.arr_str", ARR, (STR, ["a", "bc", ""])),
        ("test.arr_f64", ARR, (F64, [1.5, -2.5])),
        ("test.arr_bool", ARR, (BOOL, [1, 0])),
        ("test.arr_empty", ARR, (U8, [])),
    ]


def small_tensors():
    return [tensor("t.f32", 0, [4, 2]), tensor("t.f16", 1, [8]),
            tensor("t.bf16", 30, [2, 2, 2, 2]), tensor("t.q4_0", 2, [32, 2]),
            tensor("t.q4_1", 3, [64]), tensor("t.q8_0", 8, [32, 1, 1])]


def main():
    os.makedirs(OUT, exist_ok=True)
    seeds = {}
    src = os.environ.get("AMXRT_SRCDIR", ".")

    kvs, ts = read(src + "/models/stories260K.gguf")
    small = [t for t in ts if len(t[2]) == 1][:3]
    seeds["stories260k-cut.gguf"] = build(trim(kvs), small)
    kvs, _ = read(src + "/models/vocab/ggml-vocab-llama-spm.gguf")
    seeds["vocab-llama-spm-cut.gguf"] = build(trim(kvs), [], data_tail=False)
    kvs, _ = read(src + "/models/vocab/recon-vocab-qwen2.gguf")
    seeds["vocab-qwen2-cut.gguf"] = build(trim(kvs), [])

    kv = every_type()
    seeds["types-v3.gguf"] = build(kv, small_tensors())
    seeds["types-v2.gguf"] = build(kv, small_tensors(), version=2)
    seeds["align64.gguf"] = build(
        kv + [("general.alignment", U32, 64)], small_tensors(), alignment=64)
    seeds["align1.gguf"] = build(
        [("general.alignment", U32, 1)], small_tensors()[:2], alignment=1)
    seeds["vocab-only.gguf"] = build(kv, [], data_tail=False)
    seeds["empty.gguf"] = build([], [])

    # near-valid: one thing wrong each
    good = seeds["types-v3.gguf"]
    seeds["bad-truncated.gguf"] = good[:len(good) // 2]
    seeds["bad-version1.gguf"] = good[:4] + struct.pack("<I", 1) + good[8:]
    seeds["bad-q4_k.gguf"] = build([], [tensor("t.q4_k", 12, [256])])
    seeds["bad-nested.gguf"] = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + \
        gstr("a") + struct.pack("<IIQ", ARR, ARR, 0)
    seeds["bad-dup-key.gguf"] = build(
        [("a", U8, 1), ("a", U8, 2)], [])
    seeds["bad-dup-tensor.gguf"] = build(
        [], [tensor("t", 0, [4]), tensor("t", 0, [4])])
    seeds["bad-align3.gguf"] = build(
        [("general.alignment", U32, 3)], [tensor("t", 0, [4])])
    seeds["bad-row.gguf"] = build([], [tensor("t", 8, [32])]).replace(
        struct.pack("<Q", 32), struct.pack("<Q", 16), 1)

    for name in os.listdir(OUT):
        os.unlink(os.path.join(OUT, name))
    for name, b in sorted(seeds.items()):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(b)
        print("%-28s %6d bytes" % (name, len(b)))


if __name__ == "__main__":
    main()
