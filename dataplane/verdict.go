package dataplane

// Action is what the dataplane did with one input frame. Its String form is
// the `action` field of the replay trace (DESIGN.md, "uvs replay").
type Action uint8

const (
	_ Action = iota
	// ActNAT forwarded a client packet to a real server with the
	// destination rewritten (masquerading).
	ActNAT
	// ActDR forwarded a client packet to a real server's MAC unchanged
	// (direct routing).
	ActDR
	// ActTUN forwarded a client packet to a real server inside an IPIP
	// (IPv4) or IPv6-in-IPv6 tunnel.
	ActTUN
	// ActReplyNAT forwarded a real server's reply to the client with the
	// source rewritten back to the VIP.
	ActReplyNAT
	// ActARPReply answered an ARP request or IPv6 neighbour solicitation
	// for an active VIP.
	ActARPReply
	// ActARPRequest queued the frame and asked for a neighbour's MAC (ARP
	// request or IPv6 neighbour solicitation).
	ActARPRequest
	// ActICMP sent an ICMP error (port unreachable, time exceeded,
	// fragmentation needed / packet too big) or relayed one that belongs to
	// a connection.
	ActICMP
	// ActDrop dropped the frame; the Reason says why.
	ActDrop
	// ActPass left the frame alone: it is not the director's business
	// (not to a virtual service, not ARP/ND for a VIP). Nothing is sent.
	ActPass
	numActions
)

var actionNames = [numActions]string{
	ActNAT: "nat", ActDR: "dr", ActTUN: "tun", ActReplyNAT: "reply-nat",
	ActARPReply: "arp-reply", ActARPRequest: "arp-request", ActICMP: "icmp",
	ActDrop: "drop", ActPass: "pass",
}

// String returns the trace name of the action.
func (a Action) String() string {
	if a == 0 || a >= numActions {
		return "invalid"
	}
	return actionNames[a]
}
