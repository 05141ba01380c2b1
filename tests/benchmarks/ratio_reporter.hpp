#pragma once
// A console reporter that also prints every benchmark's time as a ratio to a reference
// benchmark of the same run (the first whose name starts with `reference`).

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

class RatioReporter : public benchmark::ConsoleReporter {
public:
  explicit RatioReporter(std::string reference) : reference_(std::move(reference)) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs) {
      if (r.run_type == Run::RT_Iteration && r.iterations > 0) {
        times_.emplace_back(r.benchmark_name(), r.GetAdjustedRealTime());
      }
    }
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    double ref = 0;
    for (const auto& [name, t] : times_) {
      if (ref == 0 && name.rfind(reference_, 0) == 0) ref = t;
    }
    if (ref == 0) return;
    std::printf("\nTime relative to %s (same run):\n", reference_.c_str());
    for (const auto& [name, t] : times_) std::printf("  %-48s %8.2fx\n", name.c_str(), t / ref);
  }

private:
  std::string reference_;
  std::vector<std::pair<std::string, double>> times_;
};

/// main() for a benchmark binary whose ratios are relative to `reference`.
#define PATTERNNET_BENCHMARK_MAIN(reference)                 \
  int main(int argc, char** argv) {                          \
    benchmark::Initialize(&argc, argv);                      \
    RatioReporter reporter(reference);                       \
    benchmark::RunSpecifiedBenchmarks(&reporter);            \
    benchmark::Shutdown();                                   \
    return 0;                                                \
  }
