// fare: a native runtime for the FARE evaluators. Thin: parses flags, calls the engine.
#include <cstdio>
#include <exception>

#include "apps/cli/commands.h"
#include "common/error.h"

int main(int argc, char** argv) {
  CLI::App app{"fare: run FARE evaluators (Qwen3) natively"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "fare 0.1.0");
  fare::cli::register_generate(app);
  fare::cli::register_logprobs(app);
  fare::cli::register_tokenize(app);
  fare::cli::register_info(app);
  fare::cli::register_convert(app);
  fare::cli::register_quantize(app);
  fare::cli::register_bench(app);
  fare::cli::register_judge(app);
  fare::cli::register_eval(app);
  fare::cli::register_rerank(app);
  fare::cli::register_report(app);
#ifdef FARE_HAVE_SERVER
  fare::cli::register_serve(app);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const fare::Error& e) {
    std::fprintf(stderr, "fare: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fare: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
