package scheduler

import (
	"math/big"
	"testing"
)

// load is one real server's counts in a table test.
type load struct {
	act, inact int32
	over       bool
}

func TestLeastSchedulers(t *testing.T) {
	// Real servers are given head first (kernel order); the list is built by
	// adding them in reverse.
	for _, tc := range []struct {
		name  string
		sched string
		dests []Dest // kernel order
		loads []load
		want  DestID
	}{
		// lc: overhead = act<<8 + inact. 1: 256+0 = 256, 2: 0+300 = 300,
		// 3: 256+0 = 256. Least is 256; the earlier (1) wins the tie.
		{"lc first minimum", "lc", []Dest{dest(1, 1), dest(2, 1), dest(3, 1)},
			[]load{{1, 0, false}, {0, 300, false}, {1, 0, false}}, 1},
		// lc ignores weight except 0: 1 is quiescent, 2 overloaded, 3 left.
		{"lc skips weight 0 and overload", "lc", []Dest{dest(1, 0), dest(2, 5), dest(3, 1)},
			[]load{{0, 0, false}, {0, 0, true}, {9, 9, false}}, 3},
		// wlc: 1: oh 512 w1 -> 512; 2: oh 768 w3 -> 256; 3: oh 512 w2 ->
		// 256. 2 beats 1 (512*3 > 768*1); 3 ties 2 (768*2 = 512*3): 2 stays.
		{"wlc ratio and tie", "wlc", []Dest{dest(1, 1), dest(2, 3), dest(3, 2)},
			[]load{{2, 0, false}, {3, 0, false}, {2, 0, false}}, 2},
		// wlc: a later weight-0 real server with overhead 0 never wins
		// (loh*0 > 0*lw is false).
		{"wlc later weight 0", "wlc", []Dest{dest(1, 1), dest(2, 0)},
			[]load{{5, 0, false}, {0, 0, false}}, 1},
		// wlc: the first stage skips weight 0 and OVERLOAD.
		{"wlc first usable", "wlc", []Dest{dest(1, 0), dest(2, 1), dest(3, 1)},
			[]load{{0, 0, false}, {0, 0, true}, {7, 7, false}}, 3},
		// sed: overhead act+1, inactive ignored. 1: (1+1)/1 = 2; 2:
		// (2+1)/2 = 1.5 -> 2 wins; inactive 1000 on 2 does not matter.
		{"sed", "sed", []Dest{dest(1, 1), dest(2, 2)},
			[]load{{1, 0, false}, {2, 1000, false}}, 2},
		// nq: 2 is idle (act 0), so it wins at once even though 3 has a
		// better ratio... 3 is idle too but later.
		{"nq first idle", "nq", []Dest{dest(1, 9), dest(2, 1), dest(3, 9)},
			[]load{{1, 0, false}, {0, 50, false}, {0, 0, false}}, 2},
		// nq with no idle server: sed's ratio. 1: 3/1, 2: 4/2 -> 2.
		{"nq ratio", "nq", []Dest{dest(1, 1), dest(2, 2)},
			[]load{{2, 0, false}, {3, 0, false}}, 2},
		// fo: the highest weight wins, the first among equals; overloaded
		// 3 (w9) is skipped.
		{"fo", "fo", []Dest{dest(1, 2), dest(2, 5), dest(3, 9), dest(4, 5)},
			[]load{{0, 0, false}, {100, 0, false}, {0, 0, true}, {0, 0, false}}, 2},
		// ovf: 3 (w5) has act 6 > 5, so it is skipped; 2 (w4) has act 4 <=
		// 4 and wins over 1 (w2).
		{"ovf", "ovf", []Dest{dest(1, 2), dest(2, 4), dest(3, 5)},
			[]load{{0, 0, false}, {4, 0, false}, {6, 0, false}}, 2},
		{"ovf none", "ovf", []Dest{dest(1, 1)}, []load{{2, 0, false}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeLoad()
			v := newSvc(t, tc.sched, 0, f, Options{})
			for i := len(tc.dests) - 1; i >= 0; i-- {
				v.add(tc.dests[i])
			}
			for i, l := range tc.loads {
				f.set(tc.dests[i].ID, l.act, l.inact, l.over)
			}
			if got := pickID(v.s, &Input{}); got != tc.want {
				t.Fatalf("%s.Pick() = %d, want %d", tc.sched, got, tc.want)
			}
		})
	}
}

// leastModel states each scheduler declaratively: among the eligible real
// servers (not OVERLOADed, weight > 0, plus per-scheduler conditions) take
// the one that minimises (or maximises) a key computed as an exact
// rational, the earliest in list order among equals. It shares no code with
// the scans it checks.
func leastModel(name string, list []Dest, f *fakeLoad) DestID {
	type cand struct {
		id  DestID
		key *big.Rat
	}
	var cs []cand
	for _, d := range list {
		c := f.Counters(d.ID)
		if d.Weight <= 0 || c.Overload.Load() {
			continue
		}
		act, inact := int64(c.Active.Load()), int64(c.Inactive.Load())
		oh := act*256 + inact
		var key *big.Rat
		switch name {
		case "lc":
			key = big.NewRat(oh, 1)
		case "wlc":
			key = big.NewRat(oh, int64(d.Weight))
		case "sed":
			key = big.NewRat(act+1, int64(d.Weight))
		case "nq":
			if act == 0 {
				return d.ID
			}
			key = big.NewRat(act+1, int64(d.Weight))
		case "fo":
			key = big.NewRat(-int64(d.Weight), 1) // maximise weight
		case "ovf":
			if act > int64(d.Weight) {
				continue
			}
			key = big.NewRat(-int64(d.Weight), 1)
		}
		cs = append(cs, cand{d.ID, key})
	}
	if len(cs) == 0 {
		return 0
	}
	best := cs[0]
	for _, c := range cs[1:] {
		if c.key.Cmp(best.key) < 0 {
			best = c
		}
	}
	return best.id
}

func TestLeastModel(t *testing.T) {
	for _, name := range []string{"lc", "wlc", "sed", "nq", "fo", "ovf"} {
		t.Run(name, func(t *testing.T) {
			for seed := uint64(1); seed <= 10; seed++ {
				f := newFakeLoad()
				fast := newSvc(t, name, 0, f, Options{})
				nop := func(Dest) {}
				randomOps(t, seed, 300, fast, f, nop, nop, func(DestID) {},
					func() DestID { return leastModel(name, fast.l.Dests(), f) },
					func() *Input { return &Input{} })
			}
		})
	}
}
