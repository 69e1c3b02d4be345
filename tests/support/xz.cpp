#include "support/xz.h"

#include <lzma.h>

#include <fstream>
#include <iterator>
#include <stdexcept>
#include <vector>

namespace fare::test {

std::string read_xz_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  const std::vector<uint8_t> packed((std::istreambuf_iterator<char>(in)), {});
  lzma_stream s = LZMA_STREAM_INIT;
  if (lzma_stream_decoder(&s, UINT64_MAX, 0) != LZMA_OK) throw std::runtime_error("lzma init failed");
  std::string out;
  std::vector<uint8_t> buf(1 << 20);
  s.next_in = packed.data();
  s.avail_in = packed.size();
  lzma_ret r = LZMA_OK;
  while (r == LZMA_OK) {
    s.next_out = buf.data();
    s.avail_out = buf.size();
    r = lzma_code(&s, LZMA_FINISH);
    out.append(reinterpret_cast<char*>(buf.data()), buf.size() - s.avail_out);
  }
  lzma_end(&s);
  if (r != LZMA_STREAM_END) throw std::runtime_error(path + ": xz decode failed");
  return out;
}

}  // namespace fare::test
