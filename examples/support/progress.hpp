#pragma once
// A terminal progress bar for the examples (the library itself never prints: it reports
// progress through a callback, and this is one such callback).

#include <patternnet/core/progress.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <string>

#include <unistd.h>

namespace examples {

/// Returns a callback drawing "label [#####.....] 52% 31200/60000 samples 3.1 s" on stderr,
/// redrawn in place on a terminal; elsewhere (a log file, CI) only the final line is printed.
inline patternnet::ProgressCallback progress_bar(std::string label) {
  const auto start = std::chrono::steady_clock::now();
  const bool tty = isatty(fileno(stderr)) != 0;
  return [label = std::move(label), start, tty](const patternnet::Progress& p) {
    const bool last = p.total_samples > 0 && p.samples >= p.total_samples;
    if (!tty && !last) return;
    std::fflush(stdout);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (p.total_samples <= 0) {
      fmt::print(stderr, "\r{} {} samples {:.1f} s", label, p.samples, seconds);
      return;
    }
    const double f = static_cast<double>(p.samples) / static_cast<double>(p.total_samples);
    const int width = 30, filled = static_cast<int>(f * width + 0.5);
    fmt::print(stderr, "\r{} [{}{}] {:3.0f}% {}/{} samples {:.1f} s", label, std::string(filled, '#'),
               std::string(width - filled, '.'), 100 * f, p.samples, p.total_samples, seconds);
    if (p.samples >= p.total_samples) fmt::print(stderr, "\n");
  };
}

}  // namespace examples
