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
//
// # Use
//
// The director keeps a List per virtual service and a Scheduler from New.
// After every single List.Add, List.Edit or List.Remove it calls
// Scheduler.Update(list.Dests()): each Update is one kernel
// add_dest/del_dest/upd_dest event, which is what makes wrr's cursor and
// mh's last_weight come out as the kernel's. Dataplane workers call Pick
// concurrently for each new connection.
//
// # Concurrency
//
// Update builds an immutable snapshot (the real servers with their Counters
// resolved, and the dh/sh/mh table) and publishes it with one atomic store;
// Pick loads it with one atomic load. rr and wrr keep their cursor in the
// snapshot as one atomic word advanced by compare-and-swap; Update seals the
// old cursor before carrying its value into the new snapshot, so every Pick
// is linearizable with every Update. lblc and lblcr serialise Pick and Update
// with one mutex: their cache is touched once per new connection, not per
// packet. Pick does not allocate, except that lblc/lblcr allocate when a
// new cache entry needs a larger bucket.
package scheduler
