package scheduler

import (
	"sync/atomic"
)

// kind selects one of the stateless list-scanning schedulers.
type kind uint8

const (
	_ kind = iota
	kindLC
	kindWLC
	kindSED
	kindNQ
	kindFO
	kindOVF
)

// least implements lc, wlc, sed, nq, fo and ovf: stateless scans of the
// immutable snapshot in list order, reading live counters.
type least struct {
	name string
	kind kind
	load Load
	tab  atomic.Pointer[[]entry]
}

func newLeast(name string, load Load) *least {
	k := map[string]kind{"lc": kindLC, "wlc": kindWLC, "sed": kindSED, "nq": kindNQ, "fo": kindFO, "ovf": kindOVF}[name]
	s := &least{name: name, kind: k, load: load}
	s.tab.Store(new([]entry))
	return s
}

// Name implements Scheduler.
func (s *least) Name() string { return s.name }

// Update implements Scheduler; these schedulers have no dest hooks.
func (s *least) Update(dests []Dest) error {
	es, _, err := buildEntries(dests, s.load)
	if err != nil {
		return err
	}
	s.tab.Store(&es)
	return nil
}

// Pick implements Scheduler.
func (s *least) Pick(*Input) (Dest, bool) {
	e := *s.tab.Load()
	var i int
	switch s.kind {
	case kindLC:
		i = pickLC(e)
	case kindWLC:
		i = pickWLC(e)
	case kindSED:
		i = pickSED(e)
	case kindNQ:
		i = pickNQ(e)
	case kindFO:
		i = pickFO(e)
	case kindOVF:
		i = pickOVF(e)
	default:
		i = -1
	}
	if i < 0 {
		return Dest{}, false
	}
	return e[i].Dest, true
}

// pickLC is ip_vs_lc_schedule: the first real server with the least
// overhead, compared unsigned; weight only matters as "0 = skip".
func pickLC(e []entry) int {
	least := -1
	var loh uint32
	for i := range e {
		d := &e[i]
		if d.Weight == 0 || d.c.Overload.Load() {
			continue
		}
		doh := uint32(d.c.Overhead())
		if least < 0 || doh < loh {
			least, loh = i, doh
		}
	}
	return least
}

// firstUsable returns the index of the first non-overloaded entry with
// weight > 0, the first stage of wlc, sed and lblc.
func firstUsable(e []entry) int {
	for i := range e {
		if !e[i].c.Overload.Load() && e[i].Weight > 0 {
			return i
		}
	}
	return -1
}

// pickWLC is ip_vs_wlc_schedule: overhead/weight compared as
// loh*dw > doh*lw in int64. Later weight-0 entries are not skipped but can
// never win (the left side is 0).
func pickWLC(e []entry) int {
	least := firstUsable(e)
	if least < 0 {
		return -1
	}
	loh := int64(e[least].c.Overhead())
	for i := least + 1; i < len(e); i++ {
		d := &e[i]
		// A weight-0 entry cannot win (loh*0 > doh*lw is false); skipping
		// it before touching its counters changes nothing.
		if d.Weight == 0 || d.c.Overload.Load() {
			continue
		}
		doh := int64(d.c.Overhead())
		if loh*int64(d.Weight) > doh*int64(e[least].Weight) {
			least, loh = i, doh
		}
	}
	return least
}

// sedOverhead is ip_vs_sed_dest_overhead: activeconns + 1.
func sedOverhead(c *Counters) int64 { return int64(c.Active.Load()) + 1 }

// pickSED is ip_vs_sed_schedule: wlc with overhead activeconns + 1.
func pickSED(e []entry) int {
	least := firstUsable(e)
	if least < 0 {
		return -1
	}
	loh := sedOverhead(e[least].c)
	for i := least + 1; i < len(e); i++ {
		d := &e[i]
		if d.Weight == 0 || d.c.Overload.Load() { // weight 0 cannot win, as in wlc
			continue
		}
		doh := sedOverhead(d.c)
		if loh*int64(d.Weight) > doh*int64(e[least].Weight) {
			least, loh = i, doh
		}
	}
	return least
}

// pickNQ is ip_vs_nq_schedule: the first idle (activeconns == 0) usable real
// server wins at once; otherwise sed's comparison.
func pickNQ(e []entry) int {
	least := -1
	var loh int64
	for i := range e {
		d := &e[i]
		if d.c.Overload.Load() || d.Weight == 0 {
			continue
		}
		if d.c.Active.Load() == 0 {
			return i
		}
		doh := sedOverhead(d.c)
		if least < 0 || loh*int64(d.Weight) > doh*int64(e[least].Weight) {
			least, loh = i, doh
		}
	}
	return least
}

// pickFO is ip_vs_fo_schedule: the non-overloaded real server with the
// strictly highest weight; the first wins ties; weight 0 never wins.
func pickFO(e []entry) int {
	h := -1
	var hw int32
	for i := range e {
		d := &e[i]
		if d.Weight > hw && !d.c.Overload.Load() {
			h, hw = i, d.Weight
		}
	}
	return h
}

// pickOVF is ip_vs_ovf_schedule: the highest-weight real server that still
// has activeconns <= weight.
func pickOVF(e []entry) int {
	h := -1
	for i := range e {
		d := &e[i]
		w := d.Weight
		if w == 0 || d.c.Overload.Load() || d.c.Active.Load() > w {
			continue
		}
		if h < 0 || w > e[h].Weight {
			h = i
		}
	}
	return h
}
