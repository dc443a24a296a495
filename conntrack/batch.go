package conntrack

import "sync/atomic"

// batchChunk is how many keys LookupBatch resolves together; its working
// arrays live on the stack.
const batchChunk = 32

// LookupBatch is Lookup for a batch of packets: it sets out[i] and found[i]
// for keys[i] (out and found must be at least len(keys) long). It locks the
// shards a chunk of keys needs at once, in ascending shard order, then reads
// every home slot, then touches every first entry, before walking the
// chains, so that the cache misses of different keys overlap instead of
// being paid one after another. Results are those of Lookup at now.
//
// Lock order: LookupBatch is the only method that holds several shard locks;
// it takes them in ascending index order, and no method waits for a shard
// lock while holding another, so there is no cycle.
func (t *Table) LookupBatch(now int64, keys []Key, out []Conn, found []bool) {
	_ = out[:len(keys)]
	_ = found[:len(keys)]
	for off := 0; off < len(keys); off += batchChunk {
		end := min(off+batchChunk, len(keys))
		t.lookupChunk(now, keys[off:end], out[off:end], found[off:end])
	}
}

func (t *Table) lookupChunk(now int64, keys []Key, out []Conn, found []bool) {
	var (
		ik    [batchChunk]ikey
		valid [batchChunk]bool
		si    [batchChunk]uint16
		bkt   [batchChunk]uint32
		head  [batchChunk]uint32
		locks [batchChunk]uint16 // distinct shards, ascending
	)
	nl := 0
	for i := range keys {
		k := &keys[i]
		found[i] = false
		if !ik[i].setAddrs(k.CAddr, k.VAddr) {
			continue
		}
		valid[i] = true
		ik[i].proto, ik[i].cp, ik[i].vp = k.Proto, k.CPort, k.VPort
		h := t.hash(&ik[i])
		s, sh := t.shardOf(h)
		si[i] = uint16(s)
		bkt[i] = sh.home(h)
		// Insert s into the sorted set of shards to lock.
		j := nl
		for j > 0 && locks[j-1] > uint16(s) {
			j--
		}
		if j == 0 || locks[j-1] != uint16(s) {
			copy(locks[j+1:nl+1], locks[j:nl])
			locks[j] = uint16(s)
			nl++
		}
	}
	for _, s := range locks[:nl] {
		t.shards[s].mu.Lock()
	}
	// Independent loads first: every home slot (and the slots after it),
	// then every first entry of a chain, so that the cache misses of
	// different keys overlap. The touching loads are atomic only so that the
	// compiler keeps them.
	for i := range keys {
		if valid[i] {
			s := &t.shards[si[i]]
			head[i] = s.ents[bkt[i]].head
			s.prefetchLocked(bkt[i])
		}
	}
	for i := range keys {
		if h := head[i]; h != 0 {
			atomic.LoadUint32(&t.shards[si[i]].ents[h-1].caddr)
		}
	}
	for i := range keys {
		if !valid[i] {
			continue
		}
		s := &t.shards[si[i]]
		if slot := t.findLocked(s, bkt[i], &ik[i], now, false); slot >= 0 {
			t.fillConnLocked(&out[i], int(si[i]), s, uint32(slot), now)
			found[i] = true
		}
	}
	for _, s := range locks[:nl] {
		t.shards[s].mu.Unlock()
	}
}
