// The registry and pairing rules (spec §6.2, §6.3) as a table of scenarios: each row is a
// sequence of REGISTER / BRIDGE / clock steps with the outcome every step must have, then the
// waiting queue at the end.
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

struct Reg {
    std::string id, host;
    std::uint16_t port;
    std::string source; // observed address of the connection
    RegisterOutcome expect;
};
struct Bridge {
    std::string id;
    BridgeOutcome expect;
    std::string peer; // the peer's clientID when paired
};
struct Advance {
    std::chrono::seconds by;
};
using Step = std::variant<Reg, Bridge, Advance>;

// Two clients on one machine, as in the installed base's demo.
Reg reg(std::string id, std::uint16_t port, RegisterOutcome expect = RegisterOutcome::registered) {
    return {std::move(id), "127.0.0.1", port, "127.0.0.1", expect};
}
Reg reg_from(std::string id, std::string host, std::uint16_t port, std::string source,
             RegisterOutcome expect) {
    return {std::move(id), std::move(host), port, std::move(source), expect};
}
Bridge waits(std::string id) {
    return {std::move(id), BridgeOutcome::waiting, ""};
}
Bridge gets(std::string id, std::string peer) {
    return {std::move(id), BridgeOutcome::paired, std::move(peer)};
}
Bridge unknown(std::string id) {
    return {std::move(id), BridgeOutcome::not_registered, ""};
}

struct Scenario {
    std::string name;
    bool allow_takeover = false;
    std::vector<Step> steps;
    std::vector<std::string> waiting_at_end;
    // Contacts expected at the end as "id host:port" (empty: not checked).
    std::vector<std::string> contacts_at_end;
};

std::ostream& operator<<(std::ostream& os, const Scenario& s) {
    return os << s.name;
}

const std::vector<Scenario> scenarios = {
    {"register_new", false, {reg("user1", 3000)}, {}, {"user1 127.0.0.1:3000"}},
    {"register_same_contact_refreshes",
     false,
     {reg("user1", 3000), reg("user1", 3000, RegisterOutcome::refreshed)},
     {},
     {"user1 127.0.0.1:3000"}},
    {"refresh_keeps_waiting",
     false,
     {reg("user1", 3000), waits("user1"), reg("user1", 3000, RegisterOutcome::refreshed)},
     {"user1"},
     {}},
    {"other_contact_same_source_replaces",
     false,
     {reg("user1", 3000), reg("user1", 3001, RegisterOutcome::replaced)},
     {},
     {"user1 127.0.0.1:3001"}},
    {"other_contact_same_source_other_ip_header_replaces",
     false,
     {reg("user1", 3000),
      reg_from("user1", "192.168.1.7", 3000, "127.0.0.1", RegisterOutcome::replaced)},
     {},
     {"user1 192.168.1.7:3000"}},
    {"other_contact_other_source_refused",
     false,
     {reg("user1", 3000),
      reg_from("user1", "10.0.0.9", 4000, "10.0.0.9", RegisterOutcome::refused)},
     {},
     {"user1 127.0.0.1:3000"}},
    {"same_contact_other_source_refreshes",
     false,
     {reg("user1", 3000),
      reg_from("user1", "127.0.0.1", 3000, "10.0.0.9", RegisterOutcome::refreshed)},
     {},
     {"user1 127.0.0.1:3000"}},
    {"refused_takeover_keeps_waiting",
     false,
     {reg("user1", 3000), waits("user1"),
      reg_from("user1", "10.0.0.9", 4000, "10.0.0.9", RegisterOutcome::refused)},
     {"user1"},
     {"user1 127.0.0.1:3000"}},
    {"takeover_allowed_replaces",
     true,
     {reg("user1", 3000),
      reg_from("user1", "10.0.0.9", 4000, "10.0.0.9", RegisterOutcome::replaced)},
     {},
     {"user1 10.0.0.9:4000"}},
    {"source_follows_replacement",
     false,
     {reg("user1", 3000), reg_from("user1", "10.0.0.9", 4000, "10.0.0.9", RegisterOutcome::refused),
      reg_from("user1", "127.0.0.1", 3005, "127.0.0.1", RegisterOutcome::replaced),
      reg_from("user1", "127.0.0.1", 3006, "127.0.0.1", RegisterOutcome::replaced)},
     {},
     {"user1 127.0.0.1:3006"}},
    {"replaced_entry_stops_waiting",
     false,
     {reg("user1", 3000), waits("user1"), reg("user1", 3001, RegisterOutcome::replaced),
      reg("user2", 3002), waits("user2")},
     {"user2"},
     {}},
    {"bridge_unregistered", false, {unknown("user9")}, {}, {}},
    {"bridge_unregistered_changes_nothing",
     false,
     {reg("user1", 3000), waits("user1"), unknown("user9")},
     {"user1"},
     {"user1 127.0.0.1:3000"}},
    {"two_clients_first_bridges_first",
     false,
     {reg("user1", 3000), reg("user2", 3001), waits("user1"), gets("user2", "user1")},
     {},
     {"user1 127.0.0.1:3000", "user2 127.0.0.1:3001"}},
    {"two_clients_second_bridges_first",
     false,
     {reg("user1", 3000), reg("user2", 3001), waits("user2"), gets("user1", "user2")},
     {},
     {}},
    {"bridge_before_the_other_registers",
     false,
     {reg("user1", 3000), waits("user1"), reg("user2", 3001), gets("user2", "user1")},
     {},
     {}},
    {"never_own_contact",
     false,
     {reg("user1", 3000), waits("user1"), waits("user1"), waits("user1")},
     {"user1"},
     {}},
    {"many_clients_fifo",
     false,
     {reg("a", 3001), reg("b", 3002), reg("c", 3003), reg("d", 3004), reg("e", 3005),
      reg("f", 3006), waits("a"), gets("b", "a"), waits("c"), waits("c"), gets("d", "c"),
      waits("f"), gets("e", "f")},
     {},
     {}},
    {"rebridge_after_pairing",
     false,
     {reg("user1", 3000), reg("user2", 3001), waits("user1"), gets("user2", "user1"),
      waits("user2"), gets("user1", "user2"), waits("user1")},
     {"user1"},
     {}},
    {"wait_expires",
     false,
     {reg("user1", 3000), reg("user2", 3001), waits("user1"), Advance{600s}, waits("user2")},
     {"user2"},
     {"user1 127.0.0.1:3000", "user2 127.0.0.1:3001"}},
    {"wait_just_before_expiry_pairs",
     false,
     {reg("user1", 3000), reg("user2", 3001), waits("user1"), Advance{599s},
      gets("user2", "user1")},
     {},
     {}},
    {"rebridge_restarts_wait",
     false,
     {reg("user1", 3000), reg("user2", 3001), waits("user1"), Advance{500s}, waits("user1"),
      Advance{500s}, gets("user2", "user1")},
     {},
     {}},
    {"expired_waiter_left_out_of_state",
     false,
     {reg("user1", 3000), waits("user1"), Advance{601s}},
     {},
     {}},
};

class RegistryScenario : public ::testing::TestWithParam<Scenario> {};

TEST_P(RegistryScenario, Steps) {
    const Scenario& s = GetParam();
    auto now = std::chrono::steady_clock::time_point{} + 1000h;
    tcpchat::MemoryRegistry registry({s.allow_takeover, 600s}, [&now] { return now; });

    for (std::size_t i = 0; i < s.steps.size(); ++i) {
        SCOPED_TRACE("step " + std::to_string(i));
        const Step& step = s.steps[i];
        if (const auto* r = std::get_if<Reg>(&step)) {
            const auto before = registry.find(r->id);
            const auto result = registry.register_contact({r->id, r->host, r->port}, r->source);
            EXPECT_EQ(result.outcome, r->expect);
            const auto after = registry.find(r->id);
            ASSERT_TRUE(after.has_value());
            if (r->expect == RegisterOutcome::refused) {
                EXPECT_EQ(after, before);
            } else {
                EXPECT_EQ(*after, tcpchat::ContactRecord(r->id, r->host, r->port));
            }
            if (before) {
                EXPECT_EQ(result.previous, *before);
            }
        } else if (const auto* b = std::get_if<Bridge>(&step)) {
            const auto result = registry.bridge(b->id);
            EXPECT_EQ(result.outcome, b->expect);
            if (b->expect == BridgeOutcome::paired) {
                ASSERT_TRUE(result.peer.has_value());
                EXPECT_EQ(result.peer->id, b->peer);
                EXPECT_EQ(result.peer, registry.find(b->peer));
                EXPECT_NE(result.peer->id, b->id);
            } else {
                EXPECT_FALSE(result.peer.has_value());
            }
            if (b->expect != BridgeOutcome::not_registered) {
                EXPECT_EQ(result.requester, registry.find(b->id));
            }
        } else {
            now += std::get<Advance>(step).by;
        }
    }
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
