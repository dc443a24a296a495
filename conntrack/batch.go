package conntrack

import (
	"math/bits"
	"net/netip"
	"unsafe"

	"github.com/uvslb/uvs/scheduler"
)

// batchChunk is how many keys LookupBatch resolves together; its working
// arrays live on the stack.
const batchChunk = 32

// Hit is what a packet from the client needs of its connection to be
// forwarded: the part of Conn that LookupBatchHits fills. A connection
// found by a client-side lookup has Client and Virtual equal to the key's
// addresses and ports (without zone), Proto equal to the key's, and is
// never a template.
type Hit struct {
	Ref    Ref
	Real   netip.AddrPort // daddr:dport
	Dest   scheduler.DestID
	Method Method
	State  State
}

// LookupBatch is Lookup for a batch of packets: it sets out[i] and found[i]
// for keys[i] (out and found must be at least len(keys) long). For a chunk
// of 32 keys it hashes every key and requests the cache lines of its home
// slot and the two after it, locks the shards the chunk needs at once, in
// ascending shard order, reads every chain head and requests the first
// entries not yet requested, and only then walks the chains, so that the
// cache misses of different keys overlap instead of being paid one after
// another. Results and effects are those of Lookup at now, key by key.
//
// Lock order: LookupBatch and LookupBatchHits are the only methods that
// hold several shard locks; they take them in ascending index order, and no
// method waits for a shard lock while holding another, so there is no
// cycle.
func (t *Table) LookupBatch(now int64, keys []Key, out []Conn, found []bool) {
	_ = out[:len(keys)]
	_ = found[:len(keys)]
	var c batchChunkState
	for off := 0; off < len(keys); off += batchChunk {
		end := min(off+batchChunk, len(keys))
		ks, fs := keys[off:end], found[off:end]
		t.findChunk(&c, now, ks)
		for i := range ks {
			fs[i] = c.slot[i] >= 0
			if fs[i] {
				si := int(c.si[i])
				t.fillConnLocked(&out[off+i], si, &t.shards[si], uint32(c.slot[i]), now)
			}
		}
		t.unlockChunk(&c)
	}
}

// LookupBatchHits is LookupBatch with a lighter result: for keys[i] it sets
// found[i] and, on a hit, out[i] to the Ref, Real, Dest, Method and State
// that LookupBatch would have put in its Conn (out and found must be at
// least len(keys) long; out[i] is left alone on a miss). It has the same
// effects as Lookup at now (expired entries met on the way are removed).
// It is cheaper than LookupBatch because it does not rebuild the fields a
// packet path already has (Client, Virtual and Proto equal the key's) or
// rarely needs (Expires, Timeout, Control, NoOutput: Get has them).
func (t *Table) LookupBatchHits(now int64, keys []Key, out []Hit, found []bool) {
	_ = out[:len(keys)]
	_ = found[:len(keys)]
	var c batchChunkState
	for off := 0; off < len(keys); off += batchChunk {
		end := min(off+batchChunk, len(keys))
		ks, fs := keys[off:end], found[off:end]
		t.findChunk(&c, now, ks)
		for i := range ks {
			fs[i] = c.slot[i] >= 0
			if fs[i] {
				s := &t.shards[c.si[i]]
				slot := uint32(c.slot[i])
				e := &s.ents[slot]
				h := &out[off+i]
				h.Ref = Ref{idx: uint32(c.si[i])<<t.strideBits | slot, gen: e.gen}
				if e.flags&fV6 == 0 {
					h.Real = netip.AddrPortFrom(addr4(e.daddr), e.dport)
				} else {
					h.Real = netip.AddrPortFrom(netip.AddrFrom16(s.v6[slot][2]), e.dport)
				}
				h.Dest = scheduler.DestID(e.dest)
				h.Method = Method(e.method)
				h.State = State(e.state)
			}
		}
		t.unlockChunk(&c)
	}
}

// batchChunkState is the working state of one chunk of a batch lookup.
type batchChunkState struct {
	ik   [batchChunk]ikey
	si   [batchChunk]uint16
	bkt  [batchChunk]uint32
	head [batchChunk]uint32
	slot [batchChunk]int32 // -1: miss (or invalid key)
	// The shards to lock: a bitmap when the table has at most lockBits
	// shards, else a sorted list.
	lockMap [lockBits / 64]uint64
	locks   [batchChunk]uint16
	nl      int
	pf      [4 * batchChunk]uintptr // addresses to prefetch
}

// entryLast is the offset of an entry's last byte: with the entry's first
// byte it names both cache lines a 52-byte slot may straddle.
const entryLast = unsafe.Sizeof(entry{}) - 1

// homeSpan is how many bytes from the home slot a batch lookup prefetches:
// the home slot and the two after it (at most four cache lines).
const homeSpan = 3 * unsafe.Sizeof(entry{})

// lockBits is the largest shard count for which a chunk collects the
// shards it needs in a bitmap (New picks at most 256 by default).
const lockBits = 256

// findChunk resolves keys (at most batchChunk): c.slot[i] is the slot of
// keys[i]'s live entry in shard c.si[i], or -1. It returns with the shards
// of the hits locked (and possibly others); unlockChunk releases them.
func (t *Table) findChunk(c *batchChunkState, now int64, keys []Key) {
	useMap := len(t.shards) <= lockBits
	c.lockMap = [lockBits / 64]uint64{}
	c.nl = 0
	np := 0
	for i := range keys {
		k := &keys[i]
		ik := &c.ik[i]
		c.slot[i] = -1
		c.head[i] = 0
		if !ik.setAddrs(k.CAddr, k.VAddr) {
			c.si[i] = ^uint16(0)
			continue
		}
		ik.proto, ik.cp, ik.vp = k.Proto, k.CPort, k.VPort
		h := t.hash(ik)
		s, sh := t.shardOf(h)
		c.si[i] = uint16(s)
		c.bkt[i] = sh.home(h)
		// Request now the lines of the home slot and the two after it,
		// where most entries sit (see freeSlotLocked), so that the misses
		// of the whole chunk overlap with each other, the hashing and the
		// locking. (Wider, five slots, measured slower at 1M: more lines
		// than the memory system keeps in flight.) Past the slab's end the
		// addresses may name other memory or none: a prefetch never faults.
		p := uintptr(unsafe.Pointer(&sh.ents[c.bkt[i]]))
		c.pf[np], c.pf[np+1], c.pf[np+2], c.pf[np+3] = p, p+64, p+128, p+homeSpan-1
		np += 4
		if useMap {
			c.lockMap[s>>6] |= 1 << (s & 63)
			continue
		}
		// Insert s into the sorted set of shards to lock.
		j := c.nl
		for j > 0 && c.locks[j-1] > uint16(s) {
			j--
		}
		if j == 0 || c.locks[j-1] != uint16(s) {
			copy(c.locks[j+1:c.nl+1], c.locks[j:c.nl])
			c.locks[j] = uint16(s)
			c.nl++
		}
	}
	prefetchAll(&c.pf[0], np)
	t.lockChunk(c)
	// By now the home slots' lines are on their way (or here). Read the
	// chain heads and have the first entries of chains that start beyond
	// the prefetched slots requested too, before any key is compared.
	np = 0
	for i := range keys {
		if c.si[i] == ^uint16(0) {
			continue
		}
		ents := t.shards[c.si[i]].ents
		h := ents[c.bkt[i]].head
		c.head[i] = h
		if h != 0 && (h-1 < c.bkt[i] || h-1 >= c.bkt[i]+uint32(homeSpan/unsafe.Sizeof(entry{}))) {
			p := uintptr(unsafe.Pointer(&ents[h-1]))
			c.pf[np], c.pf[np+1] = p, p+entryLast
			np += 2
		}
	}
	prefetchAll(&c.pf[0], np)
	// Walk the chains (all loaded or on their way by now).
	for i := range keys {
		if c.head[i] != 0 {
			c.slot[i] = int32(t.findInLocked(&t.shards[c.si[i]], c.bkt[i], &c.ik[i], now))
		}
	}
}

func (t *Table) lockChunk(c *batchChunkState) {
	if len(t.shards) > lockBits {
		for _, s := range c.locks[:c.nl] {
			t.shards[s].mu.Lock()
		}
		return
	}
	for w, m := range c.lockMap {
		for m != 0 {
			t.shards[w<<6|bits.TrailingZeros64(m)].mu.Lock()
			m &= m - 1
		}
	}
}

func (t *Table) unlockChunk(c *batchChunkState) {
	if len(t.shards) > lockBits {
		for _, s := range c.locks[:c.nl] {
			t.shards[s].mu.Unlock()
		}
		return
	}
	for w, m := range c.lockMap {
		for m != 0 {
			t.shards[w<<6|bits.TrailingZeros64(m)].mu.Unlock()
			m &= m - 1
		}
	}
}
