package conntrack

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/uvslb/uvs/scheduler"
)

// TestLookupBatch checks that LookupBatch answers exactly as Lookup, for
// batches shorter and longer than a chunk, with hits, misses, expired
// entries, IPv6 and invalid keys, on a table with many shards.
func TestLookupBatch(t *testing.T) {
	tb := newTable(t, Config{MaxConns: 4096, Shards: 16})
	rng := rand.New(rand.NewPCG(5, 5))
	var pool []Key
	for i := range 600 {
		k := key(ProtoTCP, fmt.Sprintf("203.0.%d.%d", i/200, i%200), uint16(1000+i%7), "10.0.0.1", 80)
		tg := target(1, "192.168.1.11", 80, MethodMasq)
		if i%5 == 0 {
			k = key(ProtoUDP, fmt.Sprintf("2001:db8:9::%x", i), 53, "2001:db8::53", 53)
			tg = target(2, "2001:db8::11", 53, MethodRoute)
		}
		pool = append(pool, k)
		if i%3 == 0 {
			continue // never inserted: a miss
		}
		c, _ := tb.Schedule(0, k, &Service{Proto: k.Proto, Port: k.VPort}, fixed(tg), noDest)
		if i%4 == 0 {
			tb.Update(0, c.Ref, DirInput, fSYN) // 60 s (TCP) / 300 s (UDP)
		}
	}
	pool = append(pool, Key{Proto: ProtoTCP}, Key{Proto: ProtoTCP, CAddr: netip.MustParseAddr("1.2.3.4"), VAddr: netip.MustParseAddr("::1")})
	for _, n := range []int{0, 1, 31, 32, 33, 100, 257} {
		now := int64(rng.IntN(4)) * sec // some entries expire at 3 s
		keys := make([]Key, n)
		for i := range keys {
			keys[i] = pool[rng.IntN(len(pool))]
		}
		out := make([]Conn, n)
		found := make([]bool, n)
		tb.LookupBatch(now, keys, out, found)
		for i, k := range keys {
			want, ok := tb.Lookup(now, k)
			if found[i] != ok || out[i] != want {
				t.Fatalf("batch of %d at %v, key %d %v: LookupBatch = %+v, %v; Lookup = %+v, %v", n, time.Duration(now), i, k, out[i], found[i], want, ok)
			}
		}
	}
	if got := testing.AllocsPerRun(100, func() {
		var keys [40]Key
		var out [40]Conn
		var found [40]bool
		for i := range keys {
			keys[i] = pool[i]
		}
		tb.LookupBatch(sec, keys[:], out[:], found[:])
	}); got != 0 {
		t.Errorf("LookupBatch: AllocsPerRun = %v, want 0", got)
	}
	if got := testing.AllocsPerRun(100, func() {
		var keys [40]Key
		var out [40]Hit
		var found [40]bool
		for i := range keys {
			keys[i] = pool[i]
		}
		tb.LookupBatchHits(sec, keys[:], nil, out[:], found[:])
	}); got != 0 {
		t.Errorf("LookupBatchHits: AllocsPerRun = %v, want 0", got)
	}
}

// TestLookupBatchEquivalence drives five tables built alike through the
// same random operations. Packets are looked up one at a time with Lookup
// on table 0, in batches with LookupBatch on table 1 and with
// LookupBatchHits on table 2, and those three are advanced alike with
// Update afterwards. Tables 3 and 4 advance flows during the lookup: table
// 3 one key at a time with Lookup then Update at the key's own time, table
// 4 with LookupBatchHits and Steps. Every result must agree within each
// group, and the tables of a group must stay the same (Stats, per-server
// counters, List). Batches repeat keys and mix IPv4, IPv6, invalid keys,
// templates' keys and entries expiring at the batch's time. The tables are
// small so that expiry and eviction are frequent.
func TestLookupBatchEquivalence(t *testing.T) {
	targets := []Target{
		target(1, "192.168.1.11", 8080, MethodMasq),
		target(2, "192.168.1.12", 0, MethodRoute),
		target(3, "2001:db8::11", 8080, MethodMasq),
		target(4, "2001:db8::12", 0, MethodTunnel),
	}
	for _, cfg := range []Config{
		{MaxConns: 40, Shards: 4, IdleEvict: 30 * time.Second},
		{MaxConns: 600, Shards: 64},
		{MaxConns: 1024, Shards: 512},
	} {
		for seed := uint64(1); seed <= 3; seed++ {
			cfg.Seed = seed
			rng := rand.New(rand.NewPCG(seed, uint64(cfg.Shards)))
			tabs := [5]*Table{newTable(t, cfg), newTable(t, cfg), newTable(t, cfg), newTable(t, cfg), newTable(t, cfg)}
			groups := [][]*Table{tabs[:3], tabs[3:]}
			nAddr := 2 + cfg.Shards/16
			randKey := func() (Key, Target) {
				proto := uint8(ProtoTCP)
				if rng.IntN(4) == 0 {
					proto = ProtoUDP
				}
				i := rng.IntN(2)
				switch rng.IntN(40) {
				case 0:
					return Key{Proto: proto}, targets[i]
				case 1:
					return Key{Proto: proto, CAddr: netip.MustParseAddr("1.2.3.4"), VAddr: netip.MustParseAddr("2001:db8::80")}, targets[i]
				}
				if rng.IntN(3) == 0 {
					return key(proto, fmt.Sprintf("2001:db8:9::%d", rng.IntN(nAddr)), uint16(1000+rng.IntN(4)), "2001:db8::80", 80), targets[2+i]
				}
				return key(proto, fmt.Sprintf("203.0.%d.%d", rng.IntN(2), rng.IntN(nAddr)), uint16(1000+rng.IntN(4)), "10.0.0.1", 80), targets[i]
			}
			now := int64(0)
			hits, batches := 0, 0
			keys := make([]Key, 80)
			conns := make([]Conn, 80)
			hitsOut := make([]Hit, 80)
			found := [3][]bool{make([]bool, 80), make([]bool, 80), make([]bool, 80)}
			steps := make([]Step, 80)
			stepped := make([]Hit, 80)
			stepHits := 0
			for op := range 6000 {
				now += rng.Int64N(sec / 2)
				if rng.IntN(100) == 0 {
					now += rng.Int64N(600 * sec)
				}
				switch what := rng.IntN(20); {
				case what < 8: // new connection, sometimes persistent
					k, tg := randKey()
					svc := &Service{Proto: k.Proto, Port: 80}
					if rng.IntN(3) == 0 {
						svc.PersistTimeout = time.Duration(1+rng.IntN(120)) * time.Second
						svc.Netmask = 0xffffff00
						svc.Prefix6 = 120
					}
					dest := func(scheduler.DestID) (Target, bool) { return tg, true }
					for _, g := range groups {
						c0, s0 := g[0].Schedule(now, k, svc, fixed(tg), dest)
						for j, tb := range g[1:] {
							if c, s := tb.Schedule(now, k, svc, fixed(tg), dest); c != c0 || s != s0 {
								t.Fatalf("%+v op %d: Schedule(%v) = %+v, %v on table %d of its group; %+v, %v on the first", cfg, op, k, c, s, j+1, c0, s0)
							}
						}
					}
				case what < 18: // a batch of packets
					n := 1 + rng.IntN(len(keys))
					for i := range n {
						if i > 0 && rng.IntN(8) == 0 {
							keys[i] = keys[rng.IntN(i)] // the same flow again
						} else {
							keys[i], _ = randKey()
						}
					}
					tabs[1].LookupBatch(now, keys[:n], conns[:n], found[0][:n])
					tabs[2].LookupBatchHits(now, keys[:n], nil, hitsOut[:n], found[1][:n])
					batches++
					// Steps: packets at non-decreasing times from now on,
					// some only looked up.
					kNow := now
					for i := range n {
						kNow += rng.Int64N(sec / 8)
						steps[i] = Step{Now: kNow, TCPFlags: []uint8{fSYN, fSYNACK, fACK, fFINACK, fRST, 0}[rng.IntN(6)], Advance: rng.IntN(4) != 0}
					}
					tabs[4].LookupBatchHits(now, keys[:n], steps[:n], stepped[:n], found[2][:n])
					for i, k := range keys[:n] {
						at := now
						if steps[i].Advance {
							at = steps[i].Now
						}
						want, ok := tabs[3].Lookup(at, k)
						if ok && steps[i].Advance {
							want.State, ok = tabs[3].Update(at, want.Ref, DirInput, steps[i].TCPFlags)
							stepHits++
						}
						wantHit := Hit{Ref: want.Ref, Real: want.Real, Dest: want.Dest, Method: want.Method, State: want.State}
						if found[2][i] != ok || (ok && stepped[i] != wantHit) {
							t.Fatalf("%+v op %d: LookupBatchHits with %+v, key %d of %d (%v) = %+v, %v; Lookup+Update = %+v, %v", cfg, op, steps[i], i, n, k, stepped[i], found[2][i], wantHit, ok)
						}
					}
					for i, k := range keys[:n] {
						want, ok := tabs[0].Lookup(now, k)
						if found[0][i] != ok || (ok && conns[i] != want) {
							t.Fatalf("%+v op %d: LookupBatch key %d of %d (%v) = %+v, %v; Lookup = %+v, %v", cfg, op, i, n, k, conns[i], found[0][i], want, ok)
						}
						wantHit := Hit{Ref: want.Ref, Real: want.Real, Dest: want.Dest, Method: want.Method, State: want.State}
						if found[1][i] != ok || (ok && hitsOut[i] != wantHit) {
							t.Fatalf("%+v op %d: LookupBatchHits key %d of %d (%v) = %+v, %v; Lookup = %+v, %v", cfg, op, i, n, k, hitsOut[i], found[1][i], want, ok)
						}
						if ok {
							hits++
							if want.Client != netip.AddrPortFrom(k.CAddr, k.CPort) || want.Virtual != netip.AddrPortFrom(k.VAddr, k.VPort) || want.Proto != k.Proto || want.Template {
								t.Fatalf("%+v op %d: Lookup(%v) = %+v: not the key's connection", cfg, op, k, want)
							}
						}
					}
					// Advance the flows alike on all tables (Refs agree).
					for i := range n {
						if found[0][i] && rng.IntN(2) == 0 {
							flags := []uint8{fSYN, fSYNACK, fACK, fFINACK, fRST, 0}[rng.IntN(6)]
							for _, tb := range tabs[:3] {
								tb.Update(now, conns[i].Ref, DirInput, flags)
							}
						}
					}
				default:
					budget := 1 + rng.IntN(64)
					for _, tb := range tabs {
						tb.Sweep(now, budget)
					}
				}
				for _, g := range groups {
					s0 := g[0].Stats()
					for j, tb := range g[1:] {
						if s := tb.Stats(); s != s0 {
							t.Fatalf("%+v op %d: Stats = %+v on table %d of its group; %+v on the first", cfg, op, s, j+1, s0)
						}
					}
					for id := scheduler.DestID(1); id <= 4; id++ {
						c0 := g[0].Counters(id)
						for j, tb := range g[1:] {
							c := tb.Counters(id)
							if c.Active.Load() != c0.Active.Load() || c.Inactive.Load() != c0.Inactive.Load() || c.Persist.Load() != c0.Persist.Load() {
								t.Fatalf("%+v op %d: Counters(%d) differ on table %d of its group", cfg, op, id, j+1)
							}
						}
					}
				}
			}
			if st := tabs[0].Stats(); hits < 1000 || stepHits < 500 || st.Expired < 100 {
				t.Fatalf("%+v: %d hits (%d stepped) in %d batches, %d expired: the mix no longer exercises the table", cfg, hits, stepHits, batches, st.Expired)
			}
			if testing.Verbose() {
				st := tabs[0].Stats()
				t.Logf("%+v: %d hits in %d batches, %d expired, %d evicted", cfg, hits, batches, st.Expired, st.Evicted)
			}
			for _, g := range groups {
				l0 := fmt.Sprint(g[0].List(now))
				for j, tb := range g[1:] {
					if l := fmt.Sprint(tb.List(now)); l != l0 {
						t.Fatalf("%+v: List differs on table %d of its group:\n%v\n%v", cfg, j+1, l, l0)
					}
				}
			}
		}
	}
}
