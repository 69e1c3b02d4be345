#include "ops/kernels.h"

#include <utility>

#include "common/error.h"
#include "ops/cpu_features.h"

#if FARE_X86_KERNELS
#include "ops/x86/kernels_x86.h"
#endif

namespace fare {

namespace {

// The weight types every set handles (the rest of DType never holds a matrix).
constexpr DType kWeightTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::F8_E4M3, DType::Q8_0,
                                  DType::Q4_0, DType::Q4_K, DType::Q5_K, DType::Q6_K,    DType::Q8_K,
                                  DType::MXFP4};

struct Entry {
  KernelSet set;
  bool supported = false;
  std::string needs;
  bool automatic = true;  // "auto" (= "fast") / "exact" may pick it
};

#if FARE_X86_KERNELS

TypeKernels& slot(KernelSet& s, DType t) { return s.types[static_cast<size_t>(t)]; }

// Exact kernels of one instruction set for every weight type.
template <class Isa, size_t... I>
void fill_exact(KernelSet& s, std::index_sequence<I...>) {
  ((slot(s, kWeightTypes[I]) = TypeKernels{Isa::template gemv<kWeightTypes[I]>, Isa::template gemm<kWeightTypes[I]>,
                                           ActFormat::F32, ActFormat::F32, Isa::kRowTile}),
   ...);
}

// The exact kernels of one instruction set, by weight type.
struct Avx2 {
  static constexpr int kRowTile = avx2::kRowTile;
  template <DType T>
  static constexpr RowsFn gemv = &avx2::gemv<T>;
  template <DType T>
  static constexpr RowsFn gemm = &avx2::gemm<T>;
};

struct Avx512 {
  static constexpr int kRowTile = avx512::kRowTile;
  template <DType T>
  static constexpr RowsFn gemv = &avx512::gemv<T>;
  template <DType T>
  static constexpr RowsFn gemm = &avx512::gemm<T>;
};

// An integer-weight type on an int8-activation tile kernel: `offset` is what its unsigned codes
// carry (Q8_0 stores q + 128, Q4_0 q, Q6_K q, MXFP4 its value + 16, each read as
// scale * (u - offset)), `group` the values per weight scale.
void set_q8(KernelSet& s, DType t, RowsFn gemm, int row_tile, int offset, int group,
            ActFormat act = ActFormat::Q8) {
  TypeKernels& k = slot(s, t);
  k.gemm = gemm;
  k.act = act;
  k.row_align = row_tile;
  k.q8_offset = offset;
  k.q8_group = group;
}

// A decode kernel on int8 activations, with the offset and group the type's gemm set. The decode
// kernels split each group's bias (-offset x its code sum) evenly over its lanes of 4 columns.
void set_q8_gemv(KernelSet& s, DType t, RowsFn gemv, ActFormat act = ActFormat::Q8) {
  TypeKernels& k = slot(s, t);
  FARE_CHECK(k.q8_offset % (k.q8_group / 4) == 0);
  k.gemv = gemv;
  k.gemv_act = act;
}

void set_bf16(KernelSet& s, RowsFn gemm, int row_tile, ActFormat act = ActFormat::BF16) {
  TypeKernels& k = slot(s, DType::BF16);
  k.gemm = gemm;
  k.act = act;
  k.row_align = row_tile;
  k.packing = nullptr;
  k.gemv_packed = k.gemm_packed = nullptr;
}

// An integer-weight type whose tile kernel decodes its weights to bf16 (ActFormat::BF16_TILES);
// its decode kernel, offset and group stay as they were.
void set_decoded_bf16(KernelSet& s, DType t, RowsFn gemm, int row_tile) {
  TypeKernels& k = slot(s, t);
  k.gemm = gemm;
  k.act = ActFormat::BF16_TILES;
  k.row_align = row_tile;
  k.gemm_weights_bf16 = true;
}

// The AMX kernels on the tile unit, and on the scalar model of it that the tests run anywhere.
struct AmxTiles {
  static constexpr RowsFn q8_0_decode_packed = &amx::gemv_q8_0_packed;
  template <DType T>
  static constexpr RowsFn int8 = &amx::gemm<T>;
  template <DType T>
  static constexpr RowsFn decoded = &amx::gemm_decoded<T>;
  static constexpr RowsFn bf16 = &amx::gemm_bf16;
};

struct AmxModel {
  static constexpr RowsFn q8_0_decode_packed = &amx::emulated::gemv_q8_0_packed;
  template <DType T>
  static constexpr RowsFn int8 = &amx::emulated::gemm<T>;
  template <DType T>
  static constexpr RowsFn decoded = &amx::emulated::gemm_decoded<T>;
  static constexpr RowsFn bf16 = &amx::emulated::gemm_bf16;
};

constexpr int kAmxRows = 2 * amx::kRowTile;  // the BF16 tile loop's rows per pass

template <class Amx>
void set_amx_bf16(KernelSet& s) {
  set_bf16(s, Amx::bf16, kAmxRows, ActFormat::BF16_TILES);
}

template <class Amx>
void set_amx_int8(KernelSet& s) {
  constexpr int ka = amx::kRowTile;
  set_q8(s, DType::Q8_0, Amx::template int8<DType::Q8_0>, ka, 128, 32);
  set_q8(s, DType::Q4_0, Amx::template int8<DType::Q4_0>, ka, 8, 32);
  set_q8(s, DType::Q4_K, Amx::template int8<DType::Q4_K>, ka, 0, 32);
  set_q8(s, DType::Q5_K, Amx::template int8<DType::Q5_K>, ka, 0, 32);
  set_q8(s, DType::Q6_K, Amx::template int8<DType::Q6_K>, ka, 32, 16);
  set_q8(s, DType::MXFP4, Amx::template int8<DType::MXFP4>, ka, 16, 32);
}

template <class Amx>
void set_amx_decoded(KernelSet& s) {
  for (const auto& [t, fn] : {std::pair{DType::Q8_0, Amx::template decoded<DType::Q8_0>},
                              std::pair{DType::Q4_0, Amx::template decoded<DType::Q4_0>},
                              std::pair{DType::Q4_K, Amx::template decoded<DType::Q4_K>},
                              std::pair{DType::Q5_K, Amx::template decoded<DType::Q5_K>},
                              std::pair{DType::Q6_K, Amx::template decoded<DType::Q6_K>},
                              std::pair{DType::MXFP4, Amx::template decoded<DType::MXFP4>}})
    set_decoded_bf16(s, t, fn, kAmxRows);
  // Q8_0 packed at load (by default; WeightPacking::by_default) in tiles of 16 rows: decode on AMX-INT8 tiles, up to 16
  // sequences' tokens per pass over the weights, each token one lane whatever runs beside it.
  TypeKernels& q8 = slot(s, DType::Q8_0);
  q8.packing = &amx::kQ8_0Tiles;
  q8.gemv_packed = Amx::q8_0_decode_packed;
  q8.gemm_packed = Amx::template decoded<DType::Q8_0>;
  q8.gemv_packed_tokens = 16;
}

void add_x86_sets(std::vector<Entry>& out, std::vector<Entry>& emulated) {
  const CpuFeatures& f = cpu_features();
  constexpr auto all = std::make_index_sequence<std::size(kWeightTypes)>();

  Entry e2;
  e2.set.name = "avx2";
  e2.set.summary = "AVX2+FMA: weights decoded to float in registers, float activations (exact)";
  fill_exact<Avx2>(e2.set, all);
  e2.set.attend = &avx2::attend;
  e2.set.swiglu = &avx2::swiglu;
  e2.supported = f.avx2 && f.fma && f.f16c;
  e2.needs = "avx2 fma f16c";
  out.push_back(e2);

  // Measured on Zen 1 (docs/PERFORMANCE.md): the float kernels decode Q8_0 at about half the
  // read bandwidth there, bound by converting weights; integer products are cheaper than that.
  Entry e2i = e2;
  e2i.set.name = "avx2-int8";
  e2i.set.summary = "avx2, and Q8_0, Q4_K, Q6_K and MXFP4 decode on int8 activation blocks (vpmaddubsw)";
  e2i.set.exact = false;
  set_q8_gemv(e2i.set, DType::Q8_0, &avx2_int8::gemv<DType::Q8_0>);
  set_q8_gemv(e2i.set, DType::Q4_K, &avx2_int8::gemv<DType::Q4_K>);
  set_q8_gemv(e2i.set, DType::Q6_K, &avx2_int8::gemv<DType::Q6_K>);
  set_q8_gemv(e2i.set, DType::MXFP4, &avx2_int8::gemv<DType::MXFP4>);
  out.push_back(e2i);

  const bool avx512 = f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.fma && f.f16c;
  Entry e5;
  e5.set.name = "avx512";
  e5.set.summary = "AVX-512: weights decoded to float in registers, float activations (exact)";
  fill_exact<Avx512>(e5.set, all);
  e5.set.attend = &avx512::attend;
  e5.set.swiglu = &avx512::swiglu;
  e5.supported = avx512;
  e5.needs = "avx512f avx512bw avx512vl avx512dq fma f16c";
  out.push_back(e5);

  Entry ev = e5;
  ev.set.name = "avx512-vnni";
  ev.set.summary = "AVX-512 VNNI: integer weights times int8 activation blocks (vpdpbusd)";
  ev.set.exact = false;
  constexpr int kv = avx512_vnni::kRowTile;
  set_q8(ev.set, DType::Q8_0, &avx512_vnni::gemm<DType::Q8_0>, kv, 128, 32, ActFormat::Q8_PANELS);
  set_q8(ev.set, DType::Q4_0, &avx512_vnni::gemm<DType::Q4_0>, kv, 8, 32, ActFormat::Q8_PANELS);
  set_q8(ev.set, DType::Q4_K, &avx512_vnni::gemm<DType::Q4_K>, kv, 0, 32, ActFormat::Q8_PANELS);
  set_q8(ev.set, DType::Q5_K, &avx512_vnni::gemm<DType::Q5_K>, kv, 0, 32, ActFormat::Q8_PANELS);
  set_q8(ev.set, DType::Q6_K, &avx512_vnni::gemm<DType::Q6_K>, kv, 32, 16, ActFormat::Q8_PANELS);
  set_q8(ev.set, DType::MXFP4, &avx512_vnni::gemm<DType::MXFP4>, kv, 16, 32, ActFormat::Q8_PANELS);
  set_q8_gemv(ev.set, DType::Q8_0, &avx512_vnni::gemv<DType::Q8_0>);
  set_q8_gemv(ev.set, DType::Q4_K, &avx512_vnni::gemv<DType::Q4_K>, ActFormat::Q8_K4);
  set_q8_gemv(ev.set, DType::Q6_K, &avx512_vnni::gemv<DType::Q6_K>);
  set_q8_gemv(ev.set, DType::MXFP4, &avx512_vnni::gemv<DType::MXFP4>);
  ev.set.quantize_q8 = &avx512_vnni::quantize_q8;
  ev.supported = avx512 && f.avx512_vnni;
  ev.needs = e5.needs + " avx512_vnni";
  out.push_back(ev);

  Entry eb = ev;
  eb.set.name = "avx512-bf16";
  eb.set.summary = "avx512-vnni, and BF16 weights times bfloat16-rounded activations (vdpbf16ps)";
  set_bf16(eb.set, &avx512_bf16::gemm_bf16, avx512_bf16::kRowTile, ActFormat::BF16_PANELS);
  slot(eb.set, DType::BF16).gemv = &avx512_bf16::gemv_bf16;
  slot(eb.set, DType::BF16).gemv_act = ActFormat::BF16;
  slot(eb.set, DType::BF16).packing = &avx512_bf16::kBf16PairTiles;
  slot(eb.set, DType::BF16).gemv_packed = &avx512_bf16::gemv_bf16_packed;
  slot(eb.set, DType::BF16).gemm_packed = &avx512_bf16::gemm_bf16_packed;
  eb.set.bf16_panel_block = &avx512_bf16::bf16_panel_block;
  eb.set.attend = &avx512_bf16::attend;
  eb.set.attend_rounds = true;
  eb.supported = ev.supported && f.avx512_bf16;
  eb.needs = ev.needs + " avx512_bf16";
  out.push_back(eb);

  Entry ea = eb;
  ea.set.name = "amx";
  ea.set.summary = "avx512-bf16 with BF16 prefill on AMX tiles (TDPBF16PS)";
  set_amx_bf16<AmxTiles>(ea.set);
  ea.supported = eb.supported && f.amx_tile && f.amx_int8 && f.amx_bf16;
  ea.needs = eb.needs + " amx_tile amx_int8 amx_bf16 (and the OS's permission)";
  out.push_back(ea);

  // Integer weights on AMX-INT8 as well. Every block of 32 columns (16 for Q6_K) has its own
  // weight scale, so the tile unit can only sum 32 columns before its results go through the
  // vector unit: on a 16-core Xeon this ran at 0.5-0.75x the avx512-vnni prefill
  // (docs/PERFORMANCE.md), so it is chosen only by name.
  Entry ei = ea;
  ei.set.name = "amx-int8";
  ei.set.summary = "amx, and integer-weight prefill on AMX-INT8 tiles (slower than VNNI where measured)";
  set_amx_int8<AmxTiles>(ei.set);
  ei.automatic = false;
  out.push_back(ei);

  // Integer weights on AMX-BF16: each tile of weight rows decoded once to bf16 and multiplied
  // with bf16-rounded activations, the float accumulation of the tile unit over whole rows with
  // no float step per group of 32 columns. "fast" picks it over amx on AMX CPUs: on a 2-core
  // AMX Xeon its prefill (FARE-8B shape cut to 8 layers, pp512) ran 1.28-1.41x amx's VNNI path
  // on Q4_K_M and 1.06-1.26x on Q8_0 in three alternated rounds (docs/PERFORMANCE.md), with a
  // p99 distance to the reference 2.3-2.6x smaller; decode is the same VNNI code in both.
  Entry ed = ea;
  ed.set.name = "amx-bf16";
  ed.set.summary = "amx, and integer-weight prefill on AMX-BF16 tiles (weights decoded to bfloat16 per tile)";
  set_amx_decoded<AmxTiles>(ed.set);
  out.push_back(ed);

  // Not in the list the engine chooses from: see amx_emulated_kernels().
  Entry ee = eb;
  ee.set.name = "amx-int8-emulated";
  ee.set.summary = "the amx-int8 kernels on a scalar model of the tile unit (tests only)";
  set_amx_bf16<AmxModel>(ee.set);
  set_amx_int8<AmxModel>(ee.set);
  emulated.push_back(ee);

  Entry ede = eb;
  ede.set.name = "amx-bf16-emulated";
  ede.set.summary = "the amx-bf16 kernels on a scalar model of the tile unit (tests only)";
  set_amx_bf16<AmxModel>(ede.set);
  set_amx_decoded<AmxModel>(ede.set);
  emulated.push_back(ede);
}

#endif

struct Registry {
  std::vector<Entry> sets;      // best last
  std::vector<Entry> emulated;  // supported = false where they cannot run
};

const Registry& registry_all() {
  static const Registry r = [] {
    Registry v;
    v.sets.push_back({reference_kernels(), true, "nothing"});
#if FARE_X86_KERNELS
    add_x86_sets(v.sets, v.emulated);
#endif
    return v;
  }();
  return r;
}

const std::vector<Entry>& registry() { return registry_all().sets; }

}  // namespace

const KernelSet* amx_emulated_kernels(std::string_view name) {
  for (const Entry& e : registry_all().emulated)
    if (name == e.set.name) return e.supported ? &e.set : nullptr;
  return nullptr;
}

std::vector<KernelSetInfo> kernel_sets() {
  std::vector<KernelSetInfo> out;
  for (const Entry& e : registry()) out.push_back({&e.set, e.supported, e.needs});
  return out;
}

std::string supported_kernel_names() {
  std::string s;
  for (const Entry& e : registry())
    if (e.supported) s += (s.empty() ? "" : ", ") + std::string(e.set.name);
  return s;
}

const KernelSet& select_kernels(std::string_view name) {
  const auto& sets = registry();
  if (name == "auto" || name == "exact" || name == "fast") {
    const Entry* best = nullptr;
    for (const Entry& e : sets)
      if (e.supported && e.automatic && (name != "exact" || e.set.exact)) best = &e;
    return best->set;  // the reference set is always supported
  }
  for (const Entry& e : sets) {
    if (e.set.name != name) continue;
    if (!e.supported)
      fail("kernel set '", name, "' needs CPU features ", e.needs, "; this CPU has ", describe(cpu_features()),
           ". Sets it can run: auto, exact, fast, ", supported_kernel_names());
    return e.set;
  }
  fail("unknown kernel set '", name, "'; this CPU can run: auto, exact, fast, ", supported_kernel_names());
}

}  // namespace fare
