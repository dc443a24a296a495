package scheduler

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"
)

// mhPrime returns the table size for CONFIG_IP_VS_MH_TAB_INDEX idx (8..17):
// primes[idx - 8] of ip_vs_mh.c.
func mhPrime(idx int) uint32 {
	primes := [...]uint32{251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071}
	return primes[idx-8]
}

// mhTabIndexDefault is CONFIG_IP_VS_MH_TAB_INDEX's default: M = 4093.
const mhTabIndexDefault = 12

// The fixed hash key words of generate_hash_secret in ip_vs_mh.c (so that
// every director builds the same table): hash1 = {k1, k1}, hash2 = {k2, k2}.
const (
	mhKey1Word = 2654435761
	mhKey2Word = 2654446892
)

// mh is ip_vs_mh.c, Maglev hashing, with mh-fallback and mh-port.
//
// The kernel builds the table from each real server's last_weight, the last
// non-zero weight it was given (set on add whatever its value, and on edit
// only when the new weight is not 0). Dest has no such field, so mh tracks
// it by DestID across Updates: an ID absent from the previous list is an
// add. Quiescing a real server (weight 0) therefore leaves the table as it
// is; Pick skips it because its current weight is 0.
type mh struct {
	load    Load
	flags   Flags
	family  Family
	key1    hsipKey
	key2    hsipKey
	m       uint32 // table size, a prime
	tabBits int    // IP_VS_MH_TAB_BITS = CONFIG_IP_VS_MH_TAB_INDEX / 2
	mu      sync.Mutex
	lastW   map[DestID]int32 // guarded by mu
	tab     atomic.Pointer[mhTable]
}

type mhTable struct {
	e     []entry
	slots []*entry // M slots; all nil when no real server has last_weight > 0
}

func newMH(load Load, flags Flags, idx int, family Family) *mh {
	s := &mh{
		load: load, flags: flags, family: family, m: mhPrime(idx), tabBits: idx / 2, lastW: map[DestID]int32{},
		key1: hsipKey{mhKey1Word, mhKey1Word}, key2: hsipKey{mhKey2Word, mhKey2Word},
	}
	s.tab.Store(&mhTable{slots: make([]*entry, s.m)})
	return s
}

// Name implements Scheduler.
func (s *mh) Name() string { return "mh" }

// mhHashkey is ip_vs_mh_hashkey: hsiphash(offset + port + addr).
func mhHashkey(a, port uint32, k *hsipKey, offset uint32) uint32 {
	return hsiphash32(offset+port+a, k)
}

// Update implements Scheduler: ip_vs_mh_dest_changed. With more real
// servers than slots it returns ErrTooManyDests and keeps the old table (the
// kernel ignores that error on a later add); last_weight is updated anyway.
func (s *mh) Update(dests []Dest) error {
	es, _, err := buildEntries(dests, s.load)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	lw := make(map[DestID]int32, len(es))
	for i := range es {
		w := es[i].Weight
		if old, ok := s.lastW[es[i].ID]; ok && w == 0 {
			w = old
		}
		lw[es[i].ID] = w
	}
	s.lastW = lw
	if len(es) > int(s.m) {
		return fmt.Errorf("mh: %d real servers, %d slots: %w", len(es), s.m, ErrTooManyDests)
	}
	lws := make([]int32, len(es))
	for i := range es {
		lws[i] = lw[es[i].ID]
	}
	s.tab.Store(&mhTable{e: es, slots: mhPopulate(es, lws, s.m, s.tabBits, s.family, &s.key1, &s.key2)})
	return nil
}

// mhPopulate is ip_vs_mh_gcd_weight, ip_vs_mh_shift_weight,
// ip_vs_mh_permutate and ip_vs_mh_populate.
func mhPopulate(es []entry, lws []int32, m uint32, tabBits int, family Family, key1, key2 *hsipKey) []*entry {
	slots := make([]*entry, m)
	var g, maxw int32
	for _, w := range lws {
		if w > 0 {
			if g > 0 {
				g = gcd(w, g)
			} else {
				g = w
			}
		}
		if w > maxw {
			maxw = w
		}
	}
	if g < 1 {
		return slots
	}
	rshift := bits.Len32(uint32(maxw/g)) - tabBits // fls(mw) - IP_VS_MH_TAB_BITS
	if rshift < 0 {
		rshift = 0
	}
	type setup struct {
		perm, skip uint32
		turns      int32
	}
	ds := make([]setup, len(es))
	for i := range es {
		a := addrFold(es[i].Addr)
		if family == FamilyIPv4 && !es[i].Addr.Is4() {
			// ip_vs_mh_hashkey(svc->af, ...) reads addr->ip, the first
			// 32 bits, of an IPv6 real server in an IPv4 service.
			b := es[i].Addr.As16()
			a = binary.BigEndian.Uint32(b[:4])
		}
		port := uint32(es[i].Port)
		off := mhHashkey(a, port, key1, 0) % m
		ds[i].skip = mhHashkey(a, port, key2, 0)%(m-1) + 1
		ds[i].perm = off
		t := (lws[i] / g) >> rshift
		if t == 0 && lws[i] != 0 {
			t = 1
		}
		ds[i].turns = t
	}
	taken := make([]bool, m)
	n := uint32(0)
	for n < m {
		for i := 0; i < len(es); {
			if ds[i].turns < 1 {
				i++
				continue
			}
			for turn := int32(0); turn < ds[i].turns; turn++ {
				c := ds[i].perm
				for taken[c] {
					ds[i].perm += ds[i].skip
					if ds[i].perm >= m {
						ds[i].perm -= m
					}
					c = ds[i].perm
				}
				taken[c] = true
				slots[c] = &es[i]
				n++
				if n == m {
					return slots
				}
			}
			i++
		}
	}
	return slots
}

// Pick implements Scheduler.
func (s *mh) Pick(in *Input) (Dest, bool) {
	t := s.tab.Load()
	a := addrFold(in.Src)
	var port uint32
	if s.flags&FlagPort != 0 {
		port = uint32(in.SrcPort)
	}
	ih := mhHashkey(a, port, &s.key1, 0) % s.m
	d := t.slots[ih]
	if d == nil {
		return Dest{}, false
	}
	if d.usable() {
		return d.Dest, true
	}
	if s.flags&FlagFallback == 0 {
		return Dest{}, false
	}
	// ip_vs_mh_get_fallback: a fresh hash per probe.
	for off := uint32(0); off < s.m; off++ {
		roff := (off + ih) % s.m
		d = t.slots[mhHashkey(a, port, &s.key1, roff)%s.m]
		if d == nil {
			break
		}
		if d.usable() {
			return d.Dest, true
		}
	}
	return Dest{}, false
}
