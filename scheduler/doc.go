// Package scheduler implements the fourteen IPVS schedulers (rr, wrr, lc,
// wlc, sed, nq, fo, ovf, twos, dh, sh, mh, lblc, lblcr) with the kernel's
// semantics: list order (a real server added later goes to the head),
// tie-breaking, overhead formulas, weight 0 (quiescent), the OVERLOAD flag and
// the kernel's hash functions.
//
// It owns: the per-service real-server list in kernel order, scheduler state
// (rr pointer, wrr cursor, dh/sh/mh tables, lblc/lblcr caches) and the Load
// view through which schedulers read live connection counts.
//
// It must not import: conntrack, dataplane, conf, director, vrrp, checks or
// any cmd package. It picks; it never touches the connection table.
package scheduler
