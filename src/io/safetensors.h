// Safetensors: an 8-byte little-endian header length, a JSON header, then raw tensor bytes.
// The reader validates everything before any tensor byte is touched.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/mapped_file.h"
#include "io/tensor_info.h"
#include "io/tensor_stream.h"

namespace fare {

class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);  // throws fare::Error

  const std::string& path() const { return file_->path(); }
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  std::unique_ptr<MappedFile> file_;
  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

// A tensor to write: bytes already in the target dtype.
struct TensorToWrite {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

// Writes a safetensors file (tensors in the given order, offsets aligned to 8 bytes).
void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// A tensor whose bytes (plain dtypes only) are produced while the file is written.
struct TensorToStream {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  TensorProducer produce;
};

// The same, streaming: one tensor's bytes at a time, so the file may be larger than memory.
void write_safetensors(const std::string& path, const std::vector<TensorToStream>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace fare
