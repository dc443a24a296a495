package conntrack

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/uvslb/uvs/scheduler"
)

// TestPersistRandomInvariants drives persistent services with random
// connections, packets, weight changes, expiries and sweeps, on a small
// table (so eviction happens too), and checks after every step that the
// table agrees with itself: every connection's template exists and points
// at the same real server, a client group's new connection follows its
// template while that server is usable, and the per-real-server counters
// equal what List shows. At the end everything expires to zero.
func TestPersistRandomInvariants(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		tb := newTable(t, Config{MaxConns: persistRandMax, Shards: 2, Seed: seed, IdleEvict: 20 * time.Second})
		p := threeReals()
		svc := &Service{Proto: ProtoTCP, Port: 80, PersistTimeout: 30 * time.Second, Netmask: 0xffffff00}
		var refs []Ref
		now := int64(0)
		for op := range 4000 {
			now += rng.Int64N(sec / 2)
			switch r := rng.IntN(20); {
			case r < 8:
				k := key(ProtoTCP, fmt.Sprintf("203.0.%d.%d", rng.IntN(6), rng.IntN(4)), uint16(1000+rng.IntN(50)), "10.0.0.1", 80)
				// The group's valid template (invalidated ones stay listed,
				// with port 65535, until they expire).
				tmplDest, n := scheduler.DestID(0), 0
				for _, c := range tb.List(now) {
					if c.Template && c.Virtual.Port() != invalidPort && c.Client.Addr().As4()[2] == k.CAddr.As4()[2] {
						tmplDest = c.Dest
						n++
					}
				}
				if n != 1 {
					tmplDest = 0
				}
				calls := p.calls
				c, st := tb.Schedule(now, k, svc, p.pick, p.dest)
				if st == StatusRefused || st == StatusNoDest {
					continue
				}
				if st != StatusCreated {
					t.Fatalf("seed %d op %d: Schedule = %v", seed, op, st)
				}
				if _, usable := p.dest(tmplDest); tmplDest != 0 && usable && (c.Dest != tmplDest || p.calls != calls) {
					t.Fatalf("seed %d op %d: client group with a template on %d got %d (scheduler calls %d → %d)", seed, op, tmplDest, c.Dest, calls, p.calls)
				}
				refs = append(refs, c.Ref)
			case r < 15 && len(refs) > 0:
				f := []uint8{fSYN, fACK, fFINACK, fRST}[rng.IntN(4)]
				tb.Update(now, refs[rng.IntN(len(refs))], DirInput, f)
			case r < 16 && len(refs) > 0:
				tb.Expire(refs[rng.IntN(len(refs))])
			case r < 17:
				id := scheduler.DestID(1 + rng.IntN(3))
				p.weight[id] = int32(rng.IntN(2))
			case r < 18:
				id := scheduler.DestID(1 + rng.IntN(3))
				p.down[id] = rng.IntN(4) == 0
			default:
				tb.Sweep(now, 1+rng.IntN(100))
			}
			checkPersistInvariants(t, tb, now, fmt.Sprintf("seed %d op %d", seed, op))
		}
		if st := tb.Stats(); st.Evicted == 0 || st.Created < 1000 {
			t.Fatalf("seed %d: Stats() = %+v; want evictions to have been exercised", seed, st)
		}
		end := now + int64(48*time.Hour)
		tb.Sweep(end, 1<<20)
		tb.Sweep(end+int64(time.Hour), 1<<20)
		if st := tb.Stats(); st.Entries != 0 || st.Templates != 0 {
			t.Fatalf("seed %d: after expiry Stats() = %+v", seed, st)
		}
		for id := scheduler.DestID(1); id <= 3; id++ {
			c := tb.Counters(id)
			if c.Active.Load() != 0 || c.Inactive.Load() != 0 || c.Persist.Load() != 0 {
				t.Fatalf("seed %d: Counters(%d) = %d/%d/%d after expiry", seed, id, c.Active.Load(), c.Inactive.Load(), c.Persist.Load())
			}
		}
	}
}

// persistRandMax is small enough that the random test fills the table.
const persistRandMax = 16

func checkPersistInvariants(t *testing.T, tb *Table, now int64, where string) {
	t.Helper()
	// List skips expired entries, which still hold their counts until
	// removed: compare after a full sweep.
	tb.Sweep(now, 1<<20)
	conns := tb.List(now)
	type counts struct{ a, i, p int32 }
	want := map[scheduler.DestID]*counts{1: {}, 2: {}, 3: {}}
	for _, c := range conns {
		w := want[c.Dest]
		switch {
		case c.Template:
			w.p++
		case c.State.Active():
			w.a++
		default:
			w.i++
		}
		if c.Template || c.Control.IsZero() {
			continue
		}
		tm, ok := tb.Get(now, c.Control)
		if !ok || !tm.Template || tm.Dest != c.Dest {
			t.Fatalf("%s: conn %v → %v has template %+v, %v", where, c.Client, c.Real, tm, ok)
		}
	}
	for id, w := range want {
		c := tb.Counters(id)
		if c.Active.Load() != w.a || c.Inactive.Load() != w.i || c.Persist.Load() != w.p {
			t.Fatalf("%s: Counters(%d) = %d/%d/%d, List says %d/%d/%d", where, id, c.Active.Load(), c.Inactive.Load(), c.Persist.Load(), w.a, w.i, w.p)
		}
	}
	if st := tb.Stats(); st.Entries > persistRandMax {
		t.Fatalf("%s: %d entries, bound %d", where, st.Entries, persistRandMax)
	}
}
