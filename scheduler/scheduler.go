package scheduler

import (
	"net/netip"
	"sync/atomic"
)

// DestID identifies a real server (an IPVS destination) for as long as any
// connection refers to it. The director allocates IDs; conntrack keys its
// per-real-server counters by them. The zero value is invalid.
type DestID uint32

// Dest is a real server as a scheduler sees it.
type Dest struct {
	ID     DestID
	Addr   netip.Addr
	Port   uint16
	Weight int32 // 0 is quiescent: no new connections, existing ones stay
}

// Counters are one real server's live connection counts, as IPVS keeps them
// in struct ip_vs_dest (reference ipvs.md §1.3–§1.4). Conntrack writes them
// with atomics as connections bind, change state and unbind; schedulers only
// read them. The fields are padded apart from neighbouring Counters in an
// array to avoid false sharing between dataplane workers.
type Counters struct {
	Active   atomic.Int32 // activeconns
	Inactive atomic.Int32 // inactconns
	Persist  atomic.Int32 // persistconns (templates)
	Overload atomic.Bool  // IP_VS_DEST_F_OVERLOAD
	_        [64 - 16]byte
}

// Overhead is ip_vs_dest_conn_overhead: (activeconns << 8) + inactconns.
func (c *Counters) Overhead() int32 {
	return c.Active.Load()<<8 + c.Inactive.Load()
}

// Load is the live view of per-real-server counts that schedulers read.
// Conntrack provides the real one; tests use a fake. Counters must return a
// non-nil pointer that stays valid for the life of the Load.
type Load interface {
	Counters(DestID) *Counters
}
