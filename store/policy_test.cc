#include "store/policy.h"

#include <gtest/gtest.h>

namespace bm {
namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kT0 = 1700000000;

BounceEvent Bounce(std::string reason, bool hard, std::int64_t time) {
  BounceEvent ev;
  ev.type = EventType::kBounce;
  ev.reason = std::move(reason);
  ev.hard = hard;
  ev.bounce_class = hard ? "permanent" : "transient";
  ev.time = time;
  return ev;
}

TEST(Policy, HardBounceSuppressesPermanently) {
  Policy p;
  AddressRecord r;
  EXPECT_EQ(ApplyBounce(p, Bounce("userunknown", true, kT0), r), PolicyOutcome::kStateChanged);
  EXPECT_EQ(r.state, AddressState::kSuppressed);
  EXPECT_EQ(r.reason, "userunknown");
  EXPECT_EQ(r.hard_count, 1u);
  EXPECT_EQ(ApplyBounce(p, Bounce("userunknown", true, kT0 + 1), r), PolicyOutcome::kCounted);
  EXPECT_EQ(r.hard_count, 2u);
  EXPECT_EQ(r.first_bounce, kT0);
  EXPECT_EQ(r.last_bounce, kT0 + 1);
}

TEST(Policy, SoftBouncesBelowThresholdOnlyCount) {
  Policy p;  // 3 within 7 days
  AddressRecord r;
  EXPECT_EQ(ApplyBounce(p, Bounce("mailboxfull", false, kT0), r), PolicyOutcome::kCounted);
  EXPECT_EQ(ApplyBounce(p, Bounce("mailboxfull", false, kT0 + kDay), r), PolicyOutcome::kCounted);
  EXPECT_EQ(r.state, AddressState::kActive);
  EXPECT_EQ(r.soft_window.size(), 2u);
}

TEST(Policy, SoftThresholdWithinWindowSuppressesTemporarily) {
  Policy p;
  AddressRecord r;
  ApplyBounce(p, Bounce("mailboxfull", false, kT0), r);
  ApplyBounce(p, Bounce("mailboxfull", false, kT0 + kDay), r);
  EXPECT_EQ(ApplyBounce(p, Bounce("mailboxfull", false, kT0 + 2 * kDay), r),
            PolicyOutcome::kStateChanged);
  EXPECT_EQ(r.state, AddressState::kSuppressedTemporary);
  EXPECT_EQ(r.suppressed_until, kT0 + 2 * kDay + 14 * kDay);
  EXPECT_TRUE(r.soft_window.empty());
  // Further soft bounces while suppressed only count.
  EXPECT_EQ(ApplyBounce(p, Bounce("mailboxfull", false, kT0 + 3 * kDay), r),
            PolicyOutcome::kCounted);
}

TEST(Policy, SoftBouncesOutsideTheWindowDoNotAddUp) {
  Policy p;
  AddressRecord r;
  ApplyBounce(p, Bounce("mailboxfull", false, kT0), r);
  ApplyBounce(p, Bounce("mailboxfull", false, kT0 + 5 * kDay), r);
  // The first one is now more than 7 days old.
  EXPECT_EQ(ApplyBounce(p, Bounce("mailboxfull", false, kT0 + 8 * kDay), r),
            PolicyOutcome::kCounted);
  EXPECT_EQ(r.state, AddressState::kActive);
  EXPECT_EQ(r.soft_window.size(), 2u);
}

TEST(Policy, ExpiryLiftsTemporarySuppressionOnlyWhenDue) {
  AddressRecord r;
  r.state = AddressState::kSuppressedTemporary;
  r.suppressed_until = kT0;
  EXPECT_FALSE(ApplyExpiry(r, kT0 - 1));
  EXPECT_TRUE(ApplyExpiry(r, kT0));
  EXPECT_EQ(r.state, AddressState::kActive);
  EXPECT_FALSE(ApplyExpiry(r, kT0 + 1));
}

TEST(Policy, ComplaintSuppresses) {
  Policy p;
  AddressRecord r;
  BounceEvent ev = Bounce("feedback", false, kT0);
  ev.type = EventType::kComplaint;
  EXPECT_EQ(ApplyBounce(p, ev, r), PolicyOutcome::kStateChanged);
  EXPECT_EQ(r.state, AddressState::kSuppressed);
  EXPECT_EQ(r.source, RecordSource::kComplaint);
  EXPECT_EQ(r.complaint_count, 1u);
}

TEST(Policy, SenderBlamedAndNoChangeReasonsLeaveTheRecordAlone) {
  Policy p;
  for (const char* reason : {"blocked", "spamdetected", "policyviolation", "authfailure",
                             "badreputation", "requireptr", "rejected", "vacation", "delivered"}) {
    AddressRecord r;
    EXPECT_EQ(ApplyBounce(p, Bounce(reason, /*hard=*/true, kT0), r), PolicyOutcome::kNoChange)
        << reason;
    EXPECT_EQ(r.state, AddressState::kActive);
    EXPECT_EQ(r.hard_count, 0u);
  }
}

TEST(Policy, HardBounceAfterUnblockSuppressesAgain) {
  Policy p;
  AddressRecord r;
  r.state = AddressState::kUnblocked;
  EXPECT_EQ(ApplyBounce(p, Bounce("userunknown", true, kT0), r), PolicyOutcome::kStateChanged);
  EXPECT_EQ(r.state, AddressState::kSuppressed);
}

TEST(Policy, ValidateChecksBounds) {
  Policy p;
  EXPECT_TRUE(p.Validate().ok());
  p.soft_threshold = 0;
  EXPECT_FALSE(p.Validate().ok());
  p = Policy();
  p.temporary_days = 0;
  EXPECT_FALSE(p.Validate().ok());
}

}  // namespace
}  // namespace bm
