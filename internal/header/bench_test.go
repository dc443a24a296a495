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
	p := decoded(b, f)
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

// BenchmarkForwardNATDst is NATRewrite with the fused call: TTL−1,
// destination address and port with one IPv4 and one TCP checksum update,
// then the MAC.
func BenchmarkForwardNATDst(b *testing.B) {
	f := tcp4Frame(b, 1400)
	p := decoded(b, f)
	rs := [2]netip.Addr{addr(rs4), addr(vip4)}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p.TTL = 64 // keep the TTL from expiring across iterations
		if ok, _ := p.ForwardNATDst(f, rs[i&1], uint16(i)); !ok {
			b.Fatal("ForwardNATDst = false")
		}
		p.SetEthDst(f, [6]byte{2, 0, 0, 0, 0, byte(i)})
		i++
	}
}

// BenchmarkReplyNATRewrite is the reply direction with the single-field
// calls: TTL−1, source address and port.
func BenchmarkReplyNATRewrite(b *testing.B) {
	f := tcp4Frame(b, 1400)
	p := decoded(b, f)
	vs := [2]netip.Addr{addr(vip4), addr(rs4)}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p.TTL = 64
		p.DecrementTTL(f)
		p.SetSrcAddr(f, vs[i&1])
		p.SetSrcPort(f, uint16(i))
		i++
	}
}

// BenchmarkForwardNATSrc is ReplyNATRewrite with the fused call.
func BenchmarkForwardNATSrc(b *testing.B) {
	f := tcp4Frame(b, 1400)
	p := decoded(b, f)
	vs := [2]netip.Addr{addr(vip4), addr(rs4)}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p.TTL = 64
		if ok, _ := p.ForwardNATSrc(f, vs[i&1], uint16(i)); !ok {
			b.Fatal("ForwardNATSrc = false")
		}
		i++
	}
}

// BenchmarkForwardNATDst6 is ForwardNATDst on TCP/IPv6.
func BenchmarkForwardNATDst6(b *testing.B) {
	f := tcp6Frame(b, 1400)
	p := decoded(b, f)
	rs := [2]netip.Addr{addr(rs6), addr(vip6)}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p.TTL = 64
		if ok, _ := p.ForwardNATDst(f, rs[i&1], uint16(i)); !ok {
			b.Fatal("ForwardNATDst = false")
		}
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

func benchVerify(b *testing.B, f []byte) {
	p := decoded(b, f)
	b.ReportAllocs()
	for b.Loop() {
		if !p.VerifyL4(f) {
			b.Fatal("VerifyL4 = false")
		}
	}
}

// BenchmarkVerifyL4TCP4 verifies a bare 20-byte TCP/IPv4 segment (an ACK).
func BenchmarkVerifyL4TCP4(b *testing.B) { benchVerify(b, tcp4Frame(b, 0)) }

// BenchmarkVerifyL4TCP4x40 verifies a TCP/IPv4 segment with 40 bytes of
// payload (60 bytes summed).
func BenchmarkVerifyL4TCP4x40(b *testing.B) { benchVerify(b, tcp4Frame(b, 40)) }

// BenchmarkVerifyL4TCP6 verifies a bare TCP/IPv6 segment.
func BenchmarkVerifyL4TCP6(b *testing.B) { benchVerify(b, tcp6Frame(b, 0)) }

// benchNATPath is the header work of an established NAT client packet in
// the dataplane (forwardIn → natIn): Decode, VerifyL4, the rewrite, MACs.
// Each iteration first copies the pristine 54-byte TCP/IPv4 frame back
// (part of the figure, ≈ 2 ns) so every packet is the same.
func benchNATPath(b *testing.B, rewrite func(p *Parsed, f []byte, rs netip.Addr) bool) {
	orig := tcp4Frame(b, 0)
	f := make([]byte, len(orig))
	rs := addr(rs4)
	var p Parsed
	b.ReportAllocs()
	for b.Loop() {
		copy(f, orig)
		if p.Decode(f, link.Ethernet) != OK || !p.VerifyL4(f) || !rewrite(&p, f, rs) {
			b.Fatal("NAT path failed")
		}
		copy(f[0:6], []byte{2, 9, 9, 9, 9, 9})
		copy(f[6:12], []byte{2, 8, 8, 8, 8, 8})
	}
}

// BenchmarkNATPath is benchNATPath with the single-field rewrites.
func BenchmarkNATPath(b *testing.B) {
	benchNATPath(b, func(p *Parsed, f []byte, rs netip.Addr) bool {
		return p.DecrementTTL(f) && p.SetDstAddr(f, rs) && p.SetDstPort(f, 8080)
	})
}

// BenchmarkNATPathFused is benchNATPath with ForwardNATDst.
func BenchmarkNATPathFused(b *testing.B) {
	benchNATPath(b, func(p *Parsed, f []byte, rs netip.Addr) bool {
		ok, _ := p.ForwardNATDst(f, rs, 8080)
		return ok
	})
}

// BenchmarkVerifyL4TCP4x1460 verifies a full-size TCP/IPv4 segment (1480
// bytes summed).
func BenchmarkVerifyL4TCP4x1460(b *testing.B) { benchVerify(b, tcp4Frame(b, 1460)) }

// decoded decodes the benchmark frame f, which must be valid.
func decoded(b *testing.B, f []byte) *Parsed {
	b.Helper()
	var p Parsed
	if p.Decode(f, link.Ethernet) != OK {
		b.Fatal("Decode failed")
	}
	return &p
}
