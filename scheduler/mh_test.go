package scheduler

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
)

func mhSlots(s Scheduler) []DestID {
	slots := s.(*mh).tab.Load().slots
	out := make([]DestID, len(slots))
	for i, e := range slots {
		if e != nil {
			out[i] = e.ID
		}
	}
	return out
}

func TestMHDeterministic(t *testing.T) {
	// Two schedulers fed the same final list through different operation
	// sequences (different add orders reach the same list order only if the
	// list is the same, so use Update with the list directly) build
	// identical tables: the hash keys are fixed, not random per boot.
	ds := []Dest{dest(7, 3), dest(3, 1), dest(9, 2), dest(1, 5)}
	a := mustNew(t, "mh", 0, newFakeLoad(), Options{})
	b := mustNew(t, "mh", FlagPort, newFakeLoad(), Options{})
	if err := a.Update(ds); err != nil {
		t.Fatalf("a.Update = %v", err)
	}
	// b reaches the same list one real server at a time.
	var l List
	for i := len(ds) - 1; i >= 0; i-- {
		if err := l.Add(ds[i]); err != nil {
			t.Fatalf("Add = %v", err)
		}
		if err := b.Update(l.Dests()); err != nil {
			t.Fatalf("b.Update = %v", err)
		}
	}
	sa, sb := mhSlots(a), mhSlots(b)
	for i := range sa {
		if sa[i] != sb[i] {
			t.Fatalf("slot %d: %d vs %d", i, sa[i], sb[i])
		}
	}
	// Every slot is filled, and the shares follow the weights 3:1:2:5
	// roughly (each real server claims turns slots per round).
	count := map[DestID]int{}
	for _, id := range sa {
		if id == 0 {
			t.Fatalf("empty slot in a full table")
		}
		count[id]++
	}
	if count[1] <= count[7] || count[7] <= count[9] || count[9] <= count[3] {
		t.Fatalf("slot counts %v do not follow weights 5 > 3 > 2 > 1", count)
	}
}

// TestMHRemovalDisruption removes one of N equal real servers. Maglev
// promises near-minimal disruption, not minimal: the removed server's slots
// must all move, and the other slots mostly stay. Over these seeds at
// M = 4093 the other slots that changed owner were 1.1%..3.6% for N = 10, 30
// and 100 (run with -v to see them). The bound asserted is 8%: above what
// was measured, with margin for the greedy population order shifting after
// the removed server's turn, yet far below the (N-1)/N of a mod-N rehash.
func TestMHRemovalDisruption(t *testing.T) {
	for _, n := range []int{10, 30, 100} {
		for seed := uint64(1); seed <= 5; seed++ {
			r := rand.New(rand.NewPCG(seed, uint64(n)))
			var ds []Dest
			for i := range n {
				id := DestID(i + 1)
				ds = append(ds, Dest{ID: id, Addr: netip.AddrFrom4([4]byte{10, byte(r.Uint32()), byte(r.Uint32()), byte(i)}), Port: 80, Weight: 1})
			}
			s := mustNew(t, "mh", 0, newFakeLoad(), Options{})
			if err := s.Update(ds); err != nil {
				t.Fatalf("Update = %v", err)
			}
			before := mhSlots(s)
			gone := ds[r.IntN(n)].ID
			var rest []Dest
			for _, d := range ds {
				if d.ID != gone {
					rest = append(rest, d)
				}
			}
			if err := s.Update(rest); err != nil {
				t.Fatalf("Update = %v", err)
			}
			after := mhSlots(s)
			moved, others := 0, 0
			for i := range before {
				if after[i] == gone || after[i] == 0 {
					t.Fatalf("n %d seed %d: slot %d still %d after removing %d", n, seed, i, after[i], gone)
				}
				if before[i] == gone {
					continue
				}
				others++
				if after[i] != before[i] {
					moved++
				}
			}
			t.Logf("n %d seed %d moved %.2f%%", n, seed, 100*float64(moved)/float64(others))
			if frac := float64(moved) / float64(others); frac > 0.08 {
				t.Errorf("n %d seed %d: removing %d moved %d of %d other slots (%.1f%%), want <= 8%%", n, seed, gone, moved, others, 100*frac)
			}
		}
	}
}

func TestMHQuiesceKeepsTable(t *testing.T) {
	f := newFakeLoad()
	for _, flags := range []Flags{0, FlagFallback} {
		v := newSvc(t, "mh", flags, f, Options{}).add(dest(1, 2), dest(2, 2), dest(3, 4))
		before := mhSlots(v.s)
		v.edit(dest(3, 0)) // last_weight stays 4
		after := mhSlots(v.s)
		for i := range before {
			if before[i] != after[i] {
				t.Fatalf("flags %d: slot %d changed from %d to %d on quiescing 3", flags, i, before[i], after[i])
			}
		}
		// Sources hashing to a slot of 3 get nothing without fallback and
		// another real server with it; others are unaffected.
		r := rand.New(rand.NewPCG(1, 1))
		seen3 := false
		for range 200 {
			in := &Input{Src: randomAddr(r)}
			slot := hsiphash32(addrFold(in.Src), &hsipKey{mhKey1Word, mhKey1Word}) % uint32(len(after))
			got := pickID(v.s, in)
			switch {
			case after[slot] != 3 && got != after[slot]:
				t.Fatalf("flags %d: Pick(%v) = %d, want slot owner %d", flags, in.Src, got, after[slot])
			case after[slot] == 3 && flags == 0 && got != 0:
				t.Fatalf("flags %d: Pick(%v) = %d, want none (slot of quiescent 3)", flags, in.Src, got)
			case after[slot] == 3 && flags != 0 && (got == 0 || got == 3):
				t.Fatalf("flags %d: Pick(%v) = %d, want a fallback other than 3", flags, in.Src, got)
			}
			seen3 = seen3 || after[slot] == 3
		}
		if !seen3 {
			t.Fatalf("no source hashed to a slot of 3; the test did not exercise quiescing")
		}
		// Weight back to 4: still the same table. A new weight 8 changes it.
		v.edit(dest(3, 4))
		if got := mhSlots(v.s); fmt.Sprint(got) != fmt.Sprint(before) {
			t.Fatalf("flags %d: table changed after restoring weight 4", flags)
		}
		v.edit(dest(3, 8))
		if got := mhSlots(v.s); fmt.Sprint(got) == fmt.Sprint(before) {
			t.Fatalf("flags %d: table unchanged after weight 4 -> 8", flags)
		}
		v.remove(1)
		v.remove(2)
		v.remove(3)
	}
}

func TestMHAddedQuiescentHasNoSlots(t *testing.T) {
	// last_weight is set on add whatever the weight: added at 0, a real
	// server has turns 0 and no slot; raised later it gets slots.
	v := newSvc(t, "mh", 0, newFakeLoad(), Options{}).add(dest(1, 1), dest(2, 0))
	for i, id := range mhSlots(v.s) {
		if id != 1 {
			t.Fatalf("slot %d = %d, want 1 (2 was added quiescent)", i, id)
		}
	}
	v.edit(dest(2, 1))
	has2 := false
	for _, id := range mhSlots(v.s) {
		has2 = has2 || id == 2
	}
	if !has2 {
		t.Fatalf("no slot for 2 after weight 0 -> 1")
	}
}

func TestMHTooManyDests(t *testing.T) {
	// MHTabIndex 8 gives M = 251: 252 real servers are rejected and the
	// previous table stays.
	s := mustNew(t, "mh", 0, newFakeLoad(), Options{MHTabIndex: 8})
	var ds []Dest
	for i := 1; i <= 251; i++ {
		ds = append(ds, dest(DestID(i), 1))
	}
	if err := s.Update(ds); err != nil {
		t.Fatalf("Update(251 dests) = %v", err)
	}
	before := mhSlots(s)
	if err := s.Update(append(ds, dest(252, 1))); !errors.Is(err, ErrTooManyDests) {
		t.Fatalf("Update(252 dests) = %v, want ErrTooManyDests", err)
	}
	if got := mhSlots(s); fmt.Sprint(got) != fmt.Sprint(before) {
		t.Fatalf("table changed after a rejected Update")
	}
}

func TestMHTurns(t *testing.T) {
	// Weights 1000 and 1: gcd 1, mw 1000, fls(1000) = 10, rshift = 10 -
	// IP_VS_MH_TAB_BITS (6) = 4. turns: 1000 >> 4 = 62; 1 >> 4 = 0, raised
	// to 1 because last_weight != 0. A round claims 62 + 1 = 63 slots;
	// 4093 = 64*63 + 61.
	for _, tc := range []struct {
		name       string
		list       []Dest // kernel order
		want1000   int
		want1      int
		firstOwner DestID
	}{
		// [1000, 1]: 64 rounds give 62*64 = 3968 and 64; the 65th round's
		// 61 slots all go to the first, 1000: 4029 and 64.
		{"heavy first", []Dest{dest(1, 1000), dest(2, 1)}, 4029, 64, 1},
		// [1, 1000]: 64 rounds, then 1 claims 1 and 1000 the last 60:
		// 65 and 4028.
		{"light first", []Dest{dest(2, 1), dest(1, 1000)}, 4028, 65, 2},
	} {
		s := mustNew(t, "mh", 0, newFakeLoad(), Options{})
		if err := s.Update(tc.list); err != nil {
			t.Fatalf("Update = %v", err)
		}
		count := map[DestID]int{}
		for _, id := range mhSlots(s) {
			count[id]++
		}
		if count[1] != tc.want1000 || count[2] != tc.want1 {
			t.Errorf("%s: slots %d (w1000) and %d (w1), want %d and %d", tc.name, count[1], count[2], tc.want1000, tc.want1)
		}
	}
}

func TestMHModelLargeWeights(t *testing.T) {
	// Weights up to 65535 exercise rshift and turns, which the small
	// weights of TestMHModel leave at 0 and weight/gcd.
	r := rand.New(rand.NewPCG(9, 9))
	for it := range 20 {
		var list []Dest
		lw := map[DestID]int32{}
		for i := range 1 + r.IntN(40) {
			d := dest(DestID(i+1), int32(r.IntN(65536)))
			list = append(list, d)
			lw[d.ID] = d.Weight
		}
		s := mustNew(t, "mh", 0, newFakeLoad(), Options{})
		if err := s.Update(list); err != nil {
			t.Fatalf("Update = %v", err)
		}
		want := mhTableModel(list, lw, 4093, 6)
		got := mhSlots(s)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("iteration %d: slot %d = %d, model %d; list %v", it, i, got[i], want[i], list)
			}
		}
	}
}

func TestMHMixedFamily(t *testing.T) {
	// In an IPv4 service an IPv6 real server's address is folded as its
	// first 32 bits (addr->ip), not as the XOR of its four words.
	v6 := Dest{ID: 1, Addr: netip.MustParseAddr("2001:db8::5"), Port: 80, Weight: 1}
	v4 := dest(2, 1)
	build := func(fam Family) []DestID {
		s := mustNew(t, "mh", 0, newFakeLoad(), Options{Family: fam})
		if err := s.Update([]Dest{v6, v4}); err != nil {
			t.Fatalf("Update = %v", err)
		}
		return mhSlots(s)
	}
	// The model folds 2001:db8::5 as 0x20010db8 for FamilyIPv4 ...
	lw := map[DestID]int32{1: 1, 2: 1}
	as4 := Dest{ID: 1, Addr: netip.MustParseAddr("32.1.13.184"), Port: 80, Weight: 1} // 0x20010db8
	if got, want := build(FamilyIPv4), mhTableModel([]Dest{as4, v4}, lw, 4093, 6); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("FamilyIPv4: table differs from the model with 2001:db8::5 folded to 0x20010db8")
	}
	// ... and as the XOR of its words (0x20010db8 ^ 5) otherwise.
	if got, want := build(FamilyIPv6), mhTableModel([]Dest{v6, v4}, lw, 4093, 6); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("FamilyIPv6: table differs from the model")
	}
	if fmt.Sprint(build(FamilyIPv4)) == fmt.Sprint(build(FamilyIPv6)) {
		t.Fatalf("FamilyIPv4 and FamilyIPv6 tables are identical; the fold made no difference")
	}
}
