package header

import (
	"encoding/binary"
	"net/netip"

	"github.com/uvslb/uvs/internal/link"
)

// Flags are facts Decode records about a frame.
type Flags uint16

const (
	// FlagVLAN: the frame carried one 802.1Q tag (Parsed.VLAN holds the TCI).
	FlagVLAN Flags = 1 << iota
	// FlagIPOptions: IPv4 header with options (IHL > 5). Options are never
	// interpreted (source routes are not honoured); they are carried as is.
	FlagIPOptions
	// FlagDF: IPv4 Don't Fragment is set.
	FlagDF
	// FlagFragment: the packet is a fragment (IPv4 MF or offset ≠ 0; IPv6
	// Fragment header with M or offset ≠ 0). See Decode for the policy.
	FlagFragment
	// FlagExtHeaders: IPv6 extension headers precede the L4 header.
	FlagExtHeaders
	// FlagPorts: SrcPort and DstPort are valid (TCP, UDP, SCTP).
	FlagPorts
	// FlagICMPError: an ICMP/ICMPv6 error whose quoted packet is in Inner.
	FlagICMPError
	// FlagARP: an Ethernet/IPv4 ARP packet, described by ARP.
	FlagARP
	// FlagND: an IPv6 Neighbour Solicitation or Advertisement, in ND.
	FlagND
)

// Parsed is a decoded frame: header fields copied out of the frame and
// offsets into it, filled by Decode with no allocation (compare Tailscale's
// packet.Parsed). Fields are read once during validation; callers use them
// instead of re-reading the frame (reliability.md §3.3: no TOCTOU on
// lengths). The rewrite methods keep Parsed in step with the bytes.
type Parsed struct {
	// LinkType is the link type the frame was decoded as.
	LinkType link.Type
	// Flags are the facts recorded while decoding.
	Flags Flags

	// DstMAC and SrcMAC are the Ethernet addresses (zero on raw IP).
	DstMAC, SrcMAC [6]byte
	// VLAN is the 802.1Q tag control information when FlagVLAN is set.
	VLAN uint16
	// EtherType is the frame's EtherType after any tag (raw IP: the type
	// implied by the IP version).
	EtherType uint16

	// L3Off is the offset of the IP header (or ARP packet) in the frame.
	L3Off int
	// IPVersion is 4 or 6 for IP packets, 0 otherwise.
	IPVersion uint8
	// TOS is the IPv4 type of service or IPv6 traffic class byte.
	TOS uint8
	// TTL is the IPv4 time to live or IPv6 hop limit.
	TTL uint8
	// Proto is the L4 protocol: IPv4 protocol, or the IPv6 Next Header
	// after the extension headers.
	Proto uint8
	// Src and Dst are the IP addresses.
	Src, Dst netip.Addr
	// IPLen is the IP packet's length (header and payload) from its total
	// or payload length field; bytes past L3Off+IPLen are link padding.
	IPLen int
	// FragOff is the fragment offset in bytes when FlagFragment is set.
	FragOff int

	// L4Off is the offset of the L4 header (after IPv4 options or IPv6
	// extension headers) and L4Len the L4 length: the IP payload, or the
	// UDP length when it is shorter.
	L4Off, L4Len int
	// SrcPort and DstPort are the TCP/UDP/SCTP ports when FlagPorts is set.
	SrcPort, DstPort uint16
	// TCPFlags is the TCP flags byte (FIN..CWR).
	TCPFlags uint8
	// ICMPType and ICMPCode are set for ICMP and ICMPv6.
	ICMPType, ICMPCode uint8

	// Inner describes the packet quoted by an ICMP error (FlagICMPError).
	Inner Inner
	// ARP describes an ARP packet (FlagARP).
	ARP ARP
	// ND describes a Neighbour Solicitation or Advertisement (FlagND).
	ND ND
}

// Inner is the packet quoted in an ICMP error: the offending IP header and
// at least 8 bytes of its L4 header. Offsets are into the whole frame.
type Inner struct {
	// L3Off is the offset of the quoted IP header; HdrLen its length
	// (IPv4 IHL×4, or 40 plus extension headers for IPv6).
	L3Off, HdrLen int
	// IPVersion is the quoted header's version (always the outer one).
	IPVersion uint8
	// Proto is the quoted packet's L4 protocol.
	Proto uint8
	// TTL is the quoted TTL or hop limit.
	TTL uint8
	// Src and Dst are the quoted addresses: the packet the error is about
	// went from Src to Dst.
	Src, Dst netip.Addr
	// L4Off is the offset of the quoted L4 header; L4Len how many of its
	// bytes are quoted (at least 8 when Ports is set).
	L4Off, L4Len int
	// SrcPort and DstPort are the quoted ports when Ports is set.
	SrcPort, DstPort uint16
	// Ports: the quoted packet is TCP, UDP or SCTP and its ports are here.
	Ports bool
	// Fragment: the quoted packet is a non-first fragment; it has no L4
	// header and cannot be matched to a connection (IPVS ignores these).
	Fragment bool
}

// ARP is an Ethernet/IPv4 ARP request or reply.
type ARP struct {
	// Op is ARPRequest or ARPReply.
	Op uint16
	// SenderMAC and SenderIP are the sender hardware and protocol addresses.
	SenderMAC [6]byte
	SenderIP  netip.Addr
	// TargetMAC and TargetIP are the target hardware and protocol addresses.
	TargetMAC [6]byte
	TargetIP  netip.Addr
}

// ND is a Neighbour Solicitation or Advertisement (RFC 4861 §4.3, §4.4).
type ND struct {
	// Target is the target address.
	Target netip.Addr
	// Flags are the NA flags (NDRouter, NDSolicited, NDOverride); 0 for NS.
	Flags uint8
	// LinkAddr is the source (NS) or target (NA) link-layer address option
	// when HasLinkAddr is set.
	LinkAddr    [6]byte
	HasLinkAddr bool
}

// End returns the offset one past the IP packet: link padding starts here.
func (p *Parsed) End() int { return p.L3Off + p.IPLen }

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }

// Decode validates frame as a frame of link type lt and fills p. It never
// allocates, never panics and reads every field once. On OK every offset in
// p lies within frame. On other reasons p holds what was decoded before the
// problem (e.g. addresses of a fragment) and must not be used for rewriting.
//
// Policy:
//   - Ethernet: one 802.1Q tag is accepted and recorded; two tags or an
//     802.1ad S-tag is BadVLAN. A group source MAC is BadSourceMAC. ARP,
//     IPv4 and IPv6 are decoded; other EtherTypes are NotIP (pass).
//   - IPv4: IHL > 5 is accepted (FlagIPOptions); the header checksum is
//     verified; total length rules and Ethernet padding after it is ignored.
//   - Fragments: a non-first fragment returns Fragment with the IP fields
//     filled (the dataplane drops it under that reason). A first fragment
//     that holds its whole L4 header decodes as OK with FlagFragment set,
//     so the dataplane can drop it too (reliability.md §3.2: v1 drops all
//     fragments) or look it up; one too short for its L4 header is Fragment.
//     VerifyL4 reports false for any fragment.
//   - IPv6 extension headers are walked (Hop-by-Hop only first, Routing,
//     Fragment, Destination Options), at most MaxExtHeaders headers and
//     MaxExtBytes bytes. AH, ESP and the other extension headers are NotOurs.
//   - TCP: data offset ≥ 5 and within the segment. UDP: 8 ≤ length ≤ IP
//     payload (shorter lengths trim the payload, as Linux does). TCP flag
//     combinations are not judged here: see ValidTCPFlags.
//   - ICMP errors (v4 types 3, 4, 11; v6 types 1–4) have their quoted IP
//     header and first 8 L4 bytes decoded into Inner, one level deep; an
//     ICMPv6 error in a fragment is Fragment.
//   - Martian sources and LAND (source = destination) are rejected here;
//     the dataplane adds the checks that need configuration (own MAC,
//     VIP/DIP as source).
//
// L4 checksums are not verified here: see VerifyL4.
func (p *Parsed) Decode(frame []byte, lt link.Type) Reason {
	*p = Parsed{LinkType: lt}
	switch lt {
	case link.Ethernet:
		return p.decodeEthernet(frame)
	case link.RawIP:
		if len(frame) == 0 {
			return Truncated
		}
		switch frame[0] >> 4 {
		case 4:
			p.EtherType = EtherTypeIPv4
			return p.decodeIPv4(frame, 0)
		case 6:
			p.EtherType = EtherTypeIPv6
			return p.decodeIPv6(frame, 0)
		}
		return BadIPVersion
	}
	return BadLinkType
}

func (p *Parsed) decodeEthernet(frame []byte) Reason {
	if len(frame) < EthHdrLen {
		return Truncated
	}
	copy(p.DstMAC[:], frame[ethDst:ethDst+6])
	copy(p.SrcMAC[:], frame[ethSrc:ethSrc+6])
	if p.SrcMAC[0]&1 != 0 { // I/G bit: group addresses are never sources
		return BadSourceMAC
	}
	et := be16(frame[ethType:])
	off := EthHdrLen
	switch et {
	case EtherTypeVLAN:
		if len(frame) < EthHdrLen+vlanTagLen {
			return Truncated
		}
		p.Flags |= FlagVLAN
		p.VLAN = be16(frame[ethType+2:])
		et = be16(frame[ethType+vlanTagLen:])
		off += vlanTagLen
		if et == EtherTypeVLAN || et == EtherTypeQinQ {
			return BadVLAN
		}
	case EtherTypeQinQ:
		return BadVLAN
	}
	p.EtherType = et
	switch et {
	case EtherTypeIPv4:
		return p.decodeIPv4(frame, off)
	case EtherTypeIPv6:
		return p.decodeIPv6(frame, off)
	case EtherTypeARP:
		return p.decodeARP(frame, off)
	}
	return NotIP
}

func (p *Parsed) decodeARP(frame []byte, off int) Reason {
	p.L3Off = off
	b := frame[off:]
	if len(b) < ARPLen {
		return Truncated
	}
	if be16(b[arpHType:]) != arpHTEther || be16(b[arpPType:]) != EtherTypeIPv4 ||
		b[arpHLen] != 6 || b[arpPLen] != 4 {
		return BadARP
	}
	op := be16(b[arpOp:])
	if op != ARPRequest && op != ARPReply {
		return BadARP
	}
	p.Flags |= FlagARP
	p.ARP.Op = op
	copy(p.ARP.SenderMAC[:], b[arpSHA:arpSHA+6])
	copy(p.ARP.TargetMAC[:], b[arpTHA:arpTHA+6])
	p.ARP.SenderIP = netip.AddrFrom4([4]byte(b[arpSPA : arpSPA+4]))
	p.ARP.TargetIP = netip.AddrFrom4([4]byte(b[arpTPA : arpTPA+4]))
	return OK
}

func (p *Parsed) decodeIPv4(frame []byte, off int) Reason {
	p.L3Off = off
	b := frame[off:]
	if len(b) < IPv4MinLen {
		return Truncated
	}
	if b[v4VerIHL]>>4 != 4 {
		return BadIPVersion
	}
	ihl := int(b[v4VerIHL]&0x0F) * 4
	if ihl < IPv4MinLen || ihl > len(b) {
		return BadIHL
	}
	tot := int(be16(b[v4TotLen:]))
	if tot < ihl || tot > len(b) {
		return BadTotalLength
	}
	if ihl == IPv4MinLen {
		// No options, the common case: Sum's short-buffer path inlined
		// (two 8-byte and one 4-byte load as 32-bit words; cannot
		// overflow), the same sum without the call and its loops.
		h := b[:IPv4MinLen]
		u, v := binary.BigEndian.Uint64(h), binary.BigEndian.Uint64(h[8:])
		if fold(u>>32+u&0xFFFFFFFF+v>>32+v&0xFFFFFFFF+uint64(binary.BigEndian.Uint32(h[16:]))) != 0xFFFF {
			return BadIPChecksum
		}
	} else if Sum(b[:ihl], 0) != 0xFFFF {
		return BadIPChecksum
	}
	p.IPVersion = 4
	p.TOS = b[v4TOS]
	p.TTL = b[v4TTL]
	p.Proto = b[v4Proto]
	p.Src = netip.AddrFrom4([4]byte(b[v4Src : v4Src+4]))
	p.Dst = netip.AddrFrom4([4]byte(b[v4Dst : v4Dst+4]))
	p.IPLen = tot
	p.L4Off = off + ihl
	p.L4Len = tot - ihl
	if ihl > IPv4MinLen {
		p.Flags |= FlagIPOptions
	}
	ff := be16(b[v4FlagsFrag:])
	if ff&v4FlagDF != 0 {
		p.Flags |= FlagDF
	}
	p.FragOff = int(ff&v4FragMask) * 8
	if ff&v4FlagMF != 0 || p.FragOff != 0 {
		p.Flags |= FlagFragment
	}
	if r := checkSource4(binary.BigEndian.Uint32(b[v4Src:]), binary.BigEndian.Uint32(b[v4Dst:])); r != OK {
		return r
	}
	if p.FragOff != 0 {
		return Fragment
	}
	return p.decodeL4(frame)
}

// checkSource4 rejects martian IPv4 sources and LAND packets, given the
// addresses as big-endian words (cheaper than comparing netip.Addrs).
func checkSource4(src, dst uint32) Reason {
	if src == dst {
		return Land
	}
	// 0/8 "this network" and 127/8 loopback (RFC 1122 §3.2.1.3),
	// 224/4 multicast and 255.255.255.255 (RFC 1812 §5.3.7).
	if a0 := src >> 24; a0 == 0 || a0 == 127 || a0&0xF0 == 0xE0 || src == 0xFFFFFFFF {
		return MartianSource
	}
	return OK
}

// checkSource6 rejects martian IPv6 sources and LAND packets, given the
// addresses as big-endian 64-bit halves (sh:sl source, dh:dl
// destination). It decides as netip.Addr's IsMulticast, IsLoopback and
// IsUnspecified do, IPv4-mapped sources included (TestCheckSource6),
// without building Addrs.
func checkSource6(sh, sl, dh, dl uint64, proto uint8) Reason {
	if sh == dh && sl == dl {
		return Land
	}
	if sh == 0 && sl>>32 == 0xFFFF { // ::ffff:0:0/96, as its IPv4 address
		if a0 := sl >> 24 & 0xFF; a0&0xF0 == 0xE0 || a0 == 127 {
			return MartianSource
		}
		return OK
	}
	if sh>>56 == 0xFF || sh == 0 && sl == 1 { // ff00::/8, ::1
		return MartianSource
	}
	if sh == 0 && sl == 0 && proto != ProtoICMPv6 {
		return MartianSource
	}
	return OK
}

// extWalk is the result of walking an IPv6 extension-header chain.
type extWalk struct {
	next    uint8 // the upper-layer protocol
	pos     int   // offset of the upper-layer header within the packet
	fragOff int   // fragment offset in bytes
	frag    bool  // a Fragment header with M set or offset ≠ 0
	hdrs    bool  // at least one extension header
}

// walkExt walks the extension headers of the IPv6 packet b (b[:end] is the
// packet) starting with next at pos 40. It stops at the first upper-layer
// header or at a non-first fragment.
func walkExt(b []byte, next uint8, end int) (w extWalk, r Reason) {
	pos := IPv6Len
	for n := 0; ; n++ {
		switch next {
		case ProtoHopByHop, ProtoRouting, ProtoDstOpts, ProtoFragment:
		case ProtoAH, ProtoESP, protoMobility, protoHIP, protoShim6, protoExp1, protoExp2:
			w.next, w.pos = next, pos
			return w, NotOurs
		default:
			w.next, w.pos = next, pos
			return w, OK
		}
		if n == MaxExtHeaders {
			return w, ExtHeaderLimit
		}
		if next == ProtoHopByHop && n != 0 { // RFC 8200 §4.3
			return w, BadExtHeader
		}
		if pos+extHdrUnit > end {
			return w, BadExtHeader
		}
		w.hdrs = true
		l := (int(b[pos+1]) + 1) * extHdrUnit
		switch next {
		case ProtoFragment:
			l = fragHdrLen
			fo := be16(b[pos+2:])
			w.fragOff = int(fo & fragOffMask)
			// An atomic fragment (offset 0, M 0) is processed as a whole
			// packet (RFC 6946 §4).
			if fo&fragMore != 0 || w.fragOff != 0 {
				w.frag = true
			}
		case ProtoRouting:
			if b[pos+routingTypeAt] == routingType0 {
				return w, BadExtHeader
			}
		}
		if pos+l > end {
			return w, BadExtHeader
		}
		if pos+l-IPv6Len > MaxExtBytes {
			return w, ExtHeaderLimit
		}
		next = b[pos]
		pos += l
		if w.fragOff != 0 {
			w.next, w.pos = next, pos
			return w, OK
		}
	}
}

func (p *Parsed) decodeIPv6(frame []byte, off int) Reason {
	p.L3Off = off
	b := frame[off:]
	if len(b) < IPv6Len {
		return Truncated
	}
	if b[0]>>4 != 6 {
		return BadIPVersion
	}
	end := IPv6Len + int(be16(b[v6PayLen:]))
	if end > len(b) {
		return BadTotalLength
	}
	p.IPVersion = 6
	p.TOS = uint8(be16(b[0:]) >> 4)
	p.TTL = b[v6HopLimit]
	p.Src = netip.AddrFrom16([16]byte(b[v6Src : v6Src+16]))
	p.Dst = netip.AddrFrom16([16]byte(b[v6Dst : v6Dst+16]))
	p.IPLen = end
	var w extWalk
	r := OK
	switch nh := b[v6Next]; nh {
	case ProtoTCP, ProtoUDP, ProtoICMPv6:
		// No extension headers, the common case: what walkExt returns
		// for an upper-layer header, without the call.
		w.next, w.pos = nh, IPv6Len
	default:
		w, r = walkExt(b, nh, end)
	}
	p.Proto = w.next
	if w.hdrs {
		p.Flags |= FlagExtHeaders
	}
	if w.frag {
		p.Flags |= FlagFragment
		p.FragOff = w.fragOff
	}
	if r != OK {
		return r
	}
	p.L4Off = off + w.pos
	p.L4Len = end - w.pos
	if r := checkSource6(binary.BigEndian.Uint64(b[v6Src:]), binary.BigEndian.Uint64(b[v6Src+8:]),
		binary.BigEndian.Uint64(b[v6Dst:]), binary.BigEndian.Uint64(b[v6Dst+8:]), p.Proto); r != OK {
		return r
	}
	if p.FragOff != 0 {
		return Fragment
	}
	return p.decodeL4(frame)
}

// decodeL4 decodes the L4 header at p.L4Off (p.L4Len bytes).
func (p *Parsed) decodeL4(frame []byte) Reason {
	l4 := frame[p.L4Off : p.L4Off+p.L4Len]
	frag := p.Flags&FlagFragment != 0
	short := Truncated
	if frag {
		short = Fragment // a first fragment without its whole L4 header
	}
	switch {
	case p.Proto == ProtoTCP:
		if len(l4) < TCPMinLen {
			return short
		}
		doff := int(l4[tcpDataOff]>>4) * 4
		if doff < TCPMinLen {
			return BadTCPHeader
		}
		if doff > len(l4) {
			if frag {
				return Fragment
			}
			return BadTCPHeader
		}
		p.SrcPort, p.DstPort = be16(l4[tcpSrcPort:]), be16(l4[tcpDstPort:])
		p.TCPFlags = l4[tcpFlags]
		p.Flags |= FlagPorts
	case p.Proto == ProtoUDP:
		if len(l4) < UDPLen {
			return short
		}
		ul := int(be16(l4[udpLen:]))
		if ul < UDPLen || (!frag && ul > len(l4)) {
			return BadUDPLength
		}
		if !frag {
			p.L4Len = ul
		}
		p.SrcPort, p.DstPort = be16(l4[udpSrcPort:]), be16(l4[udpDstPort:])
		p.Flags |= FlagPorts
	case p.Proto == ProtoSCTP:
		if len(l4) < sctpHdrLen {
			return short
		}
		p.SrcPort, p.DstPort = be16(l4[0:]), be16(l4[2:])
		p.Flags |= FlagPorts
	case p.Proto == ProtoICMP && p.IPVersion == 4:
		if len(l4) < ICMPHdrLen {
			if frag {
				return Fragment
			}
			return BadICMP
		}
		p.ICMPType, p.ICMPCode = l4[icmpType], l4[icmpCode]
		switch p.ICMPType {
		case ICMPv4DestUnreachable, ICMPv4SourceQuench, ICMPv4TimeExceeded:
			return p.decodeInner(frame)
		}
	case p.Proto == ProtoICMPv6 && p.IPVersion == 6:
		if len(l4) < ICMPHdrLen {
			if frag {
				return Fragment
			}
			return BadICMP
		}
		p.ICMPType, p.ICMPCode = l4[icmpType], l4[icmpCode]
		switch p.ICMPType {
		case ICMPv6DestUnreachable, ICMPv6PacketTooBig, ICMPv6TimeExceeded, ICMPv6ParamProblem:
			if frag { // reliability.md §3.3: errors are never fragmented
				return Fragment
			}
			return p.decodeInner(frame)
		case ICMPv6NeighborSolicit, ICMPv6NeighborAdvert:
			if frag {
				return Fragment
			}
			return p.decodeND(l4)
		}
	}
	return OK
}

// sctpHdrLen is the SCTP common header (RFC 9260 §3.1): ports,
// verification tag, checksum.
const sctpHdrLen = 12

// decodeInner decodes the packet quoted by an ICMP error, one level deep:
// an error quoted inside an error is not looked into.
func (p *Parsed) decodeInner(frame []byte) Reason {
	in, r := DecodeQuoted(frame, p.L4Off+ICMPHdrLen, p.L4Off+p.L4Len)
	p.Inner = in
	if r != OK {
		return r
	}
	if in.IPVersion != p.IPVersion {
		return BadICMPEmbedded
	}
	p.Flags |= FlagICMPError
	return OK
}

// DecodeQuoted decodes the IP packet quoted at frame[start:end], which may
// be cut short anywhere after its first 8 L4 bytes (RFC 792, RFC 4443
// §2.4): its length fields and checksums are not checked. Decode uses it
// for the packet an ICMP error quotes; the dataplane uses it once more for
// an error about its own IPIP packet (Inner.Proto 4 or 41), whose quoted
// payload is the client's packet (ipvs.md §5). Offsets in the result are
// into frame. It returns BadICMPEmbedded when the quote is malformed or too
// short for its ports; a quoted non-first fragment is OK with Fragment set
// and no ports.
func DecodeQuoted(frame []byte, start, end int) (Inner, Reason) {
	var in Inner
	if start < 0 || start > end || end > len(frame) {
		return in, BadICMPEmbedded
	}
	b := frame[start:end]
	in.L3Off = start
	if len(b) == 0 {
		return in, BadICMPEmbedded
	}
	var l4 int
	switch b[0] >> 4 {
	case 4:
		if len(b) < IPv4MinLen {
			return in, BadICMPEmbedded
		}
		ihl := int(b[v4VerIHL]&0x0F) * 4
		if ihl < IPv4MinLen || ihl > len(b) {
			return in, BadICMPEmbedded
		}
		in.IPVersion = 4
		in.HdrLen = ihl
		in.TTL = b[v4TTL]
		in.Proto = b[v4Proto]
		in.Src = netip.AddrFrom4([4]byte(b[v4Src : v4Src+4]))
		in.Dst = netip.AddrFrom4([4]byte(b[v4Dst : v4Dst+4]))
		in.Fragment = be16(b[v4FlagsFrag:])&v4FragMask != 0
		l4 = ihl
	case 6:
		if len(b) < IPv6Len {
			return in, BadICMPEmbedded
		}
		in.IPVersion = 6
		in.TTL = b[v6HopLimit]
		in.Src = netip.AddrFrom16([16]byte(b[v6Src : v6Src+16]))
		in.Dst = netip.AddrFrom16([16]byte(b[v6Dst : v6Dst+16]))
		// The quote is usually shorter than the payload length says: walk
		// only what was quoted.
		w, r := walkExt(b, b[v6Next], len(b))
		switch r {
		case OK, NotOurs:
		default:
			return in, BadICMPEmbedded
		}
		in.Proto = w.next
		in.HdrLen = w.pos
		in.Fragment = w.fragOff != 0
		l4 = w.pos
	default:
		return in, BadICMPEmbedded
	}
	in.L4Off = start + l4
	in.L4Len = len(b) - l4
	if in.Fragment {
		return in, OK
	}
	switch in.Proto {
	case ProtoTCP, ProtoUDP, ProtoSCTP:
		if in.L4Len < embeddedL4 {
			return in, BadICMPEmbedded
		}
		in.SrcPort, in.DstPort = be16(b[l4:]), be16(b[l4+2:])
		in.Ports = true
	}
	return in, OK
}

// decodeND validates a Neighbour Solicitation or Advertisement (RFC 4861
// §7.1.1, §7.1.2) in l4 and fills p.ND.
func (p *Parsed) decodeND(l4 []byte) Reason {
	if p.TTL != ndHopLimit || p.ICMPCode != 0 || len(l4) < ndMinLen {
		return BadND
	}
	t := netip.AddrFrom16([16]byte(l4[ndTarget : ndTarget+16]))
	if t.IsMulticast() {
		return BadND
	}
	p.ND.Target = t
	want := uint8(ndOptSrcLL)
	if p.ICMPType == ICMPv6NeighborAdvert {
		p.ND.Flags = l4[ndFlags] & (NDRouter | NDSolicited | NDOverride)
		if p.Dst.IsMulticast() && p.ND.Flags&NDSolicited != 0 {
			return BadND
		}
		want = ndOptTgtLL
	}
	for o := l4[ndOptions:]; len(o) > 0; {
		if len(o) < 2 || o[1] == 0 {
			return BadND
		}
		l := int(o[1]) * 8
		if l > len(o) {
			return BadND
		}
		if o[0] == want && !p.ND.HasLinkAddr {
			copy(p.ND.LinkAddr[:], o[2:8])
			p.ND.HasLinkAddr = true
		}
		o = o[l:]
	}
	// RFC 4861 §7.1.1: a DAD probe from :: carries no source link-layer
	// address option.
	if p.ICMPType == ICMPv6NeighborSolicit && p.Src.IsUnspecified() && p.ND.HasLinkAddr {
		return BadND
	}
	p.Flags |= FlagND
	return OK
}

// ValidTCPFlags reports whether f is a flag combination netfilter conntrack
// accepts (tcp_valid_flags): SYN, SYN+ACK, RST, RST+ACK, FIN+ACK, ACK, each
// optionally with URG, plus PSH, ECE and CWR anywhere. SYN+FIN, SYN+RST,
// FIN without ACK, null and Xmas are invalid (reliability.md §3.1).
func ValidTCPFlags(f uint8) bool {
	switch f &^ (TCPUrg | TCPPsh | TCPEce | TCPCwr) {
	case TCPSyn, TCPSyn | TCPAck, TCPRst, TCPRst | TCPAck, TCPFin | TCPAck, TCPAck:
		return true
	}
	return false
}

// VerifyL4 reports whether the L4 checksum of the decoded packet verifies:
// TCP and UDP over the pseudo-header, ICMP over the message, ICMPv6 over
// the pseudo-header. A zero UDP checksum on IPv4 means none (RFC 768) and
// verifies; on IPv6 it is invalid (RFC 8200 §8.1). Fragments and other
// protocols report false: their checksum cannot be checked here. p must be
// the result of an OK Decode of frame. A frame a live link flagged
// link.CsumNotReady carries only a partial (pseudo-header) checksum: call
// ComputeL4Checksum instead of verifying it.
func (p *Parsed) VerifyL4(frame []byte) bool {
	if p.Flags&FlagFragment != 0 || p.IPVersion == 0 {
		return false
	}
	l4 := frame[p.L4Off : p.L4Off+p.L4Len]
	switch p.Proto {
	case ProtoTCP:
	case ProtoUDP:
		if be16(l4[udpCsum:]) == 0 {
			return p.IPVersion == 4
		}
	case ProtoICMP:
		if p.IPVersion != 4 || len(l4) < ICMPHdrLen {
			return false
		}
		return Sum(l4, 0) == 0xFFFF
	case ProtoICMPv6:
		if p.IPVersion != 6 || len(l4) < ICMPHdrLen {
			return false
		}
	default:
		return false
	}
	// The pseudo-header's addresses are read from the frame's IP header
	// rather than from p.Src and p.Dst (the same bytes: the rewrite
	// methods keep them in step), skipping netip.Addr's As4/As16, whose
	// results cost a store and a reload; PseudoSum's sum, left unfolded
	// (folding once at the end gives the same result, see Sum).
	n := len(l4)
	acc := uint64(p.Proto) + uint64(uint32(n)>>16) + uint64(uint16(n))
	if p.IPVersion == 4 {
		a := frame[p.L3Off+v4Src : p.L3Off+v4Dst+4]
		acc += uint64(binary.BigEndian.Uint32(a)) + uint64(binary.BigEndian.Uint32(a[4:]))
	} else {
		acc = sum64(frame[p.L3Off+v6Src:p.L3Off+v6Dst+16], acc)
	}
	return fold(sum64(l4, acc)) == 0xFFFF
}
