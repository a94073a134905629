// MemoryRegistry: the rules' table (registry_scenarios.hpp) on an injected clock, expiry and the
// bound on registrations.
#include "registry_scenarios.hpp"
#include "tcpchat/registry.hpp"

#include <chrono>
#include <gtest/gtest.h>
#include <ostream>
#include <string>
#include <variant>
#include <vector>

namespace {

using namespace std::chrono_literals;
using tcpchat::BridgeOutcome;
using tcpchat::RegisterOutcome;
using tcpchat::test::Scenario;
using tcpchat::test::scenarios;

class RegistryScenario : public ::testing::TestWithParam<Scenario> {};

TEST_P(RegistryScenario, Steps) {
    const Scenario& s = GetParam();
    auto now = std::chrono::steady_clock::time_point{} + 1000h;
    tcpchat::RegistryPolicy policy;
    policy.allow_takeover = s.allow_takeover;
    tcpchat::MemoryRegistry registry(policy, [&now] { return now; });

    tcpchat::test::play(registry, s, [&now](std::chrono::seconds by) { now += by; });
    const auto state = registry.state();
    EXPECT_EQ(state.waiting, s.waiting_at_end);
    if (!s.contacts_at_end.empty()) {
        std::vector<std::string> contacts;
        for (const auto& c : state.contacts) {
            contacts.push_back(c.id + " " + c.host + ":" + std::to_string(c.port));
        }
        EXPECT_EQ(contacts, s.contacts_at_end);
    }
}

INSTANTIATE_TEST_SUITE_P(Rules, RegistryScenario, ::testing::ValuesIn(scenarios),
                         [](const auto& info) { return info.param.name; });

TEST(MemoryRegistry, BridgeUnregisteredLeavesStateUnchanged) {
    tcpchat::MemoryRegistry registry;
    (void)registry.register_contact({"user1", "::1", 3000}, "::1");
    const auto before = registry.state();
    EXPECT_EQ(registry.bridge("user2").outcome, BridgeOutcome::not_registered);
    EXPECT_EQ(registry.state(), before);
}

TEST(MemoryRegistry, KeepsIpv6HostsAsText) {
    tcpchat::MemoryRegistry registry;
    EXPECT_EQ(registry.register_contact({"v6", "fe80::1", 3000}, "fe80::1").outcome,
              RegisterOutcome::registered);
    EXPECT_EQ(registry.find("v6"), tcpchat::ContactRecord("v6", "fe80::1", 3000));
}

// --- Expiry and the bound (spec §6.2, §6.5) ---

class ExpiringRegistry : public ::testing::Test {
  protected:
    tcpchat::MemoryRegistry make(std::size_t max = 1000) {
        tcpchat::RegistryPolicy policy;
        policy.registration_ttl = 3600s;
        policy.max_registrations = max;
        return tcpchat::MemoryRegistry(policy, [this] { return now; });
    }
    RegisterOutcome reg(tcpchat::MemoryRegistry& r, const std::string& id,
                        std::uint16_t port = 3000) {
        return r.register_contact({id, "127.0.0.1", port}, "127.0.0.1").outcome;
    }
    std::chrono::steady_clock::time_point now = std::chrono::steady_clock::time_point{} + 1000h;
};

TEST_F(ExpiringRegistry, RegistrationExpiresAfterItsTtl) {
    auto registry = make();
    EXPECT_EQ(reg(registry, "user1"), RegisterOutcome::registered);
    now += 3599s;
    EXPECT_TRUE(registry.find("user1"));
    now += 1s;
    EXPECT_EQ(registry.find("user1"), std::nullopt);
    EXPECT_EQ(registry.bridge("user1").outcome, BridgeOutcome::not_registered);
    EXPECT_EQ(registry.state(), tcpchat::RegistryState{});
    EXPECT_EQ(reg(registry, "user1"), RegisterOutcome::registered);
}

TEST_F(ExpiringRegistry, RefreshAndReplaceRenew) {
    auto registry = make();
    reg(registry, "user1");
    reg(registry, "user2");
    now += 3000s;
    EXPECT_EQ(reg(registry, "user1"), RegisterOutcome::refreshed);
    EXPECT_EQ(reg(registry, "user2", 3001), RegisterOutcome::replaced);
    now += 3000s;
    EXPECT_TRUE(registry.find("user1"));
    EXPECT_TRUE(registry.find("user2"));
    now += 600s;
    EXPECT_EQ(registry.find("user1"), std::nullopt);
    EXPECT_EQ(registry.find("user2"), std::nullopt);
}

TEST_F(ExpiringRegistry, RefusedRegisterDoesNotRenew) {
    auto registry = make();
    reg(registry, "user1");
    now += 3000s;
    EXPECT_EQ(registry.register_contact({"user1", "10.0.0.9", 4000}, "10.0.0.9").outcome,
              RegisterOutcome::refused);
    now += 600s;
    EXPECT_EQ(registry.find("user1"), std::nullopt);
}

TEST_F(ExpiringRegistry, ExpiredWaiterIsNobodysPeer) {
    auto registry = make();
    reg(registry, "user1");
    EXPECT_EQ(registry.bridge("user1").outcome, BridgeOutcome::waiting);
    now += 3500s;
    reg(registry, "user2");
    now += 100s; // user1's registration is gone, user2's is not
    EXPECT_EQ(registry.bridge("user2").outcome, BridgeOutcome::waiting);
    EXPECT_EQ(registry.state().waiting, std::vector<std::string>{"user2"});
}

TEST_F(ExpiringRegistry, FullRegistryRefusesNewClientIdsOnly) {
    auto registry = make(3);
    reg(registry, "a");
    reg(registry, "b");
    reg(registry, "c");
    EXPECT_EQ(reg(registry, "d"), RegisterOutcome::full);
    EXPECT_EQ(registry.find("d"), std::nullopt);
    EXPECT_EQ(reg(registry, "a"), RegisterOutcome::refreshed);
    EXPECT_EQ(reg(registry, "b", 3001), RegisterOutcome::replaced);
    EXPECT_EQ(registry.state().contacts.size(), 3U);
}

TEST_F(ExpiringRegistry, FullRegistryFirstDropsExpiredEntries) {
    auto registry = make(3);
    reg(registry, "a");
    now += 1000s;
    reg(registry, "b");
    reg(registry, "c");
    now += 2600s; // only "a" has expired
    EXPECT_EQ(reg(registry, "d"), RegisterOutcome::registered);
    EXPECT_EQ(reg(registry, "e"), RegisterOutcome::full);
    EXPECT_EQ(registry.find("a"), std::nullopt);
    EXPECT_TRUE(registry.find("b"));
}

TEST_F(ExpiringRegistry, FloodOfDistinctIdsStaysUnderTheBound) {
    auto registry = make(500);
    int full = 0;
    for (int i = 0; i < 20000; ++i) {
        now += 1s; // 3600 registrations live at a time, more than the bound
        if (reg(registry, "flood" + std::to_string(i)) == RegisterOutcome::full) {
            ++full;
        }
        ASSERT_LE(registry.state().contacts.size(), 500U);
    }
    EXPECT_GT(full, 0);
    // Once the flood stops and the entries expire, there is room again.
    now += 3600s;
    EXPECT_EQ(reg(registry, "late"), RegisterOutcome::registered);
}

TEST(MemoryRegistry, AsyncCallsCompleteInline) {
    tcpchat::MemoryRegistry registry;
    bool done = false;
    registry.async_register({"user1", "127.0.0.1", 3000}, "127.0.0.1",
                            [&](std::error_code ec, const tcpchat::RegisterResult& r) {
                                EXPECT_FALSE(ec);
                                EXPECT_EQ(r.outcome, RegisterOutcome::registered);
                                done = true;
                            });
    EXPECT_TRUE(done);
}

} // namespace
