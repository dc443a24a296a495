package scheduler

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"testing"
)

// refSipHash is SipHash-c-d written from the paper (Aumasson, Bernstein,
// "SipHash: a fast short-input PRF", §2), byte by byte: the reference the
// fast 4-byte hsiphash32 is checked against.
func refSipHash(c, d int, k0, k1 uint64, msg []byte) uint64 {
	v := [4]uint64{k0 ^ 0x736f6d6570736575, k1 ^ 0x646f72616e646f6d, k0 ^ 0x6c7967656e657261, k1 ^ 0x7465646279746573}
	round := func() {
		v[0] += v[1]
		v[1] = bits.RotateLeft64(v[1], 13) ^ v[0]
		v[0] = bits.RotateLeft64(v[0], 32)
		v[2] += v[3]
		v[3] = bits.RotateLeft64(v[3], 16) ^ v[2]
		v[0] += v[3]
		v[3] = bits.RotateLeft64(v[3], 21) ^ v[0]
		v[2] += v[1]
		v[1] = bits.RotateLeft64(v[1], 17) ^ v[2]
		v[2] = bits.RotateLeft64(v[2], 32)
	}
	// Pad: the message, zeros, and the length mod 256 in the last byte.
	padded := make([]byte, (len(msg)/8+1)*8)
	copy(padded, msg)
	padded[len(padded)-1] = byte(len(msg))
	for i := 0; i < len(padded); i += 8 {
		m := binary.LittleEndian.Uint64(padded[i:])
		v[3] ^= m
		for range c {
			round()
		}
		v[0] ^= m
	}
	v[2] ^= 0xff
	for range d {
		round()
	}
	return v[0] ^ v[1] ^ v[2] ^ v[3]
}

func TestRefSipHashVector(t *testing.T) {
	// The SipHash-2-4 test vector of the paper's appendix A: key 00..0f,
	// message 00..0e, result a129ca6149be45e5.
	key := make([]byte, 16)
	msg := make([]byte, 15)
	for i := range key {
		key[i] = byte(i)
	}
	for i := range msg {
		msg[i] = byte(i)
	}
	k0, k1 := binary.LittleEndian.Uint64(key[:8]), binary.LittleEndian.Uint64(key[8:])
	if got, want := refSipHash(2, 4, k0, k1, msg), uint64(0xa129ca6149be45e5); got != want {
		t.Fatalf("refSipHash(2, 4, key 00..0f, msg 00..0e) = %#x, want %#x", got, want)
	}
}

func TestHSipHash32MatchesSipHash13(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	keys := []hsipKey{{mhKey1Word, mhKey1Word}, {mhKey2Word, mhKey2Word}}
	for range 50 {
		keys = append(keys, hsipKey{r.Uint64(), r.Uint64()})
	}
	for _, k := range keys {
		for _, v := range []uint32{0, 1, 0xffffffff, 0x0a000001, r.Uint32(), r.Uint32()} {
			var b [4]byte
			binary.LittleEndian.PutUint32(b[:], v) // the bytes of a u32 on x86
			want := uint32(refSipHash(1, 3, k[0], k[1], b[:]))
			if got := hsiphash32(v, &k); got != want {
				t.Fatalf("hsiphash32(%#x, %#x) = %#x, want SipHash-1-3 %#x", v, k, got, want)
			}
		}
	}
}

func TestHash32(t *testing.T) {
	// hash_32(v, bits) = (v * 0x61C88647 mod 2^32) >> (32 - bits).
	for _, tc := range []struct {
		v    uint32
		bits uint
		want uint32
	}{
		// 0x0A010203 * 0x61C88647 = 0x...02AD20D5 (mod 2^32): top byte 0x02.
		{0x0A010203, 8, 2},
		// 0xC0A80001 * 0x61C88647 = 0x...C0608647: top byte 0xC0 = 192,
		// top 10 bits 0x301 = 769.
		{0xC0A80001, 8, 192},
		{0xC0A80001, 10, 769},
		// 0xC0A80002 * 0x61C88647 = 0x...22290C8E: 0x22 = 34.
		{0xC0A80002, 8, 34},
	} {
		if got := hash32(tc.v, tc.bits); got != tc.want {
			t.Errorf("hash32(%#x, %d) = %d, want %d", tc.v, tc.bits, got, tc.want)
		}
	}
}

func TestAddrFold(t *testing.T) {
	for _, tc := range []struct {
		a    string
		want uint32
	}{
		{"10.1.2.3", 0x0A010203},
		// 2001:0db8:0000:0000:0000:0000:0000:0001 folds to 0x20010db8 ^ 1.
		{"2001:db8::1", 0x20010db9},
		{"::ffff:10.1.2.3", 0xffff ^ 0x0A010203},
	} {
		if got := addrFold(netip.MustParseAddr(tc.a)); got != tc.want {
			t.Errorf("addrFold(%s) = %#x, want %#x", tc.a, got, tc.want)
		}
	}
}

func TestDH(t *testing.T) {
	// Add 1, 2, 3: list 3, 2, 1; bucket i holds list[i % 3]:
	// 0 -> 3, 1 -> 2, 2 -> 1.
	f := newFakeLoad()
	v := newSvc(t, "dh", 0, f, Options{}).add(dest(1, 1), dest(2, 1), dest(3, 1))
	for _, tc := range []struct {
		dst  string
		want DestID
	}{
		{"10.1.2.3", 1},    // hash_32 = 2, 2 % 3 = 2 -> 1
		{"192.168.0.1", 3}, // 192 % 3 = 0 -> 3
		{"192.168.0.2", 2}, // 34 % 3 = 1 -> 2
		{"10.0.0.100", 1},  // 0x0A000064 -> 248, 248 % 3 = 2 -> 1
		{"2001:db8::1", 3}, // fold 0x20010db9 -> 63, 63 % 3 = 0 -> 3
	} {
		in := &Input{Dst: netip.MustParseAddr(tc.dst), Src: netip.MustParseAddr("1.1.1.1")}
		if got := pickID(v.s, in); got != tc.want {
			t.Errorf("dh.Pick(dst %s) = %d, want %d", tc.dst, got, tc.want)
		}
	}
	// A weight edit does not change the table; weight 0 makes the bucket
	// unavailable and dh has no fallback.
	v.edit(dest(3, 0))
	in := &Input{Dst: netip.MustParseAddr("192.168.0.1")}
	if got := pickID(v.s, in); got != 0 {
		t.Errorf("dh.Pick(192.168.0.1) with 3 quiescent = %d, want none", got)
	}
	in = &Input{Dst: netip.MustParseAddr("192.168.0.2")}
	f.set(2, 0, 0, true)
	if got := pickID(v.s, in); got != 0 {
		t.Errorf("dh.Pick(192.168.0.2) with 2 overloaded = %d, want none", got)
	}
}

func TestSH(t *testing.T) {
	// Add 1 (w1), 2 (w2), 3 (w1): list 3, 2, 1. Filling: 3 takes one
	// bucket, 2 two, 1 one, repeat: bucket i -> [3, 2, 2, 1][i % 4].
	f := newFakeLoad()
	mk := func(flags Flags) *svc {
		return newSvc(t, "sh", flags, f, Options{}).add(dest(1, 1), dest(2, 2), dest(3, 1))
	}
	plain, fb, port := mk(0), mk(FlagFallback), mk(FlagPort)
	for _, tc := range []struct {
		s    *svc
		src  string
		port uint16
		want DestID
	}{
		{plain, "192.168.0.1", 0, 3},     // hash_32 = 192, 192 % 4 = 0 -> 3
		{plain, "192.168.0.2", 0, 2},     // 34 % 4 = 2 -> 2
		{plain, "10.1.2.3", 0, 2},        // 2 % 4 = 2 -> 2
		{plain, "2001:db8::1", 0, 1},     // fold 0x20010db9 -> 63, 63 % 4 = 3 -> 1
		{plain, "192.168.0.1", 1234, 3},  // the port is ignored without sh-port
		{port, "192.168.0.1", 1234, 3},   // 0xC0A80001 + 1234 = 0xC0A804D3 -> 24, 24 % 4 = 0 -> 3
		{port, "0.0.0.0", 1, 2},          // hash_32(1) = 0x61 = 97, 97 % 4 = 1 -> 2
		{port, "255.255.255.255", 1, 3},  // 0xffffffff + 1 wraps to 0 -> bucket 0 -> 3
		{plain, "255.255.255.255", 1, 2}, // 0xffffffff * 0x61C88647 = 0x9E3779B9 -> 158, 158 % 4 = 2 -> 2
		{fb, "192.168.0.1", 0, 3},        // usable: no probing
	} {
		in := &Input{Src: netip.MustParseAddr(tc.src), SrcPort: tc.port}
		if got := pickID(tc.s.s, in); got != tc.want {
			t.Errorf("sh(flags %d).Pick(src %s port %d) = %d, want %d", tc.s.s.(*sh).flags, tc.src, tc.port, got, tc.want)
		}
	}

	// Fallback. 192.168.0.1 hashes to bucket ih = 192 (-> 3). With 3
	// overloaded, plain sh gives none; sh-fallback probes bucket
	// (2*ih + offset) mod 256: offset 0 -> 128 % 4 = 0 -> 3 (still
	// unusable), offset 1 -> 129 % 4 = 1 -> 2.
	f.set(3, 0, 0, true)
	in := &Input{Src: netip.MustParseAddr("192.168.0.1")}
	if got := pickID(plain.s, in); got != 0 {
		t.Errorf("sh.Pick(192.168.0.1) with 3 overloaded = %d, want none", got)
	}
	if got := pickID(fb.s, in); got != 2 {
		t.Errorf("sh-fallback.Pick(192.168.0.1) with 3 overloaded = %d, want 2", got)
	}
	// 2 overloaded too: offset 2 -> 130 % 4 = 2 -> 2, offset 3 -> 131 %
	// 4 = 3 -> 1.
	f.set(2, 0, 0, true)
	if got := pickID(fb.s, in); got != 1 {
		t.Errorf("sh-fallback.Pick(192.168.0.1) with 3, 2 overloaded = %d, want 1", got)
	}
	f.set(1, 0, 0, true)
	if got := pickID(fb.s, in); got != 0 {
		t.Errorf("sh-fallback.Pick(192.168.0.1) with all overloaded = %d, want none", got)
	}
}
