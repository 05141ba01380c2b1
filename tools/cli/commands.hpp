#pragma once
// The subcommands of the `patternnet` tool, each adding itself to the application with
// its options and a callback that runs it.

#include "inputs.hpp"
#include "methods.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace patternnet::cli {

/// Options every subcommand has.
struct GlobalOptions {
  bool quiet = false;
};

void add_info(CLI::App& app, const GlobalOptions& global);
void add_fit(CLI::App& app, const GlobalOptions& global);
void add_explain(CLI::App& app, const GlobalOptions& global);
void add_rho(CLI::App& app, const GlobalOptions& global);
void add_merge(CLI::App& app, const GlobalOptions& global);
void add_degrade(CLI::App& app, const GlobalOptions& global);

/// The options that say how inputs are read (--imagenet, --mean, --std, --limit).
struct InputFlags {
  bool imagenet = false;
  std::string mean, std;
  Index limit = -1;

  void add_to(CLI::App& sub);
  /// Throws UsageError for values that are not numbers or a std that is not positive.
  [[nodiscard]] InputOptions options() const;
};

/// The positional MODEL and INPUT... arguments.
void add_model(CLI::App& sub, std::filesystem::path& model);
void add_inputs(CLI::App& sub, std::vector<std::filesystem::path>& inputs, const char* name, const char* what);

/// The parameters of the methods (--epsilon, --steps, ...), in their own help group.
void add_method_options(CLI::App& sub, MethodOptions& m);

/// A batch size option's value, checked (UsageError for < 1).
[[nodiscard]] Index batch_size(Index value);

}  // namespace patternnet::cli
