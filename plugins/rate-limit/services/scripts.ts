/**
 * The Lua scripts that decide and count in one step, so that processes sharing a Redis never
 * both take the last slot of a window (a read-then-write from Node.js could).
 */

/** Keys of one decision, in the order the acquire script reads them. */
export const ACQUIRE_KEYS = [
  'senderSettings', 'portfolioSettings', 'paused', 'senderBackoff', 'pairBackoff',
  'second', 'hour', 'day', 'pairBucket', 'recipients', 'warnHour', 'warnDay', 'warnMessaging',
] as const;

/**
 * ARGV: now, consume (1/0), counts toward the messaging limit (1/0), recipient ('' when unknown),
 * default perSecond, hourly (-1 none), daily (-1 none), tier, warning threshold,
 * messaging window ms, pair interval ms, pair burst, end of the second / hour / day window,
 * paused recheck ms, then the limit of each tier (TIER_250 … TIER_UNLIMITED; -1 for none).
 *
 * Returns { decision ('allow'|'defer'), code, until ms, second, hour, day, recipients,
 * perSecond, hourly, daily, messaging limit, tier, warning threshold, warnings... (name, used,
 * limit triples) }.
 */
export const ACQUIRE_SCRIPT = `
local now = tonumber(ARGV[1])
local consume = ARGV[2] == '1'
local counts = ARGV[3] == '1'
local recipient = ARGV[4]
local TIERS = {
  TIER_250 = tonumber(ARGV[17]), TIER_2K = tonumber(ARGV[18]), TIER_10K = tonumber(ARGV[19]), TIER_100K = tonumber(ARGV[20]), TIER_UNLIMITED = tonumber(ARGV[21]),
}
local function setting(key, field, fallback)
  local v = redis.call('HGET', key, field)
  if v then return tonumber(v) end
  return tonumber(fallback)
end
local perSecond = setting(KEYS[1], 'perSecond', ARGV[5])
local hourly = setting(KEYS[1], 'hourly', ARGV[6])
local daily = setting(KEYS[1], 'daily', ARGV[7])
local warnAt = setting(KEYS[1], 'warningThreshold', ARGV[9])
local tier = redis.call('HGET', KEYS[2], 'tier') or ARGV[8]
local tierLimit = TIERS[tier] or 250
local messagingMs = tonumber(ARGV[10])
local pairInterval = tonumber(ARGV[11])
local pairBurst = tonumber(ARGV[12])
local secondEnd, hourEnd, dayEnd = tonumber(ARGV[13]), tonumber(ARGV[14]), tonumber(ARGV[15])

local second = tonumber(redis.call('GET', KEYS[6]) or '0')
local hour = tonumber(redis.call('GET', KEYS[7]) or '0')
local day = tonumber(redis.call('GET', KEYS[8]) or '0')
redis.call('ZREMRANGEBYSCORE', KEYS[10], '-inf', now - messagingMs)
local recipients = redis.call('ZCARD', KEYS[10])
local function answer(decision, code, untilMs, warnings)
  local out = { decision, code, tostring(untilMs), second, hour, day, recipients, perSecond, hourly, daily, tierLimit, tier, tostring(warnAt) }
  for _, v in ipairs(warnings or {}) do table.insert(out, v) end
  return out
end

local paused = redis.call('GET', KEYS[3])
if paused then
  local untilMs = tonumber(paused)
  if untilMs == 0 or untilMs > now + tonumber(ARGV[16]) then untilMs = now + tonumber(ARGV[16]) end
  return answer('defer', 'RATE_SENDER_PAUSED', untilMs)
end
local backoff = tonumber(redis.call('GET', KEYS[4]) or '0')
if backoff > now then return answer('defer', 'RATE_SENDER_BACKOFF', backoff) end
local pairBackoff = tonumber(redis.call('GET', KEYS[5]) or '0')
if pairBackoff > now then return answer('defer', 'RATE_PAIR_BACKOFF', pairBackoff) end

-- Every limit that blocks; the send may go when the last of them frees.
local code, untilMs = nil, 0
local function block(c, u) if u > untilMs then code, untilMs = c, u end end
if second >= perSecond then block('RATE_THROUGHPUT', secondEnd) end
if hourly >= 0 and hour >= hourly then block('RATE_HOURLY_CAP', hourEnd) end
if daily >= 0 and day >= daily then block('RATE_DAILY_CAP', dayEnd) end
local tokens, refilledAt = pairBurst, now
if recipient ~= '' then
  local bucket = redis.call('HMGET', KEYS[9], 'tokens', 'at')
  if bucket[1] then
    refilledAt = tonumber(bucket[2])
    tokens = math.min(pairBurst, tonumber(bucket[1]) + (now - refilledAt) / pairInterval)
  end
  if tokens < 1 then block('RATE_PAIR_LIMIT', now + math.ceil((1 - tokens) * pairInterval)) end
end
local newRecipient = counts and recipient ~= '' and not redis.call('ZSCORE', KEYS[10], recipient)
if newRecipient and tierLimit >= 0 and recipients >= tierLimit then
  local oldest = redis.call('ZRANGE', KEYS[10], 0, 0, 'WITHSCORES')
  block('RATE_MESSAGING_LIMIT', tonumber(oldest[2]) + messagingMs)
end
if code then return answer('defer', code, untilMs) end
if not consume then return answer('allow', '', 0) end

second = redis.call('INCR', KEYS[6])
redis.call('PEXPIREAT', KEYS[6], secondEnd + 1000)
hour = redis.call('INCR', KEYS[7])
redis.call('PEXPIREAT', KEYS[7], hourEnd + 1000)
day = redis.call('INCR', KEYS[8])
redis.call('PEXPIREAT', KEYS[8], dayEnd + 1000)
if recipient ~= '' then
  redis.call('HSET', KEYS[9], 'tokens', tostring(tokens - 1), 'at', tostring(now))
  redis.call('PEXPIRE', KEYS[9], math.ceil(pairBurst * pairInterval))
end
-- Every counted send moves its recipient to now: the limit is on unique recipients in any moving
-- window, so one reached again stays in the window until a full window after the latest send.
if counts and recipient ~= '' then
  redis.call('ZADD', KEYS[10], now, recipient)
  redis.call('PEXPIRE', KEYS[10], messagingMs)
  if newRecipient then recipients = recipients + 1 end
end

-- A warning once per window: the first send past the threshold claims the window's marker.
local warnings = {}
local function warn(key, name, used, limit, ttl)
  if limit > 0 and used >= warnAt * limit and ttl > 0 and redis.call('SET', key, '1', 'NX', 'PX', ttl) then
    table.insert(warnings, name) table.insert(warnings, used) table.insert(warnings, limit)
  end
end
warn(KEYS[11], 'hourly', hour, hourly, hourEnd - now)
warn(KEYS[12], 'daily', day, daily, dayEnd - now)
if newRecipient then warn(KEYS[13], 'messaging', recipients, tierLimit, messagingMs) end
return answer('allow', '', 0, warnings)
`;

/**
 * Backoff after a provider rate-limit error. KEYS: backoff until, attempt counter.
 * ARGV: now, base ms, max ms, reset-after ms, jitter (0..1). Returns the new until.
 */
export const BACKOFF_SCRIPT = `
local now = tonumber(ARGV[1])
local attempt = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[4]))
local delay = math.min(tonumber(ARGV[3]), tonumber(ARGV[2]) * 2 ^ (attempt - 1))
-- Equal jitter: half the delay is fixed, the other half random, so processes do not retry in step.
delay = math.max(1, math.floor(delay / 2 + delay / 2 * tonumber(ARGV[5])))
local untilMs = now + delay
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current > untilMs then return { tostring(current), attempt } end
redis.call('SET', KEYS[1], tostring(untilMs), 'PX', delay)
return { tostring(untilMs), attempt }
`;
