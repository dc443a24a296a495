// Package conntrack is the userspace replacement for IPVS's connection hash
// table: entries keyed by protocol, client and virtual address:port (with a
// second key for NAT replies), IPVS's TCP state machine and timeouts,
// persistence templates, per-real-server active/inactive counters (which it
// exposes to the schedulers as a scheduler.Load), bounded size with an
// eviction policy, and incremental expiry driven by an injected clock.
//
// It may import scheduler (for the Load view and DestID) and internal
// packages. It must not import dataplane, conf, director, vrrp, checks or any
// cmd package.
//
// # Packet path
//
// For a packet from a client the dataplane calls Lookup; on a hit it checks
// the real server (expire_nodest_conn → Expire) and port reuse
// (Conn.ReuseExpected → Schedule again, which replaces the entry), then
// calls Update with the TCP flags. On a miss it calls Schedule with the
// service's persistence parameters, a pick callback (the scheduler) and a
// dest callback (is this real server still usable, from the director's
// snapshot), then Update. Replies from NAT real servers use LookupOut and
// Update with DirOutput. Every call takes now in nanoseconds; nothing runs
// on its own: the owner calls Sweep periodically.
//
// # Layout
//
// The table is split into power-of-two shards, each with a slab of
// fixed-size pointer-free entries (48 bytes for IPv4, 1/5 more slots than
// an even share of MaxConns); the garbage collector never scans it. A key
// hashes to a home slot and its entry goes in a free slot of the home's
// 32-slot window; a one-byte tag per slot (7 bits of the key's hash) says
// which slots of a window may hold a key, so a lookup reads the window's
// 32 tag bytes and then only the matching entry: the tag array (about
// 1.2 bytes per entry) stays in the cache far more than the slab does,
// and a batched lookup requests one or two cache lines of the slab per
// key. An entry whose window is full (about 1% in a full table) goes
// anywhere in the shard, on a far chain from its home slot, which the
// home's tag byte flags. Entries never move while they live. One hash of
// (protocol, client address, client port) places every entry, so "in",
// "out" and template lookups search the same window, as the kernel's
// ip_vs_conn_tab puts them on the same chain. IPv6 entries keep the full
// addresses in a per-shard side store of 48 bytes per slot, allocated when
// the shard first holds an IPv6 entry. A Ref (slot, generation) stays safe
// after the entry is gone: stale Refs are reported as absent. index.go
// has the details.
//
// Shards share a few striped mutexes (Config.Locks, by default 4 per CPU):
// small shards keep eviction scans and sweeps short, while a batched lookup,
// which hashes and prefetches its keys without a lock and then handles them
// lock by lock, pays for each lock once per batch instead of once per key.
// It can also apply each packet to the connection it finds (Step), so a
// packet on an established flow takes one lock, not two.
//
// Templates and the connections they control may live in different shards.
// A connection holds its template alive through the template's atomic
// control word. No method holds more than one shard lock.
//
// # Under pressure
//
// MaxConns bounds entries table-wide. When it is reached, an insert first
// reclaims an expired entry, else evicts (within its shard) a half-open
// entry, then a closing one or an unassured idle template, then an
// ESTABLISHED/UDP entry idle for Config.IdleEvict or an assured idle
// template. An entry with traffic in the last IdleEvict, or a template that
// controls connections, is never evicted: the insert is refused and counted.
// Expired entries are never returned by lookups, whether or not Sweep has
// reached them; their counters are released exactly once, when they are
// removed. A template whose controlled connections have expired but not yet
// been removed is kept until they are (so its life can exceed the kernel's
// by up to one Sweep cycle).
package conntrack
