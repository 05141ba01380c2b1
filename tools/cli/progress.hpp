#pragma once
// Progress of the tool's passes on stderr: "fit [######......] 41% 24576/60000 samples,
// 8120/s, ETA 4 s", redrawn in place, only when stderr is a terminal and --quiet is off.

#include <patternnet/core/progress.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <string>

#include <unistd.h>

namespace patternnet::cli {

/// A ProgressCallback drawing a bar with rate and ETA, or none (an empty callback) when
/// `quiet` or stderr is not a terminal.
inline ProgressCallback progress_bar(std::string label, bool quiet) {
  if (quiet || isatty(fileno(stderr)) == 0) return {};
  const auto start = std::chrono::steady_clock::now();
  return [label = std::move(label), start](const Progress& p) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double rate = seconds > 0 ? static_cast<double>(p.samples) / seconds : 0;
    if (p.total_samples <= 0) {
      fmt::print(stderr, "\r{} {} samples, {:.0f}/s", label, p.samples, rate);
      return;
    }
    const double f = static_cast<double>(p.samples) / static_cast<double>(p.total_samples);
    const int width = 30, filled = static_cast<int>(f * width + 0.5);
    const double eta = rate > 0 ? static_cast<double>(p.total_samples - p.samples) / rate : 0;
    fmt::print(stderr, "\r{} [{}{}] {:3.0f}% {}/{} samples, {:.0f}/s, ETA {:.0f} s ", label, std::string(filled, '#'),
               std::string(width - filled, '.'), 100 * f, p.samples, p.total_samples, rate, eta);
    if (p.samples >= p.total_samples) fmt::print(stderr, "\n");
  };
}

}  // namespace patternnet::cli
