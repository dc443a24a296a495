package header

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// refSum is RFC 1071 §4.1 word by word: the slow reference model.
func refSum(b []byte, initial uint16) uint16 {
	s := uint32(initial)
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xFFFF {
		s = s>>16 + s&0xFFFF
	}
	return uint16(s)
}

func TestSumMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 300; n++ {
		for _, fill := range []string{"random", "zero", "ones"} {
			b := make([]byte, n)
			switch fill {
			case "random":
				for i := range b {
					b[i] = byte(rng.Uint32())
				}
			case "ones":
				for i := range b {
					b[i] = 0xFF
				}
			}
			for _, init := range []uint16{0, 1, 0xFFFF, uint16(rng.Uint32())} {
				if got, want := Sum(b, init), refSum(b, init); got != want {
					t.Fatalf("Sum(%s[%d], %#x) = %#x, want %#x", fill, n, init, got, want)
				}
			}
		}
	}
}

func TestSumChains(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	b := make([]byte, 1500)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	for cut := 0; cut <= len(b); cut += 2 {
		if got, want := Sum(b[cut:], Sum(b[:cut], 0)), Sum(b, 0); got != want {
			t.Fatalf("Sum(b[%d:], Sum(b[:%d], 0)) = %#x, want %#x", cut, cut, got, want)
		}
	}
}

func TestPseudoSum(t *testing.T) {
	for _, tc := range []struct{ src, dst string }{{cli4, vip4}, {cli6, vip6}, {"0.0.0.0", "255.255.255.255"}} {
		s, d := addr(tc.src), addr(tc.dst)
		var ph []byte
		if s.Is4() {
			ph = append(append(s.AsSlice(), d.AsSlice()...), 0, 17, 0x12, 0x34)
		} else {
			ph = append(append(s.AsSlice(), d.AsSlice()...), 0, 0, 0x12, 0x34, 0, 0, 0, 17)
		}
		if got, want := PseudoSum(s, d, 17, 0x1234), refSum(ph, 0); got != want {
			t.Errorf("PseudoSum(%v, %v, 17, 0x1234) = %#x, want %#x", s, d, got, want)
		}
	}
}

// TestIncrementalMatchesFull is the RFC 1624 property: updating a correct
// checksum for a field change equals recomputing it, for 16-, 32- and
// 128-bit fields, on random data and on data whose checksum is 0x0000 or
// whose sum is 0x0000/0xFFFF.
func TestIncrementalMatchesFull(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for iter := 0; iter < 20000; iter++ {
		width := []int{2, 4, 16}[iter%3]
		n := width + 2*rng.IntN(40)
		data := make([]byte, n)
		mode := iter % 5
		switch mode {
		case 0, 1: // random
			for i := range data {
				data[i] = byte(rng.Uint32())
			}
		case 2: // sparse: mostly zero, hits small sums
			data[rng.IntN(n)] = byte(rng.Uint32())
		case 3: // all ones: sum 0xFFFF, checksum 0x0000
			for i := range data {
				data[i] = 0xFF
			}
		case 4: // random, then force the whole sum to 0xFFFF (checksum 0)
			for i := range data {
				data[i] = byte(rng.Uint32())
			}
			if n >= width+2 {
				binary.BigEndian.PutUint16(data[n-2:], 0)
				binary.BigEndian.PutUint16(data[n-2:], ^Sum(data, 0))
			}
		}
		at := 2 * rng.IntN((n-width)/2+1)
		old := append([]byte(nil), data[at:at+width]...)
		hc := Checksum(data)
		nw := make([]byte, width)
		for i := range nw {
			nw[i] = byte(rng.Uint32())
		}
		if iter%7 == 0 {
			clear(nw)
		}
		copy(data[at:], nw)
		allZero := true
		for _, c := range data {
			allZero = allZero && c == 0
		}
		if allZero {
			continue // RFC 1624 §3: the one case where ±0 differ
		}
		var got uint16
		switch width {
		case 2:
			got = Update16(hc, binary.BigEndian.Uint16(old), binary.BigEndian.Uint16(nw))
		case 4:
			got = Update32(hc, [4]byte(old), [4]byte(nw))
		case 16:
			got = Update128(hc, [16]byte(old), [16]byte(nw))
		}
		if want := Checksum(data); got != want {
			t.Fatalf("iter %d: Update%d(%#x, %x, %x) = %#x, full recomputation %#x (data %x)",
				iter, width*8, hc, old, nw, got, want, data)
		}
	}
}

func TestUpdateAddr(t *testing.T) {
	for _, tc := range []struct{ old, new string }{{cli4, rs4}, {cli6, rs6}} {
		o, n := addr(tc.old), addr(tc.new)
		data := append(o.AsSlice(), 1, 2, 3, 4)
		hc := Checksum(data)
		copy(data, n.AsSlice())
		if got, want := UpdateAddr(hc, o, n), Checksum(data); got != want {
			t.Errorf("UpdateAddr(%#x, %v, %v) = %#x, want %#x", hc, o, n, got, want)
		}
	}
}

// refFold is what folding must give: 0 for 0, otherwise the value in
// 1..0xFFFF congruent to acc modulo 0xFFFF.
func refFold(acc uint64) uint16 {
	if acc == 0 {
		return 0
	}
	if r := acc % 0xFFFF; r != 0 {
		return uint16(r)
	}
	return 0xFFFF
}

func TestFold(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	vals := []uint64{0, 1, 0xFFFF, 0x10000, 0x1FFFE, 0xFFFF0000, 0xFFFFFFFF, 0x100000000,
		0x8000000080000000, 0xFFFF0000FFFF0000, 0xFFFFFFFF00000000, 1<<64 - 1, 1<<64 - 2}
	for range 100000 {
		vals = append(vals, rng.Uint64(), rng.Uint64()>>rng.UintN(64))
	}
	for _, v := range vals {
		if got, want := fold(v), refFold(v); got != want {
			t.Fatalf("fold(%#x) = %#x, want %#x", v, got, want)
		}
	}
}

// TestSum64Initial checks sum64 with large unfolded initial values (as
// pseudoSum passes) against the reference.
func TestSum64Initial(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for n := 0; n < 100; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		for _, init := range []uint64{0, 1, 0xFFFF, 1<<64 - 1, 1<<64 - 2, rng.Uint64(), rng.Uint64() >> 30} {
			if got, want := fold(sum64(b, init)), refSum(b, refFold(init)); got != want {
				t.Fatalf("fold(sum64(b[%d], %#x)) = %#x, want %#x", n, init, got, want)
			}
		}
	}
}
