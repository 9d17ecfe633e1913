/**
 * Lua scripts, each one round trip. Every key they touch shares the session's hash tag
 * (KEYS[1] is the session set, or a conversation copy), so they run unchanged on Redis Cluster.
 */

/**
 * Walks parent links from ARGV[2] for ARGV[3]'s owner, refreshing TTLs on the way. Returns
 * { each found response's history items JSON newest first, id where the walk stopped ('' when it
 * reached the root), the session id of the first one found (nil when none was or it has none),
 * the positions (1-based) of entries that have no history field, whose whole response JSON was
 * returned instead }.
 */
export const CHAIN_SCRIPT = `
local rprefix, id, owner = ARGV[1], ARGV[2], ARGV[3]
local ttl, limit = tonumber(ARGV[4]), tonumber(ARGV[5])
local found, whole, session = {}, {}, false
while id ~= '' and #found < limit do
  local key = rprefix .. id
  local v = redis.call('HMGET', key, 'c', 'p', 'o', 's', 'd')
  if not (v[1] or v[5]) or v[3] ~= owner then break end
  redis.call('EXPIRE', key, ttl)
  if #found == 0 then session = v[4] end
  found[#found + 1] = v[1] or v[5]
  if not v[1] then whole[#whole + 1] = #found end
  id = v[2]
end
if #found > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
return { found, id, session, whole }
`;

/**
 * Stores responses (ARGV[5..], per response: id, parent, owner, session id, response JSON, history
 * items JSON, created-ms, n, then n item ids to index in the session's item index ARGV[4]), then drops
 * the oldest beyond ARGV[3] per session, with their entries in the item index. Returns how many were dropped.
 */
export const SAVE_SCRIPT = `
local zkey, rprefix, ikey = KEYS[1], ARGV[1], ARGV[4]
local ttl, max = tonumber(ARGV[2]), tonumber(ARGV[3])
local i = 5
while i <= #ARGV do
  local key = rprefix .. ARGV[i]
  redis.call('HSET', key, 'p', ARGV[i + 1], 'o', ARGV[i + 2], 's', ARGV[i + 3], 'd', ARGV[i + 4], 'c', ARGV[i + 5])
  redis.call('EXPIRE', key, ttl)
  redis.call('ZADD', zkey, ARGV[i + 6], ARGV[i])
  local items = tonumber(ARGV[i + 7])
  for j = 1, items do redis.call('HSET', ikey, ARGV[i + 7 + j], ARGV[i]) end
  if items > 0 then redis.call('EXPIRE', ikey, ttl) end
  i = i + 8 + items
end
local excess = redis.call('ZCARD', zkey) - max
if excess > 0 then
  local dropped = redis.call('ZPOPMIN', zkey, excess)
  for j = 1, #dropped, 2 do
    local rid = dropped[j]
    -- Its items leave the index too, unless a newer response (that referred to them) holds them now.
    local history = redis.call('HGET', rprefix .. rid, 'c')
    if history then
      for _, item in ipairs(cjson.decode(history)) do
        if item.id and redis.call('HGET', ikey, item.id) == rid then redis.call('HDEL', ikey, item.id) end
      end
    end
    redis.call('DEL', rprefix .. rid)
  end
else
  excess = 0
end
redis.call('EXPIRE', zkey, ttl)
return excess
`;

/**
 * Finds items by id in a session's item index (KEYS[1]) for owner ARGV[2]: returns, per id in ARGV[3..],
 * the id of the response holding it ('' when none), and the history items JSON of those responses
 * (each once, in the order first needed), refreshing their TTLs.
 */
export const ITEMS_SCRIPT = `
local rprefix, owner, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local holders, histories, seen = {}, {}, {}
for i = 4, #ARGV do
  local rid = redis.call('HGET', KEYS[1], ARGV[i]) or ''
  if rid ~= '' and seen[rid] == nil then
    local v = redis.call('HMGET', rprefix .. rid, 'c', 'o', 'd')
    if (v[1] or v[3]) and v[2] == owner then
      seen[rid] = true
      redis.call('EXPIRE', rprefix .. rid, ttl)
      histories[#histories + 1] = v[1] or v[3]
    else
      seen[rid] = false
    end
  end
  holders[#holders + 1] = (rid ~= '' and seen[rid]) and rid or ''
end
return { holders, histories }
`;

/** Removes ARGV[2] if ARGV[3] owns it. Returns 1 when removed. */
export const DELETE_SCRIPT = `
local key = ARGV[1] .. ARGV[2]
if redis.call('HGET', key, 'o') ~= ARGV[3] then return 0 end
redis.call('DEL', key)
redis.call('ZREM', KEYS[1], ARGV[2])
return 1
`;

/**
 * Derives a conversation's copy at the version after an append (KEYS[2]) from the copy at the version
 * before it (KEYS[1]) and the items appended (ARGV[1], a non-empty JSON array), with a TTL of ARGV[2]
 * seconds, and drops the earlier copy. Returns 0, writing nothing, when there is no earlier copy.
 */
export const CONVERSATION_ADVANCE_SCRIPT = `
local before = redis.call('GET', KEYS[1])
if not before then return 0 end
local after = ARGV[1]
if before ~= '[]' then after = string.sub(before, 1, -2) .. ',' .. string.sub(ARGV[1], 2) end
redis.call('SET', KEYS[2], after, 'EX', ARGV[2])
redis.call('UNLINK', KEYS[1])
return 1
`;
