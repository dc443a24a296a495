package header

// Reason is the verdict of Decode: OK, a frame that is well formed but not
// a uvs concern (Pass reports which), or the class of malformation that
// makes the dataplane drop it. String gives the stable snake_case name used
// as the drop-reason counter label and the replay trace's reason field.
//
// Reasons not returned by Decode itself (BadTCPFlags, BadL4Checksum) are
// here so the dataplane counts every per-packet verdict from one enum.
type Reason uint8

const (
	_ Reason = iota
	// OK: the frame decoded; every offset in Parsed lies within the frame.
	OK
	// NotIP: a well-formed Ethernet frame of an EtherType uvs does not handle
	// (LLDP, STP, 802.3 length frames, ...). Pass.
	NotIP
	// NotOurs: a well-formed IP packet uvs cannot look into: IPsec (AH, ESP)
	// or an IPv6 extension header it does not walk (Mobility, HIP, Shim6,
	// experimental). Pass.
	NotOurs
	// Truncated: the frame ends inside a header it announces (Ethernet,
	// VLAN tag, IP header, L4 header, ICMP header).
	Truncated
	// BadVLAN: more than one 802.1Q tag, or an 802.1ad (QinQ) S-tag.
	BadVLAN
	// BadSourceMAC: Ethernet source address with the group bit set.
	BadSourceMAC
	// BadIPVersion: IP version nibble not matching the EtherType (or, on a
	// raw IP link, neither 4 nor 6).
	BadIPVersion
	// BadIHL: IPv4 IHL < 5, or the header runs past the frame.
	BadIHL
	// BadTotalLength: IPv4 total length < IHL×4 or greater than the frame;
	// IPv6 payload length greater than the frame (jumbograms included).
	// Bytes after the announced length (Ethernet padding) are ignored.
	BadTotalLength
	// BadIPChecksum: IPv4 header checksum does not verify.
	BadIPChecksum
	// MartianSource: source address 0.0.0.0/8, 127.0.0.0/8, multicast,
	// limited broadcast, ::1, IPv6 multicast, or :: on anything but ICMPv6
	// (RFC 4862 §5.4 DAD uses ::).
	MartianSource
	// Land: source address equals destination address (LAND attack).
	Land
	// Fragment: a non-first fragment (no L4 header), or a first fragment
	// too short to hold its whole L4 header, or an ICMPv6 error carried in
	// fragments (RFC 4443 errors are never fragmented by IPVS's rules).
	Fragment
	// BadExtHeader: an IPv6 extension header running past the packet,
	// Hop-by-Hop not first, or Routing Type 0 (RFC 5095).
	BadExtHeader
	// ExtHeaderLimit: more than MaxExtHeaders IPv6 extension headers or
	// more than MaxExtBytes bytes of them.
	ExtHeaderLimit
	// BadTCPHeader: TCP data offset < 5 or beyond the segment.
	BadTCPHeader
	// BadUDPLength: UDP length < 8 or not equal to the IP payload length.
	BadUDPLength
	// BadICMP: an ICMP or ICMPv6 message shorter than its 8-byte header.
	BadICMP
	// BadICMPEmbedded: an ICMP error whose quoted IP header is malformed
	// or too short to hold the first 8 bytes of its L4 header.
	BadICMPEmbedded
	// BadARP: ARP that is not Ethernet/IPv4 request or reply.
	BadARP
	// BadND: Neighbour Solicitation/Advertisement failing RFC 4861 §7.1
	// validation (hop limit ≠ 255, code ≠ 0, short, zero-length option,
	// multicast target).
	BadND
	// BadTCPFlags: a TCP flag combination ValidTCPFlags rejects (SYN+FIN,
	// SYN+RST, FIN without ACK, null, Xmas). Not returned by Decode.
	BadTCPFlags
	// BadL4Checksum: TCP/UDP/ICMP checksum does not verify (VerifyL4).
	// Not returned by Decode.
	BadL4Checksum
	// BadLinkType: Decode was called with an invalid link.Type.
	BadLinkType

	numReasons // one past the last reason
)

// NumReasons is the number of Reason values including the invalid zero:
// size of an array indexed by Reason.
const NumReasons = int(numReasons)

// String returns the reason's stable snake_case name ("bad_ip_checksum").
func (r Reason) String() string {
	switch r {
	case OK:
		return "ok"
	case NotIP:
		return "not_ip"
	case NotOurs:
		return "not_ours"
	case Truncated:
		return "truncated"
	case BadVLAN:
		return "bad_vlan"
	case BadSourceMAC:
		return "bad_source_mac"
	case BadIPVersion:
		return "bad_ip_version"
	case BadIHL:
		return "bad_ihl"
	case BadTotalLength:
		return "bad_total_length"
	case BadIPChecksum:
		return "bad_ip_checksum"
	case MartianSource:
		return "martian_source"
	case Land:
		return "land"
	case Fragment:
		return "fragment"
	case BadExtHeader:
		return "bad_ext_header"
	case ExtHeaderLimit:
		return "ext_header_limit"
	case BadTCPHeader:
		return "bad_tcp_header"
	case BadUDPLength:
		return "bad_udp_length"
	case BadICMP:
		return "bad_icmp"
	case BadICMPEmbedded:
		return "bad_icmp_embedded"
	case BadARP:
		return "bad_arp"
	case BadND:
		return "bad_nd"
	case BadTCPFlags:
		return "bad_tcp_flags"
	case BadL4Checksum:
		return "bad_l4_checksum"
	case BadLinkType:
		return "bad_link_type"
	}
	return "invalid"
}

// Pass reports whether r marks a well-formed frame that is simply not uvs's
// business (NotIP, NotOurs): the dataplane passes it rather than dropping.
func (r Reason) Pass() bool { return r == NotIP || r == NotOurs }
