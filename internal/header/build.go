package header

import (
	"encoding/binary"
	"net/netip"
)

// The Put functions write a header or a whole packet into the caller's
// buffer b, starting at b[0], and return the number of bytes written; they
// return 0 and may have written partially when b is too short or an
// argument is of the wrong family. They never allocate. Frames are not
// padded to the Ethernet minimum (the NIC pads, as for the kernel's own
// ARP and ND frames).

// PutEthernet writes an untagged Ethernet II header.
func PutEthernet(b []byte, dst, src [6]byte, etherType uint16) int {
	if len(b) < EthHdrLen {
		return 0
	}
	copy(b[ethDst:], dst[:])
	copy(b[ethSrc:], src[:])
	binary.BigEndian.PutUint16(b[ethType:], etherType)
	return EthHdrLen
}

// PutEthernetVLAN writes an Ethernet header with one 802.1Q tag carrying
// tci (priority, DEI and VLAN ID, as Parsed.VLAN records it), for answers
// on the VLAN a frame arrived on. It returns 18.
func PutEthernetVLAN(b []byte, dst, src [6]byte, tci, etherType uint16) int {
	if len(b) < EthHdrLen+vlanTagLen {
		return 0
	}
	copy(b[ethDst:], dst[:])
	copy(b[ethSrc:], src[:])
	binary.BigEndian.PutUint16(b[ethType:], EtherTypeVLAN)
	binary.BigEndian.PutUint16(b[ethType+2:], tci)
	binary.BigEndian.PutUint16(b[ethType+vlanTagLen:], etherType)
	return EthHdrLen + vlanTagLen
}

// ARPFrameLen is the length of the frames PutARPReply and PutARPRequest
// write: Ethernet header and ARP packet, without padding.
const ARPFrameLen = EthHdrLen + ARPLen

// PutARPReply writes an Ethernet ARP reply telling toMAC/toIP that ourIP
// is at ourMAC (RFC 826).
func PutARPReply(b []byte, ourMAC [6]byte, ourIP netip.Addr, toMAC [6]byte, toIP netip.Addr) int {
	return putARP(b, ARPReply, toMAC, ourMAC, ourIP, toMAC, toIP)
}

// PutARPRequest writes a broadcast Ethernet ARP request from ourMAC/ourIP
// asking for target. With target == ourIP it is a gratuitous ARP
// announcing ourIP at ourMAC (RFC 5227 §3).
func PutARPRequest(b []byte, ourMAC [6]byte, ourIP, target netip.Addr) int {
	return putARP(b, ARPRequest, [6]byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, ourMAC, ourIP, [6]byte{}, target)
}

func putARP(b []byte, op uint16, ethDstMAC, sha [6]byte, spa netip.Addr, tha [6]byte, tpa netip.Addr) int {
	if len(b) < ARPFrameLen || !spa.Is4() || !tpa.Is4() {
		return 0
	}
	PutEthernet(b, ethDstMAC, sha, EtherTypeARP)
	a := b[EthHdrLen:]
	binary.BigEndian.PutUint16(a[arpHType:], arpHTEther)
	binary.BigEndian.PutUint16(a[arpPType:], EtherTypeIPv4)
	a[arpHLen], a[arpPLen] = 6, 4
	binary.BigEndian.PutUint16(a[arpOp:], op)
	s, t := spa.As4(), tpa.As4()
	copy(a[arpSHA:], sha[:])
	copy(a[arpSPA:], s[:])
	copy(a[arpTHA:], tha[:])
	copy(a[arpTPA:], t[:])
	return ARPFrameLen
}

// ICMP error size limits.
const (
	// ICMPv4ErrorMax bounds an ICMPv4 error packet: RFC 1812 §4.3.2.3 says
	// to quote as much of the original as keeps the error within 576 bytes.
	ICMPv4ErrorMax = 576
	// ICMPv6ErrorMax bounds an ICMPv6 error packet: the IPv6 minimum MTU
	// (RFC 4443 §2.4 (c)).
	ICMPv6ErrorMax = 1280
	// icmpErrTTL is the TTL/hop limit of errors uvs originates: Linux's
	// default (net.ipv4.ip_default_ttl, net.ipv6.conf.*.hop_limit).
	icmpErrTTL = 64
	// tosInternetControl is IPTOS_PREC_INTERNETCONTROL: Linux icmp_send
	// marks errors with it, keeping the original's TOS bits (RT_TOS).
	tosInternetControl = 0xC0
	tosMask            = 0x1E // IPTOS_TOS_MASK
)

// PutICMPv4Error writes an IPv4 packet carrying an ICMP error of type typ
// and code from src to the source of orig, the offending IP packet (from
// its IP header to its end, link padding excluded). info fills the 4 bytes
// after the checksum (next-hop MTU in the low 16 bits for frag-needed,
// RFC 1191 §4; 0 otherwise). orig is quoted up to ICMPv4ErrorMax bytes of
// error. The header has ID 0 and DF set (an atomic datagram, RFC 6864 §4),
// TTL 64 and TOS 0xC0 plus the original's TOS bits, as Linux does.
//
// Whether an error may be sent at all (never about an ICMP error, a
// non-first fragment, a broadcast...) is ICMPErrorAllowed's question.
func PutICMPv4Error(b []byte, src netip.Addr, typ, code uint8, info uint32, orig []byte) int {
	if len(orig) < IPv4MinLen || !src.Is4() {
		return 0
	}
	q := min(len(orig), ICMPv4ErrorMax-IPv4MinLen-ICMPHdrLen)
	n := IPv4MinLen + ICMPHdrLen + q
	if len(b) < n {
		return 0
	}
	s := src.As4()
	putIPv4(b, orig[v4TOS]&tosMask|tosInternetControl, n, 0, v4FlagDF, icmpErrTTL, ProtoICMP, s, [4]byte(orig[v4Src:v4Src+4]))
	m := b[IPv4MinLen:n]
	m[icmpType], m[icmpCode] = typ, code
	m[icmpCsum], m[icmpCsum+1] = 0, 0
	binary.BigEndian.PutUint32(m[icmpRest:], info)
	copy(m[ICMPHdrLen:], orig[:q])
	binary.BigEndian.PutUint16(m[icmpCsum:], Checksum(m))
	return n
}

// PutICMPv4PortUnreachable writes a destination unreachable, port
// unreachable (type 3 code 3) about orig.
func PutICMPv4PortUnreachable(b []byte, src netip.Addr, orig []byte) int {
	return PutICMPv4Error(b, src, ICMPv4DestUnreachable, ICMPv4PortUnreachable, 0, orig)
}

// PutICMPv4FragNeeded writes a destination unreachable, fragmentation
// needed and DF set (type 3 code 4) with the next-hop MTU (RFC 1191 §4).
func PutICMPv4FragNeeded(b []byte, src netip.Addr, mtu uint16, orig []byte) int {
	return PutICMPv4Error(b, src, ICMPv4DestUnreachable, ICMPv4FragNeeded, uint32(mtu), orig)
}

// PutICMPv4TimeExceeded writes a time exceeded, TTL exceeded in transit
// (type 11 code 0) about orig.
func PutICMPv4TimeExceeded(b []byte, src netip.Addr, orig []byte) int {
	return PutICMPv4Error(b, src, ICMPv4TimeExceeded, ICMPv4TTLExceeded, 0, orig)
}

// putIPv4 writes a 20-byte IPv4 header with its checksum.
func putIPv4(b []byte, tos uint8, totLen int, id, flags uint16, ttl, proto uint8, src, dst [4]byte) {
	h := b[:IPv4MinLen]
	h[v4VerIHL] = 0x45
	h[v4TOS] = tos
	binary.BigEndian.PutUint16(h[v4TotLen:], uint16(totLen))
	binary.BigEndian.PutUint16(h[v4ID:], id)
	binary.BigEndian.PutUint16(h[v4FlagsFrag:], flags)
	h[v4TTL] = ttl
	h[v4Proto] = proto
	h[v4Csum], h[v4Csum+1] = 0, 0
	copy(h[v4Src:], src[:])
	copy(h[v4Dst:], dst[:])
	binary.BigEndian.PutUint16(h[v4Csum:], Checksum(h))
}

// putIPv6 writes a 40-byte IPv6 header (flow label 0).
func putIPv6(b []byte, tc uint8, payLen int, next, hop uint8, src, dst [16]byte) {
	h := b[:IPv6Len]
	binary.BigEndian.PutUint32(h[0:], 6<<28|uint32(tc)<<20)
	binary.BigEndian.PutUint16(h[v6PayLen:], uint16(payLen))
	h[v6Next] = next
	h[v6HopLimit] = hop
	copy(h[v6Src:], src[:])
	copy(h[v6Dst:], dst[:])
}

// PutICMPv6Error writes an IPv6 packet carrying an ICMPv6 error of type typ
// and code from src to the source of orig, the offending IPv6 packet. param
// fills the 4 bytes after the checksum (the MTU for packet too big, the
// pointer for parameter problem). orig is quoted as far as the error stays
// within ICMPv6ErrorMax bytes (RFC 4443 §2.4 (c)). Hop limit 64, traffic
// class 0.
func PutICMPv6Error(b []byte, src netip.Addr, typ, code uint8, param uint32, orig []byte) int {
	if len(orig) < IPv6Len || !src.Is6() {
		return 0
	}
	q := min(len(orig), ICMPv6ErrorMax-IPv6Len-ICMPHdrLen)
	n := IPv6Len + ICMPHdrLen + q
	if len(b) < n {
		return 0
	}
	dst := netip.AddrFrom16([16]byte(orig[v6Src : v6Src+16]))
	putIPv6(b, 0, ICMPHdrLen+q, ProtoICMPv6, icmpErrTTL, src.As16(), dst.As16())
	m := b[IPv6Len:n]
	m[icmpType], m[icmpCode] = typ, code
	m[icmpCsum], m[icmpCsum+1] = 0, 0
	binary.BigEndian.PutUint32(m[icmpRest:], param)
	copy(m[ICMPHdrLen:], orig[:q])
	binary.BigEndian.PutUint16(m[icmpCsum:], ^Sum(m, PseudoSum(src, dst, ProtoICMPv6, len(m))))
	return n
}

// PutICMPv6PortUnreachable writes a destination unreachable, port
// unreachable (type 1 code 4) about orig.
func PutICMPv6PortUnreachable(b []byte, src netip.Addr, orig []byte) int {
	return PutICMPv6Error(b, src, ICMPv6DestUnreachable, ICMPv6PortUnreachable, 0, orig)
}

// PutICMPv6PacketTooBig writes a packet too big (type 2) with mtu.
func PutICMPv6PacketTooBig(b []byte, src netip.Addr, mtu uint32, orig []byte) int {
	return PutICMPv6Error(b, src, ICMPv6PacketTooBig, 0, mtu, orig)
}

// PutICMPv6TimeExceeded writes a time exceeded, hop limit exceeded in
// transit (type 3 code 0) about orig.
func PutICMPv6TimeExceeded(b []byte, src netip.Addr, orig []byte) int {
	return PutICMPv6Error(b, src, ICMPv6TimeExceeded, ICMPv6HopLimitExceed, 0, orig)
}

// ICMPErrorAllowed reports whether the decoded packet may be answered with
// an ICMP error (RFC 1812 §4.3.2.7, RFC 4443 §2.4 (e)): not an ICMP error
// itself, not a non-first fragment, not to a multicast or broadcast
// address, not from an unspecified, multicast or broadcast source.
func (p *Parsed) ICMPErrorAllowed() bool {
	if p.IPVersion == 0 || p.FragOff != 0 || p.Flags&FlagICMPError != 0 {
		return false
	}
	if p.Dst.IsMulticast() || p.Src.IsMulticast() || p.Src.IsUnspecified() {
		return false
	}
	if p.IPVersion == 4 {
		if p.Dst == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
			return false
		}
		// Errors about ICMP errors are never sent, whatever their type
		// (RFC 1812 §4.3.2.7): 3, 4, 5, 11, 12 are errors.
		if p.Proto == ProtoICMP {
			switch p.ICMPType {
			case ICMPv4DestUnreachable, ICMPv4SourceQuench, icmpv4Redirect, ICMPv4TimeExceeded, icmpv4ParamProblem:
				return false
			}
		}
		return true
	}
	// ICMPv6 types below 128 are errors (RFC 4443 §2.1).
	return p.Proto != ProtoICMPv6 || p.ICMPType >= 128
}

const (
	icmpv4Redirect     uint8 = 5  // RFC 792
	icmpv4ParamProblem uint8 = 12 // RFC 792
)

// NDFrameLen is the length of the frames PutNeighborAdvert and
// PutNeighborSolicit write: Ethernet, IPv6, 24 bytes of NS/NA and one
// 8-byte link-layer address option.
const NDFrameLen = EthHdrLen + IPv6Len + ndMinLen + ndOptLLLen

// PutNeighborAdvert writes an Ethernet Neighbour Advertisement (RFC 4861
// §4.4) for target, which is also the IPv6 source, with a target
// link-layer address option of ourMAC, to dst at dstMAC. flags are
// NDSolicited|NDOverride for an answer to a solicitation and NDOverride for
// an unsolicited advertisement to ff02::1 at 33:33:00:00:00:01 (RFC 4861
// §7.2.6). The hop limit is 255.
func PutNeighborAdvert(b []byte, ourMAC [6]byte, target netip.Addr, dstMAC [6]byte, dst netip.Addr, flags uint8) int {
	return putND(b, ICMPv6NeighborAdvert, flags, ndOptTgtLL, ourMAC, target, dstMAC, dst, target)
}

// PutNeighborSolicit writes an Ethernet Neighbour Solicitation (RFC 4861
// §4.3) from src at ourMAC for target, sent to target's solicited-node
// multicast address and its 33:33 MAC, with a source link-layer address
// option. The hop limit is 255.
func PutNeighborSolicit(b []byte, ourMAC [6]byte, src, target netip.Addr) int {
	dst := SolicitedNode(target)
	return putND(b, ICMPv6NeighborSolicit, 0, ndOptSrcLL, ourMAC, src, MulticastMAC(dst), dst, target)
}

func putND(b []byte, typ, flags, opt uint8, ourMAC [6]byte, src netip.Addr, dstMAC [6]byte, dst, target netip.Addr) int {
	if len(b) < NDFrameLen || !src.Is6() || !dst.Is6() || !target.Is6() {
		return 0
	}
	PutEthernet(b, dstMAC, ourMAC, EtherTypeIPv6)
	const l4Len = ndMinLen + ndOptLLLen
	putIPv6(b[EthHdrLen:], 0, l4Len, ProtoICMPv6, ndHopLimit, src.As16(), dst.As16())
	m := b[EthHdrLen+IPv6Len : NDFrameLen]
	m[icmpType], m[icmpCode] = typ, 0
	m[icmpCsum], m[icmpCsum+1] = 0, 0
	binary.BigEndian.PutUint32(m[ndFlags:], uint32(flags)<<24)
	t := target.As16()
	copy(m[ndTarget:], t[:])
	m[ndOptions], m[ndOptions+1] = opt, 1 // length in units of 8 bytes
	copy(m[ndOptions+2:], ourMAC[:])
	binary.BigEndian.PutUint16(m[icmpCsum:], ^Sum(m, PseudoSum(src, dst, ProtoICMPv6, l4Len)))
	return NDFrameLen
}

// SolicitedNode returns the solicited-node multicast address of a:
// ff02::1:ff00:0/104 plus a's low 24 bits (RFC 4291 §2.7.1).
func SolicitedNode(a netip.Addr) netip.Addr {
	s := a.As16()
	return netip.AddrFrom16([16]byte{0xFF, 0x02, 10: 0, 11: 1, 12: 0xFF, 13: s[13], 14: s[14], 15: s[15]})
}

// MulticastMAC returns the Ethernet address of the IPv6 multicast address
// a: 33:33 followed by its low 32 bits (RFC 2464 §7).
func MulticastMAC(a netip.Addr) [6]byte {
	s := a.As16()
	return [6]byte{0x33, 0x33, s[12], s[13], s[14], s[15]}
}

// ecnEncap returns the outer TOS/traffic class for an inner one: the DSCP
// copied, the ECN field copied unless it is CE, which becomes ECT(0)
// (RFC 6040 §4.1 compatibility mode, Linux INET_ECN_encapsulate).
func ecnEncap(inner uint8) uint8 {
	const ecnMask, ce, ect0 = 0x03, 0x03, 0x02
	if inner&ecnMask == ce {
		return inner&^ecnMask | ect0
	}
	return inner
}

// innerFacts reads the TTL, TOS, DF and tunnel protocol of an IP packet.
func innerFacts(inner []byte) (ttl, tos uint8, df bool, proto uint8, ok bool) {
	if len(inner) == 0 {
		return 0, 0, false, 0, false
	}
	switch inner[0] >> 4 {
	case 4:
		if len(inner) < IPv4MinLen {
			return 0, 0, false, 0, false
		}
		return inner[v4TTL], inner[v4TOS], be16(inner[v4FlagsFrag:])&v4FlagDF != 0, ProtoIPIP, true
	case 6:
		if len(inner) < IPv6Len {
			return 0, 0, false, 0, false
		}
		// IPv6 is never fragmented on the path: DF for the outer header.
		return inner[v6HopLimit], uint8(be16(inner[0:]) >> 4), true, ProtoIPv6, true
	}
	return 0, 0, false, 0, false
}

// IPv4TunnelLen and IPv6TunnelLen are the outer header sizes
// PutIPv4Tunnel and PutIPv6Tunnel write.
const (
	IPv4TunnelLen = IPv4MinLen
	IPv6TunnelLen = IPv6Len
)

// PutIPv4Tunnel writes into hdr the outer IPv4 header that encapsulates
// inner (IPIP, protocol 4, for IPv4 inner; 41 for IPv6 inner), as IPVS's
// TUN method does (ipvs.md §6.3): TTL = the inner TTL/hop limit (decrement
// it first), TOS = the inner TOS with ECN encapsulated, DF copied from the
// inner header (set for IPv6 inner), ID = id from the caller's counter.
// To encapsulate in place, use the link.Headroom in front of the inner
// packet: PutIPv4Tunnel(buf[off-20:off], buf[off:off+n], ...).
func PutIPv4Tunnel(hdr, inner []byte, src, dst netip.Addr, id uint16) int {
	ttl, tos, df, proto, ok := innerFacts(inner)
	n := IPv4TunnelLen + len(inner)
	if !ok || len(hdr) < IPv4TunnelLen || !src.Is4() || !dst.Is4() || n > 0xFFFF {
		return 0
	}
	var flags uint16
	if df {
		flags = v4FlagDF
	}
	putIPv4(hdr, ecnEncap(tos), n, id, flags, ttl, proto, src.As4(), dst.As4())
	return IPv4TunnelLen
}

// PutIPv6Tunnel writes into hdr the outer IPv6 header that encapsulates
// inner (next header 41 for IPv6 inner, 4 for IPv4 inner; RFC 2473): hop
// limit = the inner TTL/hop limit, traffic class = the inner one with ECN
// encapsulated, flow label 0.
func PutIPv6Tunnel(hdr, inner []byte, src, dst netip.Addr) int {
	ttl, tos, _, proto, ok := innerFacts(inner)
	if !ok || len(hdr) < IPv6TunnelLen || !src.Is6() || !dst.Is6() || len(inner) > 0xFFFF {
		return 0
	}
	putIPv6(hdr, ecnEncap(tos), len(inner), proto, ttl, src.As16(), dst.As16())
	return IPv6TunnelLen
}

// Encap tunnels the decoded IP packet of the frame buf[off:off+n] in place
// (IPVS TUN, ipvs.md §6.3): it writes an outer IPv4 header (PutIPv4Tunnel,
// with id) when src and dst are IPv4, or an outer IPv6 header
// (PutIPv6Tunnel) when they are IPv6, right in front of the inner IP
// header, and on an Ethernet link moves the Ethernet header (and any
// 802.1Q tag) in front of that with its EtherType set to the outer family.
// Link padding after the inner packet is dropped. It returns the new frame
// offset and length, buf[newOff:newOff+newLen]; the frame grows into the
// headroom, so off must be at least IPv6TunnelLen (link.Headroom is
// enough). Decrement the inner TTL before encapsulating: the outer header
// copies it. ok is false, with nothing changed, when p is not an IP packet,
// the families of src and dst differ, there is no room or the outer packet
// would exceed 65535 bytes. Afterwards p still describes the inner packet
// at its old offsets; decode the new frame to look at it.
func (p *Parsed) Encap(buf []byte, off int, src, dst netip.Addr, id uint16) (newOff, newLen int, ok bool) {
	if p.IPVersion == 0 || src.Is4() != dst.Is4() || off < 0 || off+p.End() > len(buf) {
		return 0, 0, false
	}
	outer, et := IPv4TunnelLen, EtherTypeIPv4
	if !src.Is4() {
		outer, et = IPv6TunnelLen, EtherTypeIPv6
	}
	if off < outer {
		return 0, 0, false
	}
	// The outer header overwrites the link header's bytes: save them first.
	var lh [EthHdrLen + vlanTagLen]byte
	if p.L3Off > len(lh) {
		return 0, 0, false
	}
	copy(lh[:], buf[off:off+p.L3Off])
	inner := buf[off+p.L3Off : off+p.End()]
	hdr := buf[off+p.L3Off-outer : off+p.L3Off]
	if outer == IPv4TunnelLen {
		if PutIPv4Tunnel(hdr, inner, src, dst, id) == 0 {
			return 0, 0, false
		}
	} else if PutIPv6Tunnel(hdr, inner, src, dst) == 0 {
		return 0, 0, false
	}
	newOff = off - outer
	if p.L3Off > 0 { // the link header: Ethernet and any tag
		copy(buf[newOff:newOff+p.L3Off], lh[:p.L3Off])
		binary.BigEndian.PutUint16(buf[newOff+p.L3Off-2:], et)
	}
	return newOff, p.End() + outer, true
}
