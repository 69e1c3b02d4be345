#include "io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <set>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/error.h"

namespace fare {

namespace {

constexpr uint64_t kMaxHeader = 100ull << 20;  // the format's own limit is 100 MB
constexpr int kMaxDepth = 4;
constexpr uint64_t kMaxElems = uint64_t{1} << 48;  // far beyond any real tensor, far below overflow

using json = nlohmann::json;

// Element size of the plain dtypes a safetensors file may hold.
size_t elem_bytes(DType t) { return static_cast<size_t>(traits(t).block_bytes); }

TensorInfo parse_entry(const std::string& path, const std::string& name, const json& e,
                       const uint8_t* base, uint64_t data_size) {
  auto where = [&] { return cat(path, ": tensor '", name, "': "); };
  if (!e.is_object()) fail(where(), "header entry is not an object");
  if (!e.contains("dtype") || !e["dtype"].is_string()) fail(where(), "missing string field 'dtype'");
  if (!e.contains("shape") || !e["shape"].is_array()) fail(where(), "missing array field 'shape'");
  if (!e.contains("data_offsets") || !e["data_offsets"].is_array() || e["data_offsets"].size() != 2)
    fail(where(), "missing field 'data_offsets' [begin, end]");
  const auto dt_name = e["dtype"].get<std::string>();
  const auto dt = dtype_from_safetensors(dt_name);
  if (!dt) fail(where(), "unsupported dtype '", dt_name, "' (expected F32, F16, BF16, F8_E4M3, U8, I8..I64, F64)");

  TensorInfo t;
  t.name = name;
  t.dtype = *dt;
  t.file = path;
  uint64_t numel = 1;
  bool too_large = false, has_zero = false;
  for (const auto& d : e["shape"]) {
    if (!d.is_number_unsigned()) fail(where(), "shape ", e["shape"].dump(), " has a non-integer or negative dimension");
    const uint64_t v = d.get<uint64_t>();
    // Each dimension is bounded on its own: a zero elsewhere must not hide a huge one.
    if (v > kMaxElems) fail(where(), "shape ", e["shape"].dump(), " has a dimension above 2^48");
    if (v == 0) has_zero = true;
    else if (numel > kMaxElems / v) too_large = true;
    numel *= v;
    t.shape.push_back(static_cast<int64_t>(v));
  }
  if (too_large && !has_zero) fail(where(), "shape ", e["shape"].dump(), " has more than 2^48 elements");
  const auto& off = e["data_offsets"];
  if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned())
    fail(where(), "data_offsets ", off.dump(), " are not non-negative integers");
  const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
  if (begin > end) fail(where(), "data_offsets ", off.dump(), " end before they begin");
  if (end > data_size)
    fail(where(), "data_offsets ", off.dump(), " run past the end of the data section (", data_size,
         " bytes; the file may be truncated)");
  const uint64_t expected = numel * elem_bytes(t.dtype);
  if (end - begin != expected)
    fail(where(), "holds ", end - begin, " bytes, but ", dt_name, " ", shape_str(t.shape), " needs ", expected);
  t.data = base + begin;
  t.nbytes = static_cast<size_t>(expected);
  return t;
}

}  // namespace

SafetensorsFile::SafetensorsFile(const std::string& path) : file_(std::make_unique<MappedFile>(path)) {
  const uint64_t size = file_->size();
  if (size < 8) fail(path, ": file is ", size, " bytes, too short for a safetensors header (8-byte length + JSON)");
  uint64_t n = 0;
  std::memcpy(&n, file_->data(), 8);
  if (n > kMaxHeader) fail(path, ": header length ", n, " exceeds the 100 MB limit (not a safetensors file?)");
  if (n > size - 8) fail(path, ": header length ", n, " runs past the end of the file (", size, " bytes; truncated?)");
  const char* h = reinterpret_cast<const char*>(file_->data() + 8);
  json header;
  std::set<std::string> names;
  // A header is three levels deep; the depth limit keeps hostile nesting from exhausting the
  // stack in later recursive code, and duplicate names are caught before the parser folds them.
  auto guard = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth > kMaxDepth) fail(path, ": header nests deeper than ", kMaxDepth, " levels");
    if (event == json::parse_event_t::key && depth == 1 && !names.insert(parsed.get<std::string>()).second)
      fail(path, ": tensor '", parsed.get<std::string>(), "' appears twice in the header");
    return true;
  };
  try {
    header = json::parse(h, h + n, guard);
  } catch (const json::exception& e) {
    fail(path, ": header is not valid JSON: ", e.what());
  }
  if (!header.is_object()) fail(path, ": header is not a JSON object");
  const uint8_t* base = file_->data() + 8 + n;
  const uint64_t data_size = size - 8 - n;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it.value().is_object()) fail(path, ": __metadata__ is not an object");
      for (auto m = it.value().begin(); m != it.value().end(); ++m)
        metadata_[m.key()] = m.value().is_string() ? m.value().get<std::string>() : m.value().dump();
      continue;
    }
    auto t = parse_entry(path, it.key(), it.value(), base, data_size);
    ranges.emplace_back(t.data - base, t.data - base + t.nbytes);
    tensors_.emplace(it.key(), std::move(t));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second)
      fail(path, ": tensor data ranges overlap at byte ", ranges[i].first, " of the data section");
}

void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<TensorToStream> streams;
  streams.reserve(tensors.size());
  for (const auto& t : tensors)
    streams.push_back({t.name, t.dtype, t.shape, [&t](const ByteSink& sink) { sink(t.bytes.data(), t.bytes.size()); }});
  write_safetensors(path, streams, metadata);
}

void write_safetensors(const std::string& path, const std::vector<TensorToStream>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  std::vector<uint64_t> sizes;
  for (const auto& t : tensors) {
    if (traits(t.dtype).block_elems != 1) fail(path, ": tensor '", t.name, "': ", name(t.dtype), " cannot be stored in safetensors");
    uint64_t n = elem_bytes(t.dtype);
    for (const int64_t d : t.shape) {
      if (d < 0) fail(path, ": tensor '", t.name, "': shape ", shape_str(t.shape), " has a negative dimension");
      n *= static_cast<uint64_t>(d);
    }
    sizes.push_back(n);
    header[t.name] = {{"dtype", std::string(name(t.dtype))}, {"shape", t.shape}, {"data_offsets", {offset, offset + n}}};
    offset += n;
  }
  std::string h = header.dump();
  while ((8 + h.size()) % 8) h.push_back(' ');  // keeps the data section 8-byte aligned
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail(path, ": cannot open for writing");
  const uint64_t hn = h.size();
  out.write(reinterpret_cast<const char*>(&hn), 8);
  out.write(h.data(), static_cast<std::streamsize>(h.size()));
  for (size_t i = 0; i < tensors.size(); ++i) {
    uint64_t written = 0;
    tensors[i].produce([&](const uint8_t* data, size_t n) {
      written += n;
      if (written > sizes[i]) fail(path, ": tensor '", tensors[i].name, "': producer gave more than ", sizes[i], " bytes");
      out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n));
    });
    if (written != sizes[i]) fail(path, ": tensor '", tensors[i].name, "': producer gave ", written, " of ", sizes[i], " bytes");
    if (!out) fail(path, ": write failed (disk full?)");
  }
  if (!out.flush()) fail(path, ": write failed");
}

}  // namespace fare
