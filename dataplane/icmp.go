package dataplane

import (
	"github.com/uvslb/uvs/conntrack"
	"github.com/uvslb/uvs/internal/header"
	"github.com/uvslb/uvs/internal/link"
)

// icmpError handles an ICMP error that may belong to a connection
// (reference ipvs.md §5): from outside about a packet the director sent
// from a VIP (translated and passed to the real server), or from a real
// server about a NAT connection (translated back to the client).
func (w *Worker) icmpError(in *link.Batch, i int, s *Snapshot, now int64) (Action, Reason) {
	p := w.p
	inn := &p.Inner
	if (inn.Proto == header.ProtoIPIP || inn.Proto == header.ProtoIPv6) && !inn.Fragment && (p.Dst == s.Addr4 || p.Dst == s.Addr6 || s.IsVIP(p.Dst)) {
		return w.tunnelError(in, i, s, now)
	}
	if !inn.Ports || inn.Fragment {
		return ActPass, 0
	}
	frame := in.Frame(i)
	if s.IsVIP(p.Dst) {
		key := conntrack.Key{Proto: inn.Proto, CAddr: inn.Dst, CPort: inn.DstPort, VAddr: inn.Src, VPort: inn.SrcPort}
		c, ok := w.e.table.Lookup(now, key)
		if !ok {
			return ActPass, 0
		}
		d := s.Dest(c.Dest)
		if w.tracer != nil {
			w.rec.Service = s.lookup(c.Proto, c.Virtual.Addr(), c.Virtual.Port(), p.IPVersion)
		}
		w.traceConn(&c, d, ConnExisting, 0)
		if d == nil || !d.Available {
			return ActDrop, ReasonDestUnavailable
		}
		if !p.VerifyL4(frame) {
			return ActDrop, Reason(header.BadL4Checksum)
		}
		if !p.DecrementTTL(frame) {
			return ActDrop, ReasonTTLExceeded // never answer an ICMP error with one
		}
		w.stats.in(w.id, d.Stats, p.IPLen)
		switch c.Method {
		case conntrack.MethodMasq:
			if c.Real.Addr().Is4() != p.Dst.Is4() {
				return ActDrop, ReasonNoRoute
			}
			j, ok := w.take(in, i)
			if !ok {
				return ActDrop, ReasonNoBuffer
			}
			out := w.tx.Frame(j)
			p.SetDstAddr(out, c.Real.Addr())
			p.SetInnerSrcAddr(out, c.Real.Addr())
			p.SetInnerSrcPort(out, c.Real.Port())
			p.FinishICMPError(out)
			return w.sendTo(s, j, c.Real.Addr(), w.srcFor(s, c.Real.Addr(), c.Virtual.Addr()), ActICMP, now)
		case conntrack.MethodRoute:
			return w.dr(in, i, s, &c, now)
		case conntrack.MethodTunnel:
			act, r := w.tun(in, i, s, &c, now)
			if act == ActTUN {
				act = ActICMP
			}
			return act, r
		}
		return ActDrop, ReasonNoRoute
	}
	c, ok := w.e.table.LookupOut(now, inn.Proto, inn.Dst, inn.DstPort, inn.Src, inn.SrcPort)
	if !ok || c.Method != conntrack.MethodMasq {
		return ActPass, 0
	}
	d := s.Dest(c.Dest)
	if w.tracer != nil {
		w.rec.Service = s.lookup(c.Proto, c.Virtual.Addr(), c.Virtual.Port(), p.IPVersion)
	}
	w.traceConn(&c, d, ConnExisting, 0)
	if !p.VerifyL4(frame) {
		return ActDrop, Reason(header.BadL4Checksum)
	}
	if !p.DecrementTTL(frame) {
		return ActDrop, ReasonTTLExceeded
	}
	if d != nil {
		w.stats.out(w.id, d.Stats, p.IPLen)
	}
	j, ok := w.take(in, i)
	if !ok {
		return ActDrop, ReasonNoBuffer
	}
	out := w.tx.Frame(j)
	vip := c.Virtual.Addr()
	p.SetSrcAddr(out, vip)
	p.SetInnerDstAddr(out, vip)
	p.SetInnerDstPort(out, c.Virtual.Port())
	p.FinishICMPError(out)
	return w.sendToClient(s, j, c.Client.Addr(), vip, ActICMP, now)
}

// tun forwards a client packet to its real server inside an IPIP (IPv4
// real server) or IPv6-in-IPv6 tunnel (reference ipvs.md §6.3). A packet
// that would exceed the MTU once encapsulated is answered with ICMP
// fragmentation needed (DF set) or packet too big (IPv6), as IPVS does with
// pmtu_disc=1; uvs does not fragment, so an oversize IPv4 packet without DF
// is dropped too (counted as too_big).
func (w *Worker) tun(in *link.Batch, i int, s *Snapshot, c *conntrack.Conn, now int64) (Action, Reason) {
	p := w.p
	real := c.Real.Addr()
	outer := header.IPv4MinLen
	if real.Is6() {
		outer = header.IPv6Len
	}
	src := w.srcFor(s, real, c.Virtual.Addr())
	if !src.IsValid() {
		return ActDrop, ReasonNoRoute
	}
	if p.IPLen+outer > s.MTU {
		if p.IPVersion == 6 || p.Flags&header.FlagDF != 0 {
			if w.sendICMP(in, i, s, icmpTooBig, s.MTU-outer, now) {
				return ActICMP, ReasonTooBig
			}
		}
		return ActDrop, ReasonTooBig
	}
	j, ok := w.take(in, i)
	if !ok {
		return ActDrop, ReasonNoBuffer
	}
	// The inner IP packet stays where it is; the outer header (and the
	// Ethernet header, moved) go into the headroom in front of it.
	tx := w.tx
	w.ipID++
	off, n, ok := p.Encap(tx.Bufs[j], tx.Off[j], src, real, w.ipID)
	if !ok {
		tx.N--
		return ActDrop, ReasonNoRoute
	}
	tx.Off[j], tx.Len[j] = off, n
	return w.sendTo(s, j, real, src, ActTUN, now)
}

// tunnelError handles an ICMP error about one of the director's own
// tunnel packets (reference ipvs.md §5): the quoted packet is the outer
// header the director wrote, and behind it the client's packet. The error
// is relayed to the client; for "fragmentation needed" / "packet too big"
// the MTU reported is the one in the error minus the tunnel overhead (and,
// for IPv4, only when the client's packet had DF set and the result is
// above 88, as IPVS does).
func (w *Worker) tunnelError(in *link.Batch, i int, s *Snapshot, now int64) (Action, Reason) {
	p := w.p
	frame := in.Frame(i)
	inn := &p.Inner
	cl, r := header.DecodeQuoted(frame, inn.L3Off+inn.HdrLen, p.L4Off+p.L4Len)
	if r != header.OK || !cl.Ports {
		return ActPass, 0
	}
	c, ok := w.e.table.Lookup(now, conntrack.Key{Proto: cl.Proto, CAddr: cl.Src, CPort: cl.SrcPort, VAddr: cl.Dst, VPort: cl.DstPort})
	if !ok || c.Method != conntrack.MethodTunnel {
		return ActPass, 0
	}
	if w.tracer != nil {
		w.rec.Service = s.lookup(c.Proto, c.Virtual.Addr(), c.Virtual.Port(), cl.IPVersion)
	}
	w.traceConn(&c, s.Dest(c.Dest), ConnExisting, 0)
	if !p.VerifyL4(frame) {
		return ActDrop, Reason(header.BadL4Checksum)
	}
	orig := frame[cl.L3Off : p.L4Off+p.L4Len]
	overhead := inn.HdrLen
	tooBig := (p.IPVersion == 4 && p.ICMPType == header.ICMPv4DestUnreachable && p.ICMPCode == header.ICMPv4FragNeeded) ||
		(p.IPVersion == 6 && p.ICMPType == header.ICMPv6PacketTooBig)
	var mtu uint32
	if tooBig {
		l4 := frame[p.L4Off:]
		if p.IPVersion == 4 {
			mtu = uint32(l4[6])<<8 | uint32(l4[7])
		} else {
			mtu = uint32(l4[4])<<24 | uint32(l4[5])<<16 | uint32(l4[6])<<8 | uint32(l4[7])
		}
		mtu -= uint32(min(int(mtu), overhead))
		if cl.IPVersion == 4 {
			// Without DF the client's packet could have been fragmented
			// (by a real stack); IPVS sends nothing then.
			if orig[6]&0x40 == 0 || mtu <= 88 {
				return ActDrop, ReasonTooBig
			}
		} else if mtu < 1280 {
			mtu = 1280 // IPv6 minimum MTU (RFC 8200 §5)
		}
	}
	if !w.icmp.allow(now, s.ICMPRate) {
		return ActDrop, ReasonICMPRateLimit
	}
	src := w.srcFor(s, cl.Src, cl.Dst)
	j, buf, ok := w.alloc(now)
	if !ok || !src.IsValid() {
		return ActDrop, ReasonNoBuffer
	}
	eth := 0
	if w.e.cfg.LinkType == link.Ethernet {
		eth = header.EthHdrLen
	}
	var n int
	switch {
	case cl.IPVersion == 4 && tooBig:
		n = header.PutICMPv4FragNeeded(buf[eth:], src, uint16(mtu), orig)
	case cl.IPVersion == 4:
		n = header.PutICMPv4Error(buf[eth:], src, p.ICMPType, p.ICMPCode, 0, orig)
	case tooBig:
		n = header.PutICMPv6PacketTooBig(buf[eth:], src, mtu, orig)
	default:
		typ, code := p.ICMPType, p.ICMPCode
		if p.IPVersion == 4 { // an IPv4 router's error about an IPv6 client's packet
			typ, code = header.ICMPv6DestUnreachable, 0
			if p.ICMPType == header.ICMPv4TimeExceeded {
				typ = header.ICMPv6TimeExceeded
			}
		}
		n = header.PutICMPv6Error(buf[eth:], src, typ, code, 0, orig)
	}
	if n == 0 {
		return ActDrop, Reason(header.BadICMPEmbedded)
	}
	if eth != 0 {
		et := header.EtherTypeIPv4
		if cl.IPVersion == 6 {
			et = header.EtherTypeIPv6
		}
		header.PutEthernet(buf, MAC{}, s.MAC, et)
	}
	w.commit(j, eth+n)
	return w.sendToClient(s, j, cl.Src, src, ActICMP, now)
}
