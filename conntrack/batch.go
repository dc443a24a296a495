package conntrack

import (
	"math/bits"
	"net/netip"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/uvslb/uvs/scheduler"
)

// batchChunk is how many keys a batched lookup resolves together; its
// working arrays live on the stack.
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

// Step asks a batched lookup to advance the connection it finds by one
// packet from the client: with Advance set, the key's entry is judged at
// Now (not the batch's time) and, if live, changed exactly as
// Update(Now, ref, DirInput, TCPFlags) would change it right after the
// lookup, under the same shard lock, so that a packet on an established
// flow costs one lock instead of two. The Hit then carries the state after
// the packet.
type Step struct {
	Now      int64
	TCPFlags uint8
	Advance  bool
}

// LookupBatch is Lookup for a batch of packets: it sets out[i] and found[i]
// for keys[i] (out and found must be at least len(keys) long). Chunk by
// chunk of 32 keys, it first hashes every key and requests the cache lines
// of its home slot and the two after it, then reads every chain head (an
// atomic read, only a hint at this point) and requests the first entries
// not yet requested, and only then walks the chains, taking each lock the
// chunk needs once (Config.Locks) and handling its keys, so that the cache
// misses of different keys overlap instead of being paid one after another
// and locks are not paid per key. Results and effects are those of Lookup
// at now, key by key: keys of one connection are handled in order.
func (t *Table) LookupBatch(now int64, keys []Key, out []Conn, found []bool) {
	_ = out[:len(keys)]
	_ = found[:len(keys)]
	var c batchChunkState
	for off := 0; off < len(keys); off += batchChunk {
		ks := keys[off:min(off+batchChunk, len(keys))]
		fs := found[off : off+len(ks)]
		clear(fs)
		for todo := t.prepChunk(&c, ks); todo != 0; {
			mu, group := t.stripeGroup(&c, todo)
			todo &^= group
			mu.Lock()
			for ; group != 0; group &= group - 1 {
				i := bits.TrailingZeros32(group)
				si := int(c.si[i])
				s := &t.shards[si]
				if slot := t.findInLocked(s, c.bkt[i], &c.ik[i], now); slot >= 0 {
					fs[i] = true
					t.fillConnLocked(&out[off+i], si, s, uint32(slot), now)
				}
			}
			mu.Unlock()
		}
	}
}

// LookupBatchHits is LookupBatch with a lighter result and optional state
// changes: for keys[i] it sets found[i] and, on a hit, out[i] to the Ref,
// Real, Dest, Method and State that LookupBatch would have put in its Conn
// (out and found must be at least len(keys) long; out[i] is left alone on
// a miss). steps is nil (look up only) or as long as keys: steps[i] with
// Advance set applies key i's packet as Update would (see Step). Keys are
// handled as by LookupBatch, with the same effects as Lookup (expired
// entries met on the way are removed) followed, for stepped hits, by
// Update.
//
// It is cheaper than LookupBatch because it does not rebuild the fields a
// packet path already has (Client, Virtual and Proto equal the key's) or
// rarely needs (Expires, Timeout, Control, NoOutput: Get has them).
func (t *Table) LookupBatchHits(now int64, keys []Key, steps []Step, out []Hit, found []bool) {
	_ = out[:len(keys)]
	_ = found[:len(keys)]
	if steps != nil {
		_ = steps[:len(keys)]
	}
	var c batchChunkState
	for off := 0; off < len(keys); off += batchChunk {
		ks := keys[off:min(off+batchChunk, len(keys))]
		fs := found[off : off+len(ks)]
		clear(fs)
		for todo := t.prepChunk(&c, ks); todo != 0; {
			mu, group := t.stripeGroup(&c, todo)
			todo &^= group
			mu.Lock()
			for ; group != 0; group &= group - 1 {
				i := bits.TrailingZeros32(group)
				kNow, adv, flags := now, false, uint8(0)
				if steps != nil {
					if st := &steps[off+i]; st.Advance {
						kNow, adv, flags = st.Now, true, st.TCPFlags
					}
				}
				si := uint32(c.si[i])
				s := &t.shards[si]
				slot := t.findInLocked(s, c.bkt[i], &c.ik[i], kNow)
				if slot < 0 {
					continue
				}
				e := &s.ents[slot]
				state := State(e.state)
				if adv {
					state = t.updateLocked(s, e, kNow, DirInput, flags)
				}
				h := &out[off+i]
				h.Ref = Ref{idx: si<<t.strideBits | uint32(slot), gen: e.gen}
				if e.flags&fV6 == 0 {
					h.Real = netip.AddrPortFrom(addr4(e.daddr), e.dport)
				} else {
					h.Real = netip.AddrPortFrom(netip.AddrFrom16(s.v6[slot][2]), e.dport)
				}
				h.Dest = scheduler.DestID(e.dest)
				h.Method = Method(e.method)
				h.State = state
				fs[i] = true
			}
			mu.Unlock()
		}
	}
}

// stripeGroup returns the lock of the first key in todo (a set of chunk
// indices) and the keys of todo under the same lock. Handling a chunk
// group by group takes each lock once; the keys of one connection always
// share a shard, so they are still handled in order.
func (t *Table) stripeGroup(c *batchChunkState, todo uint32) (*sync.Mutex, uint32) {
	lk := c.lk[bits.TrailingZeros32(todo)]
	var group uint32
	for m := todo; m != 0; m &= m - 1 {
		i := bits.TrailingZeros32(m)
		if c.lk[i] == lk {
			group |= 1 << i
		}
	}
	return &t.locks[lk].mu, group
}

// noShard marks a key that cannot be in the table (mixed families).
const noShard = ^uint16(0)

// batchChunkState is the working state of one chunk of a batch lookup.
type batchChunkState struct {
	ik  [batchChunk]ikey
	si  [batchChunk]uint16 // noShard: invalid key
	lk  [batchChunk]uint16 // index of the key's lock in Table.locks
	bkt [batchChunk]uint32
	pf  [4 * batchChunk]uintptr // addresses to prefetch
}

// entryLast is the offset of an entry's last byte: with the entry's first
// byte it names both cache lines a 52-byte slot may straddle.
const entryLast = unsafe.Sizeof(entry{}) - 1

// homeSlots is how many slots from the home slot on a batch lookup requests
// up front: the home slot and the two after it (at most four cache lines),
// where most entries sit (see freeSlotLocked). One slot measured slower at
// 1M entries (the entries a slot or two past home then cost a second round
// trip), five slower too (more lines than the memory system keeps in
// flight).
const homeSlots = 3

// prepChunk hashes keys (at most batchChunk) into c, returns the set of
// those that can be in the table (bit i for keys[i]) and brings their cache
// lines on their way without taking any lock: first the home slots and
// the slots after them, then, once those have had time to arrive, the
// first entry of every chain that starts elsewhere. The chain heads are
// read atomically and only as prefetch hints (every write of a head is an
// atomic store, see setHead); the walk under the shard lock reads them
// again.
func (t *Table) prepChunk(c *batchChunkState, keys []Key) (valid uint32) {
	np := 0
	for i := range keys {
		k := &keys[i]
		ik := &c.ik[i]
		if !ik.setAddrs(k.CAddr, k.VAddr) {
			c.si[i] = noShard
			continue
		}
		valid |= 1 << i
		ik.proto, ik.cp, ik.vp = k.Proto, k.CPort, k.VPort
		h := t.hash(ik)
		s, sh := t.shardOf(h)
		c.si[i] = uint16(s)
		c.lk[i] = uint16(s) & uint16(len(t.locks)-1)
		c.bkt[i] = sh.home(h)
		// Past the slab's end the addresses may name other memory or
		// none: a prefetch never faults.
		p := uintptr(unsafe.Pointer(&sh.ents[c.bkt[i]]))
		const span = homeSlots * unsafe.Sizeof(entry{})
		c.pf[np], c.pf[np+1], c.pf[np+2], c.pf[np+3] = p, p+64, p+128, p+span-1
		np += 4
	}
	prefetchAll(&c.pf[0], np)
	np = 0
	for i := range keys {
		if c.si[i] == noShard {
			continue
		}
		ents := t.shards[c.si[i]].ents
		b := c.bkt[i]
		h := atomic.LoadUint32(&ents[b].head)
		if h != 0 && h-1 < uint32(len(ents)) && (h-1 < b || h-1 >= b+homeSlots) {
			p := uintptr(unsafe.Pointer(&ents[h-1]))
			c.pf[np], c.pf[np+1] = p, p+entryLast
			np += 2
		}
	}
	if np > 0 {
		prefetchAll(&c.pf[0], np)
	}
	return valid
}
