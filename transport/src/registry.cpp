#include "tcpchat/registry.hpp"

#include <algorithm>
#include <utility>

namespace tcpchat {
namespace {

class RegistryCategory final : public std::error_category {
  public:
    [[nodiscard]] const char* name() const noexcept override { return "tcpchat.registry"; }
    [[nodiscard]] std::string message(int value) const override {
        switch (static_cast<RegistryErrc>(value)) {
        case RegistryErrc::unavailable: return "registry unavailable";
        case RegistryErrc::timed_out: return "registry did not answer in time";
        case RegistryErrc::store_error: return "registry store error";
        }
        return "unknown registry error";
    }
};

} // namespace

const std::error_category& registry_category() noexcept {
    static const RegistryCategory category;
    return category;
}

std::error_code make_error_code(RegistryErrc e) noexcept {
    return {static_cast<int>(e), registry_category()};
}

MemoryRegistry::MemoryRegistry(RegistryPolicy policy, RegistryClock clock)
    : policy_(policy), clock_(std::move(clock)) {}

// spec §6.2: a clientID keeps its contact unless the same contact is registered again (a refresh)
// or the new contact comes from the address that registered the old one (a client restarted on
// another port). Anyone else gets 403 and changes nothing, so a second client cannot hijack a
// name by registering it with its own address. Every accepted REGISTER renews the registration.
RegisterResult MemoryRegistry::register_contact(const Contact& contact, std::string_view source) {
    const std::scoped_lock lock(mutex_);
    const auto now = clock_();
    drop_expired_registrations(now);
    const auto it = entries_.find(contact.id);
    if (it == entries_.end()) {
        if (entries_.size() >= policy_.max_registrations) {
            return {RegisterOutcome::full, {}};
        }
        const auto [added, ok] =
            entries_.emplace(std::string(contact.id),
                             Entry{ContactRecord(contact), std::string(source), now,
                                   renewals_.insert(renewals_.end(), std::string(contact.id))});
        renew(added->second, now);
        return {RegisterOutcome::registered, {}};
    }
    Entry& entry = it->second;
    RegisterResult result{RegisterOutcome::refreshed, entry.contact};
    if (entry.contact.view() == contact) {
        renew(entry, now);
        return result;
    }
    if (!policy_.allow_takeover && entry.source != source) {
        result.outcome = RegisterOutcome::refused;
        return result;
    }
    // A waiting client was waiting at its old contact, which nobody may be given any more.
    stop_waiting(contact.id);
    entry.contact = ContactRecord(contact);
    entry.source = source;
    renew(entry, now);
    result.outcome = RegisterOutcome::replaced;
    return result;
}

// spec §6.3: the oldest waiting client other than the requester is its peer; with nobody else
// waiting the requester joins the queue. Both stay registered and may BRIDGE again later.
BridgeResult MemoryRegistry::bridge(std::string_view id) {
    const std::scoped_lock lock(mutex_);
    const auto now = clock_();
    drop_expired_registrations(now);
    const auto it = entries_.find(id);
    if (it == entries_.end()) {
        return {};
    }
    drop_expired(now);
    BridgeResult result{BridgeOutcome::waiting, it->second.contact, std::nullopt};
    const auto other = std::find_if(waiting_.begin(), waiting_.end(),
                                    [id](const Waiter& w) { return w.id != id; });
    if (other != waiting_.end()) {
        result.outcome = BridgeOutcome::paired;
        result.peer = entries_.at(other->id).contact;
        waiting_.erase(other);
        return result;
    }
    // Only the requester itself can be in the queue here. Asking again keeps its place and
    // restarts its wait.
    const auto deadline = now + policy_.wait_timeout;
    if (waiting_.empty()) {
        waiting_.push_back({std::string(id), deadline});
    } else {
        waiting_.front().deadline = deadline;
    }
    return result;
}

std::optional<ContactRecord> MemoryRegistry::find(std::string_view id) const {
    const std::scoped_lock lock(mutex_);
    const auto it = entries_.find(id);
    if (it == entries_.end() || it->second.expires <= clock_()) {
        return std::nullopt;
    }
    return it->second.contact;
}

RegistryState MemoryRegistry::state() const {
    const std::scoped_lock lock(mutex_);
    const auto now = clock_();
    RegistryState state;
    state.contacts.reserve(entries_.size());
    for (const auto& [id, entry] : entries_) {
        if (entry.expires > now) {
            state.contacts.push_back(entry.contact);
        }
    }
    std::sort(state.contacts.begin(), state.contacts.end(),
              [](const ContactRecord& a, const ContactRecord& b) { return a.id < b.id; });
    for (const Waiter& w : waiting_) {
        if (w.deadline > now) {
            state.waiting.push_back(w.id);
        }
    }
    return state;
}

void MemoryRegistry::async_register(const Contact& contact, std::string_view source,
                                    RegisterHandler done) {
    done({}, register_contact(contact, source));
}

void MemoryRegistry::async_bridge(std::string_view id, BridgeHandler done) {
    done({}, bridge(id));
}

void MemoryRegistry::async_find(std::string_view id, FindHandler done) {
    done({}, find(id));
}

void MemoryRegistry::drop_expired(std::chrono::steady_clock::time_point now) {
    std::erase_if(waiting_, [now](const Waiter& w) { return w.deadline <= now; });
}

// The least recently renewed registration expires first, so only the front is ever looked at.
void MemoryRegistry::drop_expired_registrations(std::chrono::steady_clock::time_point now) {
    while (!renewals_.empty()) {
        const auto it = entries_.find(renewals_.front());
        if (it->second.expires > now) {
            return;
        }
        stop_waiting(it->first);
        renewals_.pop_front();
        entries_.erase(it);
    }
}

void MemoryRegistry::renew(Entry& entry, std::chrono::steady_clock::time_point now) {
    entry.expires = now + policy_.registration_ttl;
    renewals_.splice(renewals_.end(), renewals_, entry.renewal);
}

void MemoryRegistry::stop_waiting(std::string_view id) {
    std::erase_if(waiting_, [id](const Waiter& w) { return w.id == id; });
}

} // namespace tcpchat
