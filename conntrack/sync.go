package conntrack

import (
	"net/netip"
	"time"

	"github.com/uvslb/uvs/scheduler"
)

// Synced is a connection or template as the connection-sync protocol
// carries it (reference ipvs.md §9).
type Synced struct {
	// Key identifies the entry. For a template: the masked client with port
	// 0, and Proto ProtoIP with the mark as the virtual address for fwmark
	// services (as Conn lists it).
	Key      Key
	Real     netip.AddrPort
	Dest     scheduler.DestID
	Method   Method
	State    State // a TCP state or StateUDP; templates: StateNone or StateAssured
	Template bool
	Timeout  time.Duration // the entry's timeout; its timer is armed with it from now
}

// Restore creates or refreshes an entry from a sync message, as the backup
// director's ip_vs_proc_conn does: an existing entry gets the new state (its
// real server's active/inactive counts move accordingly) and its timer is
// re-armed with Timeout; a missing one is created in that state. An entry
// bound to a different real server is replaced. Restored connections are
// not linked to templates (the kernel's backup does not link them either).
func (t *Table) Restore(now int64, sc Synced) (Conn, Status) {
	var n newEntry
	if !n.k.setAddrs(sc.Key.CAddr, sc.Key.VAddr) || sc.State == 0 || sc.State >= numStates {
		return Conn{}, StatusBadKey
	}
	n.k.proto, n.k.cp, n.k.vp = sc.Key.Proto, sc.Key.CPort, sc.Key.VPort
	n.template = sc.Template
	n.dport = sc.Real.Port()
	if !n.setDest(Target{Dest: scheduler.Dest{ID: sc.Dest, Addr: sc.Real.Addr()}, Method: sc.Method}) {
		return Conn{}, StatusBadKey
	}
	st := sc.State
	switch {
	case sc.Template:
		st = StateNone
	case sc.Key.Proto != ProtoTCP:
		st = StateUDP
	case st > StateSynAck:
		return Conn{}, StatusBadKey
	}
	// Inserted in the state every new entry starts in (inactive); the
	// requested state is then applied with the usual accounting.
	n.state = StateNone
	if st == StateUDP {
		n.state = StateUDP
	}
	to := min(max(sc.Timeout, 0), maxTimeout)
	n.timeout = toTicks(to)
	h := t.hash(&n.k)
	si, s := t.shardOf(h)
	b := s.home(h)
	s.mu.Lock()
	defer s.mu.Unlock()
	slot := t.findLocked(s, b, &n.k, now, n.template)
	if slot >= 0 {
		e := &s.ents[slot]
		same := e.dest == uint32(n.dest) && e.daddr == n.daddr && e.dport == n.dport && Method(e.method) == n.method &&
			(!n.k.v6 || s.v6[slot][2] == n.daddr6)
		if !same {
			t.replaceLocked(s, uint32(slot), b)
			slot = -1
		}
	}
	if slot < 0 {
		ns, ok := t.insertLocked(s, b, &n, now)
		if !ok {
			return Conn{}, StatusRefused
		}
		slot = int(ns)
	}
	e := &s.ents[slot]
	if !n.template {
		t.setStateLocked(s, e, st)
	} else if sc.State == StateAssured {
		e.assure()
	}
	e.timeout = n.timeout
	e.expires = deadline(now, e.timeout)
	return t.connLocked(si, s, uint32(slot), now), StatusCreated
}

// setStateLocked moves connection e to state next, keeping the shard's and
// the real server's counts in step.
func (t *Table) setStateLocked(s *shard, e *entry, next State) {
	cur := State(e.state)
	if next == cur {
		return
	}
	s.byState[cur]--
	s.byState[next]++
	e.state = uint8(next)
	inactive := e.flags&fInactive != 0
	if act := next.Active(); act == inactive {
		t.dests.move(scheduler.DestID(e.dest), act)
		e.flags ^= fInactive
	}
}
