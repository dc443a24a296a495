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
package conntrack
