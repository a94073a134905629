// The server's registry and pairing rules (spec §6.2, §6.3): pure logic, no sockets.
//
// `Registry` is the interface the server talks to; `MemoryRegistry` keeps everything in this
// process. A shared store (say Redis, for several server processes) can implement the same
// interface: it speaks in contact records and strings only, so hosts may be IPv4 or IPv6 text.
#pragma once

#include "tcpchat/message.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tcpchat {

// What REGISTER did to the registry (spec §6.2).
enum class RegisterOutcome : std::uint8_t {
    registered, // a new clientID
    refreshed,  // the same contact again: nothing changes
    replaced,   // a new contact for the clientID (same source address, or takeover allowed)
    refused,    // a new contact from another source address: ERROR 403, registry unchanged
};

struct RegisterResult {
    RegisterOutcome outcome = RegisterOutcome::registered;
    ContactRecord previous; // the contact on record before (refreshed, replaced, refused)
};

// What BRIDGE did (spec §6.3).
enum class BridgeOutcome : std::uint8_t {
    paired,         // `peer` is the waiting client the requester is given
    waiting,        // nobody else is waiting: the requester waits (empty BRIDGEACK)
    not_registered, // ERROR 404, registry unchanged
};

struct BridgeResult {
    BridgeOutcome outcome = BridgeOutcome::not_registered;
    ContactRecord requester;           // the requester's contact on record (unless not_registered)
    std::optional<ContactRecord> peer; // set when paired
};

// The whole content of a registry, for logs and tests: contacts by clientID, waiting clients
// oldest first (expired ones left out).
struct RegistryState {
    std::vector<ContactRecord> contacts; // sorted by id
    std::vector<std::string> waiting;

    friend bool operator==(const RegistryState&, const RegistryState&) = default;
};

class Registry {
  public:
    virtual ~Registry() = default;

    // REGISTER `contact`, received over a connection from source address `source` (the observed
    // peer IP address as text, not the IP header; spec §6.2).
    virtual RegisterResult register_contact(const Contact& contact, std::string_view source) = 0;
    // BRIDGE from clientID `id` (spec §6.3).
    virtual BridgeResult bridge(std::string_view id) = 0;

    [[nodiscard]] virtual std::optional<ContactRecord> find(std::string_view id) const = 0;
    [[nodiscard]] virtual RegistryState state() const = 0;
};

// Policy of the rules in spec §6.2-§6.3 that a server operator may change.
struct RegistryPolicy {
    // Let a REGISTER from any address replace a clientID's contact (the installed base's
    // behaviour) instead of only from the address that registered it.
    bool allow_takeover = false;
    // How long a client stays in the waiting queue after its BRIDGE (spec §6.3).
    std::chrono::steady_clock::duration wait_timeout = std::chrono::seconds(600);
};

// Where MemoryRegistry reads the time; tests inject a manual clock.
using RegistryClock = std::function<std::chrono::steady_clock::time_point()>;

// The in-process registry. Thread-safe: every call takes one mutex, so the server's I/O threads
// and a test thread may share it.
class MemoryRegistry final : public Registry {
  public:
    explicit MemoryRegistry(RegistryPolicy policy = {},
                            RegistryClock clock = &std::chrono::steady_clock::now);

    RegisterResult register_contact(const Contact& contact, std::string_view source) override;
    BridgeResult bridge(std::string_view id) override;
    [[nodiscard]] std::optional<ContactRecord> find(std::string_view id) const override;
    [[nodiscard]] RegistryState state() const override;

  private:
    struct Entry {
        ContactRecord contact;
        std::string source; // observed address of the REGISTER that set `contact`
    };
    struct Waiter {
        std::string id;
        std::chrono::steady_clock::time_point deadline;
    };
    // Lets the maps be searched with a string_view without building a std::string.
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };

    void drop_expired(std::chrono::steady_clock::time_point now);
    void stop_waiting(std::string_view id);

    RegistryPolicy policy_;
    RegistryClock clock_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Entry, Hash, std::equal_to<>> entries_;
    std::deque<Waiter> waiting_; // FIFO, oldest first (spec §6.3)
};

} // namespace tcpchat
