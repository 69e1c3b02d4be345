"""Golden outputs of a gpt-oss fixture: the float64 reference (reference.py) and llama.cpp
(llamacpp_golden.mjs) on the same token sequences, in the schema fare-fixtures/golden/1
(../shared/fixtures/README.md §3), plus the spread between them.

  python3 make_goldens.py MODEL [--f32 F32.gguf] [--llamacpp-module DIR]

Reads MODEL's prompts.json (prompts.mjs) and MODEL-mxfp4.gguf; writes goldens/MODEL-mxfp4.json.xz
and goldens/index.json. llama.cpp runs on the MXFP4 GGUF (the golden's llama.cpp columns) and, with
--f32, on the all-F32 GGUF; the diagnostic rows of index.json compare llama.cpp with the reference
under llama.cpp's YaRN rounding and activation rounding, to explain the spread.
"""

import argparse
import json
import lzma
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_fixtures  # noqa: E402
import reference  # noqa: E402

TOPK, N_GENERATE, NEAR_TIE = 20, 32, 0.05


def run_reference(model, prompts):
    out = []
    for p in prompts:
        greedy, gaps, tokens, logits, s, tops = reference.run_prompt(model, p["ids"], N_GENERATE)
        n = len(p["ids"])
        # the decode steps agree with the teacher-forced pass (gaps to 1e-9)
        for j in range(N_GENERATE):
            ids, rel = tops[n - 1 + j]
            assert ids[0] == greedy[j] and abs(-rel[1] - gaps[j]) < 1e-9, (p["name"], j)
        out.append({"greedy": greedy, "gaps": gaps, "tokens": tokens, "logits": logits, "session": s,
                    "tops": tops})
    return out


def run_llamacpp(module, gguf, prompts, ref, tag):
    inp = os.path.join(HERE, "build", f"{tag}-llamacpp-in.json")
    outp = os.path.join(HERE, "build", f"{tag}-llamacpp-out.json")
    with open(inp, "w") as f:
        json.dump({"prompts": [{"name": p["name"], "text": p["text"], "ids": p["ids"], "tokens": r["tokens"]}
                               for p, r in zip(prompts, ref)]}, f)
    cmd = ["node", os.path.join(HERE, "llamacpp_golden.mjs"), gguf, inp, outp]
    if module:
        cmd[2:2] = ["--module", module]
    subprocess.run(cmd, check=True)
    with open(outp) as f:
        lc = json.load(f)
    for lp, r in zip(lc["prompts"], ref):
        lp["fed"] = r["tokens"]
    return lc


def position_delta(ref_logits, l_ids, l_rel):
    """|Δ| of one position: llama.cpp's top-20 against the reference's full logits, anchored at
    llama.cpp's top-1; and over the ids both top-20 share, anchored at the reference's top-1."""
    ref_logits = np.asarray(ref_logits, dtype=np.float64)
    l_ids = np.asarray(l_ids)
    l_rel = np.array([np.nan if v is None else v for v in l_rel])
    ok = ~np.isnan(l_rel)
    d1 = np.abs((ref_logits[l_ids] - ref_logits[l_ids[0]]) - l_rel)[ok].max()
    r0 = int(np.argmax(ref_logits))
    where = np.nonzero(l_ids == r0)[0]
    d2 = 0.0
    if len(where):
        anchor = l_rel[where[0]]
        r_ids, _ = reference.topk_rel(ref_logits, TOPK)
        shared = [i for i, t in enumerate(l_ids) if t in set(r_ids) and ok[i]]
        if shared:
            d2 = np.abs((ref_logits[l_ids[shared]] - ref_logits[r0]) - (l_rel[shared] - anchor)).max()
    return max(d1, d2)


def spread(model, prompts, ref, lc):
    """Spread of one llama.cpp run against one reference model (ref: its run_reference output),
    over all prompts. Teacher-forced rows compare on the tokens llama.cpp was fed."""
    tf, dec, mism, mism_gaps, greedy_rows, per_prompt = [], [], 0, [], [], []
    for p, r, l in zip(prompts, ref, lc["prompts"]):
        n = len(p["ids"])
        fed_logits = r["logits"] if l["fed"] == r["tokens"] else reference.logits_of(model, l["fed"])[0]
        d = [position_delta(fed_logits[i], l["top_ids"][i], l["top_rel"][i]) for i in range(len(l["fed"]))]
        tf += d
        pm = 0
        for i in range(len(l["fed"])):
            ids, rel = reference.topk_rel(fed_logits[i], 2)
            if l["top_ids"][i][0] != ids[0]:
                pm += 1
                mism_gaps.append(-rel[1])
        mism += pm
        # decode steps: the reference on llama.cpp's own greedy path
        path = list(p["ids"]) + l["greedy"][:-1]
        logits = reference.logits_of(model, path)[0]
        dd = [position_delta(logits[n - 1 + j], l["greedy_top_ids"][j], l["greedy_top_rel"][j])
              for j in range(N_GENERATE)]
        dec += dd
        first = next((j for j in range(N_GENERATE) if l["greedy"][j] != r["greedy"][j]), None)
        near_before = first is not None and any(g < NEAR_TIE for g in r["gaps"][:first + 1])
        greedy_rows.append({"prompt": p["name"], "first_divergence": first,
                            "ref_near_tie_before_divergence": bool(near_before),
                            "ref_gap_at_divergence": None if first is None else r["gaps"][first]})
        per_prompt.append({"tf_max": float(max(d)), "decode_max": float(max(dd)), "top1_mismatches": pm})
    tf, dec = np.array(tf), np.array(dec)
    return {
        "positions": int(tf.size),
        "tf_max": float(tf.max()), "tf_p99": float(np.percentile(tf, 99)), "tf_p50": float(np.percentile(tf, 50)),
        "decode_steps": int(dec.size), "decode_max": float(dec.max()), "decode_p99": float(np.percentile(dec, 99)),
        "top1_mismatches": mism, "max_ref_gap_at_top1_mismatch": float(max(mism_gaps)) if mism_gaps else None,
        "greedy": greedy_rows,
    }, per_prompt


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", choices=sorted(make_fixtures.MODELS))
    ap.add_argument("--f32", help="the all-F32 GGUF (make_fixtures.py model --f32)")
    ap.add_argument("--llamacpp-module", help="node-llama-cpp install folder")
    a = ap.parse_args()
    name = a.model
    mdir = make_fixtures.MODELS[name]["dir"]
    gguf = os.path.join(mdir, f"{name}-mxfp4.gguf")
    with open(os.path.join(mdir, "prompts.json")) as f:
        prompts = json.load(f)["prompts"]
    os.makedirs(os.path.join(HERE, "build"), exist_ok=True)

    cfg, w, gf = reference.load_gguf(gguf)
    hf_cfg, hf_w = reference.load_hf(os.path.join(mdir, "hf"))
    cfg["rms_eps"], cfg["yarn_truncate"] = hf_cfg["rms_eps"], hf_cfg["yarn_truncate"]  # config.json's exact values
    for key in ("embd", "out", "out_norm"):
        assert np.array_equal(w[key], hf_w[key]), key
    for L, H in zip(w["layers"], hf_w["layers"]):
        for key in L:
            assert np.array_equal(L[key], H[key]), key
    print(f"{name}: the GGUF and the Hugging Face folder hold the same numbers", flush=True)

    model = reference.Model(cfg, w)
    ref = run_reference(model, prompts)
    lc = run_llamacpp(a.llamacpp_module, gguf, prompts, ref, f"{name}-mxfp4")
    rows = []
    stats, per_prompt = spread(model, prompts, ref, lc)
    rows.append({"variant": f"{name}-mxfp4", "llamacpp_file": lc["file"], "reference": "HF semantics", **stats})

    # Diagnostics (stats only): what the distance is made of.
    model_trunc = reference.Model(cfg, w, yarn_truncate=True)
    ref_trunc = run_reference(model_trunc, prompts)
    st, _ = spread(model_trunc, prompts, ref_trunc, lc)
    rows.append({"variant": f"{name}-mxfp4 (stats only)", "llamacpp_file": lc["file"],
                 "reference": "YaRN range floored/ceiled as llama.cpp", **st})
    model_emul = reference.Model(cfg, w, yarn_truncate=True, emulate_llamacpp=True)
    ref_emul = run_reference(model_emul, prompts)
    st, _ = spread(model_emul, prompts, ref_emul, lc)
    rows.append({"variant": f"{name}-mxfp4 (stats only)", "llamacpp_file": lc["file"],
                 "reference": "YaRN as llama.cpp, activations rounded as llama.cpp (BF16, Q8_0)", **st})
    if a.f32:
        lc32 = run_llamacpp(a.llamacpp_module, a.f32, prompts, ref, f"{name}-f32")
        st, _ = spread(model, prompts, ref, lc32)
        rows.append({"variant": f"{name}-f32 (stats only)", "llamacpp_file": lc32["file"],
                     "reference": "HF semantics", **st})
        lc32t = run_llamacpp(a.llamacpp_module, a.f32, prompts, ref_trunc, f"{name}-f32-trunc")
        st, _ = spread(model_trunc, prompts, ref_trunc, lc32t)
        rows.append({"variant": f"{name}-f32 (stats only)", "llamacpp_file": lc32t["file"],
                     "reference": "YaRN range floored/ceiled as llama.cpp", **st})

    # Router margins and other facts about the reference run.
    margins = np.concatenate([np.concatenate(r["session"].router_margins()) for r in ref])
    router_all = np.concatenate([np.concatenate([np.concatenate(x) for x in r["session"].router_logits]) for r in ref])
    sess = [r["session"] for r in ref]
    facts = {
        "router_min_margin": float(margins.min()),
        "router_min_margin_over_logit_std": float(margins.min() / router_all.std()),
        "router_decisions": int(margins.size),
        "swiglu_gate_clamped_fraction": sum(s.stats["gate_clamped"] for s in sess) / sum(s.stats["gate_values"] for s in sess),
        "swiglu_up_clamped_fraction": sum(s.stats["up_clamped"] for s in sess) / sum(s.stats["gate_values"] for s in sess),
        "sink_probability_mean": float(np.mean(np.concatenate([np.concatenate(s.stats["sink_mass"]) for s in sess]))),
        "yarn_correction_range_hf": list(model.yarn_range),
        "yarn_correction_range_llamacpp": list(model_trunc.yarn_range),
        "yarn_attention_factor": model.attn_factor,
        "llamacpp_tokenization_agrees": {p["name"]: l["tokenized"] == p["ids"] for p, l in zip(prompts, lc["prompts"])},
    }

    with open(os.path.join(mdir, f"{name}.manifest.json")) as f:
        manifest = json.load(f)
    hf_json = json.load(open(os.path.join(mdir, "hf", "config.json")))
    golden = {
        "schema": "fare-fixtures/golden/1",
        "variant": f"{name}-mxfp4",
        "model": name,
        "files": [os.path.relpath(gguf, HERE), os.path.relpath(os.path.join(mdir, "hf"), HERE)],  # from tests/gpt_oss
        "weights_used_by_reference": f"{name}-mxfp4.gguf",
        "tensor_types": {k: gf.type_name(k) for k in gf.tensors},
        "config": {**{k: hf_json[k] for k in (
            "num_hidden_layers", "hidden_size", "num_attention_heads", "num_key_value_heads", "head_dim",
            "num_local_experts", "num_experts_per_tok", "intermediate_size", "vocab_size", "layer_types",
            "sliding_window", "rope_theta", "rope_scaling", "max_position_embeddings", "rms_norm_eps",
            "swiglu_limit", "tie_word_embeddings", "eos_token_id", "pad_token_id")},
            "special_tokens": manifest["special_tokens"], "route_code_dims": manifest["config"].get("route_code_dims")},
        "reference": "float64 NumPy gpt-oss forward (Hugging Face GptOssForCausalLM semantics: YaRN with "
                     "truncate=false, sinks, sliding window on even layers, top-k softmax router, clamped "
                     "SwiGLU) on the exactly decoded weights (MXFP4 experts)",
        "llamacpp": {"file": lc["file"], "package": lc["package"], "release": lc["release"],
                     "context": lc["context"], "cpu": lc["system_info"]},
        "topk": TOPK, "n_generate": N_GENERATE, "near_tie_threshold": NEAR_TIE,
        "stats": rows[0],
        "facts": facts,
        "prompts": [],
    }
    for p, r, l, pp in zip(prompts, ref, lc["prompts"], per_prompt):
        n = len(p["ids"])
        tops = r["tops"]
        first = next((j for j in range(N_GENERATE) if l["greedy"][j] != r["greedy"][j]), None)
        golden["prompts"].append({
            "name": p["name"], "text": p["text"], "ids": p["ids"], "n_prompt": n,
            "tokens": r["tokens"], "positions": list(range(len(r["tokens"]))),
            "ref_top_ids": [t[0] for t in tops], "ref_top_rel": [t[1] for t in tops],
            "llamacpp_top_ids": l["top_ids"], "llamacpp_top_rel": l["top_rel"],
            "ref_greedy": r["greedy"], "ref_greedy_gap": r["gaps"],
            "ref_near_ties": [j for j, g in enumerate(r["gaps"]) if g < NEAR_TIE],
            "llamacpp_greedy": l["greedy"], "llamacpp_greedy_first_divergence": first,
            "spread": pp,
        })
    gdir = os.path.join(HERE, "goldens")
    os.makedirs(gdir, exist_ok=True)
    path = os.path.join(gdir, f"{name}-mxfp4.json.xz")
    with lzma.open(path, "wt", preset=9) as f:
        json.dump(golden, f, separators=(",", ":"))
    index_path = os.path.join(gdir, "index.json")
    index = json.load(open(index_path)) if os.path.exists(index_path) else {"schema": "fare-fixtures/golden-index/1", "goldens": {}}
    index["goldens"][name] = {"file": os.path.basename(path), "files": golden["files"], "facts": facts,
                              "prompts": {p["name"]: len(p["ids"]) for p in prompts}, "spread": rows}
    with open(index_path, "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")
    for row in rows:
        print(f"{row['variant']:<34} {row['llamacpp_file']:<26} {row['reference']:<60} tf max {row['tf_max']:.3g} "
              f"p99 {row['tf_p99']:.3g} p50 {row['tf_p50']:.3g} decode max {row['decode_max']:.3g} "
              f"top1 mism {row['top1_mismatches']} greedy {[g['first_divergence'] for g in row['greedy']]}")
    print(json.dumps(facts, indent=1))


if __name__ == "__main__":
    main()
