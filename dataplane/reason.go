package dataplane

import "github.com/uvslb/uvs/internal/header"

// Reason is why the dataplane dropped a frame (or, with ActICMP, refused to
// forward it). Values below header.NumReasons are the decoder's reasons
// (malformed frames); the rest are the dataplane's own. String gives the
// stable snake_case name used as counter label and trace `reason`.
type Reason uint8

// The dataplane's own reasons, after the decoder's.
const (
	// ReasonNoDest: no real server available for a new connection; ICMP
	// port unreachable was sent (rate permitting), as ip_vs_leave does.
	ReasonNoDest Reason = Reason(header.NumReasons) + iota
	// ReasonTTLExceeded: TTL or hop limit ≤ 1; ICMP time exceeded sent.
	ReasonTTLExceeded
	// ReasonTooBig: a tunnelled packet would exceed the MTU with DF set (or
	// IPv6); ICMP fragmentation needed / packet too big sent.
	ReasonTooBig
	// ReasonDestUnavailable: the connection's real server was removed and
	// expire_nodest_conn is off: IPVS drops silently until it expires.
	ReasonDestUnavailable
	// ReasonTableFull: the connection table is full and nothing could be
	// evicted.
	ReasonTableFull
	// ReasonNeighQueueFull: too many frames already wait for neighbour
	// resolution.
	ReasonNeighQueueFull
	// ReasonNeighUnresolved: a frame waited for a neighbour that never
	// answered.
	ReasonNeighUnresolved
	// ReasonOwnMAC: a frame with the director's own source MAC came back
	// (a loop).
	ReasonOwnMAC
	// ReasonNoRoute: the real server's family cannot carry the packet
	// (e.g. an IPv4 real server for a NAT IPv6 service).
	ReasonNoRoute
	// ReasonNoBuffer: the worker's transmit batch was full.
	ReasonNoBuffer
	// ReasonICMPRateLimit: an ICMP error about one of the director's own
	// tunnel packets was not relayed to the client: the ICMP rate limit
	// (Options.ICMPRate) had no token left.
	ReasonICMPRateLimit
	numReasonsAll
)

// NumReasons is the size of an array indexed by Reason.
const NumReasons = int(numReasonsAll)

var ownReasonNames = [...]string{
	"no_dest", "ttl_exceeded", "too_big", "dest_unavailable", "table_full",
	"neigh_queue_full", "neigh_unresolved", "own_mac", "no_route", "no_buffer",
	"icmp_rate_limit",
}

// String returns the reason's stable name.
func (r Reason) String() string {
	if int(r) < header.NumReasons {
		return header.Reason(r).String()
	}
	if i := int(r) - header.NumReasons; i < len(ownReasonNames) {
		return ownReasonNames[i]
	}
	return "invalid"
}
