package scheduler

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// script is a Rand that returns the given values in turn and records the
// bounds it was asked for.
type script struct {
	vals   []uint32
	bounds []uint32
}

func (s *script) rand(n uint32) uint32 {
	s.bounds = append(s.bounds, n)
	v := s.vals[0]
	s.vals = s.vals[1:]
	if v >= n {
		panic("script value out of range")
	}
	return v
}

func TestTwos(t *testing.T) {
	// Add 1 (w3), 2 (w2), 3 (w1): list 3 (w1), 2 (w2), 1 (w3); total 6,
	// so both draws are get_random_u32_below(7), i.e. [0, 6] inclusive.
	// Walking the list, r -= w; the first real server where r <= 0 is the
	// choice: r 0 or 1 -> 3 (1 - 1 = 0), r 2 or 3 -> 2 (3 - 1 - 2 = 0),
	// r 4..6 -> 1. So 3 has (1+1)/7, as §2.9 says for the first one.
	for _, tc := range []struct {
		name       string
		r1, r2     uint32
		act1, act3 int32 // active conns of 1 and 3
		want       DestID
	}{
		// choice1 3 (w1, oh 256), choice2 1 (w3, oh 512): w2*oh1 = 768 >
		// w1*oh2 = 512, so choice2 wins.
		{"second is less loaded", 0, 6, 2, 1, 1},
		// oh1 = 256 (3), oh2 = 3*256 = 768 (1): 3*256 = 768 = 1*768, not
		// greater: choice1 stays.
		{"tie keeps first", 1, 4, 3, 1, 3},
		// Both draws land on 2: 2*oh > 2*oh is false: 2.
		{"same choice", 2, 3, 0, 0, 2},
		// choice1 1 (r 6, w3, oh 0), choice2 3 (r 0, w1, oh 0): 1*0 > 3*0
		// is false: choice1.
		{"idle", 6, 0, 0, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := &script{vals: []uint32{tc.r1, tc.r2}}
			f := newFakeLoad()
			v := newSvc(t, "twos", 0, f, Options{Rand: sc.rand}).add(dest(1, 3), dest(2, 2), dest(3, 1))
			f.set(1, tc.act1, 0, false)
			f.set(3, tc.act3, 0, false)
			if got := pickID(v.s, &Input{}); got != tc.want {
				t.Fatalf("twos.Pick() with draws %d, %d = %d, want %d", tc.r1, tc.r2, got, tc.want)
			}
			if want := []uint32{7, 7}; !slices.Equal(sc.bounds, want) {
				t.Fatalf("Rand bounds = %v, want %v (total weight + 1)", sc.bounds, want)
			}
		})
	}
	// Overloaded and quiescent real servers are left out of the total.
	sc := &script{vals: []uint32{0, 0}}
	f := newFakeLoad()
	v := newSvc(t, "twos", 0, f, Options{Rand: sc.rand}).add(dest(1, 3), dest(2, 0), dest(3, 1))
	f.set(3, 0, 0, true)
	if got := pickID(v.s, &Input{}); got != 1 || !slices.Equal(sc.bounds, []uint32{4, 4}) {
		t.Fatalf("twos.Pick() = %d with bounds %v, want 1 with [4 4]", got, sc.bounds)
	}
}

// twosModel: a draw r picks the first eligible real server whose running
// weight sum reaches r; choice2 replaces choice1 when its overhead/weight is
// strictly lower.
func twosModel(list []Dest, f *fakeLoad, r1, r2 int32) DestID {
	choose := func(r int32) (Dest, bool) {
		sum := int32(0)
		for _, d := range list {
			if !usableModel(f, d) {
				continue
			}
			sum += d.Weight
			if sum >= r {
				return d, true
			}
		}
		return Dest{}, false
	}
	c1, ok1 := choose(r1)
	c2, ok2 := choose(r2)
	if !ok1 {
		return 0
	}
	oh := func(d Dest) int64 { return int64(f.Counters(d.ID).Overhead()) }
	if ok2 && int64(c2.Weight)*oh(c1) > int64(c1.Weight)*oh(c2) {
		return c2.ID
	}
	return c1.ID
}

func TestTwosModel(t *testing.T) {
	for seed := uint64(1); seed <= 10; seed++ {
		pcg := rand.NewPCG(seed, 3)
		r := rand.New(pcg)
		f := newFakeLoad()
		rnd := func(n uint32) uint32 { return r.Uint32N(n) }
		fast := newSvc(t, "twos", 0, f, Options{Rand: rnd})
		m := &listModel{lw: map[DestID]int32{}}
		randomOps(t, seed, 300, fast, f, m.add, m.edit, m.del,
			func() DestID {
				// Peek at the two values the fast scheduler will draw by
				// drawing them here and rewinding the generator.
				total := int32(0)
				for _, d := range m.list {
					if usableModel(f, d) {
						total += d.Weight
					}
				}
				if total == 0 {
					return 0
				}
				save := *pcg
				r1, r2 := int32(r.Uint32N(uint32(total+1))), int32(r.Uint32N(uint32(total+1)))
				*pcg = save
				return twosModel(m.list, f, r1, r2)
			},
			func() *Input { return &Input{} })
	}
}
