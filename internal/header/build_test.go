package header

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/uvslb/uvs/internal/link"
)

func decodeOK(t *testing.T, f []byte, lt link.Type) *Parsed {
	t.Helper()
	var p Parsed
	if r := p.Decode(f, lt); r != OK {
		t.Fatalf("Decode(built frame %x) = %v", f, r)
	}
	return &p
}

func TestPutARP(t *testing.T) {
	b, b2 := make([]byte, 100), make([]byte, 100)
	our, peer := [6]byte{2, 1, 1, 1, 1, 1}, [6]byte{2, 2, 2, 2, 2, 2}
	for _, tc := range []struct {
		name string
		b    []byte
		n    int
		want ARP
		eth  [6]byte
	}{
		{"reply", b, PutARPReply(b, our, addr(vip4), peer, addr(cli4)),
			ARP{Op: ARPReply, SenderMAC: our, SenderIP: addr(vip4), TargetMAC: peer, TargetIP: addr(cli4)}, peer},
		{"request", b2, PutARPRequest(b2, our, addr(vip4), addr(rs4)),
			ARP{Op: ARPRequest, SenderMAC: our, SenderIP: addr(vip4), TargetIP: addr(rs4)}, [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
	} {
		if tc.n != ARPFrameLen {
			t.Fatalf("PutARP %s = %d, want %d", tc.name, tc.n, ARPFrameLen)
		}
		p := decodeOK(t, tc.b[:tc.n], link.Ethernet)
		if diff := cmp.Diff(tc.want, p.ARP, cmpAddr); diff != "" || p.DstMAC != tc.eth {
			t.Errorf("PutARP %s: eth dst %x; ARP (-want +got):\n%s", tc.name, p.DstMAC, diff)
		}
		pkt := gopacket.NewPacket(tc.b[:tc.n], layers.LayerTypeEthernet, gopacket.Default)
		a, ok := pkt.Layer(layers.LayerTypeARP).(*layers.ARP)
		if !ok || a.Operation != tc.want.Op || netip.AddrFrom4([4]byte(a.DstProtAddress)) != tc.want.TargetIP {
			t.Errorf("PutARP %s: gopacket sees %+v", tc.name, pkt.Layer(layers.LayerTypeARP))
		}
	}
	if n := PutARPReply(b[:41], our, addr(vip4), peer, addr(cli4)); n != 0 {
		t.Errorf("PutARPReply(short buffer) = %d, want 0", n)
	}
	if n := PutARPRequest(b, our, addr(vip6), addr(rs4)); n != 0 {
		t.Errorf("PutARPRequest(IPv6) = %d, want 0", n)
	}
}

func TestPutICMPErrors(t *testing.T) {
	big4 := tcp4Frame(t, 1460)[EthHdrLen:]
	small4 := udp4Frame(t, 10)[EthHdrLen:]
	big6 := tcp6Frame(t, 1440)[EthHdrLen:]
	small6 := udp6Frame(t, 10)[EthHdrLen:]
	from4, from6 := addr("198.51.100.254"), addr("2001:db8:1::fe")
	b := make([]byte, 2000)
	for _, tc := range []struct {
		name     string
		put      func(b []byte) int
		orig     []byte
		wantLen  int
		typ, cod uint8
		rest     uint32
	}{
		{"port unreachable v4", func(b []byte) int { return PutICMPv4PortUnreachable(b, from4, small4) }, small4, 28 + len(small4), 3, 3, 0},
		{"frag needed v4", func(b []byte) int { return PutICMPv4FragNeeded(b, from4, 1480, big4) }, big4, 576, 3, 4, 1480},
		{"time exceeded v4", func(b []byte) int { return PutICMPv4TimeExceeded(b, from4, big4) }, big4, 576, 11, 0, 0},
		{"port unreachable v6", func(b []byte) int { return PutICMPv6PortUnreachable(b, from6, small6) }, small6, 48 + len(small6), 1, 4, 0},
		{"packet too big v6", func(b []byte) int { return PutICMPv6PacketTooBig(b, from6, 1280, big6) }, big6, 1280, 2, 0, 1280},
		{"time exceeded v6", func(b []byte) int { return PutICMPv6TimeExceeded(b, from6, big6) }, big6, 1280, 3, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.put(b[EthHdrLen:])
			if n != tc.wantLen {
				t.Fatalf("%s = %d bytes, want %d", tc.name, n, tc.wantLen)
			}
			et := EtherTypeIPv4
			if tc.orig[0]>>4 == 6 {
				et = EtherTypeIPv6
			}
			PutEthernet(b, [6]byte(macA), [6]byte(macB), et)
			f := b[:EthHdrLen+n]
			p := decodeOK(t, f, link.Ethernet)
			verifyGopacket(t, f, layers.LayerTypeEthernet)
			var o Parsed
			o.Decode(tc.orig, link.RawIP)
			if p.ICMPType != tc.typ || p.ICMPCode != tc.cod || p.Flags&FlagICMPError == 0 || !p.VerifyL4(f) {
				t.Errorf("%s: type/code %d/%d flags %b verify %v", tc.name, p.ICMPType, p.ICMPCode, p.Flags, p.VerifyL4(f))
			}
			if got := uint32(f[p.L4Off+4])<<24 | uint32(f[p.L4Off+5])<<16 | uint32(f[p.L4Off+6])<<8 | uint32(f[p.L4Off+7]); got != tc.rest {
				t.Errorf("%s: rest of header = %d, want %d", tc.name, got, tc.rest)
			}
			if p.Dst != o.Src || p.Inner.Src != o.Src || p.Inner.Dst != o.Dst || p.Inner.SrcPort != o.SrcPort || p.Inner.DstPort != o.DstPort {
				t.Errorf("%s: outer dst %v, inner %v:%d → %v:%d; original %v:%d → %v:%d", tc.name,
					p.Dst, p.Inner.Src, p.Inner.SrcPort, p.Inner.Dst, p.Inner.DstPort, o.Src, o.SrcPort, o.Dst, o.DstPort)
			}
			if p.ICMPErrorAllowed() {
				t.Errorf("%s: ICMPErrorAllowed() on an ICMP error = true", tc.name)
			}
		})
	}
	if n := PutICMPv4PortUnreachable(b[:50], from4, small4); n != 0 {
		t.Errorf("PutICMPv4PortUnreachable(short buffer) = %d, want 0", n)
	}
	if n := PutICMPv6PortUnreachable(b, from4, small6); n != 0 {
		t.Errorf("PutICMPv6PortUnreachable(IPv4 source) = %d, want 0", n)
	}
}

func TestICMPErrorAllowed(t *testing.T) {
	echo := serialize(t, ipv4(cli4, vip4, layers.IPProtocolICMPv4),
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0)}, payload(8))
	bcast := serialize(t, ipv4(cli4, "255.255.255.255", layers.IPProtocolUDP), udp(1, 2), payload(1))
	mcast6 := serialize(t, ipv6(cli6, "ff02::1", layers.IPProtocolUDP), udp(1, 2), payload(1))
	for _, tc := range []struct {
		name  string
		frame []byte
		want  bool
	}{
		{"tcp4", tcp4Frame(t, 1)[EthHdrLen:], true},
		{"udp6", udp6Frame(t, 1)[EthHdrLen:], true},
		{"icmp echo", echo, true},
		{"icmp4 error", icmp4ErrFrame(t)[EthHdrLen:], false},
		{"icmp6 error", icmp6ErrFrame(t)[EthHdrLen:], false},
		{"broadcast", bcast, false},
		{"multicast6", mcast6, false},
	} {
		p := decodeOK(t, tc.frame, link.RawIP)
		if got := p.ICMPErrorAllowed(); got != tc.want {
			t.Errorf("%s: ICMPErrorAllowed() = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPutND(t *testing.T) {
	b := make([]byte, 200)
	our := [6]byte{2, 1, 1, 1, 1, 1}
	n := PutNeighborSolicit(b, our, addr(vip6), addr(rs6))
	if n != NDFrameLen {
		t.Fatalf("PutNeighborSolicit = %d, want %d", n, NDFrameLen)
	}
	p := decodeOK(t, b[:n], link.Ethernet)
	verifyGopacket(t, b[:n], layers.LayerTypeEthernet)
	wantDst := addr("ff02::1:ff00:5")
	if p.Flags&FlagND == 0 || p.ICMPType != ICMPv6NeighborSolicit || p.ND.Target != addr(rs6) || !p.ND.HasLinkAddr ||
		p.ND.LinkAddr != our || p.Dst != wantDst || p.DstMAC != [6]byte{0x33, 0x33, 0xff, 0, 0, 5} || !p.VerifyL4(b[:n]) {
		t.Errorf("PutNeighborSolicit decoded as %+v (dst MAC %x)", p.ND, p.DstMAC)
	}
	n = PutNeighborAdvert(b, our, addr(vip6), [6]byte(macA), addr(cli6), NDSolicited|NDOverride)
	if n != NDFrameLen {
		t.Fatalf("PutNeighborAdvert = %d, want %d", n, NDFrameLen)
	}
	p = decodeOK(t, b[:n], link.Ethernet)
	verifyGopacket(t, b[:n], layers.LayerTypeEthernet)
	want := ND{Target: addr(vip6), Flags: NDSolicited | NDOverride, LinkAddr: our, HasLinkAddr: true}
	if diff := cmp.Diff(want, p.ND, cmpAddr); diff != "" || p.Src != addr(vip6) || p.Dst != addr(cli6) {
		t.Errorf("PutNeighborAdvert: src %v dst %v; ND (-want +got):\n%s", p.Src, p.Dst, diff)
	}
	pkt := gopacket.NewPacket(b[:n], layers.LayerTypeEthernet, gopacket.Default)
	na, ok := pkt.Layer(layers.LayerTypeICMPv6NeighborAdvertisement).(*layers.ICMPv6NeighborAdvertisement)
	if !ok || !na.Solicited() || !na.Override() || na.Router() || !na.TargetAddress.Equal(ip(vip6)) {
		t.Errorf("gopacket sees NA %+v", pkt.Layer(layers.LayerTypeICMPv6NeighborAdvertisement))
	}
	if got := SolicitedNode(addr("2001:db8::abcd:1234")); got != addr("ff02::1:ffcd:1234") {
		t.Errorf("SolicitedNode(2001:db8::abcd:1234) = %v", got)
	}
}

func TestPutTunnel(t *testing.T) {
	in4 := tcp4Frame(t, 50)[EthHdrLen:]
	in4[1] = 0xB8 | 0x03 // DSCP EF, ECN CE
	fixIPv4Csum(in4, 0)
	in6 := tcp6Frame(t, 50)[EthHdrLen:]
	for _, tc := range []struct {
		name      string
		inner     []byte
		outer6    bool
		wantProto layers.IPProtocol
		wantTOS   uint8
		wantDF    bool
	}{
		{"ipip", in4, false, layers.IPProtocolIPv4, 0xB8 | 0x02, true},
		{"6in4", in6, false, layers.IPProtocolIPv6, 0x20, true},
		{"ip6ip6", in6, true, layers.IPProtocolIPv6, 0x20, false},
		{"4in6", in4, true, layers.IPProtocolIPv4, 0xB8 | 0x02, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			buf := make([]byte, link.Headroom+len(tc.inner))
			off := link.Headroom
			copy(buf[off:], tc.inner)
			var n int
			first := layers.LayerTypeIPv4
			if tc.outer6 {
				n = PutIPv6Tunnel(buf[off-IPv6TunnelLen:off], buf[off:], addr("fd00::1"), addr(rs6))
				first = layers.LayerTypeIPv6
			} else {
				n = PutIPv4Tunnel(buf[off-IPv4TunnelLen:off], buf[off:], addr("10.0.0.1"), addr(rs4), 0x1234)
			}
			if n == 0 {
				t.Fatalf("Put tunnel %s = 0", tc.name)
			}
			pkt := buf[off-n:]
			verifyGopacket(t, pkt, first)
			p := decodeOK(t, pkt, link.RawIP)
			if layers.IPProtocol(p.Proto) != tc.wantProto || p.TOS != tc.wantTOS || p.TTL != 64 ||
				(p.Flags&FlagDF != 0) != tc.wantDF || p.IPLen != len(pkt) || p.L4Off != n {
				t.Errorf("%s outer: proto %d tos %#x ttl %d flags %b len %d l4off %d", tc.name, p.Proto, p.TOS, p.TTL, p.Flags, p.IPLen, p.L4Off)
			}
			if !tc.outer6 && pkt[4] != 0x12 || !tc.outer6 && pkt[5] != 0x34 {
				t.Errorf("%s: IP ID %x, want 1234", tc.name, pkt[4:6])
			}
		})
	}
	if n := PutIPv4Tunnel(make([]byte, 20), []byte{0x45}, addr("10.0.0.1"), addr(rs4), 1); n != 0 {
		t.Errorf("PutIPv4Tunnel(truncated inner) = %d, want 0", n)
	}
}

func TestBuildAllocs(t *testing.T) {
	b := make([]byte, 2000)
	orig := tcp4Frame(t, 1400)[EthHdrLen:]
	orig6 := tcp6Frame(t, 1400)[EthHdrLen:]
	src4, src6, t6 := addr(vip4), addr(vip6), addr(rs6)
	n := testing.AllocsPerRun(100, func() {
		PutARPReply(b, [6]byte{1}, src4, [6]byte{2}, src4)
		PutICMPv4FragNeeded(b, src4, 1480, orig)
		PutICMPv6PacketTooBig(b, src6, 1280, orig6)
		PutNeighborSolicit(b, [6]byte{1}, src6, t6)
		PutNeighborAdvert(b, [6]byte{1}, src6, [6]byte{2}, t6, NDOverride)
		PutIPv4Tunnel(b, orig, src4, src4, 1)
		PutIPv6Tunnel(b, orig6, src6, t6)
	})
	if n != 0 {
		t.Errorf("builder allocs = %v, want 0", n)
	}
	lb := link.NewBatch(1)
	frame := tcp4Frame(t, 100)
	var p Parsed
	n = testing.AllocsPerRun(100, func() {
		lb.Off[0], lb.Len[0] = link.Headroom, copy(lb.Bufs[0][link.Headroom:], frame)
		p.Decode(lb.Frame(0), link.Ethernet)
		p.Encap(lb.Bufs[0], lb.Off[0], src4, src4, 1)
	})
	if n != 0 {
		t.Errorf("Encap allocs = %v, want 0", n)
	}
}

func TestEncapInPlace(t *testing.T) {
	vlan := serialize(t, eth(layers.EthernetTypeDot1Q),
		&layers.Dot1Q{VLANIdentifier: 7, Type: layers.EthernetTypeIPv4},
		ipv4(cli4, vip4, layers.IPProtocolTCP), tcp(1, 80, true, false), payload(30))
	tcp4 := tcp4Frame(t, 0)
	padded := append(append([]byte(nil), tcp4...), 0, 0, 0, 0, 0, 0) // 60 bytes
	for _, tc := range []struct {
		name     string
		frame    []byte
		lt       link.Type
		src, dst string
		first    gopacket.LayerType
		wantVLAN bool
	}{
		{"ipip ethernet padded", padded, link.Ethernet, "10.0.0.1", rs4, layers.LayerTypeEthernet, false},
		{"ipip vlan", vlan, link.Ethernet, "10.0.0.1", rs4, layers.LayerTypeEthernet, true},
		{"ip6ip6 ethernet", tcp6Frame(t, 20), link.Ethernet, "fd00::1", rs6, layers.LayerTypeEthernet, false},
		{"4in6 ethernet", tcp4, link.Ethernet, "fd00::1", rs6, layers.LayerTypeEthernet, false},
		{"ipip raw", tcp4[EthHdrLen:], link.RawIP, "10.0.0.1", rs4, layers.LayerTypeIPv4, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := link.NewBatch(1)
			b.Len[0] = copy(b.Bufs[0][b.Off[0]:], tc.frame)
			var p Parsed
			if r := p.Decode(b.Frame(0), tc.lt); r != OK {
				t.Fatalf("Decode = %v", r)
			}
			p.DecrementTTL(b.Frame(0))
			innerLen := p.IPLen
			off, n, ok := p.Encap(b.Bufs[0], b.Off[0], addr(tc.src), addr(tc.dst), 99)
			if !ok {
				t.Fatal("Encap = false")
			}
			b.Off[0], b.Len[0] = off, n
			f := b.Frame(0)
			verifyGopacket(t, f, tc.first)
			var q Parsed
			if r := q.Decode(f, tc.lt); r != OK {
				t.Fatalf("Decode(encapsulated) = %v", r)
			}
			if q.Src != addr(tc.src) || q.Dst != addr(tc.dst) || q.TTL != 63 || q.IPLen != innerLen+q.L4Off-q.L3Off ||
				q.L4Off+q.L4Len != len(f) || (q.Flags&FlagVLAN != 0) != tc.wantVLAN || q.SrcMAC != p.SrcMAC || q.DstMAC != p.DstMAC {
				t.Errorf("outer %v → %v ttl %d len %d flags %b, frame %d bytes", q.Src, q.Dst, q.TTL, q.IPLen, q.Flags, len(f))
			}
			var in Parsed
			if r := in.Decode(f[q.L4Off:], link.RawIP); r != OK || in.Src != p.Src || in.DstPort != p.DstPort {
				t.Errorf("inner Decode = %v, %v:%d", r, in.Src, in.DstPort)
			}
		})
	}
	var p Parsed
	f := append(make([]byte, 10), tcp4...)
	p.Decode(f[10:], link.Ethernet)
	if _, _, ok := p.Encap(f, 10, addr("10.0.0.1"), addr(rs4), 1); ok {
		t.Error("Encap without headroom = true")
	}
	if _, _, ok := p.Encap(f, 10, addr("10.0.0.1"), addr(rs6), 1); ok {
		t.Error("Encap with mixed families = true")
	}
}

// TestDecodeQuotedTunnel follows an ICMP frag-needed about the director's
// own IPIP packet down to the client's packet it carried (ipvs.md §5).
func TestDecodeQuotedTunnel(t *testing.T) {
	client := tcp4Frame(t, 1400)[EthHdrLen:]
	ipip := make([]byte, IPv4TunnelLen+len(client))
	copy(ipip[IPv4TunnelLen:], client)
	if PutIPv4Tunnel(ipip, ipip[IPv4TunnelLen:], addr("10.0.0.1"), addr(rs4), 5) == 0 {
		t.Fatal("PutIPv4Tunnel = 0")
	}
	b := make([]byte, 1500)
	n := PutICMPv4FragNeeded(b, addr("10.0.0.254"), 1480, ipip)
	p := decodeOK(t, b[:n], link.RawIP)
	if p.Inner.Proto != ProtoIPIP || p.Inner.Ports {
		t.Fatalf("Inner = %+v, want the IPIP packet", p.Inner)
	}
	in, r := DecodeQuoted(b[:n], p.Inner.L4Off, p.Inner.L4Off+p.Inner.L4Len)
	if r != OK || in.Src != addr(cli4) || in.Dst != addr(vip4) || in.SrcPort != 40000 || in.DstPort != 80 || !in.Ports {
		t.Errorf("DecodeQuoted(client packet) = %+v, %v", in, r)
	}
	for _, tc := range []struct {
		name       string
		start, end int
	}{
		{"too short for ports", p.Inner.L4Off, p.Inner.L4Off + 22},
		{"empty", p.Inner.L4Off, p.Inner.L4Off},
		{"out of range", p.Inner.L4Off, n + 1},
		{"reversed", p.Inner.L4Off, p.Inner.L4Off - 1},
	} {
		if _, r := DecodeQuoted(b[:n], tc.start, tc.end); r != BadICMPEmbedded {
			t.Errorf("DecodeQuoted(%s) = %v, want bad_icmp_embedded", tc.name, r)
		}
	}
}

func TestPutEthernetVLAN(t *testing.T) {
	src := tcp4Frame(t, 5)[EthHdrLen:]
	b := make([]byte, 18+len(src))
	if n := PutEthernetVLAN(b, [6]byte(macB), [6]byte(macA), 5<<13|100, EtherTypeIPv4); n != 18 {
		t.Fatalf("PutEthernetVLAN = %d, want 18", n)
	}
	copy(b[18:], src)
	p := decodeOK(t, b, link.Ethernet)
	if p.Flags&FlagVLAN == 0 || p.VLAN != 5<<13|100 || p.L3Off != 18 || p.SrcMAC != [6]byte(macA) {
		t.Errorf("decoded tag %#x flags %b L3Off %d src %x", p.VLAN, p.Flags, p.L3Off, p.SrcMAC)
	}
	verifyGopacket(t, b, layers.LayerTypeEthernet)
	if n := PutEthernetVLAN(b[:17], [6]byte{}, [6]byte{}, 1, EtherTypeIPv4); n != 0 {
		t.Errorf("PutEthernetVLAN(17 bytes) = %d, want 0", n)
	}
}
