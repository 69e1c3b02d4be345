// Errors as the OpenAI API and llama.cpp's server return them:
//   {"error": {"message", "type", "param", "code"}}
// with llama.cpp's type strings, and the HTTP status in "code".
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>

namespace fare::server {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string type, const std::string& message, std::string param = {})
      : std::runtime_error(message), status_(status), type_(std::move(type)), param_(std::move(param)) {}
  int status() const { return status_; }
  const std::string& type() const { return type_; }
  const std::string& param() const { return param_; }
  nlohmann::ordered_json extra;  // more fields of the error object (n_prompt_tokens, n_ctx)

 private:
  int status_;
  std::string type_;
  std::string param_;
};

// 400 invalid_request_error, naming the field when there is one.
ApiError bad_request(const std::string& message, const std::string& param = {});
// 400 exceed_context_size_error with both numbers, as llama.cpp reports it.
ApiError context_exceeded(int64_t n_prompt, int64_t n_ctx);

nlohmann::ordered_json error_body(const ApiError& e);

}  // namespace fare::server
