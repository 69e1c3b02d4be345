"""Float64 NumPy forward pass of a gpt-oss model with Hugging Face `GptOssForCausalLM` semantics.

Reads a GGUF file (F32, F16, BF16, Q8_0, MXFP4 tensors, decoded exactly) or a Hugging Face folder
(config.json + model.safetensors: BF16/F32 tensors, MXFP4 experts as `*_blocks`/`*_scales`) and
computes logits in float64. docs/GPT_OSS.md describes the architecture this follows.

  python3 reference.py MODEL(.gguf|dir) --ids 1,2,3 [--n 8] [--yarn-truncate]   (greedy tokens as JSON)

--yarn-truncate floors/ceils the YaRN correction range as llama.cpp does (Hugging Face's gpt-oss
config has "truncate": false); it exists only to explain the distance to llama.cpp.
"""

import argparse
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_io  # noqa: E402

ARCH = "gpt-oss"


# ---------------------------------------------------------------------------------------------
# Loading


def config_from_gguf(meta):
    a = ARCH
    n_layer = meta[f"{a}.block_count"]
    n_head = meta[f"{a}.attention.head_count"]
    swa_pattern = 2  # llama.cpp's default for gpt-oss: layer il slides when il % 2 == 0
    return {
        "n_layer": n_layer,
        "hidden": meta[f"{a}.embedding_length"],
        "n_head": n_head,
        "n_head_kv": meta[f"{a}.attention.head_count_kv"],
        "head_dim": meta[f"{a}.attention.key_length"],
        "n_expert": meta[f"{a}.expert_count"],
        "n_expert_used": meta[f"{a}.expert_used_count"],
        "ff": meta[f"{a}.expert_feed_forward_length"],
        "sliding_window": meta[f"{a}.attention.sliding_window"],
        "sliding_layers": [il % swa_pattern < swa_pattern - 1 for il in range(n_layer)],
        "rope_theta": meta[f"{a}.rope.freq_base"],
        "yarn_factor": meta[f"{a}.rope.scaling.factor"],
        "yarn_original_ctx": meta[f"{a}.rope.scaling.original_context_length"],
        "yarn_beta_fast": meta.get(f"{a}.rope.scaling.yarn_beta_fast", 32.0),
        "yarn_beta_slow": meta.get(f"{a}.rope.scaling.yarn_beta_slow", 1.0),
        "yarn_truncate": False,
        "rms_eps": meta[f"{a}.attention.layer_norm_rms_epsilon"],
        "swiglu_alpha": 1.702,
        "swiglu_limit": 7.0,
        "n_vocab": len(meta["tokenizer.ggml.tokens"]),
    }


def config_from_hf(c):
    rs = c["rope_scaling"]
    return {
        "n_layer": c["num_hidden_layers"],
        "hidden": c["hidden_size"],
        "n_head": c["num_attention_heads"],
        "n_head_kv": c["num_key_value_heads"],
        "head_dim": c["head_dim"],
        "n_expert": c["num_local_experts"],
        "n_expert_used": c["num_experts_per_tok"],
        "ff": c["intermediate_size"],
        "sliding_window": c["sliding_window"],
        "sliding_layers": [t == "sliding_attention" for t in c["layer_types"]],
        "rope_theta": c["rope_theta"],
        "yarn_factor": rs["factor"],
        "yarn_original_ctx": rs["original_max_position_embeddings"],
        "yarn_beta_fast": rs.get("beta_fast", 32.0),
        "yarn_beta_slow": rs.get("beta_slow", 1.0),
        "yarn_truncate": rs.get("truncate", True),
        "rms_eps": c["rms_norm_eps"],
        "swiglu_alpha": 1.702,
        "swiglu_limit": c.get("swiglu_limit", 7.0),
        "n_vocab": c["vocab_size"],
    }


def load_gguf(path):
    f = gguf_io.GGUFFile(path)
    if f.meta.get("general.architecture") != ARCH:
        raise ValueError(f"{path}: architecture {f.meta.get('general.architecture')!r}, expected {ARCH!r}")
    cfg = config_from_gguf(f.meta)
    g = f.get
    w = {"embd": g("token_embd.weight"), "out": g("output.weight"), "out_norm": g("output_norm.weight"), "layers": []}
    for il in range(cfg["n_layer"]):
        p = f"blk.{il}."
        w["layers"].append({
            "attn_norm": g(p + "attn_norm.weight"),
            "wq": g(p + "attn_q.weight"), "bq": g(p + "attn_q.bias"),
            "wk": g(p + "attn_k.weight"), "bk": g(p + "attn_k.bias"),
            "wv": g(p + "attn_v.weight"), "bv": g(p + "attn_v.bias"),
            "wo": g(p + "attn_output.weight"), "bo": g(p + "attn_output.bias"),
            "sinks": g(p + "attn_sinks.weight"),
            "post_norm": g(p + "post_attention_norm.weight"),
            "router_w": g(p + "ffn_gate_inp.weight"), "router_b": g(p + "ffn_gate_inp.bias"),
            "gate": g(p + "ffn_gate_exps.weight"), "gate_b": g(p + "ffn_gate_exps.bias"),
            "up": g(p + "ffn_up_exps.weight"), "up_b": g(p + "ffn_up_exps.bias"),
            "down": g(p + "ffn_down_exps.weight"), "down_b": g(p + "ffn_down_exps.bias"),
        })
    # ggml type of each weight (the same in every layer): only for --emulate-llamacpp
    kinds = {"wq": "attn_q", "wk": "attn_k", "wv": "attn_v", "wo": "attn_output", "router_w": "ffn_gate_inp",
             "gate": "ffn_gate_exps", "up": "ffn_up_exps", "down": "ffn_down_exps"}
    w["types"] = {k: f.type_name(f"blk.0.{v}.weight") for k, v in kinds.items()}
    w["types"]["out"] = f.type_name("output.weight")
    return cfg, w, f


def load_hf(folder):
    with open(os.path.join(folder, "config.json")) as fh:
        cfg = config_from_hf(json.load(fh))
    st = gguf_io.read_safetensors(os.path.join(folder, "model.safetensors"))

    def g(name):
        dtype, a = st[name]
        if dtype == "BF16":
            return gguf_io.bf16_decode(a).astype(np.float64)
        return a.astype(np.float64)

    def experts(prefix):
        # Hugging Face: blocks [E, rows, K/32, 16] (rows = output features), dequantized to
        # [E, rows, K]; the module's parameter is its transpose [E, K, rows] (x @ W).
        _, blocks = st[prefix + "_blocks"]
        _, scales = st[prefix + "_scales"]
        return gguf_io.mxfp4_decode(*gguf_io.mxfp4_from_hf(blocks, scales))

    w = {"embd": g("model.embed_tokens.weight"), "out": g("lm_head.weight"), "out_norm": g("model.norm.weight"),
         "layers": []}
    for il in range(cfg["n_layer"]):
        p = f"model.layers.{il}."
        gate_up = experts(p + "mlp.experts.gate_up_proj")          # [E, 2*ff, hidden]
        gate_up_b = g(p + "mlp.experts.gate_up_proj_bias")        # [E, 2*ff]
        w["layers"].append({
            "attn_norm": g(p + "input_layernorm.weight"),
            "wq": g(p + "self_attn.q_proj.weight"), "bq": g(p + "self_attn.q_proj.bias"),
            "wk": g(p + "self_attn.k_proj.weight"), "bk": g(p + "self_attn.k_proj.bias"),
            "wv": g(p + "self_attn.v_proj.weight"), "bv": g(p + "self_attn.v_proj.bias"),
            "wo": g(p + "self_attn.o_proj.weight"), "bo": g(p + "self_attn.o_proj.bias"),
            "sinks": g(p + "self_attn.sinks"),
            "post_norm": g(p + "post_attention_layernorm.weight"),
            "router_w": g(p + "mlp.router.weight"), "router_b": g(p + "mlp.router.bias"),
            # gate = [..., ::2], up = [..., 1::2] of the interleaved gate_up output features
            "gate": gate_up[:, 0::2, :], "gate_b": gate_up_b[:, 0::2],
            "up": gate_up[:, 1::2, :], "up_b": gate_up_b[:, 1::2],
            "down": experts(p + "mlp.experts.down_proj"), "down_b": g(p + "mlp.experts.down_proj_bias"),
        })
    return cfg, w


def load(path):
    if os.path.isdir(path):
        return load_hf(path)
    cfg, w, _ = load_gguf(path)
    return cfg, w


# ---------------------------------------------------------------------------------------------
# Model


def yarn_inv_freq(cfg, truncate=None):
    """(inv_freq [head_dim/2], attention_factor): transformers' _compute_yarn_parameters, float64."""
    dim, base, factor = cfg["head_dim"], float(cfg["rope_theta"]), float(cfg["yarn_factor"])
    orig = cfg["yarn_original_ctx"]
    truncate = cfg["yarn_truncate"] if truncate is None else truncate

    def corr_dim(n_rot):
        return dim * math.log(orig / (n_rot * 2 * math.pi)) / (2 * math.log(base))

    low, high = corr_dim(cfg["yarn_beta_fast"]), corr_dim(cfg["yarn_beta_slow"])
    if truncate:
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, dim - 1)
    if low == high:
        high += 0.001
    pos_freqs = base ** (np.arange(0, dim, 2, dtype=np.float64) / dim)
    extrapolation = 1.0 / pos_freqs
    interpolation = 1.0 / (factor * pos_freqs)
    ramp = np.clip((np.arange(dim // 2, dtype=np.float64) - low) / (high - low), 0.0, 1.0)
    extra_factor = 1.0 - ramp
    inv_freq = interpolation * (1.0 - extra_factor) + extrapolation * extra_factor
    attention_factor = 0.1 * math.log(factor) + 1.0 if factor > 1 else 1.0
    return inv_freq, attention_factor, (low, high)


def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def rope(x, cos, sin):
    """x [T, heads, head_dim]; NEOX / rotate_half: dims i and i + head_dim/2 form a pair."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    c, s = cos[:, None, :], sin[:, None, :]
    return np.concatenate([x1 * c - x2 * s, x2 * c + x1 * s], axis=-1)


def q8_0_round(x):
    """Activations as ggml's CPU path quantizes them for Q8_0/MXFP4 dot products (blocks of 32 along
    the last axis: int8 = round(x * 127/amax) in float32, scale = fp16(amax/127))."""
    x32 = np.asarray(x, dtype=np.float32)
    b = x32.reshape(*x32.shape[:-1], -1, 32)
    amax = np.abs(b).max(axis=-1, keepdims=True)
    with np.errstate(divide="ignore"):
        inv = np.where(amax > 0, np.float32(127.0) / amax, np.float32(0.0)).astype(np.float32)
    q = np.rint((b * inv).astype(np.float32))
    d = (amax / np.float32(127.0)).astype(np.float32).astype(np.float16).astype(np.float64)
    return (q.astype(np.float64) * d).reshape(x32.shape)


def bf16_act(x):
    return gguf_io.bf16_round(x).astype(np.float64)


class Model:
    """yarn_truncate: None = the config's value (gpt-oss: false); True = llama.cpp's floor/ceil.
    emulate_llamacpp: round each matmul's activations as ggml's CPU path does for the weight's type
    (BF16 weights: BF16 activations; Q8_0 and MXFP4 weights: Q8_0 blocks; F32/F16: none). Both exist
    only to explain the distance to llama.cpp; the goldens use neither."""

    def __init__(self, cfg, w, yarn_truncate=None, emulate_llamacpp=False):
        self.cfg, self.w = cfg, w
        self.inv_freq, self.attn_factor, self.yarn_range = yarn_inv_freq(cfg, yarn_truncate)
        self.act = {}
        if emulate_llamacpp:
            rounders = {"BF16": bf16_act, "Q8_0": q8_0_round, "MXFP4": q8_0_round}
            self.act = {k: rounders[t] for k, t in w["types"].items() if t in rounders}

    def a(self, kind, x):
        """x as the matmul with weight `kind` sees it."""
        f = self.act.get(kind)
        return f(x) if f else x

    def session(self):
        return Session(self)


class Session:
    """KV cache of one sequence; step() appends tokens and returns their logits (float64)."""

    def __init__(self, model):
        self.m = model
        c = model.cfg
        self.n_past = 0
        self.k = [np.zeros((0, c["n_head_kv"], c["head_dim"])) for _ in range(c["n_layer"])]
        self.v = [np.zeros((0, c["n_head_kv"], c["head_dim"])) for _ in range(c["n_layer"])]
        self.router_logits = [[] for _ in range(c["n_layer"])]  # per layer: arrays [T, n_expert]
        self.stats = {"gate_clamped": 0, "up_clamped": 0, "gate_values": 0, "sink_mass": []}

    def step(self, tokens, last_only=False):
        """Appends tokens; returns the logits of each (or only of the last) as float64."""
        m, c = self.m, self.m.cfg
        tokens = np.asarray(tokens, dtype=np.int64)
        T = len(tokens)
        pos = np.arange(self.n_past, self.n_past + T, dtype=np.float64)
        ang = pos[:, None] * m.inv_freq[None, :]
        cos, sin = np.cos(ang) * m.attn_factor, np.sin(ang) * m.attn_factor
        nh, nkv, hd = c["n_head"], c["n_head_kv"], c["head_dim"]
        group = nh // nkv
        x = m.w["embd"][tokens]
        q_pos = np.arange(self.n_past, self.n_past + T)
        for il, L in enumerate(m.w["layers"]):
            # attention block
            h = rms_norm(x, L["attn_norm"], c["rms_eps"])
            q = (m.a("wq", h) @ L["wq"].T + L["bq"]).reshape(T, nh, hd)
            k = (m.a("wk", h) @ L["wk"].T + L["bk"]).reshape(T, nkv, hd)
            v = (m.a("wv", h) @ L["wv"].T + L["bv"]).reshape(T, nkv, hd)
            q, k = rope(q, cos, sin), rope(k, cos, sin)
            self.k[il] = np.concatenate([self.k[il], k])
            self.v[il] = np.concatenate([self.v[il], v])
            K, V = self.k[il], self.v[il]
            k_pos = np.arange(K.shape[0])
            allowed = k_pos[None, :] <= q_pos[:, None]
            if c["sliding_layers"][il]:
                allowed &= q_pos[:, None] - k_pos[None, :] < c["sliding_window"]
            out = np.empty((T, nh, hd))
            for hh in range(nh):
                kh = hh // group
                s = (q[:, hh, :] @ K[:, kh, :].T) / math.sqrt(hd)
                s = np.where(allowed, s, -np.inf)
                sink = L["sinks"][hh]
                mx = np.maximum(s.max(axis=-1), sink)
                e = np.exp(s - mx[:, None])
                es = np.exp(sink - mx)
                den = e.sum(axis=-1) + es
                self.stats["sink_mass"].append(es / den)
                out[:, hh, :] = (e / den[:, None]) @ V[:, kh, :]
            x = x + m.a("wo", out.reshape(T, nh * hd)) @ L["wo"].T + L["bo"]
            # MoE block
            h = rms_norm(x, L["post_norm"], c["rms_eps"])
            logits = m.a("router_w", h) @ L["router_w"].T + L["router_b"]
            self.router_logits[il].append(logits)
            x = x + self._moe(h, logits, L)
        self.n_past += T
        if last_only:
            x = x[-1:]
        x = rms_norm(x, m.w["out_norm"], c["rms_eps"])
        return m.a("out", x) @ m.w["out"].T

    def _moe(self, h, logits, L):
        m, c = self.m, self.m.cfg
        k = c["n_expert_used"]
        top = np.argsort(-logits, axis=-1, kind="stable")[:, :k]
        top_logits = np.take_along_axis(logits, top, axis=-1)
        wts = np.exp(top_logits - top_logits.max(axis=-1, keepdims=True))
        wts /= wts.sum(axis=-1, keepdims=True)
        out = np.zeros_like(h)
        lim, alpha = c["swiglu_limit"], c["swiglu_alpha"]
        hg, hu = m.a("gate", h), m.a("up", h)
        for t in range(h.shape[0]):
            for j in range(k):
                e = top[t, j]
                gate = L["gate"][e] @ hg[t] + L["gate_b"][e]
                up = L["up"][e] @ hu[t] + L["up_b"][e]
                self.stats["gate_clamped"] += int(np.sum(gate > lim))
                self.stats["up_clamped"] += int(np.sum(np.abs(up) > lim))
                self.stats["gate_values"] += gate.size
                gate = np.minimum(gate, lim)
                up = np.clip(up, -lim, lim)
                glu = gate / (1.0 + np.exp(-alpha * gate))
                y = L["down"][e] @ m.a("down", (up + 1.0) * glu) + L["down_b"][e]
                out[t] += wts[t, j] * y
        return out

    def router_margins(self):
        """Per layer: 4th-minus-5th largest router logit of every token seen (k-th minus (k+1)-th)."""
        k = self.m.cfg["n_expert_used"]
        res = []
        for il in range(self.m.cfg["n_layer"]):
            r = np.concatenate(self.router_logits[il])
            s = -np.sort(-r, axis=-1)
            res.append(s[:, k - 1] - s[:, k])
        return res


def topk_rel(logits, k=20):
    """Top-k ids (ties broken by lower id) and logit - top logit."""
    kth = np.partition(logits, logits.shape[0] - k)[logits.shape[0] - k]
    cand = np.nonzero(logits >= kth)[0]
    order = cand[np.lexsort((cand, -logits[cand]))][:k]
    return order.tolist(), (logits[order] - logits[order[0]]).tolist()


def logits_of(model, tokens, chunk=128):
    """Teacher-forced logits of every position, computed chunk by chunk through the KV cache (the
    same numbers as one pass). Returns (logits kept as float32 [len(tokens), V] to bound memory,
    the top-20 (ids, rel) of every row taken from the float64 values, the session)."""
    s = model.session()
    out, tops = [], []
    for i in range(0, len(tokens), chunk):
        lg = s.step(tokens[i:i + chunk])
        tops += [topk_rel(row) for row in lg]
        out.append(lg.astype(np.float32))
    return np.concatenate(out), tops, s


def run_prompt(model, ids, n_generate=32):
    """Greedy continuation (one token per step after the prompt) then one teacher-forced pass over
    ids + greedy[:-1]. Returns (greedy, gaps, tokens, logits float32 [len(tokens), V], session,
    tops: float64 top-20 (ids, rel) of every position)."""
    s = model.session()
    logits = s.step(ids, last_only=True)[-1]
    greedy, gaps = [], []
    for j in range(n_generate):
        order = np.argsort(-logits, kind="stable")[:2]
        greedy.append(int(order[0]))
        gaps.append(float(logits[order[0]] - logits[order[1]]))
        if j + 1 < n_generate:
            logits = s.step([greedy[-1]])[-1]
    tokens = list(ids) + greedy[:-1]
    all_logits, tops, tf = logits_of(model, tokens)
    return greedy, gaps, tokens, all_logits, tf, tops


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--ids", required=True, help="comma-separated prompt token ids")
    ap.add_argument("--n", type=int, default=8, help="greedy tokens")
    ap.add_argument("--yarn-truncate", action="store_true")
    a = ap.parse_args()
    cfg, w = load(a.model)
    model = Model(cfg, w, yarn_truncate=True if a.yarn_truncate else None)
    ids = [int(x) for x in a.ids.split(",")]
    greedy, gaps, *_ = run_prompt(model, ids, a.n)
    print(json.dumps({"greedy": greedy, "gaps": gaps}))


if __name__ == "__main__":
    main()
