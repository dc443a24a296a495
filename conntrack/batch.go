package conntrack

import (
	"encoding/binary"
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
// chunk of 32 keys, it first hashes every key and requests the tags of its
// window, then reads them (atomically, only hints at this point) and
// requests the entries they point to (see prepChunk), and only then looks
// the keys up, taking each lock the
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
				if slot := t.findCandLocked(s, c.bkt[i], &c.ik[i], now, c.cand[i]); slot >= 0 {
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
				slot := t.findCandLocked(s, c.bkt[i], &c.ik[i], kNow, c.cand[i])
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

// stripeGroup returns a lock and the keys of todo (a set of chunk indices,
// those not handled yet) under it: the next group prepChunk made, else
// the lock of the first key in todo and the keys of todo under it. Handling a chunk
// group by group takes each lock once; the keys of one connection always
// share a shard, so they are still handled in order.
func (t *Table) stripeGroup(c *batchChunkState, todo uint32) (*sync.Mutex, uint32) {
	if c.used != 0 {
		l := bits.TrailingZeros64(c.used)
		c.used &= c.used - 1
		group := c.groups[l]
		c.groups[l] = 0
		return &t.locks[l].mu, group
	}
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
	// cand is where prepChunk saw the key's tag: bit d for slot d of the
	// key's window.
	cand [batchChunk]uint32
	pf   [3 * batchChunk]uintptr // addresses to prefetch
	// groups[l] is the set of keys (bit i for key i) under lock l, for the
	// first maxChunkLocks locks; used has bit l set when groups[l] is not
	// empty. Both are left empty by stripeGroup.
	groups [maxChunkLocks]uint32
	used   uint64
}

// maxChunkLocks is how many locks a table may have for prepChunk to group
// a chunk's keys by lock as it hashes them; tables with more (Config.Locks
// above 64) group by scanning.
const maxChunkLocks = 64

// entryLast is the offset of an entry's last byte: with the entry's first
// byte it names both cache lines a 48-byte slot may straddle.
const entryLast = unsafe.Sizeof(entry{}) - 1

// prepChunk hashes keys (at most batchChunk) into c, returns the set of
// those that can be in the table (bit i for keys[i]) and brings their cache
// lines on their way without taking any lock, in two rounds: first the tags
// of every key's window (see index.go), then, once those have had time to
// arrive, the entry whose tag matches the key's, or, when none does (a new
// connection, most likely), the slot an insert would take, and the home
// slot (its far chain's head) when the tags say it has one. The tags are
// read atomically and only as hints; the lookup under the shard lock reads
// them again.
func (t *Table) prepChunk(c *batchChunkState, keys []Key) (valid uint32) {
	np := 0
	for i := range keys {
		k := &keys[i]
		ik := &c.ik[i]
		ik.proto, ik.cp, ik.vp = k.Proto, k.CPort, k.VPort
		var h uint64
		if k.CAddr.Is4() && k.VAddr.Is4() {
			// setAddrs and hash, inlined for IPv4.
			ca, va := k.CAddr.As4(), k.VAddr.As4()
			ik.ca, ik.va, ik.v6 = binary.BigEndian.Uint32(ca[:]), binary.BigEndian.Uint32(va[:]), false
			h = mix((uint64(ik.ca)<<32 | uint64(ik.cp)<<8 | uint64(ik.proto)) ^ t.seed)
			ik.tag = tagOf(h)
		} else {
			if !ik.setAddrs(k.CAddr, k.VAddr) {
				c.si[i] = noShard
				continue
			}
			h = t.hash(ik)
		}
		valid |= 1 << i
		s, sh := t.shardOf(h)
		c.si[i] = uint16(s)
		lk := uint16(s) & uint16(len(t.locks)-1)
		c.lk[i] = lk
		if len(t.locks) <= maxChunkLocks {
			c.groups[lk] |= 1 << i
			c.used |= 1 << lk
		}
		b := sh.home(h)
		c.bkt[i] = b
		p := uintptr(unsafe.Pointer(&sh.tags[windowStart(b)>>3]))
		c.pf[np], c.pf[np+1] = p, p+tagWindow-1
		np += 2
	}
	prefetchAll(&c.pf[0], np)
	np = 0
	for m := valid; m != 0; m &= m - 1 {
		i := bits.TrailingZeros32(m)
		sh := &t.shards[c.si[i]]
		b := c.bkt[i]
		// candidateHint with its loads inlined (calling it measured ≈ 0.5 ns
		// per key slower at 1M).
		w := sh.window(b)
		x0, x1 := atomic.LoadUint64(&w[0]), atomic.LoadUint64(&w[1])
		x2, x3 := atomic.LoadUint64(&w[2]), atomic.LoadUint64(&w[3])
		far := x0>>((b&7)*8)&tagFar != 0
		cand := windowMask(x0, x1, x2, x3, c.ik[i].tag, b)
		c.cand[i] = cand
		// The first candidate in insertion order (the key's entry, most
		// likely: a false match ahead of it costs a cache miss later),
		// else the slot an insert would take.
		slot := int32(rotSlot(b, bits.TrailingZeros32(cand)))
		if cand == 0 {
			slot = sh.freeHint(b)
		}
		if slot >= 0 && int(slot) < len(sh.ents) {
			p := uintptr(unsafe.Pointer(&sh.ents[slot]))
			c.pf[np], c.pf[np+1] = p, p+entryLast
			np += 2
		}
		if far {
			c.pf[np] = uintptr(unsafe.Pointer(&sh.heads[b]))
			np++
		}
	}
	if np > 0 {
		prefetchAll(&c.pf[0], np)
	}
	return valid
}
