// Parser benchmarks: messages per second, single thread, over every message
// of the shared corpus held in memory.
//
//   parse_bench [--corpus=DIR] [google-benchmark flags]
//
// DIR defaults to ../shared/corpus/emails next to the source tree.
// BM_ParseAndClassify is the figure docs/performance.md records (target:
// 20,000 messages/s per core); BM_ParseOnly and BM_ClassifyOnly split it.
// CI does not run this program.
#include <benchmark/benchmark.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "parser/parser.h"
#include "rules/rule_table.h"

namespace {

std::string g_corpus_dir = BM_SOURCE_DIR "/../shared/corpus/emails";
std::vector<std::string> g_messages;

void LoadCorpus() {
  for (const auto& entry : std::filesystem::directory_iterator(g_corpus_dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    g_messages.push_back(content.str());
  }
}

void BM_ParseAndClassify(benchmark::State& state) {
  std::shared_ptr<const bm::RuleTable> rules = bm::RuleTable::Default();
  std::size_t i = 0;
  std::size_t recipients = 0;
  for (auto _ : state) {
    bm::Result<bm::BounceReport> report = bm::ParseBounce(g_messages[i]);
    if (report.ok()) recipients += bm::ClassifyReport(*report, *rules).size();
    if (++i == g_messages.size()) i = 0;
  }
  benchmark::DoNotOptimize(recipients);
  state.SetItemsProcessed(state.iterations());
  state.counters["msg/s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                               benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ParseAndClassify);

void BM_ParseOnly(benchmark::State& state) {
  std::size_t i = 0;
  for (auto _ : state) {
    bm::Result<bm::BounceReport> report = bm::ParseBounce(g_messages[i]);
    benchmark::DoNotOptimize(report);
    if (++i == g_messages.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseOnly);

void BM_ClassifyOnly(benchmark::State& state) {
  std::shared_ptr<const bm::RuleTable> rules = bm::RuleTable::Default();
  std::vector<bm::BounceReport> reports;
  for (const std::string& m : g_messages) {
    bm::Result<bm::BounceReport> report = bm::ParseBounce(m);
    if (report.ok()) reports.push_back(std::move(*report));
  }
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(bm::ClassifyReport(reports[i], *rules));
    if (++i == reports.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ClassifyOnly);

}  // namespace

int main(int argc, char** argv) {
  // Our own flag first; the rest goes to Google Benchmark.
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--corpus=", 9) == 0) {
      g_corpus_dir = argv[i] + 9;
    } else {
      args.push_back(argv[i]);
    }
  }
  int n = static_cast<int>(args.size());
  bm::GMimeLibrary gmime;
  LoadCorpus();
  if (g_messages.empty()) {
    std::fprintf(stderr, "parse_bench: no messages in %s\n", g_corpus_dir.c_str());
    return 1;
  }
  std::printf("corpus: %zu messages from %s\n", g_messages.size(), g_corpus_dir.c_str());
  benchmark::Initialize(&n, args.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
