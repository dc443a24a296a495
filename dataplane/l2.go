package dataplane

import (
	"net/netip"

	"github.com/uvslb/uvs/internal/header"
)

// arp answers ARP requests for active VIPs and learns from ARP that
// answers (or announces) an address being resolved or already known.
func (w *Worker) arp(s *Snapshot, now int64) (Action, Reason) {
	a := &w.p.ARP
	if a.SenderIP.IsValid() && !a.SenderIP.IsUnspecified() {
		w.learn(s, a.SenderIP, a.SenderMAC, now)
	}
	if a.Op != header.ARPRequest || !s.IsVIP(a.TargetIP) {
		return w.released(), 0
	}
	j, buf, ok := w.alloc(now)
	if !ok {
		return ActDrop, ReasonNoBuffer
	}
	w.commit(j, header.PutARPReply(buf, s.MAC, a.TargetIP, a.SenderMAC, a.SenderIP))
	return ActARPReply, 0
}

// nd answers neighbour solicitations for active VIPs and learns from
// advertisements (and solicitations carrying a source link-layer address).
func (w *Worker) nd(s *Snapshot, now int64) (Action, Reason) {
	p := w.p
	if p.ND.HasLinkAddr {
		switch p.ICMPType {
		case header.ICMPv6NeighborAdvert:
			w.learn(s, p.ND.Target, p.ND.LinkAddr, now)
		case header.ICMPv6NeighborSolicit:
			if !p.Src.IsUnspecified() {
				w.learn(s, p.Src, p.ND.LinkAddr, now)
			}
		}
	}
	if p.ICMPType != header.ICMPv6NeighborSolicit || !s.IsVIP(p.ND.Target) {
		return w.released(), 0
	}
	dst, dmac := p.Src, p.SrcMAC
	if dst.IsUnspecified() { // DAD probe: answer to all-nodes (RFC 4861 §7.2.4)
		dst = netip.AddrFrom16([16]byte{0: 0xff, 1: 0x02, 15: 1})
		dmac = MAC{0x33, 0x33, 0, 0, 0, 1}
	}
	j, buf, ok := w.alloc(now)
	if !ok {
		return ActDrop, ReasonNoBuffer
	}
	flags := uint8(header.NDOverride)
	if !p.Src.IsUnspecified() {
		flags |= header.NDSolicited
	}
	w.commit(j, header.PutNeighborAdvert(buf, s.MAC, p.ND.Target, dmac, dst, flags))
	return ActARPReply, 0
}

// released is the action reported for an ARP/ND frame that resolved a
// neighbour and so released queued frames: that of the first of them.
func (w *Worker) released() Action {
	if w.releasedAct != 0 {
		return w.releasedAct
	}
	return ActPass
}

// learn records ip → mac when ip is being resolved or already in the
// table, and sends the frames that waited for it.
func (w *Worker) learn(s *Snapshot, ip netip.Addr, mac MAC, now int64) {
	ip = ip.Unmap()
	pending := w.e.neigh.isPending(ip)
	if _, known := w.e.neigh.lookup(ip); !known && !pending {
		return
	}
	w.e.neigh.learn(ip, mac)
	if !pending {
		return
	}
	frames := w.e.neigh.release(ip)
	for _, f := range frames {
		j, buf, ok := w.alloc(now)
		if !ok {
			w.drops[ReasonNoBuffer].Add(1)
			continue
		}
		n := copy(buf, f.buf)
		copy(buf[0:6], mac[:])
		copy(buf[6:12], s.MAC[:])
		w.commit(j, n)
		if w.releasedAct == 0 {
			w.releasedAct = f.act
		}
	}
	if w.tracer != nil {
		w.rec.Resolved = ip
	}
}

// solicit asks for ip's MAC from src: an ARP request (IPv4) or a neighbour
// solicitation to the solicited-node multicast address (IPv6).
func (w *Worker) solicit(s *Snapshot, ip, src netip.Addr, now int64) {
	j, buf, ok := w.alloc(now)
	if !ok {
		w.drops[ReasonNoBuffer].Add(1)
		return
	}
	if ip.Is4() {
		w.commit(j, header.PutARPRequest(buf, s.MAC, src, ip))
		return
	}
	w.commit(j, header.PutNeighborSolicit(buf, s.MAC, src, ip))
}
