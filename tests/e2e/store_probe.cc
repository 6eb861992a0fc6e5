// e2e_store_probe: reads and seeds a suppression store through the store API
// for the end-to-end suites and the milter benchmark, printing JSON.
//
//   e2e_store_probe show STORE ADDRESS     record + RCPT lookup now, or null
//   e2e_store_probe domain STORE DOMAIN    domain record, or null
//   e2e_store_probe suppress STORE ADDRESS REASON   (as a hard bounce)
//   e2e_store_probe seed STORE N           N suppressed addresses userI@bulkJ.test
//   e2e_store_probe verify STORE           {"problems": [...]}
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "store/store.h"

namespace {

int Fail(const bm::Status& s) {
  std::fprintf(stderr, "e2e_store_probe: %s\n", s.ToString().c_str());
  return 1;
}

std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// A hard bounce, the way the milter records one: suppresses the address.
bm::BounceEvent HardBounce(std::string address, std::string reason) {
  bm::BounceEvent e;
  e.address = std::move(address);
  e.reason = std::move(reason);
  e.bounce_class = "permanent";
  e.hard = true;
  e.status = "5.1.1";
  e.rule_id = "e2e-probe";
  e.time = Now();
  return e;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: e2e_store_probe show|domain|suppress|seed|verify STORE ...\n");
    return 2;
  }
  // stdout carries the JSON answer; the store's own log lines go to stderr.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("e2e_store_probe"));
  const std::string command = argv[1];
  bm::StoreOptions options;
  options.path = argv[2];
  options.read_only = command == "show" || command == "domain" || command == "verify";
  auto store = bm::Store::Open(options);
  if (!store.ok()) return Fail(store.status());
  nlohmann::json out;
  if (command == "show" && argc == 4) {
    auto record = (*store)->GetRecord(argv[3]);
    if (!record.ok()) return Fail(record.status());
    auto lookup = (*store)->Lookup(argv[3], Now());
    if (!lookup.ok()) return Fail(lookup.status());
    if (!record->has_value()) {
      out = nullptr;
    } else {
      const bm::AddressRecord& r = **record;
      out = {{"address", r.address},
             {"state", std::string(bm::AddressStateName(r.state))},
             {"reason", r.reason},
             {"class", r.bounce_class},
             {"hard", r.hard},
             {"hard_count", r.hard_count},
             {"soft_count", r.soft_count},
             {"complaint_count", r.complaint_count},
             {"last_status", r.last_status},
             {"last_rule_id", r.last_rule_id},
             {"suppressed_now", lookup->suppressed}};
    }
  } else if (command == "domain" && argc == 4) {
    auto domain = (*store)->GetDomain(argv[3]);
    if (!domain.ok()) return Fail(domain.status());
    out = domain->has_value() ? nlohmann::json{{"domain", (*domain)->domain},
                                               {"sent", (*domain)->sent},
                                               {"suppressed", (*domain)->suppressed}}
                              : nlohmann::json(nullptr);
  } else if (command == "suppress" && argc == 5) {
    bm::Status s = (*store)->Record({HardBounce(argv[3], argv[4])});
    if (!s.ok()) return Fail(s);
    out = {{"ok", true}};
  } else if (command == "seed" && argc == 4) {
    const long n = std::stol(argv[3]);
    std::vector<bm::BounceEvent> events;
    for (long i = 0; i < n; ++i) {
      events.push_back(HardBounce(
          "user" + std::to_string(i) + "@bulk" + std::to_string(i % 1000) + ".test",
          "userunknown"));
      if (events.size() == 5000 || i + 1 == n) {
        bm::Status s = (*store)->Record(std::move(events));
        if (!s.ok()) return Fail(s);
        events.clear();
      }
    }
    out = {{"seeded", n}};
  } else if (command == "verify" && argc == 3) {
    auto report = (*store)->Verify();
    if (!report.ok()) return Fail(report.status());
    out = {{"addresses", report->addresses}, {"events", report->events},
           {"problems", report->problems}};
  } else {
    std::fprintf(stderr, "e2e_store_probe: bad arguments\n");
    return 2;
  }
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
