// patternnet: PatternNet, PatternAttribution and the methods they are compared with, from
// the shell (docs/cli.md). Exit status: 0 on success, 2 for a bad invocation, 1 for any
// other failure; every error is one line on stderr.

#include "commands.hpp"
#include "usage_error.hpp"

#include <patternnet/core/error.hpp>

#include <fmt/format.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include <cstdio>
#include <exception>
#include <new>

int main(int argc, char** argv) {
  namespace cli = patternnet::cli;
  CLI::App app{"patternnet: explain neural networks with PatternNet, PatternAttribution, LRP, gradients and more"};
  app.require_subcommand(1);
  app.footer("Run 'patternnet COMMAND --help' for a command's options and examples.");
  cli::GlobalOptions global;
  app.add_flag("-q,--quiet", global.quiet, "print nothing but errors and the results asked for (rho's table)");
  app.add_option_function<int>(
         "--threads",
         [](int n) {
#ifdef _OPENMP
           omp_set_num_threads(n);
#else
           (void)n;  // a build without OpenMP runs on one thread
#endif
         },
         "threads per pass (default: OMP_NUM_THREADS, or all cores)")
      ->check(CLI::PositiveNumber);
  app.set_version_flag("--version", "patternnet " PATTERNNET_VERSION);
  cli::add_info(app, global);
  cli::add_fit(app, global);
  cli::add_explain(app, global);
  cli::add_rho(app, global);
  cli::add_merge(app, global);
  cli::add_degrade(app, global);
  for (CLI::App* sub : app.get_subcommands({})) sub->fallthrough();
  try {
    app.parse(argc, argv);  // runs the chosen command's callback
    return 0;
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "patternnet: {} (run 'patternnet --help')\n", e.what());
    return 2;
  } catch (const cli::UsageError& e) {
    fmt::print(stderr, "patternnet: {}\n", e.what());
    return 2;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "patternnet: out of memory (try --limit or --batch)\n");
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "patternnet: {}\n", e.what());
    return 1;
  }
}
