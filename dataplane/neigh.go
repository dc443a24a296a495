package dataplane

import (
	"net/netip"
	"sync"
	"sync/atomic"
)

// MAC is an Ethernet address.
type MAC [6]byte

// Neighbour resolution limits. They bound the memory a flood of traffic to
// unresolved real servers or next hops can take (reference reliability.md
// §0: bounded queues, counted drops).
const (
	// maxPendingAddrs is how many addresses may be being resolved at once.
	maxPendingAddrs = 64
	// maxPendingFrames is how many frames may wait for one address (the
	// kernel's unres_qlen is 101 packets; a director needs far fewer: the
	// first packets of new connections).
	maxPendingFrames = 8
	// resolveRetry is how long to wait before asking again (ns), and
	// resolveGiveUp how long a frame may wait at all (the kernel's
	// retrans_time and mcast_solicit × retrans_time).
	resolveRetry  = 1_000_000_000
	resolveGiveUp = 3_000_000_000
)

// neighTable maps IP addresses to MACs. Reads are one atomic load and a map
// lookup (copy-on-write: the map behind the pointer is never modified);
// writes, which happen on ARP/ND replies and configuration only, copy the
// map under mu.
type neighTable struct {
	m     atomic.Pointer[map[netip.Addr]neighEntry]
	small atomic.Pointer[[]smallNeigh] // nil when the table is large
	mu    sync.Mutex                   // serialises writers; readers never take it

	pendMu  sync.Mutex // guards pending; taken only on a miss (slow path)
	pending map[netip.Addr]*pendingAddr
}

type neighEntry struct {
	mac    MAC
	static bool
}

// pendingFrame is a frame waiting for an address to resolve, copied out of
// the worker's batch.
type pendingFrame struct {
	buf []byte
	act Action // what sending it is (nat, dr, tun, ...), for the trace
}

type pendingAddr struct {
	frames  []pendingFrame
	asked   int64 // when the last request went out
	created int64
}

func newNeighTable(static map[netip.Addr]MAC) *neighTable {
	t := &neighTable{pending: map[netip.Addr]*pendingAddr{}}
	m := make(map[netip.Addr]neighEntry, len(static))
	for ip, mac := range static {
		m[ip.Unmap()] = neighEntry{mac: mac, static: true}
	}
	t.publish(m)
	return t
}

// lookup returns the MAC of ip.
func (t *neighTable) lookup(ip netip.Addr) (MAC, bool) {
	if l := t.small.Load(); l != nil {
		for i := range *l {
			if (*l)[i].ip == ip {
				return (*l)[i].mac, true
			}
		}
		return MAC{}, false
	}
	e, ok := (*t.m.Load())[ip]
	return e.mac, ok
}

// smallNeigh is the table as a slice while it is small: a linear scan of a
// few entries is cheaper than hashing a netip.Addr on every packet.
type smallNeigh struct {
	ip  netip.Addr
	mac MAC
}

// maxSmallNeigh bounds the linear-scan form of the table.
const maxSmallNeigh = 16

// publish stores m (never modified afterwards) and its slice form when
// small. Called with mu held, or before the table is shared.
func (t *neighTable) publish(m map[netip.Addr]neighEntry) {
	if len(m) <= maxSmallNeigh {
		l := make([]smallNeigh, 0, len(m))
		for ip, e := range m {
			l = append(l, smallNeigh{ip, e.mac})
		}
		t.small.Store(&l)
	} else {
		t.small.Store(nil)
	}
	t.m.Store(&m)
}

// learn records ip → mac unless a static entry exists or nothing changes.
// It returns true if the table changed.
func (t *neighTable) learn(ip netip.Addr, mac MAC) bool {
	if e, ok := (*t.m.Load())[ip]; ok && (e.static || e.mac == mac) {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	old := *t.m.Load()
	if e, ok := old[ip]; ok && (e.static || e.mac == mac) {
		return false
	}
	m := make(map[netip.Addr]neighEntry, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[ip] = neighEntry{mac: mac}
	t.publish(m)
	return true
}

// queue parks a copy of frame until ip resolves. It reports whether a
// request should be sent now (first frame, or the retry interval passed),
// and false in ok when the queue is full (the caller drops and counts).
func (t *neighTable) queue(ip netip.Addr, frame []byte, now int64, act Action) (ask, ok bool) {
	t.pendMu.Lock()
	defer t.pendMu.Unlock()
	p := t.pending[ip]
	if p == nil {
		if len(t.pending) >= maxPendingAddrs {
			return false, false
		}
		p = &pendingAddr{created: now, asked: now}
		t.pending[ip] = p
		ask = true
	} else if now-p.asked >= resolveRetry {
		p.asked = now
		ask = true
	}
	if len(p.frames) >= maxPendingFrames {
		return ask, false
	}
	p.frames = append(p.frames, pendingFrame{buf: append([]byte(nil), frame...), act: act})
	return ask, true
}

// isPending reports whether ip is being resolved.
func (t *neighTable) isPending(ip netip.Addr) bool {
	t.pendMu.Lock()
	defer t.pendMu.Unlock()
	return t.pending[ip] != nil
}

// release removes and returns the frames waiting for ip.
func (t *neighTable) release(ip netip.Addr) []pendingFrame {
	t.pendMu.Lock()
	defer t.pendMu.Unlock()
	p := t.pending[ip]
	if p == nil {
		return nil
	}
	delete(t.pending, ip)
	return p.frames
}

// expire drops pending addresses older than resolveGiveUp and returns how
// many frames were dropped.
func (t *neighTable) expire(now int64) (dropped int) {
	t.pendMu.Lock()
	defer t.pendMu.Unlock()
	for ip, p := range t.pending {
		if now-p.created >= resolveGiveUp {
			dropped += len(p.frames)
			delete(t.pending, ip)
		}
	}
	return dropped
}
