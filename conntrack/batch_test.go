package conntrack

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
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
}
