// The registry and pairing rules (spec §6.2, §6.3) as a table of scenarios, shared by every
// Registry implementation's test: each row is a sequence of REGISTER / BRIDGE / clock steps with
// the outcome every step must have, then the waiting queue at the end.
#pragma once

#include "tcpchat/registry.hpp"

#include <chrono>
#include <functional>
#include <future>
#include <gtest/gtest.h>
#include <ostream>
#include <string>
#include <variant>
#include <vector>

namespace tcpchat::test {

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
inline Reg reg(std::string id, std::uint16_t port,
               RegisterOutcome expect = RegisterOutcome::registered) {
    return {std::move(id), "127.0.0.1", port, "127.0.0.1", expect};
}
inline Reg reg_from(std::string id, std::string host, std::uint16_t port, std::string source,
                    RegisterOutcome expect) {
    return {std::move(id), std::move(host), port, std::move(source), expect};
}
inline Bridge waits(std::string id) {
    return {std::move(id), BridgeOutcome::waiting, ""};
}
inline Bridge gets(std::string id, std::string peer) {
    return {std::move(id), BridgeOutcome::paired, std::move(peer)};
}
inline Bridge unknown(std::string id) {
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

inline std::ostream& operator<<(std::ostream& os, const Scenario& s) {
    return os << s.name;
}

inline const std::vector<Scenario> scenarios = {
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

// Blocking forms of the asynchronous calls, for tests.
inline RegisterResult register_now(Registry& r, const Contact& c, std::string_view source,
                                   std::error_code* error = nullptr) {
    std::promise<std::pair<std::error_code, RegisterResult>> done;
    r.async_register(c, source, [&](std::error_code ec, RegisterResult result) {
        done.set_value({ec, std::move(result)});
    });
    auto [ec, result] = done.get_future().get();
    if (error != nullptr) {
        *error = ec;
    } else {
        EXPECT_FALSE(ec) << ec.message();
    }
    return result;
}
inline BridgeResult bridge_now(Registry& r, std::string_view id, std::error_code* error = nullptr) {
    std::promise<std::pair<std::error_code, BridgeResult>> done;
    r.async_bridge(id, [&](std::error_code ec, BridgeResult result) {
        done.set_value({ec, std::move(result)});
    });
    auto [ec, result] = done.get_future().get();
    if (error != nullptr) {
        *error = ec;
    } else {
        EXPECT_FALSE(ec) << ec.message();
    }
    return result;
}
inline std::optional<ContactRecord> find_now(Registry& r, std::string_view id) {
    std::promise<std::optional<ContactRecord>> done;
    r.async_find(id, [&](std::error_code ec, std::optional<ContactRecord> found) {
        EXPECT_FALSE(ec) << ec.message();
        done.set_value(std::move(found));
    });
    return done.get_future().get();
}

// Plays the steps of `s` on `registry`; `advance` moves its clock.
inline void play(Registry& registry, const Scenario& s,
                 const std::function<void(std::chrono::seconds)>& advance) {
    for (std::size_t i = 0; i < s.steps.size(); ++i) {
        SCOPED_TRACE("step " + std::to_string(i));
        const Step& step = s.steps[i];
        if (const auto* r = std::get_if<Reg>(&step)) {
            const auto before = find_now(registry, r->id);
            const auto result = register_now(registry, {r->id, r->host, r->port}, r->source);
            EXPECT_EQ(result.outcome, r->expect);
            const auto after = find_now(registry, r->id);
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
            const auto result = bridge_now(registry, b->id);
            EXPECT_EQ(result.outcome, b->expect);
            if (b->expect == BridgeOutcome::paired) {
                ASSERT_TRUE(result.peer.has_value());
                EXPECT_EQ(result.peer->id, b->peer);
                EXPECT_EQ(result.peer, find_now(registry, b->peer));
                EXPECT_NE(result.peer->id, b->id);
            } else {
                EXPECT_FALSE(result.peer.has_value());
            }
            if (b->expect != BridgeOutcome::not_registered) {
                EXPECT_EQ(result.requester, find_now(registry, b->id));
            }
        } else {
            advance(std::get<Advance>(step).by);
        }
    }
}

} // namespace tcpchat::test
