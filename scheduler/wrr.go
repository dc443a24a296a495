package scheduler

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// wrr is ip_vs_wrr.c. Its state (cl, cw) lives in one lock-free cursor in the
// snapshot: cl in the low 32 bits (0 is the list head, k is e[k-1]) and cw in
// bits 32..62; di and mw are fixed per snapshot.
type wrr struct {
	load Load
	mu   sync.Mutex // serialises Update
	tab  atomic.Pointer[wrrTable]
}

type wrrTable struct {
	e   []entry
	di  int32 // gcd of the weights > 0, or 1
	mw  int32 // max weight - (di - 1)
	cur atomic.Uint64
}

func wrrPack(cl int, cw int32) uint64 { return uint64(uint32(cw))<<32 | uint64(uint32(cl)) }

func wrrUnpack(v uint64) (cl int, cw int32) {
	return int(uint32(v)), int32(uint32(v>>32) &^ (1 << 31))
}

func newWRR(load Load) *wrr {
	s := &wrr{load: load}
	// ip_vs_wrr_init_svc on an empty service: cl = head, di = 1, mw = 0,
	// cw = mw = 0.
	s.tab.Store(&wrrTable{di: 1})
	return s
}

// Name implements Scheduler.
func (s *wrr) Name() string { return "wrr" }

// wrrStep is ip_vs_wrr_schedule on a state (cl, cw). It returns the picked
// index (or -1) and the new state, which changes on failure too.
func wrrStep(e []entry, di, mw int32, cl int, cw int32) (pick, ncl int, ncw int32) {
	if mw == 0 {
		return -1, cl, cw
	}
	last, stop := cl, -1
	lastPass, restarted := false, false
	pos := cl
	for {
		for i := pos; i < len(e); i++ {
			if e[i].Weight >= cw && !e[i].c.Overload.Load() {
				return i, i + 1, cw
			}
			if i+1 == stop {
				return -1, stop, cw
			}
		}
		pos = 0
		cw -= di
		if cw <= 0 {
			cw = mw
			if lastPass || last == 0 {
				return -1, 0, cw
			}
			restarted = true
		}
		lastPass = cw <= di
		if lastPass && restarted && last != 0 {
			stop = last
		}
	}
}

// Pick implements Scheduler.
func (s *wrr) Pick(*Input) (Dest, bool) {
	for {
		t := s.tab.Load()
		v := t.cur.Load()
		if v&sealed != 0 {
			runtime.Gosched()
			continue
		}
		cl, cw := wrrUnpack(v)
		i, ncl, ncw := wrrStep(t.e, t.di, t.mw, cl, cw)
		nv := wrrPack(ncl, ncw)
		if nv != v && !t.cur.CompareAndSwap(v, nv) {
			continue
		}
		if i < 0 {
			return Dest{}, false
		}
		return t.e[i].Dest, true
	}
}

// Update implements Scheduler: ip_vs_wrr_dest_changed. cl returns to the
// head; di and mw are recomputed; cw becomes mw if it exceeds it or is 0,
// else, when di > 1, (cw / di) * di + 1.
func (s *wrr) Update(dests []Dest) error {
	es, _, err := buildEntries(dests, s.load)
	if err != nil {
		return err
	}
	var g, maxw int32
	for i := range es {
		w := es[i].Weight
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
	if g == 0 {
		g = 1
	}
	nt := &wrrTable{e: es, di: g, mw: maxw - (g - 1)}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.tab.Load()
	_, cw := wrrUnpack(sealCursor(&old.cur))
	if cw > nt.mw || cw == 0 {
		cw = nt.mw
	} else if nt.di > 1 {
		cw = (cw/nt.di)*nt.di + 1
	}
	nt.cur.Store(wrrPack(0, cw))
	s.tab.Store(nt)
	return nil
}
