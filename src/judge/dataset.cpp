#include "judge/dataset.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "common/error.h"
#include "judge/dataset_adapter.h"

namespace fare::judge {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open input file");
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.starts_with("\xEF\xBB\xBF")) text.erase(0, 3);  // a UTF-8 byte order mark
  return text;
}

size_t line_of_offset(const std::string& text, size_t offset) {
  offset = std::min(offset, text.size());
  return 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + static_cast<long>(offset), '\n'));
}

const std::vector<DatasetAdapter>& adapters() {
  // Order matters for detection: the generic schema matches last.
  static const std::vector<DatasetAdapter> kAdapters = {judgebench_adapter(), processbench_adapter(),
                                                        hardverify_adapter(), rm_bench_adapter(),
                                                        llmbar_adapter(),     mt_bench_adapter(),
                                                        generic_adapter()};
  return kAdapters;
}

const DatasetAdapter& find_adapter(const std::string& name) {
  for (const DatasetAdapter& a : adapters())
    if (a.info.name == name) return a;
  std::string names;
  for (const DatasetAdapter& a : adapters()) names += cat(names.empty() ? "" : ", ", a.info.name);
  fail("unknown dataset '", name, "', expected one of: ", names);
}

const DatasetAdapter& detect(const fs::path& path, const std::vector<Record>& records) {
  const json* first = nullptr;
  for (const Record& r : records) {
    if (r.value) {
      first = &*r.value;
      break;
    }
  }
  if (!first) fail(path.string(), ": no record could be read (empty file, or no line is valid JSON)");
  if (first->is_object() && has_keys(*first, {"name", "system_prompt", "prompt_template"}))
    fail(path.string(), ": this is MT-Bench's judge prompt file (judge templates), not items to judge; "
         "use question.jsonl or reference_answer/gpt-4.jsonl");
  for (const DatasetAdapter& a : adapters())
    if (a.matches(path, *first)) return a;
  FARE_CHECK(false, "the generic adapter matches everything");
  return adapters().back();
}

}  // namespace

bool has_keys(const json& v, const std::vector<const char*>& keys) {
  if (!v.is_object()) return false;
  for (const char* k : keys)
    if (!v.contains(k)) return false;
  return true;
}

bool has_keys(const json& v, std::initializer_list<const char*> keys) { return has_keys(v, std::vector<const char*>(keys)); }

DatasetAdapter keyed_adapter(DatasetInfo info, Task task, std::vector<const char*> keys,
                             std::function<Converter(const std::filesystem::path& path)> make_converter) {
  DatasetAdapter a;
  a.info = std::move(info);
  a.task = task;
  a.matches = [keys = std::move(keys)](const std::filesystem::path&, const json& first) { return has_keys(first, keys); };
  a.prepare = [make = std::move(make_converter)](const std::filesystem::path& path, const LoadOptions&, Task) {
    return make(path);
  };
  return a;
}

std::vector<Record> read_records(const std::string& path) {
  std::string text = read_file(path);
  std::string name = fs::path(path).filename().string();
  std::vector<Record> out;
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '[') {
    json arr;
    try {
      arr = json::parse(text);
    } catch (const json::parse_error& e) {
      fail(name, ":", line_of_offset(text, e.byte > 0 ? e.byte - 1 : 0), ": not valid JSON (", e.what(), ")");
    } catch (const json::exception& e) {  // a number beyond double's range
      fail(name, ": not valid JSON (", e.what(), ")");
    }
    for (size_t i = 0; i < arr.size(); ++i) out.push_back({cat(name, "[", i, "]"), i, std::move(arr[i]), ""});
    return out;
  }
  size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    std::string_view line(text.data() + pos, (eol == std::string::npos ? text.size() : eol) - pos);
    pos = eol == std::string::npos ? text.size() : eol + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    Record r{cat(name, ":", line_no), out.size(), std::nullopt, ""};
    try {
      r.value = json::parse(line);
    } catch (const json::exception& e) {  // parse_error, or out_of_range for a number beyond double's range
      r.parse_error = e.what();
    }
    out.push_back(std::move(r));
  }
  return out;
}

const std::vector<DatasetInfo>& dataset_infos() {
  static const std::vector<DatasetInfo> kInfos = [] {
    std::vector<DatasetInfo> v;
    for (const DatasetAdapter& a : adapters()) v.push_back(a.info);
    return v;
  }();
  return kInfos;
}

static LoadResult load_one(const std::string& path, const LoadOptions& opts) {
  std::vector<Record> records = read_records(path);
  const DatasetAdapter& adapter = opts.dataset.empty() ? detect(path, records) : find_adapter(opts.dataset);
  LoadResult result;
  result.dataset = adapter.info.name;
  result.n_records = records.size();
  if (adapter.task) {
    if (opts.task && *opts.task != *adapter.task)
      fail(path, ": dataset ", adapter.info.name, " is judged with task ", task_name(*adapter.task),
           ", not ", task_name(*opts.task));
    result.task = *adapter.task;
  } else {
    const Record* first = nullptr;
    for (const Record& r : records)
      if (r.value && !first) first = &r;
    if (!first) fail(path, ": no record could be read (empty file, or no line is valid JSON)");
    result.task = generic_task(*first->value, opts, first->where);
  }
  Converter convert = adapter.prepare(path, opts, result.task);
  for (const Record& rec : records) {
    try {
      if (!rec.value) fail(rec.where, ": not valid JSON (", rec.parse_error, ")");
      convert(*rec.value, rec, result.items);
    } catch (const Error& e) {
      if (opts.strict) throw;
      result.problems.push_back(e.what());
    }
  }
  return result;
}

LoadResult load_dataset(const std::string& path, const LoadOptions& opts) { return load_datasets({path}, opts); }

LoadResult load_datasets(const std::vector<std::string>& paths, const LoadOptions& opts) {
  if (paths.empty()) fail("no input file given");
  LoadResult all;
  std::map<std::string, std::string> seen;  // id -> file
  for (size_t k = 0; k < paths.size(); ++k) {
    LoadResult r = load_one(paths[k], opts);
    if (k == 0) {
      all.dataset = r.dataset;
      all.task = r.task;
    } else if (r.task != all.task) {
      fail(paths[k], ": its items are for task ", task_name(r.task), ", those of ", paths[0], " for ",
           task_name(all.task));
    } else if (r.dataset != all.dataset) {
      all.dataset += "+" + r.dataset;
    }
    all.n_records += r.n_records;
    all.problems.insert(all.problems.end(), r.problems.begin(), r.problems.end());
    for (Item& item : r.items) {
      auto [it, fresh] = seen.emplace(item.id, paths[k]);
      if (!fresh) {
        std::string msg = cat(paths[k], ": item id '", item.id, "' occurs twice (first in ", it->second, ")");
        if (opts.strict) fail(msg);
        all.problems.push_back(msg);
        continue;
      }
      all.items.push_back(std::move(item));
    }
  }
  return all;
}

}  // namespace fare::judge
