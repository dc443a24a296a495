package dataplane

import (
	"net/netip"

	"github.com/uvslb/uvs/internal/header"
	"github.com/uvslb/uvs/internal/link"
)

// icmpKind is an ICMP error the director originates.
type icmpKind uint8

const (
	_                   icmpKind = iota
	icmpPortUnreachable          // no real server (ip_vs_leave)
	icmpTimeExceeded             // TTL / hop limit ran out
	icmpTooBig                   // frag needed (v4) / packet too big (v6)
)

// buildICMPError writes into buf an ICMP error about the packet p decoded
// from frame, from src back to p's source (Ethernet header with the
// director's MAC as source and p's source MAC as destination), and returns
// its length (0 if it cannot be built).
func buildICMPError(buf []byte, lt link.Type, p *header.Parsed, frame []byte, kind icmpKind, src netip.Addr, mtu int, ourMAC MAC) int {
	if !p.ICMPErrorAllowed() {
		return 0
	}
	eth := 0
	if lt == link.Ethernet {
		eth = header.EthHdrLen
	}
	orig := frame[p.L3Off:p.End()]
	b := buf[eth:]
	var n int
	if p.IPVersion == 4 {
		switch kind {
		case icmpPortUnreachable:
			n = header.PutICMPv4PortUnreachable(b, src, orig)
		case icmpTimeExceeded:
			n = header.PutICMPv4TimeExceeded(b, src, orig)
		case icmpTooBig:
			n = header.PutICMPv4FragNeeded(b, src, uint16(mtu), orig)
		}
	} else {
		switch kind {
		case icmpPortUnreachable:
			n = header.PutICMPv6PortUnreachable(b, src, orig)
		case icmpTimeExceeded:
			n = header.PutICMPv6TimeExceeded(b, src, orig)
		case icmpTooBig:
			n = header.PutICMPv6PacketTooBig(b, src, uint32(mtu), orig)
		}
	}
	if n == 0 {
		return 0
	}
	if eth != 0 {
		et := header.EtherTypeIPv4
		if p.IPVersion == 6 {
			et = header.EtherTypeIPv6
		}
		header.PutEthernet(buf, p.SrcMAC, ourMAC, et)
	}
	return eth + n
}

// prefixMask4 is an IPv4 netmask of the given prefix length (ipvsadm -M).
func prefixMask4(bits int) uint32 {
	if bits <= 0 {
		return 0
	}
	if bits >= 32 {
		return 0xffffffff
	}
	return ^uint32(0) << (32 - bits)
}
