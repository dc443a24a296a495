package scheduler

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestRRSequences(t *testing.T) {
	in := &Input{}
	t.Run("add order", func(t *testing.T) {
		// Add 1, 2, 3: list 3, 2, 1; p = head, so the walk starts at the
		// first element: 3, 2, 1, then wraps.
		v := newSvc(t, "rr", 0, newFakeLoad(), Options{}).add(dest(1, 1), dest(2, 1), dest(3, 1))
		if got, want := picks(v.s, in, 6), []DestID{3, 2, 1, 3, 2, 1}; !slices.Equal(got, want) {
			t.Fatalf("Pick x6 = %v, want %v", got, want)
		}
	})
	t.Run("add does not move p", func(t *testing.T) {
		// List 3, 2, 1; pick 3, 2 (p = 2). Add 4 at the head: list 4, 3, 2,
		// 1. The walk after 2 reaches 1, wraps to 4, 3, 2.
		v := newSvc(t, "rr", 0, newFakeLoad(), Options{}).add(dest(1, 1), dest(2, 1), dest(3, 1))
		picks(v.s, in, 2)
		v.add(dest(4, 1))
		if got, want := picks(v.s, in, 5), []DestID{1, 4, 3, 2, 1}; !slices.Equal(got, want) {
			t.Fatalf("Pick x5 = %v, want %v", got, want)
		}
	})
	t.Run("delete p", func(t *testing.T) {
		// List 3, 2, 1; pick 3, 2 (p = 2). Delete 2: p moves to its
		// predecessor 3 (ip_vs_rr_del_dest), so the next pick is 1.
		v := newSvc(t, "rr", 0, newFakeLoad(), Options{}).add(dest(1, 1), dest(2, 1), dest(3, 1))
		picks(v.s, in, 2)
		v.remove(2)
		if got, want := picks(v.s, in, 3), []DestID{1, 3, 1}; !slices.Equal(got, want) {
			t.Fatalf("Pick x3 = %v, want %v", got, want)
		}
	})
	t.Run("delete head element at p", func(t *testing.T) {
		// List 3, 2, 1; pick 3 (p = 3, the first). Delete 3: p becomes the
		// head, so the walk starts at 2.
		v := newSvc(t, "rr", 0, newFakeLoad(), Options{}).add(dest(1, 1), dest(2, 1), dest(3, 1))
		picks(v.s, in, 1)
		v.remove(3)
		if got, want := picks(v.s, in, 3), []DestID{2, 1, 2}; !slices.Equal(got, want) {
			t.Fatalf("Pick x3 = %v, want %v", got, want)
		}
	})
	t.Run("quiescent and overloaded skipped", func(t *testing.T) {
		// List 3, 2, 1 with 2 at weight 0 and 1 OVERLOADed: only 3.
		f := newFakeLoad()
		v := newSvc(t, "rr", 0, f, Options{}).add(dest(1, 1), dest(2, 0), dest(3, 1))
		f.set(1, 0, 0, true)
		if got, want := picks(v.s, in, 3), []DestID{3, 3, 3}; !slices.Equal(got, want) {
			t.Fatalf("Pick x3 = %v, want %v", got, want)
		}
		// p = 3; now 3 overloads too: the walk 2, 1 then wraps to 3 itself
		// finds nothing.
		f.set(3, 0, 0, true)
		if got := pickID(v.s, in); got != 0 {
			t.Fatalf("Pick with all unavailable = %d, want none", got)
		}
		// 1 recovers: the walk after p = 3 finds 2 (weight 0), 1.
		f.set(1, 0, 0, false)
		if got, want := picks(v.s, in, 2), []DestID{1, 1}; !slices.Equal(got, want) {
			t.Fatalf("Pick x2 = %v, want %v", got, want)
		}
	})
}

// rrModel is ip_vs_rr.c transcribed over a list of IDs with an explicit
// head: p is an ID or 0 for the head; every operation is applied one at a
// time as the kernel sees it.
type rrModel struct {
	list []DestID
	w    map[DestID]int32
	p    DestID
}

func (m *rrModel) pos(id DestID) int { return slices.Index(m.list, id) }

func (m *rrModel) add(d Dest) {
	m.list = append([]DestID{d.ID}, m.list...)
	m.w[d.ID] = d.Weight
}

func (m *rrModel) edit(d Dest) { m.w[d.ID] = d.Weight }

func (m *rrModel) del(id DestID) {
	i := m.pos(id)
	if m.p == id {
		if i == 0 {
			m.p = 0
		} else {
			m.p = m.list[i-1]
		}
	}
	m.list = slices.Delete(m.list, i, i+1)
}

func (m *rrModel) schedule(f *fakeLoad) DestID {
	// Walk: the element after p .. end, then (if p is not the head) the
	// first element .. p.
	var order []DestID
	if m.p == 0 {
		order = m.list
	} else {
		i := m.pos(m.p)
		order = append(append([]DestID{}, m.list[i+1:]...), m.list[:i+1]...)
	}
	for _, id := range order {
		if m.w[id] > 0 && !f.Counters(id).Overload.Load() {
			m.p = id
			return id
		}
	}
	return 0
}

// randomOps drives fast and model through the same random add, edit and
// remove operations and random load, comparing picks after each.
func randomOps(t *testing.T, seed uint64, iters int, fast *svc, f *fakeLoad,
	add func(Dest), edit func(Dest), del func(DestID), pick func() DestID, pickIn func() *Input) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 0))
	next := DestID(1)
	for it := 0; it < iters; it++ {
		switch op := r.IntN(10); {
		case op < 3 || fast.l.Len() == 0:
			d := dest(next, int32(r.IntN(6)))
			next++
			fast.add(d)
			add(d)
		case op < 5:
			ds := fast.l.Dests()
			d := ds[r.IntN(len(ds))]
			d.Weight = int32(r.IntN(6))
			fast.edit(d)
			edit(d)
		case op < 6:
			ds := fast.l.Dests()
			id := ds[r.IntN(len(ds))].ID
			fast.remove(id)
			del(id)
		case op < 7:
			randomLoad(r, f, ids(fast.l.Dests()), 0.2)
		}
		in := pickIn()
		for k := 0; k < 1+r.IntN(8); k++ {
			want := pick()
			got := pickID(fast.s, in)
			if got != want {
				t.Fatalf("seed %d iter %d: %s.Pick(%+v) = %d, want %d (model); list %v",
					seed, it, fast.s.Name(), in, got, want, fast.l.Dests())
			}
		}
	}
}

func TestRRModel(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		f := newFakeLoad()
		fast := newSvc(t, "rr", 0, f, Options{})
		m := &rrModel{w: map[DestID]int32{}}
		randomOps(t, seed, 300, fast, f, m.add, m.edit, m.del,
			func() DestID { return m.schedule(f) }, func() *Input { return &Input{} })
	}
}

func TestRRBatchUpdateMovesPToSurvivingPredecessor(t *testing.T) {
	// List 5, 4, 3, 2, 1; pick 5, 4, 3 (p = 3). One Update removes 4 and 3
	// together: p goes to the nearest surviving predecessor, 5, exactly as
	// two single deletions would; the next pick is 2.
	v := newSvc(t, "rr", 0, newFakeLoad(), Options{}).add(dest(1, 1), dest(2, 1), dest(3, 1), dest(4, 1), dest(5, 1))
	picks(v.s, &Input{}, 3)
	if err := v.s.Update([]Dest{dest(5, 1), dest(2, 1), dest(1, 1)}); err != nil {
		t.Fatalf("Update = %v", err)
	}
	if got, want := picks(v.s, &Input{}, 3), []DestID{2, 1, 5}; !slices.Equal(got, want) {
		t.Fatalf("Pick x3 = %v, want %v", got, want)
	}
}
