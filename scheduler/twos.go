package scheduler

import (
	"math/rand/v2"
	"sync/atomic"
)

// twos is ip_vs_twos.c, power of two choices. Its arithmetic is the
// kernel's plain 32-bit int, which wraps (the kernel builds with
// -fno-strict-overflow).
type twos struct {
	load Load
	rnd  func(n uint32) uint32
	tab  atomic.Pointer[[]entry]
}

func newTwos(load Load, rnd func(uint32) uint32) *twos {
	if rnd == nil {
		rnd = rand.Uint32N
	}
	s := &twos{load: load, rnd: rnd}
	s.tab.Store(new([]entry))
	return s
}

// Name implements Scheduler.
func (s *twos) Name() string { return "twos" }

// Update implements Scheduler.
func (s *twos) Update(dests []Dest) error {
	es, _, err := buildEntries(dests, s.load)
	if err != nil {
		return err
	}
	s.tab.Store(&es)
	return nil
}

// Pick implements Scheduler. Both random weights are drawn from
// [0, total] inclusive (get_random_u32_below(total + 1)), so the first
// eligible real server has probability (w+1)/(total+1).
func (s *twos) Pick(*Input) (Dest, bool) {
	e := *s.tab.Load()
	var total int32
	c1 := -1 // the kernel seeds choice1 with the last eligible dest
	for i := range e {
		if e[i].usable() {
			total += e[i].Weight
			c1 = i
		}
	}
	if c1 < 0 {
		return Dest{}, false
	}
	total++
	r1 := int32(s.rnd(uint32(total)))
	r2 := int32(s.rnd(uint32(total)))
	c2 := -1
	var w1, w2 int32 = -1, -1
	var oh1, oh2 int32
	for i := range e {
		d := &e[i]
		if d.c.Overload.Load() || d.Weight <= 0 {
			continue
		}
		r1 -= d.Weight
		r2 -= d.Weight
		if r1 <= 0 && w1 == -1 {
			c1, w1, oh1 = i, d.Weight, d.c.Overhead()
		}
		if r2 <= 0 && w2 == -1 {
			c2, w2, oh2 = i, d.Weight, d.c.Overhead()
		}
		if w1 != -1 && w2 != -1 {
			break
		}
	}
	if c2 >= 0 && w2*oh1 > w1*oh2 {
		c1 = c2
	}
	return e[c1].Dest, true
}
