package header

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/uvslb/uvs/internal/link"
)

// checkOffsets fails t unless every offset an OK Decode reports lies
// within the frame.
func checkOffsets(t *testing.T, p *Parsed, frame []byte) {
	t.Helper()
	n := len(frame)
	if p.L3Off < 0 || p.L3Off > n {
		t.Fatalf("L3Off %d outside frame of %d", p.L3Off, n)
	}
	if p.IPVersion == 0 {
		if p.Flags&FlagARP != 0 && p.L3Off+ARPLen > n {
			t.Fatalf("ARP at %d outside frame of %d", p.L3Off, n)
		}
		return
	}
	end := p.End()
	if end > n || p.L4Off < p.L3Off || p.L4Len < 0 || p.L4Off+p.L4Len > end {
		t.Fatalf("offsets L3 %d end %d L4 %d+%d outside frame of %d", p.L3Off, end, p.L4Off, p.L4Len, n)
	}
	if p.Flags&FlagICMPError != 0 {
		in := p.Inner
		if in.L3Off < p.L4Off || in.L4Off < in.L3Off || in.L4Len < 0 || in.L4Off+in.L4Len > p.L4Off+p.L4Len {
			t.Fatalf("inner offsets L3 %d L4 %d+%d outside ICMP %d+%d", in.L3Off, in.L4Off, in.L4Len, p.L4Off, p.L4Len)
		}
		if in.Ports && in.L4Len < 8 {
			t.Fatalf("inner ports with only %d L4 bytes", in.L4Len)
		}
	}
}

// FuzzDecode feeds arbitrary bytes to Decode on both link types: it must
// not panic, what it accepts has its offsets within the frame, and the
// rewrite helpers on an accepted frame keep a valid L4 checksum valid.
func FuzzDecode(f *testing.F) {
	for _, fr := range [][]byte{tcp4Frame(f, 10), udp4Frame(f, 3), tcp6Frame(f, 0), udp6Frame(f, 1),
		icmp4ErrFrame(f), icmp6ErrFrame(f), arpFrame(f, 1), nsFrame(f)} {
		f.Add(fr, true)
		f.Add(fr[EthHdrLen:], false)
	}
	rs4a, rs6a := addr(rs4), addr(rs6)
	buf := make([]byte, link.Headroom+link.MaxFrame)
	f.Fuzz(func(t *testing.T, frame []byte, ethernet bool) {
		lt := link.RawIP
		if ethernet {
			lt = link.Ethernet
		}
		var p Parsed
		r := p.Decode(frame, lt)
		if r.String() == "invalid" || r == BadTCPFlags || r == BadL4Checksum {
			t.Fatalf("Decode returned %v (%d)", r, r)
		}
		if r != OK {
			return
		}
		checkOffsets(t, &p, frame)
		valid := p.VerifyL4(frame)
		rs := rs4a
		if p.IPVersion == 6 {
			rs = rs6a
		}
		p.SetDstAddr(frame, rs)
		p.SetSrcPort(frame, 4242)
		p.DecrementTTL(frame)
		p.SetEthSrc(frame, [6]byte{2})
		if p.SetInnerSrcAddr(frame, rs) {
			p.SetInnerSrcPort(frame, 4343)
			p.FinishICMPError(frame)
		}
		checkOffsets(t, &p, frame)
		if valid && !p.VerifyL4(frame) {
			t.Fatalf("checksum valid before rewrite, invalid after (proto %d flags %b)", p.Proto, p.Flags)
		}
		if p.Flags&FlagICMPError != 0 && p.Inner.L4Len > 0 {
			// A second level, as for an error about an IPIP packet.
			in, r := DecodeQuoted(frame, p.Inner.L4Off, p.Inner.L4Off+p.Inner.L4Len)
			if r == OK && (in.L4Off < in.L3Off || in.L4Off+in.L4Len > p.Inner.L4Off+p.Inner.L4Len) {
				t.Fatalf("DecodeQuoted offsets L3 %d L4 %d+%d outside %d+%d", in.L3Off, in.L4Off, in.L4Len, p.Inner.L4Off, p.Inner.L4Len)
			}
		}
		// Tunnel it in place and decode the result.
		if p.IPVersion == 0 || p.End()+link.Headroom > len(buf) {
			return
		}
		n := copy(buf[link.Headroom:], frame)
		tsrc, tdst := addr("10.0.0.1"), rs4a
		if p.IPVersion == 6 {
			tsrc, tdst = addr("fd00::1"), rs6a
		}
		off, l, ok := p.Encap(buf, link.Headroom, tsrc, tdst, 1)
		if !ok {
			if p.IPLen+IPv6TunnelLen <= 0xFFFF {
				t.Fatalf("Encap of a %d-byte packet refused", p.IPLen)
			}
			return
		}
		var q Parsed
		if r := q.Decode(buf[off:off+l], lt); r != OK || q.Src != tsrc || q.L4Off+q.L4Len != l {
			t.Fatalf("Decode(Encap(%d bytes)) = %v, src %v, L4 %d+%d of %d", n, r, q.Src, q.L4Off, q.L4Len, l)
		}
	})
}

// FuzzRoundTrip builds TCP/UDP packets with gopacket from fuzzed fields,
// decodes them, compares the fields, NATs them with the rewrite helpers and
// has gopacket verify every checksum.
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint32(0xC000020A), uint32(0xC6336401), uint16(40000), uint16(80), uint8(0), []byte("hello"), false, uint16(8080))
	f.Add(uint32(1), uint32(2), uint16(1), uint16(53), uint8(1), []byte{}, true, uint16(0))
	f.Add(uint32(0x0A000001), uint32(0x0A000002), uint16(0xFFFF), uint16(0), uint8(1), []byte{0xFF, 0xFF}, false, uint16(0xFFFF))
	f.Fuzz(func(t *testing.T, s, d uint32, sport, dport uint16, kind uint8, pl []byte, v6 bool, newPort uint16) {
		var src, dst netip.Addr
		var nl gopacket.SerializableLayer
		var et layers.EthernetType
		proto := layers.IPProtocolTCP
		if kind%2 == 1 {
			proto = layers.IPProtocolUDP
		}
		if v6 {
			var a, b [16]byte
			a[0], b[0] = 0x20, 0x20
			binary.BigEndian.PutUint32(a[12:], s)
			binary.BigEndian.PutUint32(b[12:], d)
			src, dst = netip.AddrFrom16(a), netip.AddrFrom16(b)
			nl = &layers.IPv6{Version: 6, HopLimit: 9, NextHeader: proto, SrcIP: net.IP(a[:]), DstIP: net.IP(b[:])}
			et = layers.EthernetTypeIPv6
		} else {
			var a, b [4]byte
			binary.BigEndian.PutUint32(a[:], s|0x01000000) // keep out of 0/8
			binary.BigEndian.PutUint32(b[:], d)
			a[0] &= 0xDF // keep out of multicast and 127/8
			if a[0] == 127 {
				a[0] = 126
			}
			src, dst = netip.AddrFrom4(a), netip.AddrFrom4(b)
			nl = &layers.IPv4{Version: 4, IHL: 5, TTL: 9, Protocol: proto, SrcIP: net.IP(a[:]), DstIP: net.IP(b[:])}
			et = layers.EthernetTypeIPv4
		}
		if src == dst || len(pl) > 1400 {
			return
		}
		var l4 gopacket.SerializableLayer = tcp(sport, dport, true, false)
		if proto == layers.IPProtocolUDP {
			l4 = udp(sport, dport)
		}
		frame := serialize(t, eth(et), nl, l4, gopacket.Payload(pl))
		var p Parsed
		if r := p.Decode(frame, link.Ethernet); r != OK {
			t.Fatalf("Decode(gopacket %v %v→%v) = %v", proto, src, dst, r)
		}
		if p.Src != src || p.Dst != dst || p.SrcPort != sport || p.DstPort != dport || p.Proto != uint8(proto) || p.TTL != 9 {
			t.Fatalf("Decode = %v:%d→%v:%d proto %d ttl %d, want %v:%d→%v:%d proto %d ttl 9",
				p.Src, p.SrcPort, p.Dst, p.DstPort, p.Proto, p.TTL, src, sport, dst, dport, proto)
		}
		if !p.VerifyL4(frame) {
			t.Fatal("VerifyL4(gopacket frame) = false")
		}
		newDst := src.Next()
		if !newDst.IsValid() || newDst == src {
			return
		}
		p.SetDstAddr(frame, newDst)
		p.SetDstPort(frame, newPort)
		p.SetSrcPort(frame, dport)
		p.DecrementTTL(frame)
		if err := gopacketChecksums(frame, layers.LayerTypeEthernet); err != nil {
			t.Fatalf("after NAT to %v:%d: %v", newDst, newPort, err)
		}
	})
}
