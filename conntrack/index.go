package conntrack

import (
	"math/bits"
	"sync/atomic"
	"unsafe"
)

// The hash index.
//
// A key hashes to a home slot b in its shard's slab. The slots of b's
// window, [b&^7, b&^7+tagWindow), are where its entries are placed when
// one is free (the window is clipped at the slab's end). Each slot has a tag
// byte in the shard's tag array: the low 7 bits are a digest of the key
// (tagOf) of the entry in the slot when that entry sits in its home's window,
// 0 otherwise (a free slot, an entry on a far chain, an invalidated
// template). An entry whose window was full is placed anywhere in the shard
// and linked on its home slot's far chain (shard.heads, entry.next), and
// the home slot's tag byte carries tagFar while that chain is not empty.
//
// A lookup reads the window's tags (32 bytes: a cache line or two, in a
// 1-byte-per-slot array small enough to stay in the cache far more than
// the slab does), compares only the entries whose tag matches (one 7-bit
// tag: a false match for about one lookup in five, in a full window) and
// walks the far chain only when the home slot says it has one. So a batched
// lookup touches the one or two cache lines of the entry itself (1.5 on
// average: 48-byte entries), where the earlier layout, the slab as its own
// hash index with chain heads in the slots, requested the three or four
// lines of the home slot and the two after it. Inserts fill a window from
// the home slot on, then from the window's start, and lookups try the
// candidates in that order, so a false tag match rarely comes first.
//
// Whether an entry is on the window index or on a far chain follows from
// its place: inside its home's window, on the index; outside, on the chain.
// A key has at most one indexed-or-chained entry of each kind (connection,
// template) at a time: every insert first replaces the entry with its key.
//
// Tags are written only under the shard lock, a whole word at a time with
// atomic stores, so that a batched lookup may read them without the lock as
// prefetch hints (prepChunk); reads under the lock need no atomics.

const (
	// tagWindow is how many slots a window has: 32 slots of 48 bytes span
	// 24 cache lines but only 32 tag bytes, and leave a full table (83%
	// occupied, see New) few windows without a free slot (1.3% of the
	// entries of a full 1M table end up on far chains).
	tagWindow = 32
	// tagPadWords is how many zero words follow a shard's tags, so that
	// every window is tagWindow/8 whole words.
	tagPadWords = tagWindow / 8
	tagMask     = 0x7f // the key digest bits of a tag byte
	tagFar      = 0x80 // in the home slot's byte: its far chain is not empty
	lsb         = 0x0101010101010101
)

// tagOf is the key digest of hash h, 1..127; it uses hash bits that pick
// neither the shard (top bits) nor the home slot (low 32 bits).
func tagOf(h uint64) uint8 { return uint8(uint64(uint16(h>>32))*tagMask>>16) + 1 }

// windowStart is the first slot of home slot b's window.
func windowStart(b uint32) uint32 { return b &^ 7 }

// inWindow reports whether slot is in home slot b's window.
func inWindow(b, slot uint32) bool { return slot-windowStart(b) < tagWindow }

// matchWord returns, for the 8 tag bytes in w, a mask with bit 8j+7 set
// for each byte j whose digest bits equal tag (tag 0: no indexed entry).
// The test is exact: no carry crosses bytes because the digest bits are
// below the top bit.
func matchWord(w uint64, tag uint8) uint64 {
	z := w&(tagMask*lsb) ^ uint64(tag)*lsb
	return ^((z + tagMask*lsb) | z) & (0x80 * lsb)
}

// window returns the tag words of home slot b's window.
func (s *shard) window(b uint32) *[tagWindow / 8]uint64 {
	return (*[tagWindow / 8]uint64)(s.tags[windowStart(b)>>3:])
}

// matchSlot is the slot of the lowest byte marked in m, a matchWord result
// for word wi of the window starting at ws.
func matchSlot(ws uint32, wi int, m uint64) uint32 {
	return ws + uint32(wi)*8 + uint32(bits.TrailingZeros64(m))>>3
}

// windowMask returns, for the tag words x0..x3 of home slot b's window,
// the slots whose tag is tag in the order inserts fill the window: bit d
// for slot rotSlot(b, d), from b to the window's end, then from its start.
// It has no data-dependent branch: where in the window a key's entry sits
// is as random as the hash.
func windowMask(x0, x1, x2, x3 uint64, tag uint8, b uint32) uint32 {
	m := uint32(compress(matchWord(x0, tag))) | uint32(compress(matchWord(x1, tag)))<<8 |
		uint32(compress(matchWord(x2, tag)))<<16 | uint32(compress(matchWord(x3, tag)))<<24
	return bits.RotateLeft32(m, -int(b&7))
}

// candidateHint reads b's window without the shard lock (atomic reads,
// only hints: the tags may change meanwhile) and returns windowMask for
// tag and whether b's far chain is non-empty.
func (s *shard) candidateHint(b uint32, tag uint8) (m uint32, far bool) {
	w := s.window(b)
	x0, x1 := atomic.LoadUint64(&w[0]), atomic.LoadUint64(&w[1])
	x2, x3 := atomic.LoadUint64(&w[2]), atomic.LoadUint64(&w[3])
	far = x0>>((b&7)*8)&tagFar != 0 // b is in the window's first word
	return windowMask(x0, x1, x2, x3, tag, b), far
}

// rotSlot is the slot of bit d of a windowMask for home b.
func rotSlot(b uint32, d int) uint32 { return windowStart(b) + (b&7+uint32(d))%tagWindow }

// compress gathers the top bit of each byte of m (as matchWord marks
// them) into the low 8 bits, byte j to bit j. The multiplication's
// partial products land on distinct bits, so no carry disturbs them.
func compress(m uint64) uint8 {
	return uint8((m >> 7) * 0x0102040810204080 >> 56)
}

// freeHint returns the slot of b's window where an insert would go if
// the tags tell the truth (the first slot with tag 0 in insertion order,
// freeSlotLocked's), or -1. It reads without the lock, like candidateHint.
func (s *shard) freeHint(b uint32) int32 {
	m, _ := s.candidateHint(b, 0)
	for ; m != 0; m &= m - 1 {
		if i := rotSlot(b, bits.TrailingZeros32(m)); int(i) < len(s.ents) {
			return int32(i)
		}
	}
	return -1
}

// prefetchHome starts loading, for a single lookup, b's window tags and
// the home slot's entry together (inserts try the home slot first, so
// the entry is often there): the two cache misses overlap instead of the
// entry's following the tags'.
func (s *shard) prefetchHome(b uint32) {
	t := uintptr(unsafe.Pointer(&s.tags[windowStart(b)>>3]))
	e := uintptr(unsafe.Pointer(&s.ents[b]))
	pf := [4]uintptr{t, t + tagWindow - 1, e, e + entryLast}
	prefetchAll(&pf[0], len(pf))
}

// tagByte is slot i's tag byte.
func (s *shard) tagByte(i uint32) uint8 { return uint8(s.tags[i>>3] >> ((i & 7) * 8)) }

// setTagByte sets slot i's tag byte (under the lock; see the index's
// doc for why the store is atomic).
func (s *shard) setTagByte(i uint32, v uint8) {
	w := &s.tags[i>>3]
	sh := (i & 7) * 8
	atomic.StoreUint64(w, *w&^(0xff<<sh)|uint64(v)<<sh)
}

// setTag sets the digest bits of slot i's tag byte, keeping its far bit.
func (s *shard) setTag(i uint32, tag uint8) { s.setTagByte(i, s.tagByte(i)&tagFar|tag) }

// far reports whether home slot b's far chain may be non-empty.
func (s *shard) far(b uint32) bool { return s.tagByte(b)&tagFar != 0 }

// setFar sets or clears home slot b's far bit.
func (s *shard) setFar(b uint32, on bool) {
	v := s.tagByte(b) &^ tagFar
	if on {
		v |= tagFar
	}
	s.setTagByte(b, v)
}
