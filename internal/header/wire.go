package header

// Ethernet II header (IEEE 802.3 clause 3.2), with an optional 802.1Q tag
// (IEEE 802.1Q §9.3) between the source address and the EtherType:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                  Destination MAC (6 bytes)                    |
//	+                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                               |                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//	|                    Source MAC (6 bytes)                       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  TPID 0x8100 (optional tag)   |  PCP |D|        VID           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|          EtherType            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	ethDst     = 0
	ethSrc     = 6
	ethType    = 12
	EthHdrLen  = 14 // Ethernet II header without a tag
	vlanTagLen = 4  // 802.1Q tag: TPID + TCI
)

// EtherType values (IEEE registry).
const (
	EtherTypeIPv4 uint16 = 0x0800
	EtherTypeARP  uint16 = 0x0806
	EtherTypeVLAN uint16 = 0x8100 // 802.1Q C-tag
	EtherTypeQinQ uint16 = 0x88A8 // 802.1ad S-tag
	EtherTypeIPv6 uint16 = 0x86DD
)

// ARP for Ethernet/IPv4 (RFC 826):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|       HTYPE (1)               |       PTYPE (0x0800)          |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  HLEN (6)     |  PLEN (4)     |       Operation               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Sender hardware address (6) | Sender protocol address (4)   |
//	|  Target hardware address (6) | Target protocol address (4)   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	arpHType   = 0
	arpPType   = 2
	arpHLen    = 4
	arpPLen    = 5
	arpOp      = 6
	arpSHA     = 8
	arpSPA     = 14
	arpTHA     = 18
	arpTPA     = 24
	ARPLen     = 28 // Ethernet/IPv4 ARP packet
	arpHTEther = 1  // RFC 826 / IANA hardware type Ethernet
)

// ARP operations (RFC 826).
const (
	ARPRequest uint16 = 1
	ARPReply   uint16 = 2
)

// IPv4 header (RFC 791 §3.1):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version|  IHL  |Type of Service|          Total Length         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         Identification        |Flags|      Fragment Offset    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Time to Live |    Protocol   |         Header Checksum       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                       Source Address                          |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Destination Address                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Options                    |    Padding    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	v4VerIHL    = 0
	v4TOS       = 1
	v4TotLen    = 2
	v4ID        = 4
	v4FlagsFrag = 6
	v4TTL       = 8
	v4Proto     = 9
	v4Csum      = 10
	v4Src       = 12
	v4Dst       = 16
	IPv4MinLen  = 20     // IHL 5
	v4FlagDF    = 0x4000 // Don't Fragment
	v4FlagMF    = 0x2000 // More Fragments
	v4FragMask  = 0x1FFF // offset in 8-byte units
)

// IPv6 fixed header (RFC 8200 §3):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version| Traffic Class |           Flow Label                  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         Payload Length        |  Next Header  |   Hop Limit   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                 Source Address (16 bytes)                     |
//	|                 Destination Address (16 bytes)                |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	v6PayLen   = 4
	v6Next     = 6
	v6HopLimit = 7
	v6Src      = 8
	v6Dst      = 24
	IPv6Len    = 40
)

// IPv6 extension headers (RFC 8200 §4) share a 2-byte prefix: Next Header
// and Hdr Ext Len in 8-octet units not counting the first 8. The Fragment
// header (§4.5) is always 8 bytes:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                         Identification                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The Routing header (§4.4) carries its Routing Type in byte 2.
const (
	extHdrUnit    = 8
	fragHdrLen    = 8
	fragOffMask   = 0xFFF8 // offset in 8-byte units, already scaled
	fragMore      = 0x0001
	routingType0  = 0 // deprecated by RFC 5095
	routingTypeAt = 2
)

// MaxExtHeaders and MaxExtBytes bound the IPv6 extension-header walk
// (reliability.md §3.4: "chains longer than about 8"; RFC 8504 §5.3 lets
// nodes limit them). 1024 bytes fits every chain a VIP legitimately sees.
const (
	MaxExtHeaders = 8
	MaxExtBytes   = 1024
)

// IP protocol numbers (IANA), also IPv6 Next Header values.
const (
	ProtoHopByHop uint8 = 0
	ProtoICMP     uint8 = 1
	ProtoIPIP     uint8 = 4
	ProtoTCP      uint8 = 6
	ProtoUDP      uint8 = 17
	ProtoIPv6     uint8 = 41
	ProtoRouting  uint8 = 43
	ProtoFragment uint8 = 44
	ProtoESP      uint8 = 50
	ProtoAH       uint8 = 51
	ProtoICMPv6   uint8 = 58
	ProtoNoNext   uint8 = 59
	ProtoDstOpts  uint8 = 60
	ProtoSCTP     uint8 = 132
	protoMobility uint8 = 135
	protoHIP      uint8 = 139
	protoShim6    uint8 = 140
	protoExp1     uint8 = 253 // RFC 3692 experimentation
	protoExp2     uint8 = 254
)

// TCP header (RFC 9293 §3.1):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|          Source Port          |       Destination Port        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                        Sequence Number                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Acknowledgment Number                      |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Data |       |C|E|U|A|P|R|S|F|                               |
//	| Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           Checksum            |         Urgent Pointer        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	tcpSrcPort = 0
	tcpDstPort = 2
	tcpDataOff = 12
	tcpFlags   = 13
	tcpCsum    = 16
	TCPMinLen  = 20
)

// TCP flags (RFC 9293 §3.1, RFC 3168 §6.1 for ECE/CWR).
const (
	TCPFin uint8 = 1 << iota
	TCPSyn
	TCPRst
	TCPPsh
	TCPAck
	TCPUrg
	TCPEce
	TCPCwr
)

// UDP header (RFC 768):
//
//	 0      7 8     15 16    23 24    31
//	+--------+--------+--------+--------+
//	|   Source Port   | Destination Port|
//	+--------+--------+--------+--------+
//	|     Length      |    Checksum     |
//	+--------+--------+--------+--------+
const (
	udpSrcPort = 0
	udpDstPort = 2
	udpLen     = 4
	udpCsum    = 6
	UDPLen     = 8
)

// ICMP (RFC 792) and ICMPv6 (RFC 4443 §2.1) header; errors carry 4 bytes
// of type-specific data (unused, MTU, pointer) then the offending packet:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |     Code      |          Checksum             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           unused / next-hop MTU / MTU / pointer               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|      Internet Header + leading octets of original datagram    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	icmpType   = 0
	icmpCode   = 1
	icmpCsum   = 2
	icmpRest   = 4
	ICMPHdrLen = 8
	// embeddedL4 is how much of the quoted L4 header an ICMP error must
	// carry: RFC 792 requires "64 bits of Data Datagram", enough for ports.
	embeddedL4 = 8
)

// ICMPv4 types and codes (RFC 792, RFC 1191).
const (
	ICMPv4EchoReply       uint8 = 0
	ICMPv4DestUnreachable uint8 = 3
	ICMPv4SourceQuench    uint8 = 4
	ICMPv4Echo            uint8 = 8
	ICMPv4TimeExceeded    uint8 = 11

	ICMPv4PortUnreachable uint8 = 3 // code of DestUnreachable
	ICMPv4FragNeeded      uint8 = 4 // code of DestUnreachable (RFC 1191)
	ICMPv4TTLExceeded     uint8 = 0 // code of TimeExceeded
)

// ICMPv6 types and codes (RFC 4443, RFC 4861).
const (
	ICMPv6DestUnreachable uint8 = 1
	ICMPv6PacketTooBig    uint8 = 2
	ICMPv6TimeExceeded    uint8 = 3
	ICMPv6ParamProblem    uint8 = 4
	ICMPv6EchoRequest     uint8 = 128
	ICMPv6EchoReply       uint8 = 129
	ICMPv6NeighborSolicit uint8 = 135
	ICMPv6NeighborAdvert  uint8 = 136

	ICMPv6PortUnreachable uint8 = 4 // code of DestUnreachable
	ICMPv6HopLimitExceed  uint8 = 0 // code of TimeExceeded
)

// Neighbour Solicitation / Advertisement (RFC 4861 §4.3, §4.4) after the
// 4-byte ICMPv6 type/code/checksum:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|R|S|O|                     Reserved                            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                  Target Address (16 bytes)                    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|   Options: Type (1 source / 2 target link-layer), Length (×8)  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	ndFlags     = 4
	ndTarget    = 8
	ndOptions   = 24
	ndMinLen    = 24
	ndOptSrcLL  = 1
	ndOptTgtLL  = 2
	ndOptLLLen  = 8    // type, length 1 (×8 bytes), 6-byte MAC
	ndHopLimit  = 255  // RFC 4861 §7.1.1
	NDRouter    = 0x80 // NA flag R: sender is a router
	NDSolicited = 0x40 // NA flag S: answer to a solicitation
	NDOverride  = 0x20 // NA flag O: override an existing cache entry
)
