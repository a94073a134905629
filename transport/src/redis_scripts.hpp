// The registry's rules (spec §6.2, §6.3) as Lua scripts, each run atomically by Redis, so that
// any number of servers sharing one Redis behave as one server. They mirror
// MemoryRegistry::register_contact() and MemoryRegistry::bridge() rule for rule.
//
// Keys, each under the deployment's prefix P:
//   P c:<clientID>  hash {host, port, source}; expires registration_ttl after the last REGISTER
//   P queue         sorted set of waiting clientIDs, scored by arrival (FIFO)
//   P wait          hash clientID -> wait deadline (Redis clock, ms)
//   P seq           arrival counter for the queue's scores
// The queue keys expire wait_timeout after their last change, so every key has a TTL.
#pragma once

namespace tcpchat::redis {

// KEYS: contact, queue, wait. ARGV: id, host, port, source, ttl_ms, allow_takeover ("1"/"0").
// Returns {outcome} or {outcome, previous host, previous port}.
inline constexpr const char* register_script = R"lua(
local old = redis.call('HMGET', KEYS[1], 'host', 'port', 'source')
if not old[1] then
  redis.call('HSET', KEYS[1], 'host', ARGV[2], 'port', ARGV[3], 'source', ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return {'registered'}
end
if old[1] == ARGV[2] and old[2] == ARGV[3] then
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return {'refreshed', old[1], old[2]}
end
if ARGV[6] ~= '1' and old[3] ~= ARGV[4] then
  return {'refused', old[1], old[2]}
end
redis.call('HSET', KEYS[1], 'host', ARGV[2], 'port', ARGV[3], 'source', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return {'replaced', old[1], old[2]}
)lua";

// KEYS: contact, queue, wait, seq. ARGV: id, wait_ms, contact key prefix (P c:).
// Returns {'not_registered'}, {'waiting', host, port} or
// {'paired', host, port, peer id, peer host, peer port}.
inline constexpr const char* bridge_script = R"lua(
local me = redis.call('HMGET', KEYS[1], 'host', 'port')
if not me[1] then
  return {'not_registered'}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local queued = false
for _, w in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local alive = tonumber(redis.call('HGET', KEYS[3], w) or '0') > now
  if w == ARGV[1] and alive then
    queued = true
  else
    redis.call('ZREM', KEYS[2], w)
    redis.call('HDEL', KEYS[3], w)
    if w ~= ARGV[1] and alive then
      local peer = redis.call('HMGET', ARGV[3] .. w, 'host', 'port')
      if peer[1] then
        return {'paired', me[1], me[2], w, peer[1], peer[2]}
      end
    end
  end
end
if not queued then
  redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[4]), ARGV[1])
end
redis.call('HSET', KEYS[3], ARGV[1], string.format('%d', now + tonumber(ARGV[2])))
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
redis.call('PEXPIRE', KEYS[4], ARGV[2])
return {'waiting', me[1], me[2]}
)lua";

} // namespace tcpchat::redis
