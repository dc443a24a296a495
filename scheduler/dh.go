package scheduler

import "sync/atomic"

// dhTabBits is IP_VS_DH_TAB_BITS: 256 buckets, fixed.
const dhTabBits = 8

// dh is ip_vs_dh.c, destination hashing.
type dh struct {
	load Load
	tab  atomic.Pointer[dhTable]
}

type dhTable struct {
	e       []entry
	buckets [1 << dhTabBits]*entry
}

func newDH(load Load) *dh {
	s := &dh{load: load}
	s.tab.Store(&dhTable{})
	return s
}

// Name implements Scheduler.
func (s *dh) Name() string { return "dh" }

// Update implements Scheduler: ip_vs_dh_reassign. Bucket i gets the i-th
// element of an endless walk over the list; weights are ignored (the kernel
// does not reassign on a weight edit, and reassigning gives the same table).
func (s *dh) Update(dests []Dest) error {
	es, _, err := buildEntries(dests, s.load)
	if err != nil {
		return err
	}
	t := &dhTable{e: es}
	if len(es) > 0 {
		for i := range t.buckets {
			t.buckets[i] = &es[i%len(es)]
		}
	}
	s.tab.Store(t)
	return nil
}

// Pick implements Scheduler: bucket hash_32(daddr, 8); no fallback.
func (s *dh) Pick(in *Input) (Dest, bool) {
	t := s.tab.Load()
	d := t.buckets[hash32(addrFold(in.Dst), dhTabBits)]
	if d == nil || !d.usable() {
		return Dest{}, false
	}
	return d.Dest, true
}
