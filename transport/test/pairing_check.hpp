// The pairing invariant of spec §6.3 over the replies to many concurrent BRIDGEs, one per
// client: each empty BRIDGEACK puts its requester in the queue; each pairing must take a
// distinct waiter, never the requester, and at most one waiter may be left.
#pragma once

#include "raw_client.hpp"

#include <gtest/gtest.h>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace tcpchat::test {

// replies[i] answers client i's BRIDGE; client i is "c<i>" registered with port 10000 + i.
inline void expect_pairing_invariant(const std::vector<std::string>& replies) {
    auto id_of = [](int i) { return "c" + std::to_string(i); };
    std::set<int> waited;
    std::map<int, int> taken_by; // waiter -> the requester it was given to
    const int clients = static_cast<int>(replies.size());
    for (int i = 0; i < clients; ++i) {
        if (replies[i] == empty_bridgeack) {
            waited.insert(i);
            continue;
        }
        const auto start = replies[i].find("clientID: c");
        ASSERT_NE(start, std::string::npos) << replies[i];
        const auto end = replies[i].find("\r\n", start);
        const int peer = std::stoi(replies[i].substr(start + 11, end - start - 11));
        ASSERT_EQ(replies[i], bridgeack(id_of(peer), 10000 + peer));
        EXPECT_NE(peer, i) << "paired with itself";
        EXPECT_TRUE(taken_by.emplace(peer, i).second)
            << id_of(peer) << " was given to " << id_of(taken_by[peer]) << " and " << id_of(i);
    }
    for (const auto& [waiter, requester] : taken_by) {
        EXPECT_TRUE(waited.count(waiter)) << id_of(waiter) << " was given out but never waited";
    }
    EXPECT_EQ(taken_by.size() + waited.size(), static_cast<std::size_t>(clients));
    EXPECT_LE(waited.size() - taken_by.size(), 1U);
}

} // namespace tcpchat::test
