package director

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/uvslb/uvs/conntrack"
	"github.com/uvslb/uvs/dataplane"
	"github.com/uvslb/uvs/internal/header"
	"github.com/uvslb/uvs/internal/link"
)

// traceRecord is one line of the JSON Lines trace (DESIGN.md, "uvs
// replay"). Field order is fixed by the struct, so output is stable.
type traceRecord struct {
	TS      json.Number `json:"ts"`
	In      string      `json:"in"`
	Service *string     `json:"service"`
	Conn    string      `json:"conn"`
	State   *string     `json:"state"`
	Dest    *string     `json:"dest"`
	Action  string      `json:"action"`
	Reason  string      `json:"reason,omitempty"`
	Out     *string     `json:"out"`
}

func strp(s string) *string { return &s }

// seconds formats a nanosecond Unix time as decimal seconds: microsecond
// digits always (pcap's usual resolution), nanosecond digits when present.
// Exact, unlike a float64 of the same value.
func seconds(ns int64) string {
	s := strconv.FormatInt(ns/1e9, 10) + "." + fmt.Sprintf("%09d", ns%1e9)
	return strings.TrimSuffix(s, "000")
}

// buildRecord turns a dataplane record into its trace form.
func buildRecord(r *dataplane.Record, tx *link.Batch) traceRecord {
	t := traceRecord{
		TS:     json.Number(seconds(r.Time)),
		In:     Summarize(r.In, r.LinkType),
		Conn:   r.Conn.String(),
		Action: r.Action.String(),
	}
	if r.Service != nil {
		t.Service = strp(r.Service.Name)
	}
	if r.State != 0 {
		t.State = strp(r.State.String())
	}
	if r.Real.IsValid() {
		t.Dest = strp(r.Real.String())
	}
	if r.Reason != 0 {
		t.Reason = r.Reason.String()
	}
	if r.OutEnd > r.OutFirst {
		var outs []string
		for j := r.OutFirst; j < r.OutEnd; j++ {
			outs = append(outs, Summarize(tx.Frame(j), r.LinkType))
		}
		t.Out = strp(strings.Join(outs, "; "))
	}
	return t
}

type jsonTracer struct {
	w   *bufio.Writer
	err error
}

func (j *jsonTracer) Trace(r *dataplane.Record, tx *link.Batch) {
	if j.err != nil {
		return
	}
	enc := json.NewEncoder(j.w)
	enc.SetEscapeHTML(false) // keep "a > b" readable in the summaries
	j.err = enc.Encode(buildRecord(r, tx))
}

func (j *jsonTracer) flush() error {
	if j.err != nil {
		return j.err
	}
	return j.w.Flush()
}

// Summarize returns a one-line, tcpdump-like description of a frame.
func Summarize(frame []byte, lt link.Type) string {
	var p header.Parsed
	r := p.Decode(frame, lt)
	var b strings.Builder
	if lt == link.Ethernet && len(frame) >= header.EthHdrLen {
		fmt.Fprintf(&b, "%s > %s, ", net.HardwareAddr(frame[6:12]), net.HardwareAddr(frame[0:6]))
	}
	if r != header.OK {
		if r.Pass() {
			fmt.Fprintf(&b, "not IP (ethertype %#04x), %d bytes", p.EtherType, len(frame))
		} else {
			fmt.Fprintf(&b, "malformed (%s), %d bytes", r, len(frame))
		}
		return b.String()
	}
	describe(&b, &p, frame, 0)
	return b.String()
}

// describe writes the L3/L4 part of a decoded packet; depth bounds the
// recursion into tunnels and quoted packets to one level.
func describe(b *strings.Builder, p *header.Parsed, frame []byte, depth int) {
	if p.Flags&header.FlagARP != 0 {
		a := &p.ARP
		if a.Op == header.ARPRequest {
			fmt.Fprintf(b, "ARP who-has %s tell %s", a.TargetIP, a.SenderIP)
		} else {
			fmt.Fprintf(b, "ARP %s is-at %s", a.SenderIP, net.HardwareAddr(a.SenderMAC[:]))
		}
		return
	}
	if p.Flags&header.FlagND != 0 {
		if p.ICMPType == header.ICMPv6NeighborSolicit {
			fmt.Fprintf(b, "ICMPv6 %s > %s neighbor solicitation, who has %s", p.Src, p.Dst, p.ND.Target)
		} else {
			fmt.Fprintf(b, "ICMPv6 %s > %s neighbor advertisement, %s is-at %s", p.Src, p.Dst, p.ND.Target, net.HardwareAddr(p.ND.LinkAddr[:]))
		}
		return
	}
	ttl := fmt.Sprintf(", ttl %d", p.TTL)
	switch {
	case (p.Proto == header.ProtoIPIP || p.Proto == header.ProtoIPv6) && depth == 0:
		kind := "IPIP"
		if p.Proto == header.ProtoIPv6 {
			kind = "IP6IP6"
			if p.IPVersion == 4 {
				kind = "IPIP(v6 inner)"
			}
		} else if p.IPVersion == 6 {
			kind = "IP6IP(v4 inner)"
		}
		fmt.Fprintf(b, "%s %s > %s%s [", kind, p.Src, p.Dst, ttl)
		var q header.Parsed
		inner := frame[p.L4Off:p.End()]
		if r := q.Decode(inner, link.RawIP); r == header.OK {
			describe(b, &q, inner, depth+1)
		} else {
			fmt.Fprintf(b, "malformed inner packet (%s)", r)
		}
		b.WriteString("]")
	case p.Flags&header.FlagPorts != 0 && (p.Proto == header.ProtoTCP || p.Proto == header.ProtoUDP || p.Proto == header.ProtoSCTP):
		src := netip.AddrPortFrom(p.Src, p.SrcPort)
		dst := netip.AddrPortFrom(p.Dst, p.DstPort)
		switch p.Proto {
		case header.ProtoTCP:
			fmt.Fprintf(b, "TCP %s > %s [%s] len %d%s", src, dst, tcpFlags(p.TCPFlags), tcpPayload(p, frame), ttl)
		case header.ProtoUDP:
			fmt.Fprintf(b, "UDP %s > %s len %d%s", src, dst, p.L4Len-8, ttl)
		default:
			fmt.Fprintf(b, "SCTP %s > %s%s", src, dst, ttl)
		}
	case p.Proto == header.ProtoICMP || p.Proto == header.ProtoICMPv6:
		name := "ICMP"
		if p.Proto == header.ProtoICMPv6 {
			name = "ICMPv6"
		}
		fmt.Fprintf(b, "%s %s > %s %s%s", name, p.Src, p.Dst, icmpName(p), ttl)
		if p.Flags&header.FlagICMPError != 0 {
			in := &p.Inner
			fmt.Fprintf(b, " (about %s %s > %s)", dataplane.ProtoName(in.Proto),
				netip.AddrPortFrom(in.Src, in.SrcPort), netip.AddrPortFrom(in.Dst, in.DstPort))
		}
	default:
		fmt.Fprintf(b, "IP %s > %s proto %d%s", p.Src, p.Dst, p.Proto, ttl)
	}
	if p.Flags&header.FlagFragment != 0 {
		b.WriteString(" (fragment)")
	}
}

func tcpPayload(p *header.Parsed, frame []byte) int {
	l4 := frame[p.L4Off:]
	if len(l4) < 13 {
		return 0
	}
	return p.L4Len - int(l4[12]>>4)*4
}

// tcpFlags renders flags as tcpdump does: S, F, R, P, U, E, W, then "."
// for ACK.
func tcpFlags(f uint8) string {
	var s []byte
	for _, x := range []struct {
		bit uint8
		c   byte
	}{{header.TCPSyn, 'S'}, {header.TCPFin, 'F'}, {header.TCPRst, 'R'}, {header.TCPPsh, 'P'}, {header.TCPUrg, 'U'}, {header.TCPEce, 'E'}, {header.TCPCwr, 'W'}} {
		if f&x.bit != 0 {
			s = append(s, x.c)
		}
	}
	if f&header.TCPAck != 0 {
		s = append(s, '.')
	}
	if len(s) == 0 {
		return "none"
	}
	return string(s)
}

func icmpName(p *header.Parsed) string {
	t, c := p.ICMPType, p.ICMPCode
	if p.Proto == header.ProtoICMP {
		switch {
		case t == header.ICMPv4DestUnreachable && c == header.ICMPv4PortUnreachable:
			return "port unreachable"
		case t == header.ICMPv4DestUnreachable && c == header.ICMPv4FragNeeded:
			return "fragmentation needed"
		case t == header.ICMPv4DestUnreachable:
			return "destination unreachable code " + strconv.Itoa(int(c))
		case t == header.ICMPv4TimeExceeded:
			return "time exceeded"
		case t == header.ICMPv4Echo:
			return "echo request"
		case t == header.ICMPv4EchoReply:
			return "echo reply"
		}
	} else {
		switch {
		case t == header.ICMPv6DestUnreachable && c == header.ICMPv6PortUnreachable:
			return "port unreachable"
		case t == header.ICMPv6DestUnreachable:
			return "destination unreachable code " + strconv.Itoa(int(c))
		case t == header.ICMPv6PacketTooBig:
			return "packet too big"
		case t == header.ICMPv6TimeExceeded:
			return "time exceeded"
		case t == header.ICMPv6EchoRequest:
			return "echo request"
		case t == header.ICMPv6EchoReply:
			return "echo reply"
		}
	}
	return fmt.Sprintf("type %d code %d", t, c)
}

// textTracer prints a readable account of each frame for people learning
// NAT, DR and TUN.
type textTracer struct {
	w     *bufio.Writer
	table *conntrack.Table
	n     int
}

// schedWhy says in a few words how a scheduler chooses.
func schedWhy(name string) string {
	switch name {
	case "rr":
		return "round robin: the next real server in the list"
	case "wrr":
		return "weighted round robin: the next server whose weight reaches the current weight step"
	case "lc":
		return "least connections: fewest (active×256 + inactive)"
	case "wlc":
		return "weighted least connections: lowest (active×256 + inactive) / weight"
	case "sed":
		return "shortest expected delay: lowest (active+1) / weight"
	case "nq":
		return "never queue: an idle server if any, else shortest expected delay"
	case "fo":
		return "weighted fail-over: the available server with the highest weight"
	case "ovf":
		return "weighted overflow: the highest-weight server with active connections ≤ weight"
	case "twos":
		return "power of two choices: the less loaded of two weighted random picks"
	case "dh":
		return "destination hashing: hash of the destination address"
	case "sh":
		return "source hashing: hash of the client address"
	case "mh":
		return "Maglev hashing: the client address's slot in the Maglev table"
	case "lblc":
		return "locality-based least connections: the server cached for this destination"
	case "lblcr":
		return "locality-based least connections with replication"
	}
	return ""
}

func (t *textTracer) Trace(r *dataplane.Record, tx *link.Batch) {
	t.n++
	w := t.w
	fmt.Fprintf(w, "#%d %s in   %s\n", t.n, seconds(r.Time), Summarize(r.In, r.LinkType))
	if r.Service != nil {
		fmt.Fprintf(w, "     service %s (scheduler %s)", r.Service.Name, r.Service.SchedName)
		switch r.Conn {
		case dataplane.ConnNew:
			fmt.Fprintf(w, ", new connection\n")
		case dataplane.ConnExisting:
			fmt.Fprintf(w, ", existing connection\n")
		default:
			fmt.Fprintf(w, ", no connection\n")
		}
	} else if r.Conn == dataplane.ConnExisting {
		fmt.Fprintf(w, "     belongs to an existing connection\n")
	}
	if r.Conn == dataplane.ConnNew && r.Real.IsValid() {
		switch r.Choice {
		case dataplane.ChoiceTemplate:
			fmt.Fprintf(w, "     persistence: this client is pinned to %s by its template\n", r.Real)
		case dataplane.ChoiceReuse:
			fmt.Fprintf(w, "     port reuse: the old connection was in TIME_WAIT/CLOSE, so it is scheduled afresh: %s\n", r.Real)
		default:
			why := ""
			if r.Service != nil {
				why = schedWhy(r.Service.SchedName)
			}
			fmt.Fprintf(w, "     scheduler chose %s (%s)", r.Real, why)
			if r.Dest != nil {
				c := t.table.Counters(r.Dest.ID)
				fmt.Fprintf(w, "; weight %d, now %d active / %d inactive", r.Dest.Weight, c.Active.Load(), c.Inactive.Load())
			}
			fmt.Fprintln(w)
		}
	}
	if r.State != 0 {
		fmt.Fprintf(w, "     state %s (expires in %s)\n", r.State, t.table.Timeout(r.State))
	}
	explain(w, r, tx)
	for j := r.OutFirst; j < r.OutEnd; j++ {
		fmt.Fprintf(w, "     out  %s\n", Summarize(tx.Frame(j), r.LinkType))
	}
}

// explain writes one line saying what the director did, with the fields
// it rewrote (before → after).
func explain(w *bufio.Writer, r *dataplane.Record, tx *link.Batch) {
	switch r.Action {
	case dataplane.ActDrop:
		fmt.Fprintf(w, "     dropped: %s\n", r.Reason)
		return
	case dataplane.ActPass:
		fmt.Fprintf(w, "     passed: not for a virtual service; the director's own stack would handle it\n")
		return
	case dataplane.ActARPReply:
		fmt.Fprintf(w, "     answered for the VIP with the director's MAC\n")
		return
	case dataplane.ActARPRequest:
		fmt.Fprintf(w, "     next hop MAC unknown: the packet waits while the director asks for it\n")
		return
	}
	if r.Resolved.IsValid() {
		fmt.Fprintf(w, "     learned %s's MAC; sending the packets that waited for it\n", r.Resolved)
		return
	}
	if r.OutEnd <= r.OutFirst {
		return
	}
	var a, b header.Parsed
	if a.Decode(r.In, r.LinkType) != header.OK || b.Decode(tx.Frame(r.OutFirst), r.LinkType) != header.OK {
		return
	}
	var ch []string
	if r.LinkType == link.Ethernet {
		if a.DstMAC != b.DstMAC {
			ch = append(ch, fmt.Sprintf("dst MAC %s → %s", net.HardwareAddr(a.DstMAC[:]), net.HardwareAddr(b.DstMAC[:])))
		}
		if a.SrcMAC != b.SrcMAC {
			ch = append(ch, fmt.Sprintf("src MAC %s → %s", net.HardwareAddr(a.SrcMAC[:]), net.HardwareAddr(b.SrcMAC[:])))
		}
	}
	switch r.Action {
	case dataplane.ActTUN:
		fmt.Fprintf(w, "     TUN: encapsulated in an outer %s → %s header (the real server decapsulates and answers the client directly)\n", b.Src, b.Dst)
		if len(ch) > 0 {
			fmt.Fprintf(w, "     rewrote %s\n", strings.Join(ch, ", "))
		}
		return
	case dataplane.ActICMP:
		if r.Reason != 0 {
			fmt.Fprintf(w, "     refused (%s): answered with an ICMP error to %s\n", r.Reason, b.Dst)
			return
		}
	}
	if a.Src != b.Src || a.SrcPort != b.SrcPort {
		ch = append(ch, fmt.Sprintf("src %s → %s", netip.AddrPortFrom(a.Src, a.SrcPort), netip.AddrPortFrom(b.Src, b.SrcPort)))
	}
	if a.Dst != b.Dst || a.DstPort != b.DstPort {
		ch = append(ch, fmt.Sprintf("dst %s → %s", netip.AddrPortFrom(a.Dst, a.DstPort), netip.AddrPortFrom(b.Dst, b.DstPort)))
	}
	if a.TTL != b.TTL {
		ch = append(ch, fmt.Sprintf("ttl %d → %d", a.TTL, b.TTL))
	}
	var what string
	switch r.Action {
	case dataplane.ActNAT:
		what = "NAT: destination rewritten to the real server"
	case dataplane.ActDR:
		what = "DR: only the MAC changes; the real server owns the VIP and answers the client directly"
	case dataplane.ActReplyNAT:
		what = "reply NAT: the real server's answer leaves from the VIP"
	case dataplane.ActICMP:
		what = "ICMP error of a connection, translated"
	}
	fmt.Fprintf(w, "     %s; rewrote %s\n", what, strings.Join(ch, ", "))
}

func (t *textTracer) flush() error {
	return t.w.Flush()
}
