package dataplane

import (
	"encoding/binary"
	"net/netip"
	"sync/atomic"
)

// clientMACSlots is the size of the client MAC cache (direct-mapped). A
// collision only costs an ARP/ND resolution on the reply path.
const clientMACSlots = 1 << 16

// macSlot is one entry of macCache, written under a sequence lock so
// readers never block: seq is odd while a writer is inside.
type macSlot struct {
	seq  atomic.Uint32
	addr [4]atomic.Uint32 // IPv4-mapped or IPv6 address, big-endian words
	mac  atomic.Uint64    // MAC in the low 48 bits; 0: empty
}

// macCache remembers the source MAC of the frame each client's newest
// connection arrived in (DESIGN.md: the next hop for NAT replies and ICMP
// errors is that MAC unless a static neighbour says otherwise). It is
// written once per new connection and read per reply packet, lock-free.
type macCache struct {
	slots []macSlot
}

func newMACCache() *macCache { return &macCache{slots: make([]macSlot, clientMACSlots)} }

func addrWords(a netip.Addr) [4]uint32 {
	b := a.As16()
	return [4]uint32{
		binary.BigEndian.Uint32(b[0:]), binary.BigEndian.Uint32(b[4:]),
		binary.BigEndian.Uint32(b[8:]), binary.BigEndian.Uint32(b[12:]),
	}
}

func (c *macCache) slot(w [4]uint32) *macSlot {
	h := (w[0] ^ w[1]*0x9E3779B1 ^ w[2]*0x85EBCA77 ^ w[3]) * 0x61C88647 // Fibonacci hashing
	return &c.slots[h>>(32-16)]
}

func macWord(m MAC) uint64 {
	return uint64(m[0])<<40 | uint64(m[1])<<32 | uint64(m[2])<<24 | uint64(m[3])<<16 | uint64(m[4])<<8 | uint64(m[5]) | 1<<63
}

// store records a → m. A client that opens many connections from the
// same MAC costs only loads (plain moves on amd64): the slot is rewritten,
// with its locked operations, only when it changes.
func (c *macCache) store(a netip.Addr, m MAC) {
	w := addrWords(a)
	s := c.slot(w)
	if old, ok := s.read(w); ok && old == m {
		return
	}
	for {
		q := s.seq.Load()
		if q&1 == 0 && s.seq.CompareAndSwap(q, q+1) {
			break
		}
	}
	for i := range w {
		s.addr[i].Store(w[i])
	}
	s.mac.Store(macWord(m))
	s.seq.Add(1)
}

// load returns the MAC stored for a.
func (c *macCache) load(a netip.Addr) (MAC, bool) {
	w := addrWords(a)
	return c.slot(w).read(w)
}

// read returns the MAC the slot holds for the address words w.
func (s *macSlot) read(w [4]uint32) (MAC, bool) {
	for tries := 0; tries < 4; tries++ {
		q := s.seq.Load()
		if q&1 != 0 {
			continue
		}
		a0, a1, a2, a3 := s.addr[0].Load(), s.addr[1].Load(), s.addr[2].Load(), s.addr[3].Load()
		m := s.mac.Load()
		if s.seq.Load() != q {
			continue
		}
		if m == 0 || a0 != w[0] || a1 != w[1] || a2 != w[2] || a3 != w[3] {
			return MAC{}, false
		}
		return MAC{byte(m >> 40), byte(m >> 32), byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}, true
	}
	return MAC{}, false
}
