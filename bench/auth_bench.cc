// Return-path tags and rate limits: the per-message cost bounce verification
// adds in the milter (sign at end of message, decode per bounce recipient,
// one rate-limit check per unverified bounce).
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "auth/bounce_verifier.h"
#include "auth/keyring.h"
#include "auth/rate_limiter.h"
#include "auth/return_path.h"

namespace bm {
namespace {

std::shared_ptr<const ReturnPathCodec> Codec() {
  static std::shared_ptr<const ReturnPathCodec> codec = [] {
    auto ring = std::make_shared<const Keyring>(*Keyring::Generate(0)->Rotated(0));
    return std::make_shared<const ReturnPathCodec>(ring, ReturnPathOptions{});
  }();
  return codec;
}

const auto kNow = std::chrono::system_clock::now();

void BM_SignVerp(benchmark::State& state) {
  const std::vector<std::string> recipients = {"alice.smith@example.net"};
  for (auto _ : state) {
    benchmark::DoNotOptimize(Codec()->Sign("news@example.com", recipients, kNow));
  }
}
BENCHMARK(BM_SignVerp);

void BM_DecodeVerified(benchmark::State& state) {
  const std::string address = *Codec()->Sign("news@example.com", {"alice@example.net"}, kNow);
  for (auto _ : state) benchmark::DoNotOptimize(Codec()->Decode(address, kNow));
}
BENCHMARK(BM_DecodeVerified);

void BM_DecodeForged(benchmark::State& state) {
  std::string address = *Codec()->Sign("news@example.com", {"alice@example.net"}, kNow);
  address[12] = address[12] == 'a' ? 'b' : 'a';
  for (auto _ : state) benchmark::DoNotOptimize(Codec()->Decode(address, kNow));
}
BENCHMARK(BM_DecodeForged);

void BM_DecodeNotSigned(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(Codec()->Decode("postmaster@example.com", kNow));
}
BENCHMARK(BM_DecodeNotSigned);

// The whole policy for a bounce with one VERP envelope recipient.
void BM_VerifyVerpBounce(benchmark::State& state) {
  BounceVerifier verifier(Codec(), {});
  const std::vector<std::string> envelope = {
      *Codec()->Sign("news@example.com", {"alice@example.net"}, kNow)};
  BounceReport report;
  report.kind = ReportKind::kDsn;
  RecipientResult failed;
  failed.address = "alice@example.net";
  failed.action = "failed";
  report.recipients.push_back(failed);
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        verifier.Verify(verifier.CheckEnvelope(envelope, kNow), report, std::nullopt));
  }
}
BENCHMARK(BM_VerifyVerpBounce);

// Admit() with state.range(0) distinct keys cycling (LRU bounded at 100,000).
void BM_RateLimiterAdmit(benchmark::State& state) {
  RateLimiter limiter({});
  std::vector<std::string> keys;
  for (int i = 0; i < state.range(0); ++i) keys.push_back("198.51." + std::to_string(i));
  auto now = RateLimiter::Clock::now();
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(limiter.Admit(keys[i], now));
    if (++i == keys.size()) i = 0;
  }
}
BENCHMARK(BM_RateLimiterAdmit)->Arg(1)->Arg(1000)->Arg(200000);

}  // namespace
}  // namespace bm

BENCHMARK_MAIN();
