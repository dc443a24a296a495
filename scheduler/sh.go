package scheduler

import "sync/atomic"

// shTabBitsDefault is CONFIG_IP_VS_SH_TAB_BITS's default: 256 buckets.
const shTabBitsDefault = 8

// sh is ip_vs_sh.c, source hashing, with sh-fallback and sh-port.
type sh struct {
	load  Load
	flags Flags
	bits  uint
	tab   atomic.Pointer[shTable]
}

type shTable struct {
	e       []entry
	buckets []*entry // 1 << bits
}

func newSH(load Load, flags Flags, bits uint) *sh {
	s := &sh{load: load, flags: flags, bits: bits}
	s.tab.Store(&shTable{buckets: make([]*entry, 1<<bits)})
	return s
}

// Name implements Scheduler.
func (s *sh) Name() string { return "sh" }

// Update implements Scheduler: ip_vs_sh_reassign, on add, delete and edit.
// Walking the list cyclically, each real server fills weight consecutive
// buckets; a weight-0 one still gets one (the counter is incremented before
// the >= weight test).
func (s *sh) Update(dests []Dest) error {
	es, _, err := buildEntries(dests, s.load)
	if err != nil {
		return err
	}
	t := &shTable{e: es, buckets: make([]*entry, 1<<s.bits)}
	if len(es) > 0 {
		p, count := 0, int32(0)
		for i := range t.buckets {
			t.buckets[i] = &es[p]
			count++
			if count >= es[p].Weight {
				p = (p + 1) % len(es)
				count = 0
			}
		}
	}
	s.tab.Store(t)
	return nil
}

// Pick implements Scheduler.
func (s *sh) Pick(in *Input) (Dest, bool) {
	t := s.tab.Load()
	var port uint32
	if s.flags&FlagPort != 0 {
		port = uint32(in.SrcPort)
	}
	mask := uint32(len(t.buckets) - 1)
	// ip_vs_sh_hashkey(offset) = (offset + hash_32(port + addr, bits)) & mask
	h := hash32(port+addrFold(in.Src), s.bits)
	ih := h & mask
	d := t.buckets[ih]
	if d == nil {
		return Dest{}, false
	}
	if d.usable() {
		return d.Dest, true
	}
	if s.flags&FlagFallback == 0 {
		return Dest{}, false
	}
	// ip_vs_sh_get_fallback: roffset = (offset + ihash) % size, probe
	// hashkey(roffset), i.e. bucket (2*ihash + offset) & mask.
	for off := uint32(0); off <= mask; off++ {
		roff := (off + ih) & mask
		d = t.buckets[(roff+h)&mask]
		if d == nil {
			break
		}
		if d.usable() {
			return d.Dest, true
		}
	}
	return Dest{}, false
}
