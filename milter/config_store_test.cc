#include "milter/config_store.h"

#include <gtest/gtest.h>

#include "milter/config_test_util.h"
#include "store/store_test_util.h"

namespace bm {
namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kT0 = 1700000000;

TEST(ConfigStoreTest, DefaultsAreTheStoreDefaults) {
  const StoreOptions from_config = StoreOptionsFromConfig(DefaultConfig());
  const StoreOptions store;
  EXPECT_EQ(from_config.path, store.path);
  EXPECT_EQ(from_config.policy.soft_threshold, store.policy.soft_threshold);
  EXPECT_EQ(from_config.policy.soft_window_days, store.policy.soft_window_days);
  EXPECT_EQ(from_config.policy.temporary_days, store.policy.temporary_days);
  EXPECT_EQ(from_config.policy.suppress_on_complaint, store.policy.suppress_on_complaint);
  EXPECT_EQ(from_config.policy.sender_blamed_reasons, store.policy.sender_blamed_reasons);
  EXPECT_EQ(from_config.policy.no_change_reasons, store.policy.no_change_reasons);
  EXPECT_EQ(from_config.policy.domain_hostunknown_threshold,
            store.policy.domain_hostunknown_threshold);
  EXPECT_EQ(from_config.normalization.fold_local_part_case,
            store.normalization.fold_local_part_case);
  EXPECT_EQ(from_config.event_retention_days, store.event_retention_days);
  EXPECT_EQ(from_config.max_diagnostic_bytes, store.max_diagnostic_bytes);
  EXPECT_EQ(from_config.max_readers, kStoreMaxReaders);
}

// Every process asks for the same reader table, whatever its MaxConnections,
// and the doc of MaxConnections gives its size and the highest value.
TEST(ConfigStoreTest, ReaderSlotsFitTheHighestMaxConnections) {
  EXPECT_EQ(StoreOptionsFromConfig(LoadTestConfig("MaxConnections 1\n")).max_readers,
            kStoreMaxReaders);
  EXPECT_EQ(StoreOptionsFromConfig(LoadTestConfig("MaxConnections 1000\n")).max_readers,
            kStoreMaxReaders);
  EXPECT_FALSE(LoadConfigString("MaxConnections 1001\n", "test.conf").ok());
  for (const ConfigKey& key : ConfigKeys()) {
    if (key.name != "MaxConnections") continue;
    EXPECT_EQ(key.bounds, "1 to " + std::to_string(kMaxConnectionsLimit));
    EXPECT_NE(key.doc.find("the store has " + std::to_string(kStoreMaxReaders)), std::string::npos)
        << key.doc;
  }
}

TEST(ConfigStoreTest, KeysReachTheOptions) {
  const StoreOptions o = StoreOptionsFromConfig(LoadTestConfig(
      "StorePath /srv/store\n"
      "SoftBounceThreshold 5\n"
      "SoftBounceWindow 2\n"
      "TemporarySuppressionPeriod 30\n"
      "SuppressOnComplaint no\n"
      "SenderBlamedReasons blocked spamdetected\n"
      "NoChangeReasons\n"
      "DomainHostUnknownThreshold 0\n"
      "LocalPartCase sensitive\n"
      "EventRetention 0\n"
      "MaxDiagnosticSize 1K\n"));
  EXPECT_EQ(o.path, "/srv/store");
  EXPECT_EQ(o.policy.soft_threshold, 5);
  EXPECT_EQ(o.policy.soft_window_days, 2);
  EXPECT_EQ(o.policy.temporary_days, 30);
  EXPECT_FALSE(o.policy.suppress_on_complaint);
  EXPECT_EQ(o.policy.sender_blamed_reasons, (std::vector<std::string>{"blocked", "spamdetected"}));
  EXPECT_TRUE(o.policy.no_change_reasons.empty());
  EXPECT_EQ(o.policy.domain_hostunknown_threshold, 0);
  EXPECT_FALSE(o.normalization.fold_local_part_case);
  EXPECT_EQ(o.event_retention_days, 0);
  EXPECT_EQ(o.max_diagnostic_bytes, 1024u);
  EXPECT_TRUE(o.policy.Validate().ok());
}

BounceEvent SoftBounce(std::string address, std::int64_t time) {
  BounceEvent ev;
  ev.address = std::move(address);
  ev.reason = "mailboxfull";
  ev.bounce_class = "transient";
  ev.time = time;
  return ev;
}

// Records two soft bounces a day apart into a store opened with the options
// of `config_text`; returns the address's state afterwards.
AddressRecord AfterTwoSoftBounces(std::string_view config_text) {
  TempDir dir;
  Config config =
      LoadTestConfig(std::string(config_text) + "StorePath " + dir.Sub("store") + "\n");
  Result<std::unique_ptr<Store>> store = Store::Open(StoreOptionsFromConfig(config));
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return AddressRecord();
  EXPECT_TRUE((*store)->Record({SoftBounce("kim@example.org", kT0)}).ok());
  EXPECT_TRUE((*store)->Record({SoftBounce("kim@example.org", kT0 + kDay)}).ok());
  Result<std::optional<AddressRecord>> record = (*store)->GetRecord("kim@example.org");
  EXPECT_TRUE(record.ok() && record->has_value());
  return record.ok() && record->has_value() ? **record : AddressRecord();
}

TEST(ConfigStoreTest, SoftBounceThresholdFromTheFileDecidesTemporarySuppression) {
  // Default threshold 3: two soft bounces are only counted.
  EXPECT_EQ(AfterTwoSoftBounces("").state, AddressState::kActive);
  // Threshold 2 from the file: the second one suppresses for the configured period.
  AddressRecord r = AfterTwoSoftBounces("SoftBounceThreshold 2\nTemporarySuppressionPeriod 5\n");
  EXPECT_EQ(r.state, AddressState::kSuppressedTemporary);
  EXPECT_EQ(r.suppressed_until, kT0 + kDay + 5 * kDay);
  // A window shorter than the gap between the bounces: they never add up.
  EXPECT_EQ(AfterTwoSoftBounces("SoftBounceThreshold 2\nSoftBounceWindow 1\n").state,
            AddressState::kActive);
}

TEST(ConfigStoreTest, LocalPartCaseFromTheFileReachesLookups) {
  TempDir dir;
  Config config =
      LoadTestConfig("LocalPartCase sensitive\nStorePath " + dir.Sub("store") + "\n");
  Result<std::unique_ptr<Store>> store = Store::Open(StoreOptionsFromConfig(config));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->Suppress("Kim@example.org", "manual", 0, "test", kT0).ok());
  EXPECT_TRUE((*store)->Lookup("Kim@EXAMPLE.org", kT0)->suppressed);
  EXPECT_FALSE((*store)->Lookup("kim@example.org", kT0)->suppressed);
}

}  // namespace
}  // namespace bm
