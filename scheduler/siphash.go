package scheduler

import "math/bits"

// hsipKey is an hsiphash_key_t on a 64-bit kernel: two 64-bit words.
type hsipKey [2]uint64

// The SipHash initialisation constants ("somepseudorandomlygeneratedbytes"),
// SIPHASH_CONST_0..3 in include/linux/siphash.h.
const (
	sipConst0 = 0x736f6d6570736575
	sipConst1 = 0x646f72616e646f6d
	sipConst2 = 0x6c7967656e657261
	sipConst3 = 0x7465646279746573
)

// sipRound is SIPROUND (SIPHASH_PERMUTATION) of lib/siphash.c.
func sipRound(v0, v1, v2, v3 uint64) (uint64, uint64, uint64, uint64) {
	v0 += v1
	v1 = bits.RotateLeft64(v1, 13)
	v1 ^= v0
	v0 = bits.RotateLeft64(v0, 32)
	v2 += v3
	v3 = bits.RotateLeft64(v3, 16)
	v3 ^= v2
	v0 += v3
	v3 = bits.RotateLeft64(v3, 21)
	v3 ^= v0
	v2 += v1
	v1 = bits.RotateLeft64(v1, 17)
	v1 ^= v2
	v2 = bits.RotateLeft64(v2, 32)
	return v0, v1, v2, v3
}

// hsiphash32 is the kernel's hsiphash(&v, 4, key) on a 64-bit kernel
// (hsiphash_1u32): SipHash-1-3 with 64-bit key words over the 4
// little-endian bytes of v, truncated to 32 bits. HPREAMBLE(4) puts the
// length in the top byte of b and the message in its low bytes; there is no
// full 8-byte block; HPOSTAMBLE does one compression round on b and three
// finalisation rounds.
func hsiphash32(v uint32, k *hsipKey) uint32 {
	v0 := sipConst0 ^ k[0]
	v1 := sipConst1 ^ k[1]
	v2 := sipConst2 ^ k[0]
	v3 := sipConst3 ^ k[1]
	b := uint64(4)<<56 | uint64(v)
	v3 ^= b
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0 ^= b
	v2 ^= 0xff
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	return uint32((v0 ^ v1) ^ (v2 ^ v3))
}
