// The server's registry and pairing rules (spec §6.2, §6.3, §6.7).
//
// `Registry` is the asynchronous interface the server talks to: it asks, carries on serving
// other connections, and is called back with the answer. `MemoryRegistry` keeps everything in
// this process and answers at once; `RedisRegistry` (redis_registry.hpp) keeps it in Redis so
// that several server processes share one registry. The interface speaks in contact records and
// strings only, so hosts may be IPv4 or IPv6 text.
#pragma once

#include "tcpchat/message.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

namespace tcpchat {

// What REGISTER did to the registry (spec §6.2).
enum class RegisterOutcome : std::uint8_t {
    registered, // a new clientID
    refreshed,  // the same contact again: nothing changes
    replaced,   // a new contact for the clientID (same source address, or takeover allowed)
    refused,    // a new contact from another source address: ERROR 403, registry unchanged
    full,       // a new clientID while the registry holds its maximum: ERROR 503 (spec §6.5)
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

// Why a registry could not answer: the store is unreachable or too slow (ERROR 503, spec §6.7).
enum class RegistryErrc : std::uint8_t {
    unavailable = 1, // no connection to the store
    timed_out,       // the store did not answer in time
    store_error,     // the store answered with an error
};
[[nodiscard]] const std::error_category& registry_category() noexcept;
[[nodiscard]] std::error_code make_error_code(RegistryErrc e) noexcept;

// Completion handlers: a non-zero error_code means the result is meaningless.
using RegisterHandler = std::function<void(std::error_code, RegisterResult)>;
using BridgeHandler = std::function<void(std::error_code, BridgeResult)>;
using FindHandler = std::function<void(std::error_code, std::optional<ContactRecord>)>;

// Each call runs its rule atomically (spec §6.2, §6.3) and calls `done` exactly once: either
// before it returns (MemoryRegistry) or later, on a thread that runs the io_context the registry
// was given. Callers must accept both.
class Registry {
  public:
    virtual ~Registry() = default;

    // REGISTER `contact`, received over a connection from source address `source` (the observed
    // peer IP address as text, not the IP header; spec §6.2).
    virtual void async_register(const Contact& contact, std::string_view source,
                                RegisterHandler done) = 0;
    // BRIDGE from clientID `id` (spec §6.3).
    virtual void async_bridge(std::string_view id, BridgeHandler done) = 0;
    // The contact on record for `id`, if any (for tests and tools).
    virtual void async_find(std::string_view id, FindHandler done) = 0;
};

// Policy of the rules in spec §6.2-§6.3 that a server operator may change.
struct RegistryPolicy {
    // Let a REGISTER from any address replace a clientID's contact (the installed base's
    // behaviour) instead of only from the address that registered it.
    bool allow_takeover = false;
    // How long a client stays in the waiting queue after its BRIDGE (spec §6.3).
    std::chrono::steady_clock::duration wait_timeout = std::chrono::seconds(600);
    // How long a registration lives after its last REGISTER (spec §6.2): a day, longer than any
    // chat, short enough that clients that never come back are forgotten.
    std::chrono::steady_clock::duration registration_ttl = std::chrono::hours(24);
    // MemoryRegistry only: registrations held at most; a new clientID beyond gets ERROR 503
    // once expired ones are dropped (spec §6.5). About 260 bytes each.
    std::size_t max_registrations = 1'000'000;
};

// Where MemoryRegistry reads the time; tests inject a manual clock.
using RegistryClock = std::function<std::chrono::steady_clock::time_point()>;

// The in-process registry. Thread-safe: every call takes one mutex, so the server's I/O threads
// and a test thread may share it. The asynchronous calls complete inline.
class MemoryRegistry final : public Registry {
  public:
    explicit MemoryRegistry(RegistryPolicy policy = {},
                            RegistryClock clock = &std::chrono::steady_clock::now);

    RegisterResult register_contact(const Contact& contact, std::string_view source);
    BridgeResult bridge(std::string_view id);
    [[nodiscard]] std::optional<ContactRecord> find(std::string_view id) const;
    [[nodiscard]] RegistryState state() const;

    void async_register(const Contact& contact, std::string_view source,
                        RegisterHandler done) override;
    void async_bridge(std::string_view id, BridgeHandler done) override;
    void async_find(std::string_view id, FindHandler done) override;

  private:
    using Renewals = std::list<std::string>; // clientIDs, least recently registered first
    struct Entry {
        ContactRecord contact;
        std::string source; // observed address of the REGISTER that set `contact`
        std::chrono::steady_clock::time_point expires;
        Renewals::iterator renewal; // this entry's place in `renewals_`
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
    void drop_expired_registrations(std::chrono::steady_clock::time_point now);
    void renew(Entry& entry, std::chrono::steady_clock::time_point now);
    void stop_waiting(std::string_view id);

    RegistryPolicy policy_;
    RegistryClock clock_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Entry, Hash, std::equal_to<>> entries_;
    std::deque<Waiter> waiting_; // FIFO, oldest first (spec §6.3)
    // Every registration lives equally long, so the least recently renewed expires first.
    Renewals renewals_;
};

} // namespace tcpchat

template <>
struct std::is_error_code_enum<tcpchat::RegistryErrc> : std::true_type {};
