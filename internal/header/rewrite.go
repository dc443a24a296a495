package header

import (
	"encoding/binary"
	"net/netip"

	"github.com/uvslb/uvs/internal/link"
)

// The rewrite methods change a decoded frame in place and keep p in step
// with it. They require p to be the result of an OK Decode of frame (or of
// earlier rewrites of it) and report false, changing nothing, when the
// rewrite does not apply (wrong family, no ports, wrong link type). They do
// not allocate.
//
// Checksums are updated incrementally (RFC 1624), as IPVS does for NAT
// (ipvs.md §6.1): the IPv4 header checksum for address and TTL changes, and
// the TCP/UDP/ICMPv6 checksum for address (pseudo-header) and port changes.
// A UDP checksum of 0 on IPv4 ("none") is replaced by a full computation,
// as IPVS does; a computed UDP checksum of 0 is sent as 0xFFFF (RFC 768).
// On a first fragment the L4 checksum is adjusted incrementally (it covers
// the whole datagram), and a zero UDP checksum is left alone.

// SetSrcAddr sets the IP source address to a, which must be of the packet's
// family.
func (p *Parsed) SetSrcAddr(frame []byte, a netip.Addr) bool {
	if !p.sameFamily(a) {
		return false
	}
	p.Src = a
	p.writeAddr(frame, a, v4Src, v6Src)
	return true
}

// SetDstAddr sets the IP destination address to a, which must be of the
// packet's family.
func (p *Parsed) SetDstAddr(frame []byte, a netip.Addr) bool {
	if !p.sameFamily(a) {
		return false
	}
	p.Dst = a
	p.writeAddr(frame, a, v4Dst, v6Dst)
	return true
}

func (p *Parsed) sameFamily(a netip.Addr) bool {
	switch p.IPVersion {
	case 4:
		return a.Is4()
	case 6:
		return a.Is6()
	}
	return false
}

// writeAddr writes a over the address at off4/off6 (whose old value
// putAddr4/6 read from the frame) and updates the checksums covering it.
func (p *Parsed) writeAddr(frame []byte, a netip.Addr, off4, off6 int) {
	ip := frame[p.L3Off:]
	var d uint64
	if p.IPVersion == 4 {
		d = putAddr4(ip[off4:], a.As4())
		binary.BigEndian.PutUint16(ip[v4Csum:], ^fold(uint64(^be16(ip[v4Csum:]))+d))
	} else {
		d = putAddr6(ip[off6:], a.As16())
	}
	if p.FragOff != 0 {
		return // no L4 header in this fragment
	}
	switch p.Proto {
	case ProtoTCP:
		p.updateL4(frame, tcpCsum, d)
	case ProtoUDP:
		if p.udpNone(frame) {
			p.fullUDP(frame)
			return
		}
		p.updateL4(frame, udpCsum, d)
	case ProtoICMPv6:
		if p.IPVersion == 6 {
			p.updateL4(frame, icmpCsum, d)
		}
	}
}

// udpNone reports an IPv4 UDP datagram sent without a checksum.
func (p *Parsed) udpNone(frame []byte) bool {
	return p.IPVersion == 4 && be16(frame[p.L4Off+udpCsum:]) == 0
}

// fullUDP computes the UDP checksum from scratch unless the datagram is a
// fragment (the rest of it is not here).
func (p *Parsed) fullUDP(frame []byte) {
	if p.Flags&FlagFragment != 0 {
		return
	}
	p.ComputeL4Checksum(frame)
}

// updateL4 adds d (from putAddr4 or putAddr6) to the L4 checksum at offset at.
func (p *Parsed) updateL4(frame []byte, at int, d uint64) {
	c := frame[p.L4Off+at:]
	v := ^fold(uint64(^be16(c)) + d)
	if v == 0 && p.Proto == ProtoUDP {
		v = 0xFFFF
	}
	binary.BigEndian.PutUint16(c, v)
}

// SetSrcPort sets the TCP or UDP source port.
func (p *Parsed) SetSrcPort(frame []byte, port uint16) bool {
	if !p.setPort(frame, port, p.SrcPort, tcpSrcPort) {
		return false
	}
	p.SrcPort = port
	return true
}

// SetDstPort sets the TCP or UDP destination port.
func (p *Parsed) SetDstPort(frame []byte, port uint16) bool {
	if !p.setPort(frame, port, p.DstPort, tcpDstPort) {
		return false
	}
	p.DstPort = port
	return true
}

// setPort writes port at off (the same for TCP and UDP) and fixes the
// checksum. SCTP is refused: its CRC32c would need a full recomputation.
func (p *Parsed) setPort(frame []byte, port, old uint16, off int) bool {
	if p.Flags&FlagPorts == 0 || (p.Proto != ProtoTCP && p.Proto != ProtoUDP) {
		return false
	}
	l4 := frame[p.L4Off:]
	binary.BigEndian.PutUint16(l4[off:], port)
	at := tcpCsum
	if p.Proto == ProtoUDP {
		at = udpCsum
		if p.udpNone(frame) {
			p.fullUDP(frame)
			return true
		}
	}
	v := Update16(be16(l4[at:]), old, port)
	if v == 0 && p.Proto == ProtoUDP {
		v = 0xFFFF
	}
	binary.BigEndian.PutUint16(l4[at:], v)
	return true
}

// DecrementTTL lowers the IPv4 TTL (fixing the header checksum) or the
// IPv6 hop limit by one. It reports false, changing nothing, when the
// value is ≤ 1: the packet must not be forwarded and the caller answers
// with ICMP time exceeded (ipvs.md §6, RFC 1812 §5.3.1).
func (p *Parsed) DecrementTTL(frame []byte) bool {
	if p.TTL <= 1 || p.IPVersion == 0 {
		return false
	}
	ip := frame[p.L3Off:]
	if p.IPVersion == 4 {
		old := be16(ip[v4TTL:]) // TTL and protocol form one 16-bit word
		nw := old - 0x100       // TTL > 1: no borrow
		ip[v4TTL] = byte(nw >> 8)
		binary.BigEndian.PutUint16(ip[v4Csum:], Update16(be16(ip[v4Csum:]), old, nw))
	} else {
		ip[v6HopLimit]--
	}
	p.TTL--
	return true
}

// SetEthDst sets the Ethernet destination address.
func (p *Parsed) SetEthDst(frame []byte, mac [6]byte) bool {
	if p.LinkType != link.Ethernet {
		return false
	}
	copy(frame[ethDst:ethDst+6], mac[:])
	p.DstMAC = mac
	return true
}

// SetEthSrc sets the Ethernet source address.
func (p *Parsed) SetEthSrc(frame []byte, mac [6]byte) bool {
	if p.LinkType != link.Ethernet {
		return false
	}
	copy(frame[ethSrc:ethSrc+6], mac[:])
	p.SrcMAC = mac
	return true
}

// ComputeL4Checksum computes the TCP, UDP, ICMP or ICMPv6 checksum from
// scratch (completing a partial checksum from a local stack, or after a
// payload change). It reports false for fragments and other protocols.
func (p *Parsed) ComputeL4Checksum(frame []byte) bool {
	if p.Flags&FlagFragment != 0 || p.IPVersion == 0 {
		return false
	}
	l4 := frame[p.L4Off : p.L4Off+p.L4Len]
	var at int
	var initial uint16
	switch {
	case p.Proto == ProtoTCP:
		at = tcpCsum
	case p.Proto == ProtoUDP:
		at = udpCsum
	case p.Proto == ProtoICMP && p.IPVersion == 4:
		at = icmpCsum
	case p.Proto == ProtoICMPv6 && p.IPVersion == 6:
		at = icmpCsum
	default:
		return false
	}
	if p.Proto != ProtoICMP {
		initial = PseudoSum(p.Src, p.Dst, p.Proto, len(l4))
	}
	l4[at], l4[at+1] = 0, 0
	c := ^Sum(l4, initial)
	if c == 0 && p.Proto == ProtoUDP {
		c = 0xFFFF
	}
	binary.BigEndian.PutUint16(l4[at:], c)
	return true
}

// The SetInner methods rewrite the packet quoted by an ICMP error
// (FlagICMPError). They only write the field; call FinishICMPError after
// the last one, which recomputes the quoted IPv4 header checksum and the
// whole ICMP checksum, as IPVS does (ipvs.md §5). The quoted L4 checksum is
// left untouched.

// SetInnerSrcAddr sets the quoted source address.
func (p *Parsed) SetInnerSrcAddr(frame []byte, a netip.Addr) bool {
	if !p.innerAddrOK(a) {
		return false
	}
	p.Inner.Src = a
	p.writeInnerAddr(frame, a, v4Src, v6Src)
	return true
}

// SetInnerDstAddr sets the quoted destination address.
func (p *Parsed) SetInnerDstAddr(frame []byte, a netip.Addr) bool {
	if !p.innerAddrOK(a) {
		return false
	}
	p.Inner.Dst = a
	p.writeInnerAddr(frame, a, v4Dst, v6Dst)
	return true
}

func (p *Parsed) innerAddrOK(a netip.Addr) bool {
	if p.Flags&FlagICMPError == 0 {
		return false
	}
	if p.Inner.IPVersion == 4 {
		return a.Is4()
	}
	return a.Is6()
}

func (p *Parsed) writeInnerAddr(frame []byte, a netip.Addr, off4, off6 int) {
	ip := frame[p.Inner.L3Off:]
	if p.Inner.IPVersion == 4 {
		n := a.As4()
		copy(ip[off4:off4+4], n[:])
		return
	}
	n := a.As16()
	copy(ip[off6:off6+16], n[:])
}

// SetInnerSrcPort sets the quoted source port.
func (p *Parsed) SetInnerSrcPort(frame []byte, port uint16) bool {
	if p.Flags&FlagICMPError == 0 || !p.Inner.Ports {
		return false
	}
	binary.BigEndian.PutUint16(frame[p.Inner.L4Off+tcpSrcPort:], port)
	p.Inner.SrcPort = port
	return true
}

// SetInnerDstPort sets the quoted destination port.
func (p *Parsed) SetInnerDstPort(frame []byte, port uint16) bool {
	if p.Flags&FlagICMPError == 0 || !p.Inner.Ports {
		return false
	}
	binary.BigEndian.PutUint16(frame[p.Inner.L4Off+tcpDstPort:], port)
	p.Inner.DstPort = port
	return true
}

// FinishICMPError recomputes the quoted IPv4 header checksum and the full
// ICMP/ICMPv6 checksum after SetInner* calls (and after outer changes).
func (p *Parsed) FinishICMPError(frame []byte) bool {
	if p.Flags&FlagICMPError == 0 {
		return false
	}
	if p.Inner.IPVersion == 4 {
		h := frame[p.Inner.L3Off : p.Inner.L3Off+p.Inner.HdrLen]
		h[v4Csum], h[v4Csum+1] = 0, 0
		binary.BigEndian.PutUint16(h[v4Csum:], Checksum(h))
	}
	return p.ComputeL4Checksum(frame)
}
