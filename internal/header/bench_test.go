package header

import (
	"net/netip"
	"testing"

	"github.com/uvslb/uvs/internal/link"
)

func benchDecode(b *testing.B, frame []byte) {
	var p Parsed
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if p.Decode(frame, link.Ethernet) != OK {
			b.Fatal("Decode failed")
		}
	}
}

func BenchmarkDecodeTCP4(b *testing.B)       { benchDecode(b, tcp4Frame(b, 0)) }
func BenchmarkDecodeTCP6(b *testing.B)       { benchDecode(b, tcp6Frame(b, 0)) }
func BenchmarkDecodeICMP4Error(b *testing.B) { benchDecode(b, icmp4ErrFrame(b)) }
func BenchmarkDecodeICMP6Error(b *testing.B) { benchDecode(b, icmp6ErrFrame(b)) }

func benchSum(b *testing.B, n int) {
	buf := make([]byte, n)
	for i := range buf {
		buf[i] = byte(i)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	var s uint16
	for b.Loop() {
		s += Checksum(buf)
	}
	_ = s
}

func BenchmarkChecksum64(b *testing.B)   { benchSum(b, 64) }
func BenchmarkChecksum1500(b *testing.B) { benchSum(b, 1500) }

// BenchmarkNATRewrite is the per-packet work of NAT-in after decoding:
// destination address and port with incremental checksums, TTL, MACs.
func BenchmarkNATRewrite(b *testing.B) {
	f := tcp4Frame(b, 1400)
	var p Parsed
	if p.Decode(f, link.Ethernet) != OK {
		b.Fatal("Decode failed")
	}
	rs := [2]netip.Addr{addr(rs4), addr(vip4)}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p.SetDstAddr(f, rs[i&1])
		p.SetDstPort(f, uint16(i))
		p.TTL = 64 // keep DecrementTTL working across iterations
		p.DecrementTTL(f)
		p.SetEthDst(f, [6]byte{2, 0, 0, 0, 0, byte(i)})
		i++
	}
}

// BenchmarkDecodeNAT is decode plus the NAT rewrite of a TCP/IPv4 frame.
func BenchmarkDecodeNAT(b *testing.B) {
	f := tcp4Frame(b, 0)
	rs := addr(rs4)
	var p Parsed
	b.ReportAllocs()
	for b.Loop() {
		f[14+8] = 64 // restore the TTL; the checksum update keeps it valid
		f[14+10], f[14+11] = 0, 0
		f[14+10], f[14+11] = byte(Checksum(f[14:34])>>8), byte(Checksum(f[14:34]))
		if p.Decode(f, link.Ethernet) != OK {
			b.Fatal("Decode failed")
		}
		p.SetDstAddr(f, rs)
		p.SetDstPort(f, 8080)
		p.DecrementTTL(f)
	}
}
