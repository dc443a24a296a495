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
	p := &w.p
	inn := &p.Inner
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
		d.Stats.In(w.id, p.IPLen)
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
		d.Stats.Out(w.id, p.IPLen)
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
	p := &w.p
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
	tx := w.tx
	eth := 0
	if w.e.cfg.LinkType == link.Ethernet {
		eth = header.EthHdrLen
	}
	// The inner IP packet stays where it is; the outer header and a fresh
	// Ethernet header go into the headroom in front of it.
	innerAt := tx.Off[j] + p.L3Off
	newOff := innerAt - outer - eth
	if newOff < 0 {
		tx.N--
		return ActDrop, ReasonNoBuffer
	}
	buf := tx.Bufs[j]
	inner := buf[innerAt : innerAt+p.IPLen]
	if real.Is4() {
		w.ipID++
		header.PutIPv4Tunnel(buf[innerAt-outer:innerAt], inner, src, real, w.ipID)
	} else {
		header.PutIPv6Tunnel(buf[innerAt-outer:innerAt], inner, src, real)
	}
	if eth != 0 {
		et := header.EtherTypeIPv4
		if real.Is6() {
			et = header.EtherTypeIPv6
		}
		header.PutEthernet(buf[newOff:], MAC{}, s.MAC, et)
	}
	tx.Off[j] = newOff
	tx.Len[j] = eth + outer + p.IPLen
	return w.sendTo(s, j, real, src, ActTUN, now)
}
