package dataplane

import (
	"fmt"
	"net/netip"

	"github.com/uvslb/uvs/scheduler"
)

// IP protocol numbers of the transports IPVS balances (IANA).
const (
	ProtoTCP  = 6
	ProtoUDP  = 17
	ProtoSCTP = 132
)

// Method is a forwarding method (IP_VS_CONN_F_MASQ, _DROUTE, _TUNNEL).
type Method uint8

// Forwarding methods.
const (
	_         Method = iota
	MethodNAT        // rewrite destination to the real server (and replies back)
	MethodDR         // rewrite the destination MAC only
	MethodTUN        // encapsulate (IPIP / IPv6-in-IPv6)
)

// String returns ipvsadm's name of the method (Masq, Route, Tunnel).
func (m Method) String() string {
	switch m {
	case MethodNAT:
		return "Masq"
	case MethodDR:
		return "Route"
	case MethodTUN:
		return "Tunnel"
	}
	return "invalid"
}

// Dest is a real server of a service as the dataplane sees it.
type Dest struct {
	ID     scheduler.DestID
	Addr   netip.Addr
	Port   uint16 // 0: use the packet's destination port (fwmark DR/TUN)
	Weight int32
	Method Method
	// Stats live as long as the real server (across snapshots).
	Stats *Stats
	// Available is false for a real server that was removed but still has
	// connections (IPVS's trash): its connections are handled by the
	// expire_nodest_conn rule.
	Available bool
}

// Service is a virtual service.
type Service struct {
	Proto  uint8      // ProtoTCP, ProtoUDP or ProtoSCTP
	VIP    netip.Addr // invalid for fwmark services
	Port   uint16
	FWMark uint32 // non-zero: a firewall-mark service
	// Family is 4 or 6 (fwmark services need it; others follow VIP).
	Family uint8
	// Sched is the service's scheduler; it lives across snapshots.
	Sched     scheduler.Scheduler
	SchedName string
	// Persistent services pin clients (masked by PersistBits) to a real
	// server for PersistTimeout ns after their last new connection.
	Persistent     bool
	PersistTimeout int64
	PersistBits    int // netmask prefix length (IPv4 ≤ 32, IPv6 ≤ 128)
	OPS            bool
	Dests          []*Dest // in configuration order
	Stats          *Stats
	// Name is "TCP 10.0.0.100:80", "UDP [2001:db8::1]:53" or "FWM 5".
	Name string

	// method is the forwarding method of every real server when they all
	// share one (0 when mixed); set by NewSnapshot.
	method Method
}

// String returns the service's name.
func (s *Service) String() string { return s.Name }

// ServiceName returns the name DESIGN.md's trace uses for a service.
func ServiceName(proto uint8, vip netip.Addr, port uint16, fwmark uint32) string {
	if fwmark != 0 {
		return fmt.Sprintf("FWM %d", fwmark)
	}
	return ProtoName(proto) + " " + netip.AddrPortFrom(vip, port).String()
}

// ProtoName returns TCP, UDP, SCTP or the number.
func ProtoName(p uint8) string {
	switch p {
	case ProtoTCP:
		return "TCP"
	case ProtoUDP:
		return "UDP"
	case ProtoSCTP:
		return "SCTP"
	}
	return fmt.Sprintf("proto-%d", p)
}

// MarkMatch is one match of the firewall-mark classifier: packets whose
// protocol (0: any), destination (in Prefix; invalid: any) and destination
// port (PortLo..PortHi; 0..0: any) match get Mark.
type MarkMatch struct {
	Mark           uint32
	Proto          uint8
	Prefix         netip.Prefix
	PortLo, PortHi uint16
}

func (m *MarkMatch) matches(proto uint8, dst netip.Addr, port uint16) bool {
	if m.Proto != 0 && m.Proto != proto {
		return false
	}
	if m.Prefix.IsValid() && !m.Prefix.Contains(dst) {
		return false
	}
	if (m.PortLo != 0 || m.PortHi != 0) && (port < m.PortLo || port > m.PortHi) {
		return false
	}
	return true
}

type svcKey struct {
	proto uint8
	addr  netip.Addr
	port  uint16
}

type smallSvc struct {
	proto uint8
	port  uint16
	addr  netip.Addr
	svc   *Service
}

// maxSmall is how many services are scanned linearly instead of hashed.
const maxSmall = 16

type markKey struct {
	mark   uint32
	family uint8
}

// Options are director-wide settings of a snapshot.
type Options struct {
	// MAC is the director's MAC on its interface (source of what it sends).
	MAC MAC
	// Addr4 and Addr6 are the director's own addresses: the outer source of
	// tunnel packets and the source of ICMP errors it originates. Invalid:
	// use the VIP of the service concerned.
	Addr4, Addr6 netip.Addr
	// MTU is the interface MTU (IP packet size); 0 means 1500.
	MTU int
	// ExpireNodestConn is the expire_nodest_conn sysctl (reference §3.3).
	ExpireNodestConn bool
	// ExpireQuiescentTemplate is the expire_quiescent_template sysctl.
	ExpireQuiescentTemplate bool
	// ICMPRate is how many ICMP errors per second the director originates
	// at most (token bucket, burst = rate); 0 means 1000.
	ICMPRate int
}

// Snapshot is the immutable compiled state the dataplane forwards with. The
// director builds a new one on every change and swaps it in atomically.
type Snapshot struct {
	Options
	services []*Service
	byKey    map[svcKey]*Service
	// small holds the keyed services when there are few: a linear scan
	// comparing protocol and port first beats hashing a netip.Addr key.
	small  []smallSvc
	byMark map[markKey]*Service
	marks  []MarkMatch
	vips   map[netip.Addr]bool
	dests  []*Dest // indexed by DestID
	// port0 records whether any port-0 service exists (lookup fallback of
	// reference §3.2).
	port0 bool
	// trash records whether any real server is unavailable (removed but
	// still referred to by connections).
	trash bool
}

// NewSnapshot compiles services, firewall-mark rules and active VIPs into a
// snapshot. VIPs of services are active unless vips is non-nil, in which
// case exactly the VIPs listed there are (the VRRP master state).
func NewSnapshot(opt Options, services []*Service, marks []MarkMatch, vips []netip.Addr) (*Snapshot, error) {
	s := &Snapshot{
		Options: opt,
		byKey:   map[svcKey]*Service{},
		byMark:  map[markKey]*Service{},
		marks:   marks,
		vips:    map[netip.Addr]bool{},
	}
	if s.MTU == 0 {
		s.MTU = 1500
	}
	if s.ICMPRate == 0 {
		s.ICMPRate = 1000
	}
	for _, svc := range services {
		if svc.Sched == nil || svc.Stats == nil {
			return nil, fmt.Errorf("service %s: no scheduler or stats", svc.Name)
		}
		if svc.FWMark != 0 {
			k := markKey{svc.FWMark, svc.Family}
			if s.byMark[k] != nil {
				return nil, fmt.Errorf("service %s defined twice", svc.Name)
			}
			s.byMark[k] = svc
		} else {
			k := svcKey{svc.Proto, svc.VIP.Unmap(), svc.Port}
			if s.byKey[k] != nil {
				return nil, fmt.Errorf("service %s defined twice", svc.Name)
			}
			s.byKey[k] = svc
			if svc.Port == 0 {
				s.port0 = true
			}
			if vips == nil {
				s.vips[k.addr] = true
			}
		}
		svc.method = 0
		for i, d := range svc.Dests {
			if i == 0 {
				svc.method = d.Method
			} else if d.Method != svc.method {
				svc.method = 0
			}
			if !d.Available {
				s.trash = true
			}
			if d.ID == 0 || d.Stats == nil {
				return nil, fmt.Errorf("service %s: real server %s has no ID or stats", svc.Name, d.Addr)
			}
			for int(d.ID) >= len(s.dests) {
				s.dests = append(s.dests, nil)
			}
			s.dests[d.ID] = d
		}
		s.services = append(s.services, svc)
	}
	for _, v := range vips {
		s.vips[v.Unmap()] = true
	}
	if len(s.byKey) <= maxSmall {
		for k, svc := range s.byKey {
			s.small = append(s.small, smallSvc{k.proto, k.port, k.addr, svc})
		}
	}
	for _, m := range marks {
		if m.Mark == 0 {
			return nil, fmt.Errorf("firewall mark 0 is not a mark")
		}
	}
	return s, nil
}

// Services returns the snapshot's services in configuration order.
func (s *Snapshot) Services() []*Service { return s.services }

// Dest returns the real server with the given ID, or nil.
func (s *Snapshot) Dest(id scheduler.DestID) *Dest {
	if int(id) < len(s.dests) {
		return s.dests[id]
	}
	return nil
}

// IsVIP reports whether addr is an active VIP here.
func (s *Snapshot) IsVIP(addr netip.Addr) bool { return s.vips[addr] }

// lookup finds the service for a packet (reference ipvs.md §3.2): the
// firewall-mark classifier first, then (protocol, VIP, port), then the
// port-0 service of the VIP.
func (s *Snapshot) lookup(proto uint8, dst netip.Addr, port uint16, family uint8) *Service {
	for i := range s.marks {
		m := &s.marks[i]
		if m.matches(proto, dst, port) {
			if svc := s.byMark[markKey{m.Mark, family}]; svc != nil {
				return svc
			}
		}
	}
	if s.small != nil || len(s.byKey) == 0 {
		var p0 *Service
		for i := range s.small {
			e := &s.small[i]
			if e.proto == proto && e.addr == dst {
				if e.port == port {
					return e.svc
				}
				if e.port == 0 {
					p0 = e.svc
				}
			}
		}
		return p0
	}
	if svc := s.byKey[svcKey{proto, dst, port}]; svc != nil {
		return svc
	}
	if s.port0 {
		return s.byKey[svcKey{proto, dst, 0}]
	}
	return nil
}
