package scheduler

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// sealed marks a retired cursor: Update has taken the cursor's final value
// over into a new table, and a Pick that sees it reloads the table.
const sealed = 1 << 63

// sealCursor retires c and returns its last value. Every Pick CAS either
// happened before (and is reflected in the value) or fails and retries on the
// new table, so rr/wrr stay linearizable without a lock on the Pick path.
func sealCursor(c *atomic.Uint64) uint64 {
	for {
		v := c.Load()
		if c.CompareAndSwap(v, v|sealed) {
			return v
		}
	}
}

// rr is ip_vs_rr.c. Its only state is the pointer p to the last picked real
// server (or the list head), kept as a lock-free cursor in the snapshot.
type rr struct {
	load Load
	mu   sync.Mutex // serialises Update
	tab  atomic.Pointer[rrTable]
}

type rrTable struct {
	e   []entry
	cur atomic.Uint64 // p: 0 is the list head, k is e[k-1]; plus sealed
}

func newRR(load Load) *rr {
	s := &rr{load: load}
	s.tab.Store(&rrTable{})
	return s
}

// Name implements Scheduler.
func (s *rr) Name() string { return "rr" }

// rrNext is ip_vs_rr_schedule's walk: from the element after p to the end,
// then (unless p is the head) from the first element up to and including p.
// It returns the index of the first usable entry or -1.
func rrNext(e []entry, p int) int {
	for i := p; i < len(e); i++ {
		if e[i].usable() {
			return i
		}
	}
	for i := 0; i < p; i++ {
		if e[i].usable() {
			return i
		}
	}
	return -1
}

// Pick implements Scheduler.
func (s *rr) Pick(*Input) (Dest, bool) {
	for {
		t := s.tab.Load()
		v := t.cur.Load()
		if v&sealed != 0 {
			runtime.Gosched()
			continue
		}
		i := rrNext(t.e, int(v))
		if i < 0 {
			return Dest{}, false
		}
		if v == uint64(i+1) || t.cur.CompareAndSwap(v, uint64(i+1)) {
			return t.e[i].Dest, true
		}
	}
}

// Update implements Scheduler. p keeps pointing at the same real server; if
// that one was removed, p moves to its nearest surviving predecessor in the
// old list (ip_vs_rr_del_dest moves p to the previous element, once per
// deletion), or to the head.
func (s *rr) Update(dests []Dest) error {
	es, idx, err := buildEntries(dests, s.load)
	if err != nil {
		return err
	}
	nt := &rrTable{e: es}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.tab.Load()
	p := int(sealCursor(&old.cur))
	np := 0
	for j := p - 1; j >= 0; j-- {
		if k, ok := idx[old.e[j].ID]; ok {
			np = k + 1
			break
		}
	}
	nt.cur.Store(uint64(np))
	s.tab.Store(nt)
	return nil
}
