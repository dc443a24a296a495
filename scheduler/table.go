package scheduler

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// entry is one real server in a scheduler's immutable snapshot: the Dest as
// of the last Update plus its live counters, resolved once so that Pick does
// not call through the Load interface.
type entry struct {
	Dest
	c *Counters
}

// usable is !is_unavailable(): weight > 0 and not OVERLOAD.
func (e *entry) usable() bool {
	return e.Weight > 0 && !e.c.Overload.Load()
}

// buildEntries validates dests (zero ID, duplicate ID, negative weight) and
// resolves their counters.
func buildEntries(dests []Dest, load Load) ([]entry, map[DestID]int, error) {
	es := make([]entry, len(dests))
	idx := make(map[DestID]int, len(dests))
	for i, d := range dests {
		if err := checkDest(d); err != nil {
			return nil, nil, err
		}
		if _, dup := idx[d.ID]; dup {
			return nil, nil, fmt.Errorf("real server %d listed twice: %w", d.ID, ErrInvalidDest)
		}
		idx[d.ID] = i
		c := load.Counters(d.ID)
		if c == nil {
			return nil, nil, fmt.Errorf("real server %d: Load returned nil Counters: %w", d.ID, ErrInvalidDest)
		}
		es[i] = entry{Dest: d, c: c}
	}
	return es, idx, nil
}

// goldenRatio32 is GOLDEN_RATIO_32 of include/linux/hash.h.
const goldenRatio32 = 0x61C88647

// hash32 is the kernel's hash_32(val, bits): the top bits of val·GOLDEN_RATIO_32.
func hash32(v uint32, bits uint) uint32 {
	return (v * goldenRatio32) >> (32 - bits)
}

// addrFold is ntohl(addr_fold) as dh, sh, mh, lblc and lblcr compute it:
// the IPv4 address as a host-order integer, or for IPv6 the XOR of the four
// 32-bit words (ntohl distributes over XOR).
func addrFold(a netip.Addr) uint32 {
	if a.Is4() {
		b := a.As4()
		return binary.BigEndian.Uint32(b[:])
	}
	b := a.As16()
	return binary.BigEndian.Uint32(b[0:4]) ^ binary.BigEndian.Uint32(b[4:8]) ^
		binary.BigEndian.Uint32(b[8:12]) ^ binary.BigEndian.Uint32(b[12:16])
}

// gcd is the kernel's gcd() on positive ints.
func gcd(a, b int32) int32 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
