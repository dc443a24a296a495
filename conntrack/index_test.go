package conntrack

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/uvslb/uvs/scheduler"
)

// TestMatchWord checks the SWAR tag match against a byte-by-byte reference on random and edge-case words.
func TestMatchWord(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	words := []uint64{0, ^uint64(0), 0x8080808080808080, 0x7f7f7f7f7f7f7f7f, 0x0100ff7f80018100}
	for range 2000 {
		w := rng.Uint64()
		// Plant some bytes equal to a likely tag so that matches happen.
		for j := range 8 {
			if rng.IntN(3) == 0 {
				w = w&^(0xff<<(8*j)) | uint64(rng.IntN(4)+0x7e*rng.IntN(2))<<(8*j)
			}
		}
		words = append(words, w)
	}
	for _, w := range words {
		for _, tag := range []uint8{0, 1, 2, 3, 0x7e, 0x7f} {
			var want uint64
			for j := range 8 {
				if uint8(w>>(8*j))&tagMask == tag {
					want |= 0x80 << (8 * j)
				}
			}
			if got := matchWord(w, tag); got != want {
				t.Fatalf("matchWord(%#016x, %#x) = %#016x, want %#016x", w, tag, got, want)
			}
		}
	}
	for h := uint64(0); h < 1<<16; h += 7 {
		if tg := tagOf(h << 32); tg < 1 || tg > tagMask {
			t.Fatalf("tagOf(%#x) = %d, out of 1..127", h<<32, tg)
		}
	}
}

// checkIndex verifies the index of every shard against the slabs: each
// live entry (not an invalidated template) is either tagged in its home's
// window or on its home's far chain, never both; tags of other slots are
// 0; far bits say exactly which far chains are non-empty; chains hold only
// entries of their home placed outside its window; the padding is zero;
// no two indexed entries share a key and kind.
func checkIndex(t *testing.T, tb *Table) (far int) {
	t.Helper()
	type kk struct {
		k    ikey
		tmpl bool
	}
	seen := map[kk]uint32{}
	for si := range tb.shards {
		s := &tb.shards[si]
		n := uint32(len(s.ents))
		for w := (n + 7) / 8; w < uint32(len(s.tags)); w++ {
			if s.tags[w] != 0 && w > (n-1)/8 {
				t.Fatalf("shard %d: padding word %d = %#x", si, w, s.tags[w])
			}
		}
		onChain := map[uint32]uint32{} // slot → home
		for b := range n {
			head := s.heads[b]
			if s.far(b) != (head != 0) {
				t.Fatalf("shard %d home %d: far bit %v, chain head %d", si, b, s.far(b), head)
			}
			steps := uint32(0)
			for cur := head; cur != 0; cur = s.ents[cur-1].next {
				if steps++; steps > n {
					t.Fatalf("shard %d home %d: chain loops", si, b)
				}
				slot := cur - 1
				if _, dup := onChain[slot]; dup {
					t.Fatalf("shard %d: slot %d on two chains", si, slot)
				}
				onChain[slot] = b
				if inWindow(b, slot) {
					t.Fatalf("shard %d home %d: chained slot %d is in the window", si, b, slot)
				}
			}
		}
		for slot := range n {
			e := &s.ents[slot]
			tag := s.tagByte(slot) & tagMask
			if e.flags&fUsed == 0 || e.flags&fUnlinked != 0 {
				if tag != 0 {
					t.Fatalf("shard %d slot %d (flags %#x): tag %d on an unindexed slot", si, slot, e.flags, tag)
				}
				if hb, ok := onChain[slot]; ok {
					t.Fatalf("shard %d slot %d (flags %#x): on home %d's chain", si, slot, e.flags, hb)
				}
				continue
			}
			k := s.entryKeyLocked(slot)
			h := tb.hash(&k)
			if hs, _ := tb.shardOf(h); hs != si {
				t.Fatalf("slot %d of shard %d hashes to shard %d", slot, si, hs)
			}
			b := s.home(h)
			if inWindow(b, slot) {
				if tag != k.tag {
					t.Fatalf("shard %d slot %d (home %d): tag %d, want %d", si, slot, b, tag, k.tag)
				}
				if _, ok := onChain[slot]; ok {
					t.Fatalf("shard %d slot %d: tagged and chained", si, slot)
				}
			} else {
				if tag != 0 {
					t.Fatalf("shard %d slot %d (home %d, outside its window): tag %d", si, slot, b, tag)
				}
				if hb, ok := onChain[slot]; !ok || hb != b {
					t.Fatalf("shard %d slot %d (home %d, outside its window): on chain %v (%d)", si, slot, b, ok, hb)
				}
				far++
			}
			id := kk{k, e.flags&fTemplate != 0}
			if other, dup := seen[id]; dup {
				t.Fatalf("shard %d: slots %d and %d have the same key %+v", si, other, slot, id)
			}
			seen[id] = slot
		}
	}
	return far
}

// crowdedKeys returns n keys of vip:80 (protocol proto) whose home slots
// all fall in the windows starting at ws and ws+8 of tb's only shard, and
// n client addresses whose persistence templates for vip:80 do the same.
func crowdedKeys(t *testing.T, tb *Table, vip netip.Addr, n int) (conns []Key, clients []netip.Addr) {
	t.Helper()
	s := &tb.shards[0]
	ws := uint32(len(s.ents)/2) &^ 7
	crowded := func(k Key, persist bool) bool {
		var ik ikey
		ik.setAddrs(k.CAddr, k.VAddr)
		ik.proto, ik.cp, ik.vp = k.Proto, k.CPort, k.VPort
		if persist {
			ik = templateKey(&ik, &Service{Proto: k.Proto, Port: k.VPort, PersistTimeout: time.Minute, Netmask: 0xffffffff})
		}
		b := s.home(tb.hash(&ik))
		return windowStart(b) == ws || windowStart(b) == ws+8
	}
	for i := 0; i < 1<<20 && (len(conns) < n || len(clients) < n); i++ {
		c := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		k := Key{Proto: ProtoTCP, CAddr: c, CPort: uint16(1024 + i%7), VAddr: vip, VPort: 80}
		if len(conns) < n && crowded(k, false) {
			conns = append(conns, k)
		}
		if len(clients) < n && crowded(k, true) {
			clients = append(clients, c)
		}
	}
	if len(conns) < n || len(clients) < n {
		t.Fatalf("found %d crowded keys and %d clients, want %d", len(conns), len(clients), n)
	}
	return conns, clients
}

// scanLive finds k's live connection by scanning every slot, ignoring the
// index: the reference for lookups.
func scanLive(tb *Table, k Key, now int64) (Ref, bool) {
	var ik ikey
	if !ik.setAddrs(k.CAddr, k.VAddr) {
		return Ref{}, false
	}
	ik.proto, ik.cp, ik.vp = k.Proto, k.CPort, k.VPort
	for si := range tb.shards {
		s := &tb.shards[si]
		for slot := range uint32(len(s.ents)) {
			e := &s.ents[slot]
			if e.flags&fUsed == 0 || e.flags&(fUnlinked|fTemplate) != 0 || !s.matchInLocked(slot, &ik, false) {
				continue
			}
			if int32(nowTicks(now)-e.expires) >= 0 {
				continue
			}
			return Ref{idx: uint32(si)<<tb.strideBits | slot, gen: e.gen}, true
		}
	}
	return Ref{}, false
}

// TestIndexCrowded drives a one-shard table whose keys and templates all
// crowd into two overlapping windows, so that far chains form, grow and
// empty, through every operation that touches the index (inserts with and
// without persistence, packets, lookups from both sides, batched lookups
// with steps, expiry, invalidated templates, eviction, sweeps). After
// every operation the index must match the slab (checkIndex), and every
// lookup must find what a scan of the whole slab finds.
func TestIndexCrowded(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			tb := newTable(t, Config{MaxConns: 200, Shards: 1, Seed: seed})
			vip := netip.MustParseAddr("10.255.0.1")
			conns, clients := crowdedKeys(t, tb, vip, 90)
			tgs := []Target{target(1, "192.168.1.11", 8080, MethodMasq), target(2, "192.168.1.12", 8080, MethodMasq)}
			plain := &Service{Proto: ProtoTCP, Port: 80}
			persist := &Service{Proto: ProtoTCP, Port: 80, PersistTimeout: time.Minute, Netmask: 0xffffffff}
			dest := func(id scheduler.DestID) (Target, bool) {
				if id == 1 || id == 2 {
					// Dest 2 is sometimes gone: its templates get invalidated.
					return tgs[id-1], id == 1 || rng.IntN(2) == 0
				}
				return Target{}, false
			}
			now := int64(1e12)
			maxFar := 0
			for op := range 6000 {
				now += rng.Int64N(int64(3 * time.Second))
				k := conns[rng.IntN(len(conns))]
				switch r := rng.IntN(20); {
				case r < 4:
					tb.Schedule(now, k, plain, fixed(tgs[rng.IntN(2)]), dest)
				case r < 6:
					c := clients[rng.IntN(len(clients))]
					pk := Key{Proto: ProtoTCP, CAddr: c, CPort: uint16(2000 + rng.IntN(4)), VAddr: vip, VPort: 80}
					tb.Schedule(now, pk, persist, fixed(tgs[rng.IntN(2)]), dest)
				case r < 10:
					want, wok := scanLive(tb, k, now)
					c, ok := tb.Lookup(now, k)
					if ok != wok || ok && c.Ref != want {
						t.Fatalf("op %d: Lookup(%v) = %v %v, scan finds %v %v", op, k, c.Ref, ok, want, wok)
					}
					if ok {
						tb.Update(now, c.Ref, Dir(rng.IntN(2)), []uint8{fSYN, fACK, fFINACK, fRST}[rng.IntN(4)])
						o, ook := tb.LookupOut(now, k.Proto, c.Real.Addr(), c.Real.Port(), k.CAddr, k.CPort)
						if !ook || o.Ref != c.Ref {
							t.Fatalf("op %d: LookupOut for %v = %v %v, want %v", op, k, o.Ref, ook, c.Ref)
						}
					}
				case r < 13:
					var keys [40]Key
					var want [40]Ref
					var wok [40]bool
					var steps [40]Step
					for i := range keys {
						keys[i] = conns[rng.IntN(len(conns))]
						steps[i] = Step{Now: now, TCPFlags: fACK, Advance: rng.IntN(2) == 0}
					}
					// Duplicates within the batch: the scan is right for
					// the first of each key only if no step or expiry
					// intervenes, so compare the first occurrence.
					first := map[Key]bool{}
					for i := range keys {
						want[i], wok[i] = scanLive(tb, keys[i], now)
					}
					var out [40]Hit
					var found [40]bool
					tb.LookupBatchHits(now, keys[:], steps[:], out[:], found[:])
					for i := range keys {
						if first[keys[i]] {
							continue
						}
						first[keys[i]] = true
						if found[i] != wok[i] || found[i] && out[i].Ref != want[i] {
							t.Fatalf("op %d: LookupBatchHits key %d %v = %v %v, scan finds %v %v", op, i, keys[i], out[i].Ref, found[i], want[i], wok[i])
						}
					}
				case r < 15:
					if ref, ok := scanLive(tb, k, now); ok {
						if !tb.Expire(ref) {
							t.Fatalf("op %d: Expire(%v) of a live connection = false", op, k)
						}
					}
				case r < 16:
					tb.Sweep(now, 1+rng.IntN(64))
				default:
					// Let time pass: SYN_RECV and templates expire.
					now += rng.Int64N(int64(40 * time.Second))
				}
				if f := checkIndex(t, tb); f > maxFar {
					maxFar = f
				}
			}
			if maxFar < 8 {
				t.Fatalf("at most %d entries on far chains: the test did not exercise them", maxFar)
			}
			t.Logf("up to %d entries on far chains", maxFar)
		})
	}
}
