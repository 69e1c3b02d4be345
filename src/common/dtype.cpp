#include "common/dtype.h"

#include <array>

#include "common/error.h"

namespace fare {

namespace {

// Indexed by DType. Block layouts follow ggml's public format description.
constexpr std::array<DTypeTraits, 17> kTraits = {{
    {"F32", 1, 4, false},
    {"F16", 1, 2, false},
    {"BF16", 1, 2, false},
    {"F8_E4M3", 1, 1, true},
    {"Q8_0", 32, 2 + 32, true},
    {"Q4_0", 32, 2 + 16, true},
    {"Q4_K", 256, 2 + 2 + 12 + 128, true},
    {"Q5_K", 256, 2 + 2 + 12 + 32 + 128, true},
    {"Q6_K", 256, 128 + 64 + 16 + 2, true},
    {"Q8_K", 256, 4 + 256 + 32, true},
    {"MXFP4", 32, 1 + 16, true},
    {"U8", 1, 1, false},
    {"I8", 1, 1, false},
    {"I16", 1, 2, false},
    {"I32", 1, 4, false},
    {"I64", 1, 8, false},
    {"F64", 1, 8, false},
}};
static_assert(kTraits.size() == static_cast<size_t>(DType::F64) + 1, "one row per DType");

struct GgmlId {
  uint32_t id;
  DType type;
};
// ggml_type enum values (stable in the GGUF format).
constexpr std::array<GgmlId, 15> kGgml = {{
    {0, DType::F32},  {1, DType::F16},   {2, DType::Q4_0},  {8, DType::Q8_0},  {12, DType::Q4_K},
    {13, DType::Q5_K}, {14, DType::Q6_K}, {15, DType::Q8_K}, {24, DType::I8},   {25, DType::I16},
    {26, DType::I32}, {27, DType::I64},  {28, DType::F64},  {30, DType::BF16}, {39, DType::MXFP4},
}};

}  // namespace

const DTypeTraits& traits(DType t) {
  const auto i = static_cast<size_t>(t);
  FARE_CHECK(i < kTraits.size());
  return kTraits[i];
}

std::optional<DType> dtype_from_ggml(uint32_t ggml_type) {
  for (const auto& g : kGgml)
    if (g.id == ggml_type) return g.type;
  return std::nullopt;
}

std::optional<uint32_t> ggml_type_id(DType t) {
  for (const auto& g : kGgml)
    if (g.type == t) return g.id;
  return std::nullopt;
}

std::optional<DType> dtype_from_safetensors(std::string_view s) {
  if (s == "F32") return DType::F32;
  if (s == "F16") return DType::F16;
  if (s == "BF16") return DType::BF16;
  if (s == "F8_E4M3") return DType::F8_E4M3;
  if (s == "U8") return DType::U8;
  if (s == "I8") return DType::I8;
  if (s == "I16") return DType::I16;
  if (s == "I32") return DType::I32;
  if (s == "I64") return DType::I64;
  if (s == "F64") return DType::F64;
  return std::nullopt;
}

}  // namespace fare
