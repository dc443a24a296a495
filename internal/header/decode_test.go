package header

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket/layers"
	"github.com/uvslb/uvs/internal/link"
)

// summary is the subset of Parsed a test compares.
type summary struct {
	Reason           string
	Flags            Flags
	IPVersion, Proto uint8
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	TTL, TOS         uint8
	L3Off, L4Off     int
	L4Len, IPLen     int
	TCPFlags         uint8
	ICMP             [2]uint8
	Inner            Inner
	ARP              ARP
	ND               ND
	VLAN             uint16
}

func summarize(p *Parsed, r Reason) summary {
	return summary{Reason: r.String(), Flags: p.Flags, IPVersion: p.IPVersion, Proto: p.Proto,
		Src: p.Src, Dst: p.Dst, SrcPort: p.SrcPort, DstPort: p.DstPort, TTL: p.TTL, TOS: p.TOS,
		L3Off: p.L3Off, L4Off: p.L4Off, L4Len: p.L4Len, IPLen: p.IPLen, TCPFlags: p.TCPFlags,
		ICMP: [2]uint8{p.ICMPType, p.ICMPCode}, Inner: p.Inner, ARP: p.ARP, ND: p.ND, VLAN: p.VLAN}
}

var cmpAddr = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

func TestDecodeGood(t *testing.T) {
	tcp4 := tcp4Frame(t, 0) // 54 bytes: pad to the Ethernet minimum
	padded := append(append([]byte(nil), tcp4...), make([]byte, 60-len(tcp4))...)
	vlan := serialize(t, eth(layers.EthernetTypeDot1Q),
		&layers.Dot1Q{VLANIdentifier: 42, Priority: 3, Type: layers.EthernetTypeIPv4},
		ipv4(cli4, vip4, layers.IPProtocolUDP), udp(1234, 53), payload(5))
	opts := ipv4(cli4, vip4, layers.IPProtocolTCP)
	opts.Options = []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}}
	withOpts := serialize(t, eth(layers.EthernetTypeIPv4), opts, tcp(1, 2, false, true), payload(3))
	hbh := &layers.IPv6HopByHop{}
	hbh.NextHeader = layers.IPProtocolIPv6Destination
	hbh.Options = []*layers.IPv6HopByHopOption{{OptionType: 1, OptionLength: 4, OptionData: []byte{0, 0, 0, 0}}}
	dst := &layers.IPv6Destination{}
	dst.NextHeader = layers.IPProtocolUDP
	dst.Options = []*layers.IPv6DestinationOption{{OptionType: 1, OptionLength: 4, OptionData: []byte{0, 0, 0, 0}}}
	ext6 := serialize(t, eth(layers.EthernetTypeIPv6), ipv6(cli6, vip6, layers.IPProtocolIPv6HopByHop), hbh, dst,
		udp(5000, 53), payload(9))
	raw4 := serialize(t, ipv4(cli4, vip4, layers.IPProtocolICMPv4),
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 1, Seq: 2}, payload(8))
	frag1 := ipv4(cli4, vip4, layers.IPProtocolTCP)
	frag1.Flags = layers.IPv4MoreFragments
	firstFrag := serialize(t, eth(layers.EthernetTypeIPv4), frag1, tcp(1, 80, true, false), payload(16))

	for _, tc := range []struct {
		name  string
		frame []byte
		lt    link.Type
		want  summary
	}{
		{"tcp4 padded", padded, link.Ethernet, summary{Reason: "ok", Flags: FlagDF | FlagPorts, IPVersion: 4, Proto: 6,
			Src: addr(cli4), Dst: addr(vip4), SrcPort: 40000, DstPort: 80, TTL: 64, TOS: 0x10,
			L3Off: 14, L4Off: 34, L4Len: 20, IPLen: 40, TCPFlags: TCPSyn}},
		{"vlan udp4", vlan, link.Ethernet, summary{Reason: "ok", Flags: FlagVLAN | FlagDF | FlagPorts, IPVersion: 4, Proto: 17,
			Src: addr(cli4), Dst: addr(vip4), SrcPort: 1234, DstPort: 53, TTL: 64, TOS: 0x10,
			L3Off: 18, L4Off: 38, L4Len: 13, IPLen: 33, VLAN: 3<<13 | 42}},
		{"ipv4 options", withOpts, link.Ethernet, summary{Reason: "ok", Flags: FlagDF | FlagPorts | FlagIPOptions, IPVersion: 4, Proto: 6,
			Src: addr(cli4), Dst: addr(vip4), SrcPort: 1, DstPort: 2, TTL: 64, TOS: 0x10,
			L3Off: 14, L4Off: 38, L4Len: 23, IPLen: 47, TCPFlags: TCPAck}},
		{"ipv6 ext headers", ext6, link.Ethernet, summary{Reason: "ok", Flags: FlagExtHeaders | FlagPorts, IPVersion: 6, Proto: 17,
			Src: addr(cli6), Dst: addr(vip6), SrcPort: 5000, DstPort: 53, TTL: 64, TOS: 0x20,
			L3Off: 14, L4Off: 70, L4Len: 17, IPLen: 73}},
		{"raw icmp echo", raw4, link.RawIP, summary{Reason: "ok", Flags: FlagDF, IPVersion: 4, Proto: 1,
			Src: addr(cli4), Dst: addr(vip4), TTL: 64, TOS: 0x10, L3Off: 0, L4Off: 20, L4Len: 16, IPLen: 36, ICMP: [2]uint8{8, 0}}},
		{"first fragment", firstFrag, link.Ethernet, summary{Reason: "ok", Flags: FlagFragment | FlagPorts, IPVersion: 4, Proto: 6,
			Src: addr(cli4), Dst: addr(vip4), SrcPort: 1, DstPort: 80, TTL: 64, TOS: 0x10,
			L3Off: 14, L4Off: 34, L4Len: 36, IPLen: 56, TCPFlags: TCPSyn}},
		{"icmp4 error", icmp4ErrFrame(t), link.Ethernet, summary{Reason: "ok", Flags: FlagDF | FlagICMPError, IPVersion: 4, Proto: 1,
			Src: addr(cli4), Dst: addr(vip4), TTL: 64, TOS: 0x10, L3Off: 14, L4Off: 34, L4Len: 56, IPLen: 76, ICMP: [2]uint8{3, 3},
			Inner: Inner{L3Off: 42, HdrLen: 20, IPVersion: 4, Proto: 17, TTL: 64, Src: addr(vip4), Dst: addr(cli4),
				L4Off: 62, L4Len: 28, SrcPort: 53, DstPort: 40000, Ports: true}}},
		{"icmp6 too big", icmp6ErrFrame(t), link.Ethernet, summary{Reason: "ok", Flags: FlagICMPError, IPVersion: 6, Proto: 58,
			Src: addr("2001:db8:ff::1"), Dst: addr(vip6), TTL: 64, TOS: 0x20, L3Off: 14, L4Off: 54, L4Len: 8 + 40 + 20 + 40,
			IPLen: 40 + 108, ICMP: [2]uint8{2, 0},
			Inner: Inner{L3Off: 62, HdrLen: 40, IPVersion: 6, Proto: 6, TTL: 64, Src: addr(vip6), Dst: addr(cli6),
				L4Off: 102, L4Len: 60, SrcPort: 443, DstPort: 40000, Ports: true}}},
		{"arp request", arpFrame(t, 1), link.Ethernet, summary{Reason: "ok", Flags: FlagARP, L3Off: 14,
			ARP: ARP{Op: 1, SenderMAC: [6]byte(macA), SenderIP: addr(cli4), TargetIP: addr(vip4)}}},
		{"neighbour solicitation", nsFrame(t), link.Ethernet, summary{Reason: "ok", Flags: FlagND, IPVersion: 6, Proto: 58,
			Src: addr(cli6), Dst: addr("ff02::1:ff00:1"), TTL: 255, TOS: 0x20, L3Off: 14, L4Off: 54, L4Len: 32, IPLen: 72,
			ICMP: [2]uint8{135, 0}, ND: ND{Target: addr(vip6), LinkAddr: [6]byte(macA), HasLinkAddr: true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p Parsed
			r := p.Decode(tc.frame, tc.lt)
			if diff := cmp.Diff(tc.want, summarize(&p, r), cmpAddr); diff != "" {
				t.Errorf("Decode(%s, %v) mismatch (-want +got):\n%s", tc.name, tc.lt, diff)
			}
		})
	}
}

// mutate returns a copy of frame changed by f.
func mutate(frame []byte, f func(b []byte) []byte) []byte {
	return f(append([]byte(nil), frame...))
}

func TestDecodeBad(t *testing.T) {
	tcp4 := tcp4Frame(t, 10)
	udp4 := udp4Frame(t, 10)
	tcp6 := tcp6Frame(t, 10)
	set16 := func(b []byte, off int, v uint16) { binary.BigEndian.PutUint16(b[off:], v) }
	ext6 := func(n int, first uint8, routingType uint8) []byte {
		// n extension headers of kind first (8 bytes each) before TCP.
		b := append([]byte(nil), tcp6[:14+40]...)
		b[14+6] = first
		for i := 0; i < n; i++ {
			next := first
			if i == n-1 {
				next = ProtoTCP
			}
			b = append(b, next, 0, routingType, 0, 0, 0, 0, 0)
		}
		b = append(b, tcp6[14+40:]...)
		set16(b, 14+4, uint16(len(b)-14-40))
		return b
	}
	for _, tc := range []struct {
		name  string
		frame []byte
		lt    link.Type
		want  Reason
	}{
		{"short ethernet", tcp4[:10], link.Ethernet, Truncated},
		{"empty raw", nil, link.RawIP, Truncated},
		{"bad link type", tcp4, 0, BadLinkType},
		{"qinq", mutate(tcp4, func(b []byte) []byte { set16(b, 12, 0x88A8); return b }), link.Ethernet, BadVLAN},
		{"two vlan tags", mutate(tcp4, func(b []byte) []byte {
			return append(append(append([]byte(nil), b[:12]...), 0x81, 0, 0, 1, 0x81, 0, 0, 2), b[12:]...)
		}), link.Ethernet, BadVLAN},
		{"short vlan", mutate(tcp4[:16], func(b []byte) []byte { set16(b, 12, 0x8100); return b }), link.Ethernet, Truncated},
		{"group source mac", mutate(tcp4, func(b []byte) []byte { b[6] |= 1; return b }), link.Ethernet, BadSourceMAC},
		{"lldp", mutate(tcp4, func(b []byte) []byte { set16(b, 12, 0x88CC); return b }), link.Ethernet, NotIP},
		{"802.3 length", mutate(tcp4, func(b []byte) []byte { set16(b, 12, 0x0026); return b }), link.Ethernet, NotIP},
		{"v6 in v4 ethertype", mutate(tcp4, func(b []byte) []byte { b[14] = 0x65; return b }), link.Ethernet, BadIPVersion},
		{"raw version 5", mutate(tcp4[14:], func(b []byte) []byte { b[0] = 0x55; return b }), link.RawIP, BadIPVersion},
		{"short ipv4", tcp4[:30], link.Ethernet, Truncated},
		{"ihl 4", mutate(tcp4, func(b []byte) []byte { b[14] = 0x44; return b }), link.Ethernet, BadIHL},
		{"ihl past frame", mutate(tcp4[:14+40], func(b []byte) []byte { b[14] = 0x4F; return b }), link.Ethernet, BadIHL},
		{"total length past frame", mutate(tcp4, func(b []byte) []byte { set16(b, 16, 200); fixIPv4Csum(b, 14); return b }), link.Ethernet, BadTotalLength},
		{"frame cut", tcp4[:len(tcp4)-1], link.Ethernet, BadTotalLength},
		{"total length below ihl", mutate(tcp4, func(b []byte) []byte { set16(b, 16, 19); fixIPv4Csum(b, 14); return b }), link.Ethernet, BadTotalLength},
		{"bad ip checksum", mutate(tcp4, func(b []byte) []byte { b[24] ^= 0x40; return b }), link.Ethernet, BadIPChecksum},
		{"loopback source", mutate(tcp4, func(b []byte) []byte { b[26] = 127; fixIPv4Csum(b, 14); return b }), link.Ethernet, MartianSource},
		{"zero source", mutate(tcp4, func(b []byte) []byte { copy(b[26:30], []byte{0, 0, 0, 0}); fixIPv4Csum(b, 14); return b }), link.Ethernet, MartianSource},
		{"multicast source", mutate(tcp4, func(b []byte) []byte { b[26] = 224; fixIPv4Csum(b, 14); return b }), link.Ethernet, MartianSource},
		{"broadcast source", mutate(tcp4, func(b []byte) []byte { copy(b[26:30], []byte{255, 255, 255, 255}); fixIPv4Csum(b, 14); return b }), link.Ethernet, MartianSource},
		{"land", mutate(tcp4, func(b []byte) []byte { copy(b[26:30], b[30:34]); fixIPv4Csum(b, 14); return b }), link.Ethernet, Land},
		{"non-first fragment", mutate(tcp4, func(b []byte) []byte { set16(b, 20, 0x0003); fixIPv4Csum(b, 14); return b }), link.Ethernet, Fragment},
		{"tiny first fragment", mutate(tcp4[:14+20+8], func(b []byte) []byte { set16(b, 16, 28); set16(b, 20, 0x2000); fixIPv4Csum(b, 14); return b }), link.Ethernet, Fragment},
		{"short tcp", mutate(tcp4[:14+20+8], func(b []byte) []byte { set16(b, 16, 28); fixIPv4Csum(b, 14); return b }), link.Ethernet, Truncated},
		{"tcp data offset 4", mutate(tcp4, func(b []byte) []byte { b[34+12] = 0x40; return b }), link.Ethernet, BadTCPHeader},
		{"tcp data offset past segment", mutate(tcp4, func(b []byte) []byte { b[34+12] = 0xF0; return b }), link.Ethernet, BadTCPHeader},
		{"udp length 7", mutate(udp4, func(b []byte) []byte { set16(b, 34+4, 7); return b }), link.Ethernet, BadUDPLength},
		{"udp length past payload", mutate(udp4, func(b []byte) []byte { set16(b, 34+4, 19); return b }), link.Ethernet, BadUDPLength},
		{"short udp", mutate(udp4[:14+20+6], func(b []byte) []byte { set16(b, 16, 26); fixIPv4Csum(b, 14); return b }), link.Ethernet, Truncated},
		{"short ipv6", tcp6[:50], link.Ethernet, Truncated},
		{"ipv6 payload past frame", mutate(tcp6, func(b []byte) []byte { set16(b, 18, 500); return b }), link.Ethernet, BadTotalLength},
		{"v4 in v6 ethertype", mutate(tcp6, func(b []byte) []byte { b[14] = 0x45; return b }), link.Ethernet, BadIPVersion},
		{"ipv6 loopback source", mutate(tcp6, func(b []byte) []byte { copy(b[22:38], addr("::1").AsSlice()); return b }), link.Ethernet, MartianSource},
		{"ipv6 unspecified tcp source", mutate(tcp6, func(b []byte) []byte { copy(b[22:38], make([]byte, 16)); return b }), link.Ethernet, MartianSource},
		{"ipv6 land", mutate(tcp6, func(b []byte) []byte { copy(b[22:38], b[38:54]); return b }), link.Ethernet, Land},
		{"8 dest opts", ext6(8, ProtoDstOpts, 0), link.Ethernet, OK},
		{"9 dest opts", ext6(9, ProtoDstOpts, 0), link.Ethernet, ExtHeaderLimit},
		{"hop-by-hop second", mutate(ext6(2, ProtoDstOpts, 0), func(b []byte) []byte { b[54] = ProtoHopByHop; return b }), link.Ethernet, BadExtHeader},
		{"routing type 0", ext6(1, ProtoRouting, 0), link.Ethernet, BadExtHeader},
		{"routing type 4", ext6(1, ProtoRouting, 4), link.Ethernet, OK},
		{"ext header past packet", mutate(ext6(1, ProtoDstOpts, 0), func(b []byte) []byte { b[55] = 40; return b }), link.Ethernet, BadExtHeader},
		{"ext header bytes", mutate(ext6(1, ProtoDstOpts, 0), func(b []byte) []byte {
			b = append(b[:54+8], append(make([]byte, 1024), b[54+8:]...)...)
			b[55] = 1024 / 8
			set16(b, 18, uint16(len(b)-54))
			return b
		}), link.Ethernet, ExtHeaderLimit},
		{"esp", mutate(tcp6, func(b []byte) []byte { b[20] = ProtoESP; return b }), link.Ethernet, NotOurs},
		{"ah after dest opts", mutate(ext6(1, ProtoDstOpts, 0), func(b []byte) []byte { b[54] = ProtoAH; return b }), link.Ethernet, NotOurs},
		{"ipv6 non-first fragment", mutate(ext6(1, ProtoFragment, 0), func(b []byte) []byte { set16(b, 56, 0x0008); return b }), link.Ethernet, Fragment},
		{"ipv6 atomic fragment", ext6(1, ProtoFragment, 0), link.Ethernet, OK},
		{"short icmp", serialize(t, ipv4(cli4, vip4, layers.IPProtocolICMPv4), payload(4)), link.RawIP, BadICMP},
		{"icmp error short quote", serialize(t, ipv4(cli4, vip4, layers.IPProtocolICMPv4),
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 3)}, payload(10)), link.RawIP, BadICMPEmbedded},
		{"icmp error quote without ports", mutate(icmp4ErrFrame(t)[:14+20+8+20+4], func(b []byte) []byte {
			set16(b, 16, 20+8+20+4)
			fixIPv4Csum(b, 14)
			return b
		}), link.Ethernet, BadICMPEmbedded},
		{"icmp6 error in fragment", mutate(ext6(1, ProtoFragment, 0), func(b []byte) []byte {
			b[54] = ProtoICMPv6
			set16(b, 56, 0x0001)
			b[62] = ICMPv6DestUnreachable
			return b
		}), link.Ethernet, Fragment},
		{"short arp", arpFrame(t, 1)[:30], link.Ethernet, Truncated},
		{"arp hlen 8", mutate(arpFrame(t, 1), func(b []byte) []byte { b[18] = 8; return b }), link.Ethernet, BadARP},
		{"arp op 3", mutate(arpFrame(t, 1), func(b []byte) []byte { b[21] = 3; return b }), link.Ethernet, BadARP},
		{"ns hop limit 64", mutate(nsFrame(t), func(b []byte) []byte { b[21] = 64; return b }), link.Ethernet, BadND},
		{"ns zero-length option", mutate(nsFrame(t), func(b []byte) []byte { b[54+24+1] = 0; return b }), link.Ethernet, BadND},
		{"ns multicast target", mutate(nsFrame(t), func(b []byte) []byte { b[54+8] = 0xff; return b }), link.Ethernet, BadND},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p Parsed
			if got := p.Decode(tc.frame, tc.lt); got != tc.want {
				t.Errorf("Decode(%s, %v) = %v, want %v", tc.name, tc.lt, got, tc.want)
			}
		})
	}
}

func TestReasonStrings(t *testing.T) {
	seen := map[string]Reason{}
	for r := Reason(0); r < Reason(NumReasons); r++ {
		s := r.String()
		if prev, dup := seen[s]; dup {
			t.Errorf("Reason(%d).String() = %q, same as Reason(%d)", r, s, prev)
		}
		seen[s] = r
	}
	if got := Reason(NumReasons).String(); got != "invalid" {
		t.Errorf("Reason(NumReasons).String() = %q, want \"invalid\"", got)
	}
	if !NotIP.Pass() || !NotOurs.Pass() || Truncated.Pass() || OK.Pass() {
		t.Errorf("Pass() wrong: NotIP %v NotOurs %v Truncated %v OK %v", NotIP.Pass(), NotOurs.Pass(), Truncated.Pass(), OK.Pass())
	}
}

func TestValidTCPFlags(t *testing.T) {
	for _, tc := range []struct {
		f    uint8
		want bool
	}{
		{TCPSyn, true}, {TCPSyn | TCPAck, true}, {TCPRst, true}, {TCPRst | TCPAck, true},
		{TCPFin | TCPAck, true}, {TCPAck | TCPPsh, true}, {TCPSyn | TCPEce | TCPCwr, true}, {TCPAck | TCPUrg, true},
		{TCPSyn | TCPFin, false}, {TCPSyn | TCPRst, false}, {TCPFin, false}, {0, false},
		{TCPFin | TCPPsh | TCPUrg, false}, {TCPFin | TCPSyn | TCPRst | TCPPsh | TCPAck | TCPUrg, false},
	} {
		if got := ValidTCPFlags(tc.f); got != tc.want {
			t.Errorf("ValidTCPFlags(%#02x) = %v, want %v", tc.f, got, tc.want)
		}
	}
}

func TestVerifyL4(t *testing.T) {
	udpNone := udp4Frame(t, 9)
	udpNone[34+6], udpNone[34+7] = 0, 0
	udp6None := udp6Frame(t, 9)
	udp6None[54+6], udp6None[54+7] = 0, 0
	for _, tc := range []struct {
		name  string
		frame []byte
		want  bool
	}{
		{"tcp4", tcp4Frame(t, 33), true},
		{"tcp4 corrupt payload", mutate(tcp4Frame(t, 33), func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), false},
		{"udp4", udp4Frame(t, 9), true},
		{"udp4 no checksum", udpNone, true},
		{"udp6", udp6Frame(t, 9), true},
		{"udp6 zero checksum", udp6None, false},
		{"tcp6", tcp6Frame(t, 1), true},
		{"tcp6 corrupt", mutate(tcp6Frame(t, 1), func(b []byte) []byte { b[60] ^= 0x80; return b }), false},
		{"icmp4 error", icmp4ErrFrame(t), true},
		{"icmp4 corrupt", mutate(icmp4ErrFrame(t), func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), false},
		{"icmp6 error", icmp6ErrFrame(t), true},
		{"ns", nsFrame(t), true},
		{"arp", arpFrame(t, 2), false},
	} {
		var p Parsed
		if r := p.Decode(tc.frame, link.Ethernet); r != OK {
			t.Fatalf("%s: Decode = %v", tc.name, r)
		}
		if got := p.VerifyL4(tc.frame); got != tc.want {
			t.Errorf("%s: VerifyL4 = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDecodeAllocs(t *testing.T) {
	frames := [][]byte{tcp4Frame(t, 100), tcp6Frame(t, 100), icmp4ErrFrame(t), icmp6ErrFrame(t), arpFrame(t, 1), nsFrame(t)}
	var p Parsed
	for _, f := range frames {
		if n := testing.AllocsPerRun(100, func() { p.Decode(f, link.Ethernet); p.VerifyL4(f) }); n != 0 {
			t.Errorf("Decode+VerifyL4 allocs = %v, want 0", n)
		}
	}
}

// refCheckSource4 is the IPv4 source check on netip.Addrs, the reference
// for checkSource4's word arithmetic.
func refCheckSource4(src, dst netip.Addr) Reason {
	if src == dst {
		return Land
	}
	a := src.As4()
	if a[0] == 0 || a[0] == 127 || a[0]&0xF0 == 0xE0 || a == [4]byte{255, 255, 255, 255} {
		return MartianSource
	}
	return OK
}

func TestCheckSource4(t *testing.T) {
	words := []uint32{0, 1, 0xFFFFFFFF, 0xFFFFFFFE, 0x7F000001, 0xE0000001, 0xEFFFFFFF, 0xF0000000, 0x0A000005}
	for a0 := range uint32(256) {
		words = append(words, a0<<24, a0<<24|0x00FFFFFF, a0<<24|0x010203)
	}
	for _, s := range words {
		for _, d := range []uint32{s, s ^ 1, 0x0A000005, 0xFFFFFFFF} {
			var sb, db [4]byte
			binary.BigEndian.PutUint32(sb[:], s)
			binary.BigEndian.PutUint32(db[:], d)
			if got, want := checkSource4(s, d), refCheckSource4(netip.AddrFrom4(sb), netip.AddrFrom4(db)); got != want {
				t.Fatalf("checkSource4(%#x, %#x) = %v, want %v", s, d, got, want)
			}
		}
	}
}

// refCheckSource6 is the IPv6 source check on netip.Addrs, the reference
// for checkSource6's word arithmetic.
func refCheckSource6(src, dst netip.Addr, proto uint8) Reason {
	if src == dst {
		return Land
	}
	if src.IsMulticast() || src.IsLoopback() {
		return MartianSource
	}
	if src.IsUnspecified() && proto != ProtoICMPv6 {
		return MartianSource
	}
	return OK
}

func TestCheckSource6(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	addrs := []netip.Addr{addr("::"), addr("::1"), addr("::2"), addr("ff02::1"), addr("fe80::1"), addr("ff00::"),
		addr("::ffff:127.0.0.1"), addr("::ffff:224.0.0.1"), addr("::ffff:239.255.255.255"), addr("::ffff:240.0.0.1"),
		addr("::ffff:0.0.0.0"), addr("::ffff:255.255.255.255"), addr("::ffff:10.0.0.1"), addr("::fffe:127.0.0.1"),
		addr("::1:ffff:127.0.0.1"), addr("1::1"), addr("::1:0:0:1"), addr(cli6), addr(vip6)}
	for a0 := range 256 {
		addrs = append(addrs, netip.AddrFrom16([16]byte{0: byte(a0), 15: 1}),
			netip.AddrFrom16([16]byte{10: 0xFF, 11: 0xFF, 12: byte(a0), 15: 1}))
	}
	for range 2000 {
		var b [16]byte
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		addrs = append(addrs, netip.AddrFrom16(b))
	}
	for _, s := range addrs {
		for _, d := range []netip.Addr{s, addr(vip6), addr("::"), addr("::1")} {
			for _, proto := range []uint8{ProtoTCP, ProtoICMPv6} {
				sb, db := s.As16(), d.As16()
				got := checkSource6(binary.BigEndian.Uint64(sb[:]), binary.BigEndian.Uint64(sb[8:]),
					binary.BigEndian.Uint64(db[:]), binary.BigEndian.Uint64(db[8:]), proto)
				if want := refCheckSource6(s, d, proto); got != want {
					t.Fatalf("checkSource6(%v, %v, %d) = %v, want %v", s, d, proto, got, want)
				}
			}
		}
	}
}
