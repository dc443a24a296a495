package header

import (
	"encoding/binary"
	"net/netip"
)

// The fused NAT rewrites do what a sequence of the single-field rewrites
// does (SetDstAddr + SetDstPort, SetSrcAddr + SetSrcPort, with or without
// DecrementTTL before them) and leave byte-identical frames
// (TestFusedNATMatchesSeparate), but with one IPv4 header checksum update
// and one TCP/UDP checksum update instead of one per field.
//
// Why one update equals several: every RFC 1624 eqn. 3 update
// (Update16) is a chain of one's-complement additions, ~HC + ~m + m',
// whose end-around-carry sum is 0 only when every term is 0 and otherwise
// the unique value in 1..0xFFFF congruent to the total modulo 0xFFFF.
// Neither depends on the order or grouping of the terms, so the terms of
// several updates can be added in one 64-bit accumulator and folded once
// (fold has the same two properties). The only step between separate
// updates that is not an addition is a UDP checksum computed as 0 being
// sent as 0xFFFF; starting the next update from 0xFFFF instead of 0 gives
// the same folded sum unless all remaining terms are 0, and then both ways
// end in 0xFFFF.
//
// Like the single-field methods they require p to be the result of an OK
// Decode of frame (or of earlier rewrites of it), keep p in step with the
// frame, and do not allocate.

// NATDst sets the IP destination address to a (of the packet's family) and
// the TCP or UDP destination port to port: SetDstAddr followed by
// SetDstPort. It reports false, changing nothing, unless both apply (the
// packet has TCP or UDP ports; SCTP is refused as by SetDstPort).
func (p *Parsed) NATDst(frame []byte, a netip.Addr, port uint16) bool {
	if !p.natOK(a) {
		return false
	}
	p.Dst, p.DstPort = a, port
	p.nat(frame, a, port, false, v4Dst, v6Dst, tcpDstPort)
	return true
}

// NATSrc sets the IP source address and the TCP or UDP source port:
// SetSrcAddr followed by SetSrcPort, with NATDst's conditions.
func (p *Parsed) NATSrc(frame []byte, a netip.Addr, port uint16) bool {
	if !p.natOK(a) {
		return false
	}
	p.Src, p.SrcPort = a, port
	p.nat(frame, a, port, false, v4Src, v6Src, tcpSrcPort)
	return true
}

// ForwardNATDst is DecrementTTL followed by NATDst, the client-to-real-
// server rewrite of a NAT connection. It reports ttlExpired, changing
// nothing, when the TTL or hop limit is ≤ 1 (checked first, as DecrementTTL
// comes first: the caller answers with ICMP time exceeded), and ok false,
// changing nothing, when NATDst would refuse.
func (p *Parsed) ForwardNATDst(frame []byte, a netip.Addr, port uint16) (ok, ttlExpired bool) {
	if ok, ttlExpired = p.forwardOK(a); ok {
		p.Dst, p.DstPort = a, port
		p.TTL--
		p.nat(frame, a, port, true, v4Dst, v6Dst, tcpDstPort)
	}
	return ok, ttlExpired
}

// ForwardNATSrc is DecrementTTL followed by NATSrc, the reply rewrite of a
// NAT connection (real server to client), with ForwardNATDst's results.
func (p *Parsed) ForwardNATSrc(frame []byte, a netip.Addr, port uint16) (ok, ttlExpired bool) {
	if ok, ttlExpired = p.forwardOK(a); ok {
		p.Src, p.SrcPort = a, port
		p.TTL--
		p.nat(frame, a, port, true, v4Src, v6Src, tcpSrcPort)
	}
	return ok, ttlExpired
}

// forwardOK is the Forward rewrites' precondition, in DecrementTTL's
// order: an IP packet, then the TTL or hop limit above 1 (ttlExpired
// otherwise), then natOK.
func (p *Parsed) forwardOK(a netip.Addr) (ok, ttlExpired bool) {
	switch {
	case p.IPVersion == 0:
		return false, false
	case p.TTL <= 1:
		return false, true
	}
	return p.natOK(a), false
}

// natOK reports whether both the address and the port rewrite apply.
func (p *Parsed) natOK(a netip.Addr) bool {
	return p.sameFamily(a) && p.Flags&FlagPorts != 0 && (p.Proto == ProtoTCP || p.Proto == ProtoUDP)
}

// nat writes address a at off4/off6 of the IP header and port at portOff
// of the L4 header (the same for TCP and UDP), decrementing the TTL or hop
// limit when ttl is set, and updates each checksum once. p's fields must
// already hold the new values (a full UDP computation reads them).
func (p *Parsed) nat(frame []byte, a netip.Addr, port uint16, ttl bool, off4, off6, portOff int) {
	ip := frame[p.L3Off:]
	var d uint64
	if p.IPVersion == 4 {
		d = putAddr4(ip[off4:], a.As4())
		h := uint64(^be16(ip[v4Csum:])) + d
		if ttl {
			// TTL and protocol form one 16-bit word; the TTL is above 1
			// here, so the word drops by 0x100 without a borrow. (Not
			// re-read after the byte store: a 2-byte load of a word just
			// partly stored cannot be forwarded and stalls.)
			old := be16(ip[v4TTL:])
			nw := old - 0x100
			ip[v4TTL] = byte(nw >> 8)
			h += uint64(^old) + uint64(nw)
		}
		binary.BigEndian.PutUint16(ip[v4Csum:], ^fold(h))
	} else {
		d = putAddr6(ip[off6:], a.As16())
		if ttl {
			ip[v6HopLimit]--
		}
	}
	l4 := frame[p.L4Off:]
	op := be16(l4[portOff:])
	binary.BigEndian.PutUint16(l4[portOff:], port)
	d += uint64(^op) + uint64(port)
	at := tcpCsum
	if p.Proto == ProtoUDP {
		at = udpCsum
	}
	hc := be16(l4[at:])
	if p.Proto == ProtoUDP && hc == 0 && p.IPVersion == 4 {
		// No checksum: computed from scratch, except in a fragment.
		p.fullUDP(frame)
		return
	}
	v := ^fold(uint64(^hc) + d)
	if v == 0 && p.Proto == ProtoUDP {
		v = 0xFFFF // RFC 768
	}
	binary.BigEndian.PutUint16(l4[at:], v)
}

// putAddr4 writes the IPv4 address n (a.As4()) over the 4 bytes at the
// start of b and returns d, the one's-complement sum ~old + new over the
// changed 16-bit words, unfolded and below 2^35 (callers add a few more
// terms before folding, without overflow). Adding d to ~HC and folding is
// the RFC 1624 eqn. 3 update of any checksum covering the address. The
// old address is read from the frame rather than from p (the same bytes),
// so no netip.Addr is converted twice.
//
// Callers pass As4, not As16: a 4-byte load from the middle of As16's
// 16-byte result misses store forwarding (≈ 8 ns more per call on the
// project machine).
func putAddr4(b []byte, n [4]byte) uint64 {
	nw := binary.BigEndian.Uint32(n[:])
	ow := binary.BigEndian.Uint32(b)
	binary.BigEndian.PutUint32(b, nw)
	return uint64(^ow) + uint64(nw)
}

// putAddr6 is putAddr4 for the IPv6 address n (a.As16()) at the start of
// b; d is below 2^35.
func putAddr6(b []byte, n [16]byte) uint64 {
	oh, ol := ^binary.BigEndian.Uint64(b), ^binary.BigEndian.Uint64(b[8:]) // ~old
	nh, nl := binary.BigEndian.Uint64(n[:]), binary.BigEndian.Uint64(n[8:])
	// Two 8-byte stores rather than copy: a 16-byte load of n right after
	// As16's 8-byte stores would miss store forwarding.
	binary.BigEndian.PutUint64(b, nh)
	binary.BigEndian.PutUint64(b[8:], nl)
	// As 32-bit words: eight of them cannot overflow, and no carry chain.
	return oh>>32 + oh&0xFFFFFFFF + ol>>32 + ol&0xFFFFFFFF + nh>>32 + nh&0xFFFFFFFF + nl>>32 + nl&0xFFFFFFFF
}
