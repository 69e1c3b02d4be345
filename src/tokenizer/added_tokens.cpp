#include "tokenizer/added_tokens.h"

#include <algorithm>

#include "common/error.h"
#include "tokenizer/unicode.h"

namespace fare {
namespace {

size_t skip_white_space_back(std::string_view text, size_t pos, size_t limit) {
  while (pos > limit) {
    size_t start = 0;
    const long cp = unicode::code_point_before(text, pos, &start);
    if (cp < 0 || start < limit || !unicode::is_white_space(static_cast<char32_t>(cp))) break;
    pos = start;
  }
  return pos;
}

void check_spans(std::string_view text, std::span<const TextSpan> spans) {
  size_t prev_end = 0;
  for (const TextSpan& s : spans) {
    FARE_CHECK(prev_end <= s.begin && s.begin <= s.end && s.end <= text.size(), "literal span [", s.begin, ", ",
               s.end, ") after one ending at ", prev_end, " in a text of ", text.size(), " bytes");
    prev_end = s.end;
  }
}

size_t skip_white_space_forward(std::string_view text, size_t pos) {
  while (pos < text.size()) {
    const unicode::Sequence seq = unicode::next_sequence(text, pos);
    if (seq.kind != unicode::SeqKind::kValid || !unicode::is_white_space(seq.cp)) break;
    pos += seq.len;
  }
  return pos;
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(const std::vector<AddedToken>& added) {
  for (const AddedToken& t : added) {
    if (t.content.empty()) continue;  // an empty token would match everywhere and mean nothing
    const auto first = static_cast<unsigned char>(t.content[0]);
    by_first_byte_[first].push_back({t.content, t.id, t.special, t.lstrip, t.rstrip});
  }
  for (auto& bucket : by_first_byte_) {
    std::stable_sort(bucket.begin(), bucket.end(),
                     [](const Entry& a, const Entry& b) { return a.content.size() > b.content.size(); });
  }
}

const AddedTokenMatcher::Entry* AddedTokenMatcher::match_at(std::string_view text, size_t pos,
                                                            bool parse_special) const {
  for (const Entry& e : by_first_byte_[static_cast<unsigned char>(text[pos])]) {
    if (e.special && !parse_special) continue;
    if (text.compare(pos, e.content.size(), e.content) == 0) return &e;
  }
  return nullptr;
}

void AddedTokenMatcher::split(std::string_view text, bool parse_special, std::span<const TextSpan> literal,
                              std::vector<TextSegment>& out) const {
  check_spans(text, literal);
  size_t seg_start = 0;     // start of the ordinary text not yet emitted
  size_t region_start = 0;  // start of the stretch where tokens may be matched
  size_t next_literal = 0;  // the first literal span not yet passed
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t region_end = next_literal < literal.size() ? literal[next_literal].begin : text.size();
    if (pos >= region_end) {  // at a literal span: its bytes stay text, matching resumes after it
      pos = region_start = literal[next_literal++].end;
      continue;
    }
    // Cut at the region's end, so that no token reaches into the literal span that follows.
    const std::string_view region = text.substr(0, region_end);
    const Entry* e = match_at(region, pos, parse_special);
    if (e == nullptr) {
      ++pos;
      continue;
    }
    const size_t begin = e->lstrip ? skip_white_space_back(text, pos, std::max(seg_start, region_start)) : pos;
    size_t end = pos + e->content.size();
    if (e->rstrip) end = skip_white_space_forward(region, end);
    if (begin > seg_start) out.push_back({text.substr(seg_start, begin - seg_start), -1});
    out.push_back({text.substr(begin, end - begin), e->id});
    seg_start = pos = end;
  }
  if (seg_start < text.size()) out.push_back({text.substr(seg_start), -1});
}

}  // namespace fare
