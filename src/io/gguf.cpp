#include "io/gguf.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <fstream>
#include <limits>

#include "common/error.h"
#include "io/byte_reader.h"

namespace fare {

namespace {

constexpr uint64_t kDefaultAlignment = 32;
constexpr uint32_t kMaxDims = 4;
constexpr uint64_t kMaxKeyBytes = 65535;   // the format's limit for keys
constexpr uint64_t kMaxNameBytes = 65535;  // tensor names are far shorter in practice (ggml: 63)
// Smallest possible encodings, used to reject counts no file of this size could hold.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;               // empty key, value type, one-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // empty name, n_dims, one dim, type, offset
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

// ggml type names by id, so an unsupported type is reported by name; "" marks unused ids.
constexpr std::array<const char*, 40> kGgmlTypeNames = {
    "F32",     "F16",     "Q4_0",    "Q4_1",     "",        "",      "Q5_0",   "Q5_1",   "Q8_0",    "Q8_1",
    "Q2_K",    "Q3_K",    "Q4_K",    "Q5_K",     "Q6_K",    "Q8_K",  "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S",
    "IQ4_NL",  "IQ3_S",   "IQ2_S",   "IQ4_XS",   "I8",      "I16",   "I32",    "I64",    "F64",     "IQ1_M",
    "BF16",    "",        "",        "",         "TQ1_0",   "TQ2_0", "",       "",       "",        "MXFP4",
};

bool is_valid_type(uint32_t t) { return t <= static_cast<uint32_t>(GgufType::F64); }

bool is_int_type(GgufType t) {
  switch (t) {
    case GgufType::U8: case GgufType::I8: case GgufType::U16: case GgufType::I16: case GgufType::U32:
    case GgufType::I32: case GgufType::U64: case GgufType::I64: case GgufType::BOOL:
      return true;
    default:
      return false;
  }
}

bool is_float_type(GgufType t) { return t == GgufType::F32 || t == GgufType::F64; }

// Encoded size of a fixed-size value; 0 for STRING and ARRAY.
uint64_t fixed_size(GgufType t) {
  switch (t) {
    case GgufType::U8: case GgufType::I8: case GgufType::BOOL: return 1;
    case GgufType::U16: case GgufType::I16: return 2;
    case GgufType::U32: case GgufType::I32: case GgufType::F32: return 4;
    case GgufType::U64: case GgufType::I64: case GgufType::F64: return 8;
    default: return 0;
  }
}

std::string type_desc(const GgufValue& v) {
  if (v.type != GgufType::ARRAY) return gguf_type_name(v.type);
  return cat("ARRAY of ", gguf_type_name(v.elem_type));
}

GgufType read_type(ByteReader& r) {
  const auto t = r.read<uint32_t>();
  if (!is_valid_type(t)) r.error("unknown value type ", t, " (expected 0..12)");
  return static_cast<GgufType>(t);
}

// Reads one fixed-size number of type `t` into `v.i` (integers, BOOL) or `v.f` (floats).
void read_number(ByteReader& r, GgufType t, int64_t& i, double& f) {
  switch (t) {
    case GgufType::U8: i = r.read<uint8_t>(); return;
    case GgufType::I8: i = r.read<int8_t>(); return;
    case GgufType::U16: i = r.read<uint16_t>(); return;
    case GgufType::I16: i = r.read<int16_t>(); return;
    case GgufType::U32: i = r.read<uint32_t>(); return;
    case GgufType::I32: i = r.read<int32_t>(); return;
    case GgufType::I64: i = r.read<int64_t>(); return;
    case GgufType::F32: f = r.read<float>(); return;
    case GgufType::F64: f = r.read<double>(); return;
    case GgufType::BOOL: {
      const auto b = r.read<uint8_t>();
      if (b > 1) r.error("BOOL value ", static_cast<int>(b), " (expected 0 or 1)");
      i = b;
      return;
    }
    case GgufType::U64: {
      const auto u = r.read<uint64_t>();
      if (u > static_cast<uint64_t>(kInt64Max)) r.error("U64 value ", u, " is above the supported maximum ", kInt64Max);
      i = static_cast<int64_t>(u);
      return;
    }
    default: FARE_CHECK(false, "not a number type: ", static_cast<uint32_t>(t));
  }
}

GgufValue read_array(ByteReader& r) {
  GgufValue v;
  v.type = GgufType::ARRAY;
  v.elem_type = read_type(r);
  if (v.elem_type == GgufType::ARRAY) r.error("arrays of arrays are not supported");
  const auto n = r.read<uint64_t>();
  const uint64_t min_elem = v.elem_type == GgufType::STRING ? 8 : fixed_size(v.elem_type);
  if (n > r.remaining() / min_elem)
    r.error("array of ", n, " ", gguf_type_name(v.elem_type), " needs at least ", min_elem, " bytes each, but only ",
            r.remaining(), " bytes remain (corrupt count or truncated file?)");
  if (v.elem_type == GgufType::STRING) {
    v.strings.reserve(n);
    for (uint64_t k = 0; k < n; ++k) v.strings.push_back(r.read_string(r.remaining()));
  } else if (is_float_type(v.elem_type)) {
    v.floats.resize(n);
    int64_t unused = 0;
    for (auto& x : v.floats) read_number(r, v.elem_type, unused, x);
  } else {
    v.ints.resize(n);
    double unused = 0;
    for (auto& x : v.ints) read_number(r, v.elem_type, x, unused);
  }
  return v;
}

GgufValue read_value(ByteReader& r, GgufType t) {
  if (t == GgufType::ARRAY) return read_array(r);
  GgufValue v;
  v.type = t;
  if (t == GgufType::STRING) v.s = r.read_string(r.remaining());
  else read_number(r, t, v.i, v.f);
  return v;
}

std::string printable_magic(const uint8_t* p) {
  std::string s;
  for (int k = 0; k < 4; ++k) s += (p[k] >= 0x20 && p[k] < 0x7f) ? static_cast<char>(p[k]) : '?';
  return s;
}

uint32_t read_magic_and_version(ByteReader& r, const uint8_t* data) {
  r.set_context("header");
  const auto magic = r.read<uint32_t>();
  if (std::memcmp(&magic, "GGUF", 4) != 0)
    r.error("not a GGUF file (magic '", printable_magic(data), "', expected 'GGUF')");
  const auto version = r.read<uint32_t>();
  if (version == 2 || version == 3) return version;
  if (version == 1) r.error("GGUF version 1 is not supported (expected 2 or 3; re-convert the file)");
  if ((version & 0xffffu) == 0 && version != 0)
    r.error("unsupported GGUF version ", version, " (a big-endian file? only little-endian is supported)");
  r.error("unsupported GGUF version ", version, " (expected 2 or 3)");
}

void read_metadata(ByteReader& r, uint64_t n_kv, std::map<std::string, GgufValue>& kv) {
  for (uint64_t k = 0; k < n_kv; ++k) {
    r.set_context(cat("metadata key/value #", k));
    auto key = r.read_string(kMaxKeyBytes);
    if (key.empty()) r.error("empty key");
    r.set_context(cat("metadata key '", key, "'"));
    const auto type = read_type(r);
    auto value = read_value(r, type);
    if (!kv.emplace(key, std::move(value)).second) r.error("duplicate key");
  }
}

uint64_t alignment_of(const std::string& path, const std::map<std::string, GgufValue>& kv) {
  const auto it = kv.find("general.alignment");
  if (it == kv.end()) return kDefaultAlignment;
  const auto& v = it->second;
  if (v.type != GgufType::U32)
    fail(path, ": metadata key 'general.alignment': expected U32, found ", type_desc(v));
  const auto a = static_cast<uint64_t>(v.i);
  if (a == 0 || !std::has_single_bit(a))
    fail(path, ": metadata key 'general.alignment': ", a, " is not a power of two");
  return a;
}

// A tensor info as stored, before its data range is checked.
struct RawTensor {
  TensorInfo info;
  uint64_t offset = 0;
};

RawTensor read_tensor_info(ByteReader& r, uint64_t index) {
  r.set_context(cat("tensor info #", index));
  RawTensor t;
  t.info.name = r.read_string(kMaxNameBytes);
  if (t.info.name.empty()) r.error("empty tensor name");
  r.set_context(cat("tensor '", t.info.name, "'"));
  const auto n_dims = r.read<uint32_t>();
  if (n_dims == 0 || n_dims > kMaxDims) r.error("n_dims ", n_dims, " (expected 1..", kMaxDims, ")");
  std::vector<int64_t> ne(n_dims);
  int64_t numel = 1;
  for (uint32_t d = 0; d < n_dims; ++d) {
    const auto v = r.read<uint64_t>();
    if (v == 0) r.error("dimension ne[", d, "] is 0");
    if (v > static_cast<uint64_t>(kInt64Max) || numel > kInt64Max / static_cast<int64_t>(v))
      r.error("dimensions are too large (ne[", d, "] = ", v, "; element count overflows)");
    ne[d] = static_cast<int64_t>(v);
    numel *= ne[d];
  }
  const auto ggml_type = r.read<uint32_t>();
  const auto dtype = dtype_from_ggml(ggml_type);
  if (!dtype) {
    const char* label = ggml_type < kGgmlTypeNames.size() ? kGgmlTypeNames[ggml_type] : "";
    if (*label) r.error("ggml type ", ggml_type, " (", label, ") is not supported");
    r.error("unknown ggml type ", ggml_type);
  }
  const auto& tr = traits(*dtype);
  if (ne[0] % tr.block_elems != 0)
    r.error("ne[0] = ", ne[0], " is not a multiple of the ", tr.name, " block size ", tr.block_elems);
  t.info.dtype = *dtype;
  t.info.shape.assign(ne.rbegin(), ne.rend());
  // A row can take more bytes than values (8 for F64), so the byte count may overflow.
  const auto n_blocks = static_cast<uint64_t>(ne[0] / tr.block_elems);
  const auto n_rows = static_cast<uint64_t>(numel / ne[0]);
  uint64_t row = 0, total = 0;
  if (__builtin_mul_overflow(n_blocks, static_cast<uint64_t>(tr.block_bytes), &row) ||
      __builtin_mul_overflow(row, n_rows, &total))
    r.error("dimensions are too large (", tr.name, " ", shape_str(t.info.shape), " overflows the byte count)");
  t.info.nbytes = static_cast<size_t>(total);
  t.offset = r.read<uint64_t>();
  return t;
}

std::string range_str(const RawTensor& t) { return cat("[offset ", t.offset, ", ", t.info.nbytes, " bytes]"); }

// Checks every tensor's range against the data section and the others, then points it at the map.
void place_tensors(const MappedFile& file, uint64_t data_start, uint64_t alignment, std::vector<RawTensor>& raw,
                   std::map<std::string, TensorInfo>& out) {
  const auto& path = file.path();
  const uint64_t size = file.size();
  if (!raw.empty() && data_start > size)
    fail(path, ": data section starts at byte ", data_start, ", past the end of the file (", size, " bytes; truncated?)");
  const uint64_t data_size = raw.empty() ? 0 : size - data_start;
  for (auto& t : raw) {
    const auto where = cat(path, ": tensor '", t.info.name, "': ");
    if (t.offset % alignment != 0)
      fail(where, "data offset ", t.offset, " is not a multiple of the alignment ", alignment);
    if (t.offset > data_size || t.info.nbytes > data_size - t.offset)
      fail(where, "data ", range_str(t), " runs past the end of the file (data section holds ", data_size,
           " bytes of ", size, "; truncated?)");
  }
  std::vector<const RawTensor*> order;
  for (const auto& t : raw) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](const RawTensor* a, const RawTensor* b) { return a->offset < b->offset; });
  for (size_t k = 1; k < order.size(); ++k) {
    const auto& prev = *order[k - 1];
    const auto& cur = *order[k];
    if (cur.offset < prev.offset + prev.info.nbytes)
      fail(path, ": tensor '", cur.info.name, "': data ", range_str(cur), " overlaps tensor '", prev.info.name, "' ",
           range_str(prev));
  }
  for (auto& t : raw) {
    t.info.data = file.data() + data_start + t.offset;
    t.info.file = path;
    auto name = t.info.name;
    out.emplace(std::move(name), std::move(t.info));
  }
}

}  // namespace

const char* gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::U8: return "U8";
    case GgufType::I8: return "I8";
    case GgufType::U16: return "U16";
    case GgufType::I16: return "I16";
    case GgufType::U32: return "U32";
    case GgufType::I32: return "I32";
    case GgufType::F32: return "F32";
    case GgufType::BOOL: return "BOOL";
    case GgufType::STRING: return "STRING";
    case GgufType::ARRAY: return "ARRAY";
    case GgufType::U64: return "U64";
    case GgufType::I64: return "I64";
    case GgufType::F64: return "F64";
  }
  return "?";
}

GgufFile::GgufFile(const std::string& path) : file_(std::make_unique<MappedFile>(path)) {
  ByteReader r(file_->data(), file_->size(), path);
  version_ = read_magic_and_version(r, file_->data());
  const auto n_tensors = r.read<uint64_t>();
  const auto n_kv = r.read<uint64_t>();
  // Each count alone, then both together, must fit in what is left of the file.
  const uint64_t rem = r.remaining();
  if (n_kv > rem / kMinKvBytes)
    r.error(n_kv, " metadata key/value pairs cannot fit in the remaining ", rem, " bytes (corrupt count or truncated file?)");
  if (n_tensors > rem / kMinTensorInfoBytes || n_tensors * kMinTensorInfoBytes > rem - n_kv * kMinKvBytes)
    r.error(n_tensors, " tensor infos cannot fit in the remaining ", rem, " bytes (corrupt count or truncated file?)");

  read_metadata(r, n_kv, kv_);
  alignment_ = alignment_of(path, kv_);

  std::vector<RawTensor> raw;
  raw.reserve(n_tensors);
  std::map<std::string, uint64_t> seen;
  for (uint64_t k = 0; k < n_tensors; ++k) {
    raw.push_back(read_tensor_info(r, k));
    if (!seen.emplace(raw.back().info.name, k).second)
      r.error("duplicate tensor name (also tensor info #", seen[raw.back().info.name], ")");
  }
  const uint64_t data_start = (r.pos() + alignment_ - 1) / alignment_ * alignment_;
  place_tensors(*file_, data_start, alignment_, raw, tensors_);
}

const GgufValue* GgufFile::find(const std::string& key) const {
  const auto it = kv_.find(key);
  return it == kv_.end() ? nullptr : &it->second;
}

namespace {

// Finds `key` and checks its type with `ok`; `expected` describes the accepted types.
template <typename Pred>
const GgufValue& typed(const GgufFile& f, const std::string& key, const char* expected, Pred ok) {
  const GgufValue* v = f.find(key);
  if (!v) fail(f.path(), ": metadata key '", key, "' is missing (expected ", expected, ")");
  if (!ok(*v)) fail(f.path(), ": metadata key '", key, "': expected ", expected, ", found ", type_desc(*v));
  return *v;
}

bool is_array_of(const GgufValue& v, bool (*elem_ok)(GgufType)) {
  return v.type == GgufType::ARRAY && elem_ok(v.elem_type);
}

}  // namespace

std::string GgufFile::get_string(const std::string& key) const {
  return typed(*this, key, "STRING", [](const GgufValue& v) { return v.type == GgufType::STRING; }).s;
}

int64_t GgufFile::get_int(const std::string& key) const {
  return typed(*this, key, "an integer type", [](const GgufValue& v) { return is_int_type(v.type); }).i;
}

double GgufFile::get_float(const std::string& key) const {
  const auto& v = typed(*this, key, "a float or integer type",
                        [](const GgufValue& x) { return is_float_type(x.type) || is_int_type(x.type); });
  return is_float_type(v.type) ? v.f : static_cast<double>(v.i);
}

bool GgufFile::get_bool(const std::string& key) const {
  return typed(*this, key, "BOOL", [](const GgufValue& v) { return v.type == GgufType::BOOL; }).i != 0;
}

const std::vector<std::string>& GgufFile::get_string_array(const std::string& key) const {
  return typed(*this, key, "ARRAY of STRING", [](const GgufValue& v) {
           return is_array_of(v, [](GgufType t) { return t == GgufType::STRING; });
         }).strings;
}

const std::vector<int64_t>& GgufFile::get_int_array(const std::string& key) const {
  return typed(*this, key, "ARRAY of an integer type", [](const GgufValue& v) { return is_array_of(v, is_int_type); })
      .ints;
}

const std::vector<double>& GgufFile::get_float_array(const std::string& key) const {
  return typed(*this, key, "ARRAY of F32 or F64", [](const GgufValue& v) { return is_array_of(v, is_float_type); })
      .floats;
}

// ---------------------------------------------------------------------------------------------
// Writer

namespace {

class ByteWriter {
 public:
  template <typename T>
  void put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    bytes_.insert(bytes_.end(), s.begin(), s.end());
  }
  void pad_to(uint64_t alignment) { bytes_.resize((bytes_.size() + alignment - 1) / alignment * alignment, 0); }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

void put_number(ByteWriter& w, GgufType t, int64_t i, double f) {
  switch (t) {
    case GgufType::U8: w.put<uint8_t>(static_cast<uint8_t>(i)); return;
    case GgufType::I8: w.put<int8_t>(static_cast<int8_t>(i)); return;
    case GgufType::U16: w.put<uint16_t>(static_cast<uint16_t>(i)); return;
    case GgufType::I16: w.put<int16_t>(static_cast<int16_t>(i)); return;
    case GgufType::U32: w.put<uint32_t>(static_cast<uint32_t>(i)); return;
    case GgufType::I32: w.put<int32_t>(static_cast<int32_t>(i)); return;
    case GgufType::U64: w.put<uint64_t>(static_cast<uint64_t>(i)); return;
    case GgufType::I64: w.put<int64_t>(i); return;
    case GgufType::BOOL: w.put<uint8_t>(i != 0); return;
    case GgufType::F32: w.put<float>(static_cast<float>(f)); return;
    case GgufType::F64: w.put<double>(f); return;
    default: FARE_CHECK(false, "not a number type: ", static_cast<uint32_t>(t));
  }
}

void put_value(ByteWriter& w, const GgufValue& v) {
  w.put<uint32_t>(static_cast<uint32_t>(v.type));
  if (v.type == GgufType::STRING) return w.put_string(v.s);
  if (v.type != GgufType::ARRAY) return put_number(w, v.type, v.i, v.f);
  w.put<uint32_t>(static_cast<uint32_t>(v.elem_type));
  w.put<uint64_t>(v.array_size());
  for (const auto& s : v.strings) w.put_string(s);
  for (const auto x : v.floats) put_number(w, v.elem_type, 0, x);
  for (const auto x : v.ints) put_number(w, v.elem_type, x, 0);
}

// Replaces the value of an existing key, so a later set_* wins; `Kvs` is the writer's list.
template <typename Kvs>
void set_kv(Kvs& kvs, const std::string& key, GgufValue v) {
  if (key.empty() || key.size() > kMaxKeyBytes) fail("GGUF writer: metadata key '", key, "' is empty or too long");
  for (auto& kv : kvs)
    if (kv.key == key) {
      kv.value = std::move(v);
      return;
    }
  kvs.push_back({key, std::move(v)});
}

GgufValue scalar(GgufType t) {
  GgufValue v;
  v.type = t;
  return v;
}

GgufValue array_of(GgufType elem) {
  GgufValue v = scalar(GgufType::ARRAY);
  v.elem_type = elem;
  return v;
}

}  // namespace

void GgufWriter::set_value(const std::string& key, const GgufValue& v) { set_kv(kv_, key, v); }

void GgufWriter::set_string(const std::string& key, const std::string& v) {
  auto x = scalar(GgufType::STRING);
  x.s = v;
  set_kv(kv_, key, std::move(x));
}

void GgufWriter::set_u32(const std::string& key, uint32_t v) {
  auto x = scalar(GgufType::U32);
  x.i = v;
  set_kv(kv_, key, std::move(x));
}

void GgufWriter::set_i32(const std::string& key, int32_t v) {
  auto x = scalar(GgufType::I32);
  x.i = v;
  set_kv(kv_, key, std::move(x));
}

void GgufWriter::set_f32(const std::string& key, float v) {
  auto x = scalar(GgufType::F32);
  x.f = v;
  set_kv(kv_, key, std::move(x));
}

void GgufWriter::set_bool(const std::string& key, bool v) {
  auto x = scalar(GgufType::BOOL);
  x.i = v;
  set_kv(kv_, key, std::move(x));
}

void GgufWriter::set_string_array(const std::string& key, const std::vector<std::string>& v) {
  auto x = array_of(GgufType::STRING);
  x.strings = v;
  set_kv(kv_, key, std::move(x));
}

void GgufWriter::set_i32_array(const std::string& key, const std::vector<int32_t>& v) {
  auto x = array_of(GgufType::I32);
  x.ints.assign(v.begin(), v.end());
  set_kv(kv_, key, std::move(x));
}

void GgufWriter::set_f32_array(const std::string& key, const std::vector<float>& v) {
  auto x = array_of(GgufType::F32);
  x.floats.assign(v.begin(), v.end());
  set_kv(kv_, key, std::move(x));
}

size_t GgufWriter::check_tensor(const std::string& name, DType dtype, const std::vector<int64_t>& shape) const {
  const auto where = cat("GGUF writer: tensor '", name, "': ");
  if (name.empty() || name.size() > kMaxNameBytes) fail(where, "name is empty or too long");
  for (const auto& t : tensors_)
    if (t.name == name) fail(where, "added twice");
  if (!ggml_type_id(dtype)) fail(where, "type ", fare::name(dtype), " cannot be stored in GGUF");
  if (shape.empty() || shape.size() > kMaxDims) fail(where, "shape ", shape_str(shape), " must have 1..4 dimensions");
  int64_t numel = 1;
  for (const auto d : shape) {
    if (d <= 0 || numel > kInt64Max / d) fail(where, "shape ", shape_str(shape), " has a non-positive or huge dimension");
    numel *= d;
  }
  const auto& tr = traits(dtype);
  if (shape.back() % tr.block_elems != 0)
    fail(where, "innermost dimension ", shape.back(), " is not a multiple of the ", tr.name, " block size ",
         tr.block_elems);
  return static_cast<size_t>(numel / shape.back()) * row_bytes(dtype, shape.back());
}

void GgufWriter::add_tensor(const std::string& name, DType dtype, const std::vector<int64_t>& shape,
                            std::vector<uint8_t> bytes) {
  const size_t expected = check_tensor(name, dtype, shape);
  if (bytes.size() != expected)
    fail("GGUF writer: tensor '", name, "': holds ", bytes.size(), " bytes, but ", fare::name(dtype), " ",
         shape_str(shape), " needs ", expected);
  tensors_.push_back({name, dtype, shape, std::move(bytes), expected, {}});
}

void GgufWriter::add_tensor(const std::string& name, DType dtype, const std::vector<int64_t>& shape,
                            TensorProducer produce) {
  FARE_CHECK(produce, name);
  const size_t expected = check_tensor(name, dtype, shape);
  tensors_.push_back({name, dtype, shape, {}, expected, std::move(produce)});
}

void GgufWriter::write(const std::string& path, uint64_t alignment) const {
  if (alignment == 0 || !std::has_single_bit(alignment) || alignment > std::numeric_limits<uint32_t>::max())
    fail(path, ": GGUF alignment ", alignment, " is not a power of two that fits in U32");
  auto kvs = kv_;
  const auto given = std::find_if(kvs.begin(), kvs.end(), [](const Kv& kv) { return kv.key == "general.alignment"; });
  if (given != kvs.end() && !(given->value.type == GgufType::U32 && static_cast<uint64_t>(given->value.i) == alignment))
    fail(path, ": metadata key 'general.alignment' disagrees with the alignment ", alignment, " the file is written with");
  if (given == kvs.end() && alignment != kDefaultAlignment) {
    auto a = scalar(GgufType::U32);
    a.i = static_cast<int64_t>(alignment);
    kvs.push_back({"general.alignment", a});
  }

  ByteWriter w;
  w.put<uint32_t>(0x46554747u);  // "GGUF" read as a little-endian u32
  w.put<uint32_t>(3);
  w.put<uint64_t>(tensors_.size());
  w.put<uint64_t>(kvs.size());
  for (const auto& kv : kvs) {
    w.put_string(kv.key);
    put_value(w, kv.value);
  }
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    w.put_string(t.name);
    w.put<uint32_t>(static_cast<uint32_t>(t.shape.size()));
    for (auto d = t.shape.rbegin(); d != t.shape.rend(); ++d) w.put<uint64_t>(static_cast<uint64_t>(*d));
    w.put<uint32_t>(*ggml_type_id(t.dtype));
    w.put<uint64_t>(offset);
    offset = (offset + t.nbytes + alignment - 1) / alignment * alignment;
  }
  w.pad_to(alignment);

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail(path, ": cannot open for writing");
  out.write(reinterpret_cast<const char*>(w.bytes().data()), static_cast<std::streamsize>(w.bytes().size()));
  const std::vector<char> zeros(alignment, 0);
  for (const auto& t : tensors_) {
    if (t.produce) {
      size_t written = 0;
      t.produce([&](const uint8_t* data, size_t n) {
        written += n;
        if (written > t.nbytes) fail(path, ": tensor '", t.name, "': producer gave more than the ", t.nbytes, " bytes it needs");
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n));
      });
      if (written != t.nbytes) fail(path, ": tensor '", t.name, "': producer gave ", written, " of ", t.nbytes, " bytes");
    } else {
      out.write(reinterpret_cast<const char*>(t.bytes.data()), static_cast<std::streamsize>(t.bytes.size()));
    }
    if (!out) fail(path, ": write failed (disk full?)");
    const uint64_t pad = (alignment - t.nbytes % alignment) % alignment;
    out.write(zeros.data(), static_cast<std::streamsize>(pad));
  }
  if (!out.flush()) fail(path, ": write failed");
}

}  // namespace fare
