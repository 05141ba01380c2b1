#pragma once
// Presets by name, for choosing one at run time (a command line, a configuration file).
// Not in the umbrella header: header-only, including this compiles every preset's rules
// (with patternnet::precompiled they come from the library: precompiled.hpp).

#include <patternnet/composites/presets.hpp>
#include <patternnet/precompiled.hpp>

#include <array>
#include <cctype>
#include <string>
#include <string_view>

namespace patternnet::composites {

/// The parameters of preset(): each preset reads the ones it has (low and high: the input
/// box of EpsilonGammaBox and DeepTaylor).
struct PresetOptions {
  double epsilon = 1e-6;
  double gamma = 0.25;
  double low = 0, high = 1;
  Seed seed = Seed::logit;
  Bias bias{true};
};

/// The names preset() knows.
inline constexpr std::array<std::string_view, 6> preset_names{
    "EpsilonPlus", "EpsilonPlusFlat", "EpsilonAlpha2Beta1", "EpsilonAlpha2Beta1Flat", "EpsilonGammaBox", "DeepTaylor"};

/// The preset composite called `name` (its composite(): rules for float and double
/// networks), for choosing one at run time (a command line, a
/// configuration file). Accepts the names above, Zennit's registered names
/// ("epsilon_plus_flat", "epsilon_gamma_box", ...) and the same in kebab case
/// ("epsilon-plus-flat"): case, '_' and '-' are ignored. Throws ConfigError listing the
/// names for any other.
[[nodiscard]] inline Composite preset(std::string_view name, const PresetOptions& o = {}) {
  auto key = [](std::string_view n) {
    std::string k;
    for (const char c : n) {
      if (c != '_' && c != '-') k += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return k;
  };
  const std::string k = key(name);
  if (k == key("EpsilonPlus")) return EpsilonPlus{o.epsilon, o.seed, o.bias}.composite();
  if (k == key("EpsilonPlusFlat")) return EpsilonPlusFlat{o.epsilon, o.seed, o.bias}.composite();
  if (k == key("EpsilonAlpha2Beta1")) return EpsilonAlpha2Beta1{o.epsilon, o.seed, o.bias}.composite();
  if (k == key("EpsilonAlpha2Beta1Flat")) return EpsilonAlpha2Beta1Flat{o.epsilon, o.seed, o.bias}.composite();
  if (k == key("EpsilonGammaBox")) return EpsilonGammaBox{o.low, o.high, o.epsilon, o.gamma, o.seed, o.bias}.composite();
  if (k == key("DeepTaylor")) return DeepTaylor{o.low, o.high, o.seed, o.bias}.composite();
  patternnet::detail::fail<ConfigError>("composites::preset(): no preset is called '{}'; the presets are {}", name,
                                        fmt::join(preset_names, ", "));
}

}  // namespace patternnet::composites
