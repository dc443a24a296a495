package conntrack

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/uvslb/uvs/scheduler"
)

// TestLookupUpdateEquivalence drives two tables built alike through the
// same random operations, except that packets go through Lookup then Update
// on one and LookupUpdate on the other, and checks after every operation
// that the results, the entries, the counters and the real servers' counts
// are the same. The table is small, so that expiry, eviction and slot reuse
// happen often; persistent services make templates that get assured.
func TestLookupUpdateEquivalence(t *testing.T) {
	targets := []Target{
		target(1, "192.168.1.11", 8080, MethodMasq),
		target(2, "192.168.1.12", 0, MethodRoute),
		target(3, "2001:db8::11", 8080, MethodMasq),
		target(4, "2001:db8::12", 0, MethodTunnel),
	}
	for seed := uint64(1); seed <= 4; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		cfg := Config{MaxConns: 12, Shards: 2, Seed: seed, IdleEvict: 30 * time.Second}
		a, b := newTable(t, cfg), newTable(t, cfg)
		randKey := func() (Key, Target) {
			proto := uint8(ProtoTCP)
			if rng.IntN(4) == 0 {
				proto = ProtoUDP
			}
			i := rng.IntN(2)
			if rng.IntN(3) == 0 {
				return key(proto, fmt.Sprintf("2001:db8:9::%d", rng.IntN(2)), uint16(1000+rng.IntN(4)), "2001:db8::80", 80), targets[2+i]
			}
			return key(proto, fmt.Sprintf("203.0.113.%d", rng.IntN(2)), uint16(1000+rng.IntN(4)), "10.0.0.1", 80), targets[i]
		}
		now := int64(0)
		hits := 0
		for op := range 30000 {
			now += rng.Int64N(sec / 2)
			if rng.IntN(200) == 0 {
				now += rng.Int64N(600 * sec)
			}
			k, tg := randKey()
			switch what := rng.IntN(20); {
			case what < 4: // new connection, sometimes persistent
				svc := &Service{Proto: k.Proto, Port: 80}
				if rng.IntN(3) == 0 {
					svc.PersistTimeout = time.Duration(1+rng.IntN(120)) * time.Second
					svc.Netmask = 0xffffff00
					svc.Prefix6 = 120
				}
				dest := func(scheduler.DestID) (Target, bool) { return tg, true }
				ca, sa := a.Schedule(now, k, svc, fixed(tg), dest)
				cb, sb := b.Schedule(now, k, svc, fixed(tg), dest)
				if ca != cb || sa != sb {
					t.Fatalf("seed %d op %d: Schedule(%v) = %+v, %v and %+v, %v", seed, op, k, ca, sa, cb, sb)
				}
			case what < 16: // a packet
				dir := DirInput
				if rng.IntN(3) == 0 {
					dir = DirOutput
				}
				flags := []uint8{fSYN, fSYNACK, fACK, fFINACK, fRST, 0}[rng.IntN(6)]
				var want Conn
				c, okA := a.Lookup(now, k)
				if okA {
					st, ok := a.Update(now, c.Ref, dir, flags)
					if !ok {
						t.Fatalf("seed %d op %d: Update(%v) after Lookup hit = stale", seed, op, c.Ref)
					}
					want, ok = a.Get(now, c.Ref)
					if !ok || want.State != st {
						t.Fatalf("seed %d op %d: Get after Update = %+v, %v; Update said %v", seed, op, want, ok, st)
					}
				}
				got, okB := b.LookupUpdate(now, k, dir, flags)
				if okB {
					hits++
				}
				if okA != okB || got != want {
					t.Fatalf("seed %d op %d: LookupUpdate(%v, %v, %#x) = %+v, %v; Lookup+Update gave %+v, %v",
						seed, op, k, dir, flags, got, okB, want, okA)
				}
			case what < 17: // a reply, by the "out" lookup
				ca, okA := a.LookupOut(now, k.Proto, tg.Dest.Addr, tg.Dest.Port, k.CAddr, k.CPort)
				cb, okB := b.LookupOut(now, k.Proto, tg.Dest.Addr, tg.Dest.Port, k.CAddr, k.CPort)
				if ca != cb || okA != okB {
					t.Fatalf("seed %d op %d: LookupOut = %+v, %v and %+v, %v", seed, op, ca, okA, cb, okB)
				}
			case what < 18: // expire
				c, ok := a.Lookup(now, k)
				if cb, okB := b.Lookup(now, k); c != cb || ok != okB {
					t.Fatalf("seed %d op %d: Lookup(%v) = %+v, %v and %+v, %v", seed, op, k, c, ok, cb, okB)
				}
				if ok {
					if ra, rb := a.Expire(c.Ref), b.Expire(c.Ref); ra != rb {
						t.Fatalf("seed %d op %d: Expire = %v and %v", seed, op, ra, rb)
					}
				}
			default:
				budget := 1 + rng.IntN(64)
				if ra, rb := a.Sweep(now, budget), b.Sweep(now, budget); ra != rb {
					t.Fatalf("seed %d op %d: Sweep = %d and %d", seed, op, ra, rb)
				}
			}
			if sa, sb := a.Stats(), b.Stats(); sa != sb {
				t.Fatalf("seed %d op %d: Stats = %+v and %+v", seed, op, sa, sb)
			}
			for id := scheduler.DestID(1); id <= 4; id++ {
				ca, cb := a.Counters(id), b.Counters(id)
				if ca.Active.Load() != cb.Active.Load() || ca.Inactive.Load() != cb.Inactive.Load() || ca.Persist.Load() != cb.Persist.Load() {
					t.Fatalf("seed %d op %d: Counters(%d) = %d/%d/%d and %d/%d/%d", seed, op, id,
						ca.Active.Load(), ca.Inactive.Load(), ca.Persist.Load(), cb.Active.Load(), cb.Inactive.Load(), cb.Persist.Load())
				}
			}
		}
		// The operations must have exercised what they are meant to.
		if st := b.Stats(); hits < 1000 || st.Evicted == 0 || st.Expired < 1000 {
			t.Fatalf("seed %d: %d hits, %d evicted, %d expired: the mix no longer exercises the table", seed, hits, st.Evicted, st.Expired)
		}
		if la, lb := a.List(now), b.List(now); fmt.Sprint(la) != fmt.Sprint(lb) {
			t.Fatalf("seed %d: List differs:\n%v\n%v", seed, la, lb)
		}
	}
}
