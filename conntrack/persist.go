package conntrack

import (
	"encoding/binary"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/uvslb/uvs/scheduler"
)

// ftpPort is FTPPORT: persistence templates of a port-21 service carry
// vport 0 so that FTP data connections share them (reference ipvs.md §3.5).
const ftpPort = 21

// Service is what Schedule needs to know about the virtual service a new
// connection arrived for.
type Service struct {
	Proto  uint8  // ProtoTCP or ProtoUDP (also for fwmark services)
	Port   uint16 // service port; 0 for fwmark and port-0 services
	Fwmark uint32 // non-zero for fwmark services
	// Persistence: templates are used when PersistTimeout > 0 (ipvsadm -p).
	PersistTimeout time.Duration
	// Netmask groups IPv4 clients for persistence (ipvsadm -M), applied as
	// given: 0xffffffff is the ipvsadm default, 0 puts every client in one
	// group.
	Netmask uint32
	// Prefix6 groups IPv6 clients (ipvsadm -M for IPv6, 1..128); 0 means 128.
	Prefix6 uint8
	// OnePacket is -o: the connection is not stored (the template still is).
	OnePacket bool
}

// Target is a real server as a new connection binds to it.
type Target struct {
	Dest   scheduler.Dest // ID, address, port (0 keeps the packet's port), weight
	Method Method
}

// Status is the outcome of Schedule.
type Status uint8

// Schedule outcomes.
const (
	_ Status = iota
	// StatusCreated: the connection exists (for OnePacket services it was
	// not stored and Conn.Ref is zero).
	StatusCreated
	// StatusNoDest: the scheduler found no real server (ip_vs_leave: the
	// dataplane answers with ICMP port unreachable).
	StatusNoDest
	// StatusRefused: the table is full and nothing could be evicted; the
	// refusal is counted.
	StatusRefused
	// StatusBadKey: the key's addresses are invalid or of mixed families.
	StatusBadKey
)

var statusNames = [...]string{"invalid", "created", "no-dest", "refused", "bad-key"}

// String names the status.
func (s Status) String() string {
	if int(s) >= len(statusNames) {
		return "invalid"
	}
	return statusNames[s]
}

// Schedule creates the connection for a packet that has none (or whose
// entry the caller decided to replace: port reuse, expire_nodest_conn), as
// conn_schedule does (reference ipvs.md §3.4, §3.5). Any live entry with the
// same key is replaced.
//
// For persistent services it first looks for the client's template: if one
// exists and dest reports its real server usable (and, with
// ExpireQuiescentTemplate, of non-zero weight), that server is used without
// calling pick, and the template is re-armed. Otherwise a failing template
// is invalidated, pick chooses a server and a new template is created.
// Non-persistent services always call pick.
//
// pick runs the service's scheduler; dest returns a real server's current
// target, false when it is no longer available; it is only called for
// persistent services and may be nil for the others. Both are called with a
// shard lock held and must not call back into the Table. The new connection
// is in state NONE (UDP for non-TCP) with the kernel's 3 s timeout; call
// Update for the packet itself.
func (t *Table) Schedule(now int64, k Key, svc *Service, pick func() (Target, bool), dest func(scheduler.DestID) (Target, bool)) (Conn, Status) {
	var n newEntry
	if !n.k.setAddrs(k.CAddr, k.VAddr) {
		return Conn{}, StatusBadKey
	}
	n.k.proto, n.k.cp, n.k.vp = k.Proto, k.CPort, k.VPort
	var tgt Target
	if svc.PersistTimeout > 0 {
		var st Status
		tgt, n.control, st = t.persistTemplate(now, &n.k, svc, pick, dest)
		if st != StatusCreated {
			return Conn{}, st
		}
		// ip_vs_sched_persist: the connection keeps the packet's port unless
		// it was for the service port and the real server has one.
		n.dport = k.VPort
		if k.VPort == svc.Port && tgt.Dest.Port != 0 {
			n.dport = tgt.Dest.Port
		}
	} else {
		var ok bool
		if tgt, ok = pick(); !ok {
			return Conn{}, StatusNoDest
		}
		n.dport = tgt.Dest.Port
		if n.dport == 0 {
			n.dport = k.VPort
		}
	}
	if svc.OnePacket {
		c := Conn{
			Proto:   k.Proto,
			Client:  netip.AddrPortFrom(k.CAddr, k.CPort),
			Virtual: netip.AddrPortFrom(k.VAddr, k.VPort),
			Real:    netip.AddrPortFrom(tgt.Dest.Addr, n.dport),
			Dest:    tgt.Dest.ID,
			Method:  tgt.Method,
			State:   StateUDP,
		}
		if n.control != 0 {
			t.templateEntry(n.control - 1).release()
		}
		return c, StatusCreated
	}
	if !n.setDest(tgt) {
		if n.control != 0 {
			t.templateEntry(n.control - 1).release()
		}
		return Conn{}, StatusBadKey
	}
	n.state = StateNone
	if k.Proto != ProtoTCP {
		n.state = StateUDP
	}
	n.timeout = toTicks(newConnTimeout)
	h := t.hash(&n.k)
	si, s := t.shardOf(h)
	s.mu.Lock()
	slot, ok := t.insertLocked(s, s.home(h), &n, now)
	if !ok {
		s.mu.Unlock()
		if n.control != 0 {
			t.templateEntry(n.control - 1).release()
		}
		return Conn{}, StatusRefused
	}
	c := t.connLocked(si, s, slot, now)
	s.mu.Unlock()
	return c, StatusCreated
}

// setDest fills the real-server fields; false if the address family does
// not match the key's.
func (n *newEntry) setDest(tgt Target) bool {
	n.dest = tgt.Dest.ID
	n.method = tgt.Method
	a := tgt.Dest.Addr
	switch {
	case !n.k.v6 && a.Is4():
		b := a.As4()
		n.daddr = binary.BigEndian.Uint32(b[:])
	case n.k.v6 && a.Is6():
		n.daddr6 = a.As16()
		n.daddr = binary.BigEndian.Uint32(n.daddr6[12:])
	default:
		return false
	}
	return true
}

// templateKey builds the template identity of reference ipvs.md §3.5 for
// connection key k of service svc.
func templateKey(k *ikey, svc *Service) ikey {
	tk := ikey{proto: k.proto, v6: k.v6, va: k.va, va6: k.va6}
	if k.v6 {
		p := int(svc.Prefix6)
		if p == 0 || p > 128 {
			p = 128
		}
		for i := range 16 {
			switch {
			case p >= 8:
				tk.ca6[i] = k.ca6[i]
				p -= 8
			case p > 0:
				tk.ca6[i] = k.ca6[i] & byte(0xff<<(8-p))
				p = 0
			}
		}
		tk.ca = binary.BigEndian.Uint32(tk.ca6[12:])
	} else {
		tk.ca = k.ca & svc.Netmask
	}
	switch {
	case k.vp == svc.Port:
		if svc.Port != ftpPort {
			tk.vp = k.vp
		}
	case svc.Fwmark != 0:
		// Fwmark template: (IPPROTO_IP, snet, 0, fwmark as an address, 0).
		tk.proto = ProtoIP
		tk.va = svc.Fwmark
		tk.va6 = [16]byte{}
		binary.BigEndian.PutUint32(tk.va6[:4], svc.Fwmark)
		if k.v6 {
			tk.va = 0
		}
	}
	return tk
}

// persistTemplate finds or creates the client's template and takes a
// control reference on it (the caller releases it if the connection is not
// created). It returns the target and the template's global index+1.
func (t *Table) persistTemplate(now int64, k *ikey, svc *Service, pick func() (Target, bool), dest func(scheduler.DestID) (Target, bool)) (Target, uint32, Status) {
	tk := templateKey(k, svc)
	h := t.hash(&tk)
	si, s := t.shardOf(h)
	b := s.home(h)
	s.mu.Lock()
	defer s.mu.Unlock()
	if slot := t.findLocked(s, b, &tk, now, true); slot >= 0 {
		e := &s.ents[slot]
		tgt, ok := dest(scheduler.DestID(e.dest))
		if ok && !(t.expireQuiescent && tgt.Dest.Weight == 0) {
			return t.attachLocked(si, s, uint32(slot), now, tgt)
		}
		// check_template failed: take it off the hash so it never matches
		// again; it lives on (counted in persistconns) until it expires.
		t.unlinkTemplateLocked(s, uint32(slot), b)
	}
	tgt, ok := pick()
	if !ok {
		return Target{}, 0, StatusNoDest
	}
	n := newEntry{k: tk, template: true, state: StateNone}
	if !n.setDest(tgt) {
		return Target{}, 0, StatusBadKey
	}
	if k.vp == svc.Port && svc.Port != ftpPort {
		n.dport = tgt.Dest.Port
	}
	to := svc.PersistTimeout
	if to > maxTimeout {
		to = maxTimeout
	}
	n.timeout = toTicks(to)
	slot, ok := t.insertLocked(s, b, &n, now)
	if !ok {
		return Target{}, 0, StatusRefused
	}
	return t.attachLocked(si, s, slot, now, tgt)
}

// attachLocked takes a control reference on template slot and re-arms it
// (ip_vs_sched_persist: ip_vs_conn_put re-arms with the template's timeout).
func (t *Table) attachLocked(si int, s *shard, slot uint32, now int64, tgt Target) (Target, uint32, Status) {
	e := &s.ents[slot]
	atomic.AddUint32(&e.link, 1)
	e.expires = deadline(now, e.timeout)
	return tgt, uint32(si)<<t.strideBits | slot + 1, StatusCreated
}

// unlinkTemplateLocked takes template slot off the index of home slot b
// for good.
func (t *Table) unlinkTemplateLocked(s *shard, slot, b uint32) {
	prev := uint32(0)
	if !inWindow(b, slot) {
		for cur := s.heads[b]; cur != 0 && cur != slot+1; cur = s.ents[cur-1].next {
			prev = cur
		}
	}
	s.unindexLocked(slot, prev, b)
	e := &s.ents[slot]
	e.flags |= fUnlinked
	// As ip_vs_check_template does, so that listings show it as invalid.
	e.vport, e.dport = invalidPort, invalidPort
}

// invalidPort marks an invalidated template's ports (htons(0xffff) in
// ip_vs_check_template).
const invalidPort = 0xffff
