// GGUF v3 (also reads v2): header, typed metadata key/values, tensor infos, aligned tensor data.
// The reader validates every count, length, offset and type against the file size before use,
// so a truncated or corrupt file gives one clear fare::Error and never an out-of-bounds read.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "io/mapped_file.h"
#include "io/tensor_info.h"
#include "io/tensor_stream.h"

namespace fare {

// GGUF metadata value types (numbering from the format).
enum class GgufType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};
const char* gguf_type_name(GgufType t);

struct GgufValue {
  GgufType type = GgufType::U8;
  GgufType elem_type = GgufType::U8;  // for ARRAY
  // Scalars: integers (and BOOL) in `i` (U64 above INT64_MAX is rejected), floats in `f`,
  // strings in `s`. Arrays: one of the vectors below, by element type class.
  int64_t i = 0;
  double f = 0;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::vector<std::string> strings;
  size_t array_size() const { return ints.size() + floats.size() + strings.size(); }
};

class GgufFile {
 public:
  explicit GgufFile(const std::string& path);  // throws fare::Error

  const std::string& path() const { return file_->path(); }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }

  const std::map<std::string, GgufValue>& metadata() const { return kv_; }
  const GgufValue* find(const std::string& key) const;
  bool has(const std::string& key) const { return find(key) != nullptr; }

  // Typed getters: a missing key or a value of another type is a fare::Error naming the file,
  // the key, and the expected and actual type.
  std::string get_string(const std::string& key) const;
  int64_t get_int(const std::string& key) const;  // any integer type or BOOL
  double get_float(const std::string& key) const;  // any float or integer type
  bool get_bool(const std::string& key) const;
  const std::vector<std::string>& get_string_array(const std::string& key) const;
  const std::vector<int64_t>& get_int_array(const std::string& key) const;
  const std::vector<double>& get_float_array(const std::string& key) const;

  // Shapes are outermost first (GGUF's ne[] reversed): token_embd is [n_vocab, n_embd].
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }

 private:
  std::unique_ptr<MappedFile> file_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  std::map<std::string, GgufValue> kv_;
  std::map<std::string, TensorInfo> tensors_;
};

// Writing: metadata in insertion order, then tensor infos and data (aligned to `alignment`).
class GgufWriter {
 public:
  // Any value, as a reader returned it (copies metadata from one file to another).
  void set_value(const std::string& key, const GgufValue& v);
  void set_string(const std::string& key, const std::string& v);
  void set_u32(const std::string& key, uint32_t v);
  void set_i32(const std::string& key, int32_t v);
  void set_f32(const std::string& key, float v);
  void set_bool(const std::string& key, bool v);
  void set_string_array(const std::string& key, const std::vector<std::string>& v);
  void set_i32_array(const std::string& key, const std::vector<int32_t>& v);
  void set_f32_array(const std::string& key, const std::vector<float>& v);
  // `shape` outermost first, like TensorInfo; `bytes` already encoded in `dtype`.
  void add_tensor(const std::string& name, DType dtype, const std::vector<int64_t>& shape, std::vector<uint8_t> bytes);
  // The same, with the bytes produced only when write() reaches this tensor; write() fails if
  // the producer gives a different number of bytes than dtype and shape need.
  void add_tensor(const std::string& name, DType dtype, const std::vector<int64_t>& shape, TensorProducer produce);
  void write(const std::string& path, uint64_t alignment = 32) const;

 private:
  struct Kv {
    std::string key;
    GgufValue value;
  };
  struct Tensor {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
    size_t nbytes = 0;
    TensorProducer produce;  // set: the bytes come from here instead of `bytes`
  };
  size_t check_tensor(const std::string& name, DType dtype, const std::vector<int64_t>& shape) const;
  std::vector<Kv> kv_;
  std::vector<Tensor> tensors_;
};

}  // namespace fare
