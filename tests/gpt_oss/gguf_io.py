"""GGUF v3 and safetensors reading and writing, and the weight codecs the gpt-oss fixtures use.

Written from the public format descriptions (ggml's docs/gguf.md, ggml-common.h block layouts,
the safetensors README). Only what the fixtures need:
  GGUF types F32, F16, BF16, Q8_0 (read), MXFP4 (read and write);
  safetensors dtypes F32, BF16, U8.

MXFP4, two byte layouts of the same numbers (32 weights share one E8M0 exponent byte `e`; each
weight is an FP4 E2M1 code, value = fp4(code) * 2^(e - 127)):
  ggml block_mxfp4 (17 bytes): byte 0 is `e`, bytes 1..16 are qs[0..15];
      weight j (j < 16) is the low nibble of qs[j], weight j + 16 its high nibble.
  Hugging Face gpt-oss `*_blocks` (16 bytes per block, `e` separately in `*_scales`):
      weight 2i is the low nibble of byte i, weight 2i + 1 its high nibble.
"""

import json
import struct

import numpy as np

# ---------------------------------------------------------------------------------------------
# Scalar codecs

GGML_F32, GGML_F16, GGML_Q8_0, GGML_BF16, GGML_MXFP4 = 0, 1, 8, 30, 39
GGML_TYPE_NAMES = {GGML_F32: "F32", GGML_F16: "F16", GGML_Q8_0: "Q8_0", GGML_BF16: "BF16", GGML_MXFP4: "MXFP4"}
# (elements per block, bytes per block)
GGML_BLOCK = {GGML_F32: (1, 4), GGML_F16: (1, 2), GGML_BF16: (1, 2), GGML_Q8_0: (32, 34), GGML_MXFP4: (32, 17)}

# FP4 E2M1 code -> value (codes 8..15 are the negatives of 0..7).
FP4_VALUES = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0,
                       -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0], dtype=np.float64)


def bf16_round(x):
    """float64/float32 array -> float32 array rounded to bfloat16 (round to nearest, ties to even)."""
    f = np.asarray(x, dtype=np.float32)
    u = f.view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return u.astype(np.uint32).view(np.float32)


def bf16_bits(x):
    """float32 values already on the bfloat16 grid -> uint16 bit patterns."""
    f = np.ascontiguousarray(x, dtype=np.float32)
    u = f.view(np.uint32)
    assert np.all((u & 0xFFFF) == 0), "value not on the bfloat16 grid"
    return (u >> 16).astype(np.uint16)


def bf16_decode(bits):
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def mxfp4_quantize(w):
    """w: float array [..., K] with K % 32 == 0 -> (codes uint8 [..., K] (0..15), exps uint8 [..., K/32]).

    Shared exponent as ggml's reference quantizer picks it (e = floor(log2(amax)) - 2 + 127; 0 for an
    all-zero block), each weight to the nearest representable value (ties: smaller magnitude)."""
    w = np.asarray(w, dtype=np.float64)
    blocks = w.reshape(*w.shape[:-1], w.shape[-1] // 32, 32)
    amax = np.abs(blocks).max(axis=-1)
    e = np.where(amax > 0, np.floor(np.log2(np.where(amax > 0, amax, 1.0))) - 2 + 127, 0).astype(np.int64)
    assert e.max() <= 254 and (amax == 0).sum() + (e >= 1).sum() == e.size  # all-zero blocks get e = 0
    scale = np.ldexp(1.0, e - 127)[..., None]
    x = blocks / scale
    mags = FP4_VALUES[:8]
    idx = np.abs(np.abs(x)[..., None] - mags).argmin(axis=-1)  # first minimum: smaller magnitude on ties
    codes = idx + np.where((x < 0) & (idx > 0), 8, 0)
    return codes.reshape(w.shape).astype(np.uint8), e.astype(np.uint8)


def mxfp4_decode(codes, exps):
    """codes uint8 [..., K], exps uint8 [..., K/32] -> float64 [..., K] (exact)."""
    v = FP4_VALUES[codes.reshape(*codes.shape[:-1], -1, 32)]
    return (v * np.ldexp(1.0, exps.astype(np.int64) - 127)[..., None]).reshape(codes.shape)


def mxfp4_to_ggml(codes, exps):
    """-> uint8 [..., K/32 * 17], ggml block_mxfp4 rows."""
    c = codes.reshape(*codes.shape[:-1], -1, 32)
    qs = (c[..., :16] | (c[..., 16:] << 4)).astype(np.uint8)
    return np.concatenate([exps[..., None], qs], axis=-1).reshape(*codes.shape[:-1], -1)


def mxfp4_from_ggml(raw, k):
    b = raw.reshape(*raw.shape[:-1], k // 32, 17)
    e, qs = b[..., 0], b[..., 1:]
    codes = np.concatenate([qs & 0x0F, qs >> 4], axis=-1)
    return codes.reshape(*raw.shape[:-1], k), e


def mxfp4_to_hf(codes, exps):
    """-> (blocks uint8 [..., K/32, 16], scales uint8 [..., K/32]), Hugging Face gpt-oss layout."""
    c = codes.reshape(*codes.shape[:-1], -1, 16, 2)
    return (c[..., 0] | (c[..., 1] << 4)).astype(np.uint8), exps.copy()


def mxfp4_from_hf(blocks, scales):
    codes = np.stack([blocks & 0x0F, blocks >> 4], axis=-1)
    return codes.reshape(*blocks.shape[:-2], -1), scales


def q8_0_decode(raw, k):
    b = raw.reshape(*raw.shape[:-1], k // 32, 34)
    d = b[..., :2].copy().view(np.float16).astype(np.float64)
    q = b[..., 2:].copy().view(np.int8).astype(np.float64)
    return (q * d).reshape(*raw.shape[:-1], k)


# ---------------------------------------------------------------------------------------------
# GGUF

_VT_U8, _VT_I8, _VT_U16, _VT_I16, _VT_U32, _VT_I32, _VT_F32, _VT_BOOL, _VT_STR, _VT_ARR, _VT_U64, _VT_I64, _VT_F64 = range(13)
_SCALAR = {_VT_U8: "<B", _VT_I8: "<b", _VT_U16: "<H", _VT_I16: "<h", _VT_U32: "<I", _VT_I32: "<i",
           _VT_F32: "<f", _VT_BOOL: "<?", _VT_U64: "<Q", _VT_I64: "<q", _VT_F64: "<d"}


class U32(int):
    pass


class I32(int):
    pass


class F32(float):
    pass


class GGUFWriter:
    """Collects metadata and tensors, then writes a GGUF v3 file (alignment 32).

    Metadata values: str, bool, U32/I32/int (int is written as UINT32 when >= 0 else INT32),
    F32/float (FLOAT32), or a list of one of those (lists of str or int only)."""

    def __init__(self):
        self.kv = []
        self.tensors = []  # (name, ne list (ggml order), ggml type, raw bytes)

    def add(self, key, value):
        self.kv.append((key, value))

    def add_tensor(self, name, ne, gtype, raw):
        blk, size = GGML_BLOCK[gtype]
        n = int(np.prod(ne))
        assert ne[0] % blk == 0 and len(raw) == n // blk * size, (name, ne, gtype, len(raw))
        self.tensors.append((name, list(ne), gtype, bytes(raw)))

    def add_f32(self, name, a):
        a = np.ascontiguousarray(a, dtype=np.float32)
        self.add_tensor(name, list(a.shape[::-1]), GGML_F32, a.tobytes())

    def add_bf16(self, name, a):
        a = np.asarray(a, dtype=np.float32)
        self.add_tensor(name, list(a.shape[::-1]), GGML_BF16, bf16_bits(a).tobytes())

    def add_mxfp4(self, name, codes, exps):
        raw = mxfp4_to_ggml(codes, exps)
        ne = list(codes.shape[::-1])
        self.add_tensor(name, ne, GGML_MXFP4, raw.tobytes())

    @staticmethod
    def _str(s):
        b = s.encode("utf-8")
        return struct.pack("<Q", len(b)) + b

    def _value(self, v):
        if isinstance(v, bool):
            return struct.pack("<I", _VT_BOOL) + struct.pack("<?", v)
        if isinstance(v, str):
            return struct.pack("<I", _VT_STR) + self._str(v)
        if isinstance(v, F32) or isinstance(v, float):
            return struct.pack("<I", _VT_F32) + struct.pack("<f", v)
        if isinstance(v, I32) or (isinstance(v, int) and v < 0):
            return struct.pack("<I", _VT_I32) + struct.pack("<i", v)
        if isinstance(v, int):
            return struct.pack("<I", _VT_U32) + struct.pack("<I", v)
        if isinstance(v, (list, tuple)):
            if all(isinstance(x, str) for x in v):
                return struct.pack("<IIQ", _VT_ARR, _VT_STR, len(v)) + b"".join(self._str(x) for x in v)
            if all(isinstance(x, int) and not isinstance(x, bool) for x in v):
                return struct.pack("<IIQ", _VT_ARR, _VT_I32, len(v)) + np.asarray(v, dtype="<i4").tobytes()
        raise TypeError(f"unsupported metadata value {type(v)}")

    def write(self, path):
        align = 32
        out = bytearray()
        out += b"GGUF" + struct.pack("<IQQ", 3, len(self.tensors), len(self.kv))
        for k, v in self.kv:
            out += self._str(k) + self._value(v)
        offset = 0
        offsets = []
        for name, ne, gtype, raw in self.tensors:
            offsets.append(offset)
            out += self._str(name) + struct.pack("<I", len(ne)) + struct.pack(f"<{len(ne)}Q", *ne)
            out += struct.pack("<IQ", gtype, offset)
            offset += (len(raw) + align - 1) // align * align
        out += b"\0" * ((-len(out)) % align)
        for (name, ne, gtype, raw), off in zip(self.tensors, offsets):
            out += raw + b"\0" * ((-len(raw)) % align)
        with open(path, "wb") as f:
            f.write(out)


class GGUFFile:
    """Reads a GGUF v2/v3 file: .meta (key -> value), .tensors (name -> (ne, ggml type, raw bytes))."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.buf = f.read()
        self.pos = 0
        magic = self.buf[:4]
        if magic != b"GGUF":
            raise ValueError(f"{path}: not a GGUF file")
        self.pos = 4
        self.version, n_tensors, n_kv = self._unpack("<IQQ")
        self.meta = {}
        for _ in range(n_kv):
            key = self._str()
            (vt,) = self._unpack("<I")
            self.meta[key] = self._value(vt)
        infos = []
        for _ in range(n_tensors):
            name = self._str()
            (nd,) = self._unpack("<I")
            ne = list(self._unpack(f"<{nd}Q"))
            gtype, off = self._unpack("<IQ")
            infos.append((name, ne, gtype, off))
        align = self.meta.get("general.alignment", 32)
        data = (self.pos + align - 1) // align * align
        self.tensors = {}
        for name, ne, gtype, off in infos:
            blk, size = GGML_BLOCK[gtype]
            nbytes = int(np.prod(ne)) // blk * size
            self.tensors[name] = (ne, gtype, self.buf[data + off: data + off + nbytes])

    def _unpack(self, fmt):
        vals = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += struct.calcsize(fmt)
        return vals

    def _str(self):
        (n,) = self._unpack("<Q")
        s = self.buf[self.pos:self.pos + n].decode("utf-8")
        self.pos += n
        return s

    def _value(self, vt):
        if vt == _VT_STR:
            return self._str()
        if vt == _VT_ARR:
            et, n = self._unpack("<IQ")
            if et == _VT_STR:
                return [self._str() for _ in range(n)]
            fmt = _SCALAR[et]
            a = np.frombuffer(self.buf, dtype=np.dtype(fmt), count=n, offset=self.pos)
            self.pos += a.nbytes
            return a.tolist()
        (v,) = self._unpack(_SCALAR[vt])
        return v

    def type_name(self, name):
        return GGML_TYPE_NAMES[self.tensors[name][1]]

    def shape(self, name):
        """numpy shape (reverse of ggml's ne)."""
        return tuple(self.tensors[name][0][::-1])

    def get(self, name):
        """The tensor's values as float64, numpy shape (ne reversed), decoded exactly."""
        ne, gtype, raw = self.tensors[name]
        shape = tuple(ne[::-1])
        k = ne[0]
        rows = shape[:-1]
        if gtype == GGML_F32:
            return np.frombuffer(raw, dtype="<f4").astype(np.float64).reshape(shape)
        if gtype == GGML_F16:
            return np.frombuffer(raw, dtype="<f2").astype(np.float64).reshape(shape)
        if gtype == GGML_BF16:
            return bf16_decode(np.frombuffer(raw, dtype="<u2")).astype(np.float64).reshape(shape)
        u8 = np.frombuffer(raw, dtype=np.uint8).reshape(*rows, -1)
        if gtype == GGML_Q8_0:
            return q8_0_decode(u8, k)
        if gtype == GGML_MXFP4:
            return mxfp4_decode(*mxfp4_from_ggml(u8, k))
        raise ValueError(f"{name}: unsupported ggml type {gtype}")


# ---------------------------------------------------------------------------------------------
# safetensors

_ST_DTYPES = {"F32": np.dtype("<f4"), "BF16": np.dtype("<u2"), "U8": np.dtype(np.uint8)}


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, dtype str, numpy array already in that dtype's storage: BF16 as uint16)."""
    header = {}
    offset = 0
    blobs = []
    for name, dtype, a in tensors:
        a = np.ascontiguousarray(a, dtype=_ST_DTYPES[dtype])
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        blobs.append(a.tobytes())
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((-len(h)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """-> dict name -> (dtype str, numpy array in storage dtype: BF16 as uint16)."""
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack_from("<Q", buf, 0)
    header = json.loads(buf[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        a = np.frombuffer(buf[base + b: base + e], dtype=_ST_DTYPES[info["dtype"]]).reshape(info["shape"])
        out[name] = (info["dtype"], a)
    return out
