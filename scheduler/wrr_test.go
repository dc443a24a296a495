package scheduler

import (
	"slices"
	"testing"
)

func TestWRRSequences(t *testing.T) {
	in := &Input{}
	for _, tc := range []struct {
		name  string
		build func(t *testing.T) *svc
		want  []DestID
	}{
		{
			// Add 1 (w1): di 1, mw 1, cw 0 -> mw = 1. Add 2 (w2): di 1,
			// mw 2; cw 1 <= mw and di == 1, so cw stays 1. List 2, 1.
			// cw 1: 2, 1; end: cw 0 -> mw 2 (restarted): 2; end: cw 1:
			// 2, 1; end: cw 2: 2; ...
			name: "sequential adds keep cw",
			build: func(t *testing.T) *svc {
				return newSvc(t, "wrr", 0, newFakeLoad(), Options{}).add(dest(1, 1), dest(2, 2))
			},
			want: []DestID{2, 1, 2, 2, 1, 2, 2, 1},
		},
		{
			// The same two real servers in one Update (one dest_changed):
			// cw 0 -> mw 2. cw 2: 2; cw 1: 2, 1; cw 2: 2; ...
			name: "one update starts at mw",
			build: func(t *testing.T) *svc {
				v := newSvc(t, "wrr", 0, newFakeLoad(), Options{})
				if err := v.s.Update([]Dest{dest(2, 2), dest(1, 1)}); err != nil {
					t.Fatalf("Update = %v", err)
				}
				return v
			},
			want: []DestID{2, 2, 1, 2, 2, 1, 2, 2},
		},
		{
			// Add 1 (w4): di 4, mw 4-3 = 1, cw 0 -> 1. Add 2 (w2): di 2,
			// mw 4-1 = 3; cw 1 <= 3 and di > 1: cw = (1/2)*2+1 = 1.
			// cw 1: 2, 1; end: cw -1 -> mw 3 (restarted): 1 (4 >= 3);
			// end: cw 1 (last pass): 2, 1; end: cw 3: 1; ...
			name: "gcd step",
			build: func(t *testing.T) *svc {
				return newSvc(t, "wrr", 0, newFakeLoad(), Options{}).add(dest(1, 4), dest(2, 2))
			},
			want: []DestID{2, 1, 1, 2, 1, 1, 2, 1},
		},
		{
			// Add 1 (w3): di 3, mw 3-(3-1) = 1, cw 0 -> 1. Add 2 (w1): di 1,
			// mw 3, cw 1 stays (di == 1). Add 3 (w2): cw 1 stays. List 3, 2,
			// 1 (w 2, 1, 3). cw 1: 3, 2, 1; end: cw 0 -> mw 3 (restarted):
			// 1; cw 2: 3, 1; cw 1: 3, 2, 1; ...
			name: "three weights",
			build: func(t *testing.T) *svc {
				return newSvc(t, "wrr", 0, newFakeLoad(), Options{}).add(dest(1, 3), dest(2, 1), dest(3, 2))
			},
			want: []DestID{3, 2, 1, 1, 3, 1, 3, 2, 1},
		},
		{
			// Mid-cycle edit: list 3, 2, 1 (w 2, 1, 3) as above, picks 3, 2
			// (cw 1, cl = 2). Edit 1 to w6: dest_changed: cl = head, di 1,
			// mw 6, cw 1 <= 6 stays. cw 1: 3, 2, 1; end: cw 0 -> 6: 1;
			// cw 5: 1; cw 4: 1; ...
			name: "mid-cycle edit",
			build: func(t *testing.T) *svc {
				v := newSvc(t, "wrr", 0, newFakeLoad(), Options{}).add(dest(1, 3), dest(2, 1), dest(3, 2))
				picks(v.s, in, 2)
				v.edit(dest(1, 6))
				return v
			},
			want: []DestID{3, 2, 1, 1, 1, 1, 1},
		},
		{
			// Mid-cycle remove: list 3, 2, 1 (w 2, 1, 3), picks 3, 2 (cw 1).
			// Remove 3: list 2, 1 (w 1, 3), mw 3, cw 1 stays, cl = head.
			// cw 1: 2, 1; cw 3: 1; cw 2: 1; cw 1: 2, 1; cw 3: 1
			name: "mid-cycle remove",
			build: func(t *testing.T) *svc {
				v := newSvc(t, "wrr", 0, newFakeLoad(), Options{}).add(dest(1, 3), dest(2, 1), dest(3, 2))
				picks(v.s, in, 2)
				v.remove(3)
				return v
			},
			want: []DestID{2, 1, 1, 1, 2, 1, 1},
		},
		{
			// Mid-cycle add: list 3, 2, 1 (w 2, 1, 3), picks 3, 2 (cw 1).
			// Add 4 (w3) at the head: list 4, 3, 2, 1 (w 3, 2, 1, 3), mw 3,
			// cw 1 stays, cl = head. cw 1: 4, 3, 2, 1; cw 3: 4, 1; cw 2: 4,
			// 3, 1.
			name: "mid-cycle add",
			build: func(t *testing.T) *svc {
				v := newSvc(t, "wrr", 0, newFakeLoad(), Options{}).add(dest(1, 3), dest(2, 1), dest(3, 2))
				picks(v.s, in, 2)
				v.add(dest(4, 3))
				return v
			},
			want: []DestID{4, 3, 2, 1, 4, 1, 4, 3, 1},
		},
		{
			// All weights 0: mw 0, nothing.
			name: "all quiescent",
			build: func(t *testing.T) *svc {
				return newSvc(t, "wrr", 0, newFakeLoad(), Options{}).add(dest(1, 0), dest(2, 0))
			},
			want: []DestID{0, 0},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.build(t)
			if got := picks(v.s, in, len(tc.want)); !slices.Equal(got, tc.want) {
				t.Fatalf("Pick x%d = %v, want %v", len(tc.want), got, tc.want)
			}
		})
	}
}

func TestWRROverload(t *testing.T) {
	// List 2, 1 (w 1, 1); both OVERLOADed: cw 1 walk finds nothing, cw
	// drops to 0 -> mw; last was the head, so give up: none. Then 1
	// recovers and is picked every time.
	f := newFakeLoad()
	v := newSvc(t, "wrr", 0, f, Options{}).add(dest(1, 1), dest(2, 1))
	f.set(1, 0, 0, true)
	f.set(2, 0, 0, true)
	if got := pickID(v.s, &Input{}); got != 0 {
		t.Fatalf("Pick with all overloaded = %d, want none", got)
	}
	f.set(1, 0, 0, false)
	if got, want := picks(v.s, &Input{}, 3), []DestID{1, 1, 1}; !slices.Equal(got, want) {
		t.Fatalf("Pick x3 = %v, want %v", got, want)
	}
}

// wrrModel is ip_vs_wrr.c transcribed over a list of IDs; cl is an ID or 0
// for the head.
type wrrModel struct {
	list       []DestID
	w          map[DestID]int32
	cl         DestID
	cw, mw, di int32
	overloaded func(DestID) bool
}

func (m *wrrModel) changed() {
	m.cl = 0
	g := int32(0)
	maxw := int32(0)
	for _, id := range m.list {
		w := m.w[id]
		if w > 0 {
			if g > 0 {
				g = gcd(w, g)
			} else {
				g = w
			}
		}
		maxw = max(maxw, w)
	}
	if g == 0 {
		g = 1
	}
	m.di = g
	m.mw = maxw - (g - 1)
	if m.cw > m.mw || m.cw == 0 {
		m.cw = m.mw
	} else if m.di > 1 {
		m.cw = (m.cw/m.di)*m.di + 1
	}
}

func (m *wrrModel) add(d Dest) {
	m.list = append([]DestID{d.ID}, m.list...)
	m.w[d.ID] = d.Weight
	m.changed()
}

func (m *wrrModel) edit(d Dest) { m.w[d.ID] = d.Weight; m.changed() }

func (m *wrrModel) del(id DestID) {
	m.list = slices.DeleteFunc(m.list, func(x DestID) bool { return x == id })
	m.changed()
}

// after returns the IDs that list_for_each_entry_continue visits after
// position p (0 = head).
func (m *wrrModel) after(p DestID) []DestID {
	if p == 0 {
		return m.list
	}
	return m.list[slices.Index(m.list, p)+1:]
}

func (m *wrrModel) schedule() DestID {
	if m.mw == 0 {
		return 0
	}
	dest := m.cl
	last := dest
	var stop DestID
	hasStop := false
	lastPass, restarted := false, false
	for {
		for _, id := range m.after(dest) {
			if !m.overloaded(id) && m.w[id] >= m.cw {
				m.cl = id
				return id
			}
			if hasStop && id == stop {
				m.cl = id
				return 0
			}
		}
		dest = 0
		m.cw -= m.di
		if m.cw <= 0 {
			m.cw = m.mw
			if lastPass || last == 0 {
				m.cl = 0
				return 0
			}
			restarted = true
		}
		lastPass = m.cw <= m.di
		if lastPass && restarted && last != 0 {
			stop, hasStop = last, true
		}
	}
}

func TestWRRModel(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		f := newFakeLoad()
		fast := newSvc(t, "wrr", 0, f, Options{})
		m := &wrrModel{w: map[DestID]int32{}, di: 1, overloaded: func(id DestID) bool { return f.Counters(id).Overload.Load() }}
		randomOps(t, seed, 300, fast, f, m.add, m.edit, m.del, m.schedule, func() *Input { return &Input{} })
	}
}
