package scheduler

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
)

// fakeLoad is a Load whose counters tests set directly.
type fakeLoad struct {
	m map[DestID]*Counters
}

func newFakeLoad() *fakeLoad { return &fakeLoad{m: map[DestID]*Counters{}} }

// Counters implements Load.
func (f *fakeLoad) Counters(id DestID) *Counters {
	c, ok := f.m[id]
	if !ok {
		c = new(Counters)
		f.m[id] = c
	}
	return c
}

// set gives id the counts active, inactive and the OVERLOAD flag.
func (f *fakeLoad) set(id DestID, active, inactive int32, overload bool) {
	c := f.Counters(id)
	c.Active.Store(active)
	c.Inactive.Store(inactive)
	c.Overload.Store(overload)
}

var _ Load = (*fakeLoad)(nil)

// dest returns real server id at 10.0.0.id:80 with weight w.
func dest(id DestID, w int32) Dest {
	return Dest{ID: id, Addr: netip.AddrFrom4([4]byte{10, 0, byte(id >> 8), byte(id)}), Port: 80, Weight: w}
}

// mustNew builds scheduler name or fails the test.
func mustNew(t testing.TB, name string, flags Flags, load Load, opts Options) Scheduler {
	t.Helper()
	s, err := New(name, flags, load, opts)
	if err != nil {
		t.Fatalf("New(%q) = %v", name, err)
	}
	return s
}

// svc is a List plus its scheduler, updated after every operation as the
// director does.
type svc struct {
	t testing.TB
	l List
	s Scheduler
}

func newSvc(t testing.TB, name string, flags Flags, load Load, opts Options) *svc {
	return &svc{t: t, s: mustNew(t, name, flags, load, opts)}
}

func (v *svc) add(ds ...Dest) *svc {
	v.t.Helper()
	for _, d := range ds {
		if err := v.l.Add(d); err != nil {
			v.t.Fatalf("List.Add(%v) = %v", d, err)
		}
		if err := v.s.Update(v.l.Dests()); err != nil {
			v.t.Fatalf("%s.Update after Add(%v) = %v", v.s.Name(), d, err)
		}
	}
	return v
}

func (v *svc) edit(d Dest) {
	v.t.Helper()
	if err := v.l.Edit(d); err != nil {
		v.t.Fatalf("List.Edit(%v) = %v", d, err)
	}
	if err := v.s.Update(v.l.Dests()); err != nil {
		v.t.Fatalf("%s.Update after Edit(%v) = %v", v.s.Name(), d, err)
	}
}

func (v *svc) remove(id DestID) {
	v.t.Helper()
	if err := v.l.Remove(id); err != nil {
		v.t.Fatalf("List.Remove(%d) = %v", id, err)
	}
	if err := v.s.Update(v.l.Dests()); err != nil {
		v.t.Fatalf("%s.Update after Remove(%d) = %v", v.s.Name(), id, err)
	}
}

// pickID returns the picked DestID, or 0 for none.
func pickID(s Scheduler, in *Input) DestID {
	d, ok := s.Pick(in)
	if !ok {
		return 0
	}
	if d.ID == 0 {
		panic(fmt.Sprintf("%s.Pick returned ok with zero ID", s.Name()))
	}
	return d.ID
}

// picks returns n successive picks.
func picks(s Scheduler, in *Input, n int) []DestID {
	out := make([]DestID, n)
	for i := range out {
		out[i] = pickID(s, in)
	}
	return out
}

// randomLoad gives every listed id random counts and OVERLOAD with
// probability pOver.
func randomLoad(r *rand.Rand, f *fakeLoad, ids []DestID, pOver float64) {
	for _, id := range ids {
		f.set(id, int32(r.IntN(40)), int32(r.IntN(300)), r.Float64() < pOver)
	}
}

func ids(ds []Dest) []DestID {
	out := make([]DestID, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}
