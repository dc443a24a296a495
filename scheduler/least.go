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
	tab  atomic.Pointer[scanTable]
}

// scanTable is a snapshot laid out for scanning: weights and counter
// pointers in parallel arrays (list order), so a scan of 1000 real servers
// reads 12 KB of table besides the counters themselves.
type scanTable struct {
	e []entry
	w []int32
	c []*Counters
}

func newScanTable(es []entry) *scanTable {
	t := &scanTable{e: es, w: make([]int32, len(es)), c: make([]*Counters, len(es))}
	for i := range es {
		t.w[i], t.c[i] = es[i].Weight, es[i].c
	}
	return t
}

func newLeast(name string, load Load) *least {
	k := map[string]kind{"lc": kindLC, "wlc": kindWLC, "sed": kindSED, "nq": kindNQ, "fo": kindFO, "ovf": kindOVF}[name]
	s := &least{name: name, kind: k, load: load}
	s.tab.Store(newScanTable(nil))
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
	s.tab.Store(newScanTable(es))
	return nil
}

// Pick implements Scheduler.
func (s *least) Pick(*Input) (Dest, bool) {
	t := s.tab.Load()
	var i int
	switch s.kind {
	case kindLC:
		i = pickLC(t.w, t.c)
	case kindWLC:
		i = pickWLC(t.w, t.c)
	case kindSED:
		i = pickSED(t.w, t.c)
	case kindNQ:
		i = pickNQ(t.w, t.c)
	case kindFO:
		i = pickFO(t.w, t.c)
	case kindOVF:
		i = pickOVF(t.w, t.c)
	default:
		i = -1
	}
	if i < 0 {
		return Dest{}, false
	}
	return t.e[i].Dest, true
}

// pickLC is ip_vs_lc_schedule: the first real server with the least
// overhead, compared unsigned; weight only matters as "0 = skip".
func pickLC(w []int32, c []*Counters) int {
	least := -1
	var loh uint32
	for i, ci := range c {
		if w[i] == 0 || ci.Overload.Load() {
			continue
		}
		doh := uint32(ci.Overhead())
		if least < 0 || doh < loh {
			least, loh = i, doh
		}
	}
	return least
}

// firstUsable returns the index of the first non-overloaded real server
// with weight > 0, the first stage of wlc and sed.
func firstUsable(w []int32, c []*Counters) int {
	for i, ci := range c {
		if w[i] > 0 && !ci.Overload.Load() {
			return i
		}
	}
	return -1
}

// pickWLC is ip_vs_wlc_schedule: overhead/weight compared as
// loh*dw > doh*lw in int64. The kernel does not skip later weight-0 real
// servers, but they can never win (loh*0 > doh*lw is false), so they are
// skipped before their counters are read.
func pickWLC(w []int32, c []*Counters) int {
	least := firstUsable(w, c)
	if least < 0 {
		return -1
	}
	loh, lw := int64(c[least].Overhead()), int64(w[least])
	for i := least + 1; i < len(c); i++ {
		if w[i] == 0 || c[i].Overload.Load() {
			continue
		}
		doh := int64(c[i].Overhead())
		if loh*int64(w[i]) > doh*lw {
			least, loh, lw = i, doh, int64(w[i])
		}
	}
	return least
}

// sedOverhead is ip_vs_sed_dest_overhead: activeconns + 1.
func sedOverhead(c *Counters) int64 { return int64(c.Active.Load()) + 1 }

// pickSED is ip_vs_sed_schedule: wlc with overhead activeconns + 1.
func pickSED(w []int32, c []*Counters) int {
	least := firstUsable(w, c)
	if least < 0 {
		return -1
	}
	loh, lw := sedOverhead(c[least]), int64(w[least])
	for i := least + 1; i < len(c); i++ {
		if w[i] == 0 || c[i].Overload.Load() { // weight 0 cannot win, as in wlc
			continue
		}
		doh := sedOverhead(c[i])
		if loh*int64(w[i]) > doh*lw {
			least, loh, lw = i, doh, int64(w[i])
		}
	}
	return least
}

// pickNQ is ip_vs_nq_schedule: the first idle (activeconns == 0) usable real
// server wins at once; otherwise sed's comparison.
func pickNQ(w []int32, c []*Counters) int {
	least := -1
	var loh, lw int64
	for i, ci := range c {
		if w[i] == 0 || ci.Overload.Load() {
			continue
		}
		if ci.Active.Load() == 0 {
			return i
		}
		doh := sedOverhead(ci)
		if least < 0 || loh*int64(w[i]) > doh*lw {
			least, loh, lw = i, doh, int64(w[i])
		}
	}
	return least
}

// pickFO is ip_vs_fo_schedule: the non-overloaded real server with the
// strictly highest weight; the first wins ties; weight 0 never wins.
func pickFO(w []int32, c []*Counters) int {
	h := -1
	var hw int32
	for i, ci := range c {
		if w[i] > hw && !ci.Overload.Load() {
			h, hw = i, w[i]
		}
	}
	return h
}

// pickOVF is ip_vs_ovf_schedule: the highest-weight real server that still
// has activeconns <= weight.
func pickOVF(w []int32, c []*Counters) int {
	h := -1
	var hw int32
	for i, ci := range c {
		wi := w[i]
		if wi == 0 || ci.Overload.Load() || ci.Active.Load() > wi {
			continue
		}
		if h < 0 || wi > hw {
			h, hw = i, wi
		}
	}
	return h
}
