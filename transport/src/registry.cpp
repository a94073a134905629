#include "tcpchat/registry.hpp"

#include <algorithm>
#include <utility>

namespace tcpchat {

MemoryRegistry::MemoryRegistry(RegistryPolicy policy, RegistryClock clock)
    : policy_(policy), clock_(std::move(clock)) {}

// spec §6.2: a clientID keeps its contact unless the same contact is registered again (a refresh)
// or the new contact comes from the address that registered the old one (a client restarted on
// another port). Anyone else gets 403 and changes nothing, so a second client cannot hijack a
// name by registering it with its own address.
RegisterResult MemoryRegistry::register_contact(const Contact& contact, std::string_view source) {
    const std::scoped_lock lock(mutex_);
    const auto it = entries_.find(contact.id);
    if (it == entries_.end()) {
        entries_.emplace(std::string(contact.id),
                         Entry{ContactRecord(contact), std::string(source)});
        return {RegisterOutcome::registered, {}};
    }
    Entry& entry = it->second;
    RegisterResult result{RegisterOutcome::refreshed, entry.contact};
    if (entry.contact.view() == contact) {
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
    result.outcome = RegisterOutcome::replaced;
    return result;
}

// spec §6.3: the oldest waiting client other than the requester is its peer; with nobody else
// waiting the requester joins the queue. Both stay registered and may BRIDGE again later.
BridgeResult MemoryRegistry::bridge(std::string_view id) {
    const std::scoped_lock lock(mutex_);
    const auto it = entries_.find(id);
    if (it == entries_.end()) {
        return {};
    }
    const auto now = clock_();
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
    if (it == entries_.end()) {
        return std::nullopt;
    }
    return it->second.contact;
}

RegistryState MemoryRegistry::state() const {
    const std::scoped_lock lock(mutex_);
    RegistryState state;
    state.contacts.reserve(entries_.size());
    for (const auto& [id, entry] : entries_) {
        state.contacts.push_back(entry.contact);
    }
    std::sort(state.contacts.begin(), state.contacts.end(),
              [](const ContactRecord& a, const ContactRecord& b) { return a.id < b.id; });
    const auto now = clock_();
    for (const Waiter& w : waiting_) {
        if (w.deadline > now) {
            state.waiting.push_back(w.id);
        }
    }
    return state;
}

void MemoryRegistry::drop_expired(std::chrono::steady_clock::time_point now) {
    std::erase_if(waiting_, [now](const Waiter& w) { return w.deadline <= now; });
}

void MemoryRegistry::stop_waiting(std::string_view id) {
    std::erase_if(waiting_, [id](const Waiter& w) { return w.id == id; });
}

} // namespace tcpchat
