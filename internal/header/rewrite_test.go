package header

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket/layers"
	"github.com/uvslb/uvs/internal/link"
)

// nat applies the dataplane's NAT-in rewrite: destination → real server,
// port → 8080, TTL−1, new MACs.
func nat(t *testing.T, p *Parsed, f []byte, rs netip.Addr) {
	t.Helper()
	if !p.SetDstAddr(f, rs) {
		t.Fatalf("SetDstAddr(%v) = false", rs)
	}
	if !p.SetDstPort(f, 8080) {
		t.Fatal("SetDstPort(8080) = false")
	}
	if !p.DecrementTTL(f) {
		t.Fatal("DecrementTTL() = false")
	}
	if !p.SetEthDst(f, [6]byte{2, 9, 9, 9, 9, 9}) || !p.SetEthSrc(f, [6]byte{2, 8, 8, 8, 8, 8}) {
		t.Fatal("SetEthDst/SetEthSrc = false")
	}
}

func TestRewriteNAT(t *testing.T) {
	udpNone := udp4Frame(t, 9)
	udpNone[34+6], udpNone[34+7] = 0, 0
	for _, tc := range []struct {
		name  string
		frame []byte
		rs    string
	}{
		{"tcp4", tcp4Frame(t, 100), rs4},
		{"tcp4 odd payload", tcp4Frame(t, 101), rs4},
		{"udp4", udp4Frame(t, 33), rs4},
		{"udp4 without checksum", udpNone, rs4},
		{"tcp6", tcp6Frame(t, 100), rs6},
		{"udp6", udp6Frame(t, 7), rs6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := append([]byte(nil), tc.frame...)
			var p Parsed
			if r := p.Decode(f, link.Ethernet); r != OK {
				t.Fatalf("Decode = %v", r)
			}
			nat(t, &p, f, addr(tc.rs))
			verifyGopacket(t, f, layers.LayerTypeEthernet)
			var q Parsed
			if r := q.Decode(f, link.Ethernet); r != OK {
				t.Fatalf("Decode(rewritten) = %v", r)
			}
			if !q.VerifyL4(f) {
				t.Errorf("VerifyL4(rewritten) = false")
			}
			if diff := cmp.Diff(summarize(&q, OK), summarize(&p, OK), cmpAddr); diff != "" {
				t.Errorf("Parsed after rewrite differs from a fresh Decode (-decode +rewritten):\n%s", diff)
			}
			if q.Dst != addr(tc.rs) || q.DstPort != 8080 || q.TTL != 63 || q.DstMAC != [6]byte{2, 9, 9, 9, 9, 9} {
				t.Errorf("after NAT: dst %v port %d ttl %d mac %x", q.Dst, q.DstPort, q.TTL, q.DstMAC)
			}
			if q.Proto == ProtoUDP && binary.BigEndian.Uint16(f[q.L4Off+6:]) == 0 {
				t.Errorf("UDP checksum 0 after NAT, want a full checksum (ipvs.md §6.1)")
			}
		})
	}
}

// TestRewriteUDPZeroBecomesFFFF finds a port whose rewrite computes a UDP
// checksum of 0 and checks it is sent as 0xFFFF (RFC 768).
// TestRewriteReplyNAT is the NAT-out direction: the real server's reply
// gets the VIP and virtual port as its source (ipvs.md §6.1).
func TestRewriteReplyNAT(t *testing.T) {
	for _, tc := range []struct {
		name  string
		frame []byte
		vip   string
	}{
		{"tcp4", serialize(t, eth(layers.EthernetTypeIPv4), ipv4(rs4, cli4, layers.IPProtocolTCP), tcp(8080, 40000, true, true), payload(77)), vip4},
		{"udp6", serialize(t, eth(layers.EthernetTypeIPv6), ipv6(rs6, cli6, layers.IPProtocolUDP), udp(8080, 40000), payload(3)), vip6},
	} {
		f := append([]byte(nil), tc.frame...)
		var p Parsed
		if r := p.Decode(f, link.Ethernet); r != OK {
			t.Fatalf("%s: Decode = %v", tc.name, r)
		}
		if !p.SetSrcAddr(f, addr(tc.vip)) || !p.SetSrcPort(f, 80) || !p.DecrementTTL(f) {
			t.Fatalf("%s: reply rewrite refused", tc.name)
		}
		verifyGopacket(t, f, layers.LayerTypeEthernet)
		var q Parsed
		if r := q.Decode(f, link.Ethernet); r != OK || q.Src != addr(tc.vip) || q.SrcPort != 80 || !q.VerifyL4(f) {
			t.Errorf("%s: after reply NAT Decode = %v, src %v:%d, VerifyL4 %v", tc.name, r, q.Src, q.SrcPort, q.VerifyL4(f))
		}
	}
}

func TestRewriteUDPZeroBecomesFFFF(t *testing.T) {
	base := udp4Frame(t, 12)
	var p Parsed
	if r := p.Decode(base, link.Ethernet); r != OK {
		t.Fatalf("Decode = %v", r)
	}
	// The checksum after setting the source port to x is ~(S - old + x):
	// pick x so that the sum is 0xFFFF.
	s := ^binary.BigEndian.Uint16(base[34+6:])
	x := ^add16(s, ^p.SrcPort) // S - old + x = 0xFFFF
	for _, name := range []string{"incremental", "full"} {
		f := append([]byte(nil), base...)
		var q Parsed
		q.Decode(f, link.Ethernet)
		if name == "full" {
			f[34+6], f[34+7] = 0, 0 // no checksum: the rewrite computes it
		}
		if !q.SetSrcPort(f, x) {
			t.Fatalf("SetSrcPort(%d) = false", x)
		}
		if got := binary.BigEndian.Uint16(f[34+6:]); got != 0xFFFF {
			t.Errorf("%s: SetSrcPort(%d) wrote checksum %#x, want 0xffff", name, x, got)
		}
		if !q.VerifyL4(f) {
			t.Errorf("%s: VerifyL4 after SetSrcPort(%d) = false", name, x)
		}
	}
}

func TestRewriteRefusals(t *testing.T) {
	f := tcp4Frame(t, 0)
	var p Parsed
	p.Decode(f, link.Ethernet)
	before := append([]byte(nil), f...)
	if p.SetDstAddr(f, addr(rs6)) {
		t.Error("SetDstAddr(IPv6 on IPv4) = true")
	}
	if p.SetInnerSrcAddr(f, addr(rs4)) || p.SetInnerDstPort(f, 1) || p.FinishICMPError(f) {
		t.Error("SetInner* on a packet that is not an ICMP error = true")
	}
	p.TTL = 1
	if p.DecrementTTL(f) {
		t.Error("DecrementTTL at TTL 1 = true")
	}
	if string(before) != string(f) {
		t.Error("refused rewrites changed the frame")
	}
	a := arpFrame(t, 1)
	var q Parsed
	q.Decode(a, link.Ethernet)
	if q.SetSrcPort(a, 1) || q.SetSrcAddr(a, addr(rs4)) || q.DecrementTTL(a) {
		t.Error("IP rewrites on ARP = true")
	}
	r := tcp4Frame(t, 0)[EthHdrLen:]
	var rp Parsed
	rp.Decode(r, link.RawIP)
	if rp.SetEthDst(r, [6]byte{}) {
		t.Error("SetEthDst on raw IP = true")
	}
}

// TestRewriteICMPError NATs an ICMP error the way IPVS does (ipvs.md §5):
// outer destination and quoted source become the real server, the quoted
// source port the real port; the quoted IP checksum and ICMP checksum are
// recomputed.
func TestRewriteICMPError(t *testing.T) {
	for _, tc := range []struct {
		name  string
		frame []byte
		rs    string
	}{
		{"icmp4", icmp4ErrFrame(t), rs4},
		{"icmp6", icmp6ErrFrame(t), rs6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := append([]byte(nil), tc.frame...)
			var p Parsed
			if r := p.Decode(f, link.Ethernet); r != OK || p.Flags&FlagICMPError == 0 {
				t.Fatalf("Decode = %v flags %b", r, p.Flags)
			}
			rs := addr(tc.rs)
			if !p.SetDstAddr(f, rs) || !p.SetInnerSrcAddr(f, rs) || !p.SetInnerSrcPort(f, 8080) ||
				!p.DecrementTTL(f) || !p.FinishICMPError(f) {
				t.Fatal("ICMP error rewrite refused")
			}
			verifyGopacket(t, f, layers.LayerTypeEthernet)
			var q Parsed
			if r := q.Decode(f, link.Ethernet); r != OK {
				t.Fatalf("Decode(rewritten) = %v", r)
			}
			if !q.VerifyL4(f) {
				t.Error("VerifyL4(rewritten) = false")
			}
			if q.Inner.Src != rs || q.Inner.SrcPort != 8080 || q.Dst != rs {
				t.Errorf("after rewrite: inner %v:%d outer dst %v", q.Inner.Src, q.Inner.SrcPort, q.Dst)
			}
			if q.Inner.IPVersion == 4 && Sum(f[q.Inner.L3Off:q.Inner.L3Off+q.Inner.HdrLen], 0) != 0xFFFF {
				t.Error("quoted IPv4 header checksum does not verify")
			}
			if diff := cmp.Diff(summarize(&q, OK), summarize(&p, OK), cmpAddr); diff != "" {
				t.Errorf("Parsed after rewrite differs from a fresh Decode (-decode +rewritten):\n%s", diff)
			}
		})
	}
}

func TestRewriteAllocs(t *testing.T) {
	f4 := tcp4Frame(t, 100)
	f6 := udp6Frame(t, 100)
	e4 := icmp4ErrFrame(t)
	var p Parsed
	rs4a, rs6a, vip := addr(rs4), addr(rs6), addr(vip4)
	n := testing.AllocsPerRun(100, func() {
		p.Decode(f4, link.Ethernet)
		p.SetDstAddr(f4, rs4a)
		p.SetDstPort(f4, 8080)
		p.DecrementTTL(f4)
		p.SetEthDst(f4, [6]byte{1})
		p.Decode(f6, link.Ethernet)
		p.SetSrcAddr(f6, rs6a)
		p.SetSrcPort(f6, 1)
		p.ComputeL4Checksum(f6)
		p.Decode(e4, link.Ethernet)
		p.SetInnerSrcAddr(e4, vip)
		p.SetInnerSrcPort(e4, 53)
		p.FinishICMPError(e4)
	})
	if n != 0 {
		t.Errorf("rewrite allocs = %v, want 0", n)
	}
}
