package scheduler

import (
	"errors"
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"
)

// DestID identifies a real server (an IPVS destination) for as long as any
// connection refers to it. The director allocates IDs; conntrack keys its
// per-real-server counters by them. The zero value is invalid.
type DestID uint32

// Dest is a real server as a scheduler sees it.
type Dest struct {
	ID     DestID
	Addr   netip.Addr
	Port   uint16
	Weight int32 // 0 is quiescent: no new connections, existing ones stay
}

// Counters are one real server's live connection counts, as IPVS keeps them
// in struct ip_vs_dest (reference ipvs.md §1.3–§1.4). Conntrack writes them
// with atomics as connections bind, change state and unbind; schedulers only
// read them. The fields are padded apart from neighbouring Counters in an
// array to avoid false sharing between dataplane workers.
type Counters struct {
	Active   atomic.Int32 // activeconns
	Inactive atomic.Int32 // inactconns
	Persist  atomic.Int32 // persistconns (templates)
	Overload atomic.Bool  // IP_VS_DEST_F_OVERLOAD
	_        [64 - 16]byte
}

// Overhead is ip_vs_dest_conn_overhead: (activeconns << 8) + inactconns.
func (c *Counters) Overhead() int32 {
	return c.Active.Load()<<8 + c.Inactive.Load()
}

// Load is the live view of per-real-server counts that schedulers read.
// Conntrack provides the real one; tests use a fake. Counters must return a
// non-nil pointer that stays valid for the life of the Load.
type Load interface {
	Counters(DestID) *Counters
}

// Flags are the scheduler flags of a virtual service (IP_VS_SVC_F_SCHED1..3,
// include/uapi/linux/ip_vs.h). Only sh and mh read them. The zero value means
// no flag set.
type Flags uint8

const (
	// FlagFallback is IP_VS_SVC_F_SCHED1: sh-fallback / mh-fallback. When
	// the hashed real server is unavailable, probe further buckets.
	FlagFallback Flags = 1 << iota
	// FlagPort is IP_VS_SVC_F_SCHED2: sh-port / mh-port. Hash the source
	// port together with the source address.
	FlagPort
	// Flag3 is IP_VS_SVC_F_SCHED3; no kernel scheduler uses it.
	Flag3
)

// The kernel's service flag bits for the scheduler flags
// (include/uapi/linux/ip_vs.h).
const (
	svcFSched1 = 0x0008 // IP_VS_SVC_F_SCHED1
	svcFSched2 = 0x0010 // IP_VS_SVC_F_SCHED2
	svcFSched3 = 0x0020 // IP_VS_SVC_F_SCHED3
)

// SvcFlags extracts the scheduler flags from an IPVS service flags word
// (IP_VS_SVC_F_*, as ipvsadm and the netlink API carry it).
func SvcFlags(svc uint32) Flags {
	var f Flags
	if svc&svcFSched1 != 0 {
		f |= FlagFallback
	}
	if svc&svcFSched2 != 0 {
		f |= FlagPort
	}
	if svc&svcFSched3 != 0 {
		f |= Flag3
	}
	return f
}

// Family is a virtual service's address family. It matters only for mh
// with real servers of the other family (IPVS "mixed address family"
// tunnelling): the kernel folds a real server's address as the service's
// family, so in an IPv4 service an IPv6 real server hashes as its first
// 32 bits.
type Family uint8

const (
	_ Family = iota
	// FamilyIPv4 is an IPv4 service (AF_INET).
	FamilyIPv4
	// FamilyIPv6 is an IPv6 service (AF_INET6).
	FamilyIPv6
)

// Input is what a scheduler may look at for one new connection.
type Input struct {
	// Src is the address sh and mh hash: the packet's source address, or,
	// for an ICMP error whose embedded header is scheduled ("inverse"), the
	// embedded destination address.
	Src netip.Addr
	// Dst is the address dh, lblc and lblcr key on: the packet's
	// destination address.
	Dst netip.Addr
	// SrcPort is the host-order port sh and mh hash when FlagPort is set:
	// the TCP/UDP/SCTP source port (the embedded destination port for an
	// inverse ICMP header), 0 for other protocols.
	SrcPort uint16
	// Now is monotonic time in nanoseconds (the replay clock under uvs
	// replay). lblc and lblcr use it for entry lastuse/lastmod and to run
	// their 60 s garbage-collection ticks; the others ignore it. Workers
	// racing by a few nanoseconds are harmless; a clock that jumps back by
	// minutes would delay expiry as it would in the kernel.
	Now int64
}

// Scheduler picks a real server for a new connection.
//
// Pick is safe for concurrent use by any number of dataplane workers and
// does not allocate (lblc/lblcr may allocate when their cache grows). It
// returns ok=false when no real server is available; the dataplane then
// answers ICMP port unreachable (reference ipvs.md §3.6).
//
// Update replaces the real-server list. dests must be the complete list in
// kernel order (head first; see List). Each call is one kernel
// add_dest/del_dest/upd_dest event: to reproduce the kernel exactly, call it
// once after every single List.Add, List.Edit or List.Remove, not once for a
// batch (wrr's dest_changed rule and mh's last_weight depend on the sequence).
// Update is meant for one control-plane goroutine; concurrent Updates are
// safe (the last one wins). dests is not retained.
type Scheduler interface {
	Name() string
	Pick(in *Input) (d Dest, ok bool)
	Update(dests []Dest) error
}

// Options tune a scheduler. The zero value gives the kernel defaults.
type Options struct {
	// Rand returns a uniform random number in [0, n) and must be safe for
	// concurrent use (twos). Nil uses math/rand/v2's Uint32N.
	Rand func(n uint32) uint32
	// Expiration is lblc_expiration / lblcr_expiration (sysctl, default
	// 24 h, DEFAULT_EXPIRATION in ip_vs_lblc.c). Zero means the default.
	// The cache's garbage-collection timer ticks every 60 s from the
	// service's first Pick, on Input.Now.
	Expiration time.Duration
	// SHTabBits is CONFIG_IP_VS_SH_TAB_BITS (4..20, default 8 = 256
	// buckets). Zero means the default.
	SHTabBits int
	// MHTabIndex is CONFIG_IP_VS_MH_TAB_INDEX (8..17, default 12, which
	// selects the prime 4093). Zero means the default.
	MHTabIndex int
	// Family is the service's address family. Zero folds every real
	// server's address by its own family, which is the kernel's result
	// whenever real servers and service share a family.
	Family Family
}

// Errors returned by New, Update and List.
var (
	// ErrUnknown is returned by New for a scheduler name the kernel does
	// not have.
	ErrUnknown = errors.New("scheduler: unknown scheduler")
	// ErrInvalidDest is returned for a zero DestID, a duplicate DestID or
	// a negative weight (the kernel answers ERANGE).
	ErrInvalidDest = errors.New("scheduler: invalid real server")
	// ErrExists is returned by List.Add for a DestID already in the list.
	ErrExists = errors.New("scheduler: real server already exists")
	// ErrNotFound is returned by List.Edit and List.Remove for an unknown
	// DestID.
	ErrNotFound = errors.New("scheduler: real server not found")
	// ErrTooManyDests is returned by mh when the list has more real
	// servers than table slots (EINVAL in ip_vs_mh_reassign); the previous
	// table stays in use.
	ErrTooManyDests = errors.New("scheduler: more real servers than mh table slots")
	// ErrBadOption is returned by New for an option out of range.
	ErrBadOption = errors.New("scheduler: option out of range")
)

// Names returns the names New accepts, for configuration validation.
func Names() []string {
	return []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos"}
}

// New returns the scheduler called name for one virtual service with no real
// servers yet. flags matter for sh and mh only. load must not be nil.
func New(name string, flags Flags, load Load, opts Options) (Scheduler, error) {
	if load == nil {
		return nil, fmt.Errorf("scheduler %q: nil Load: %w", name, ErrBadOption)
	}
	switch name {
	case "rr":
		return newRR(load), nil
	case "wrr":
		return newWRR(load), nil
	case "lc", "wlc", "sed", "nq", "fo", "ovf":
		return newLeast(name, load), nil
	case "twos":
		return newTwos(load, opts.Rand), nil
	case "dh":
		return newDH(load), nil
	case "sh":
		bits := opts.SHTabBits
		if bits == 0 {
			bits = shTabBitsDefault
		}
		if bits < 4 || bits > 20 { // Kconfig IP_VS_SH_TAB_BITS range 4..20
			return nil, fmt.Errorf("sh table bits %d not in 4..20: %w", bits, ErrBadOption)
		}
		return newSH(load, flags, uint(bits)), nil
	case "mh":
		idx := opts.MHTabIndex
		if idx == 0 {
			idx = mhTabIndexDefault
		}
		if idx < 8 || idx > 17 { // Kconfig IP_VS_MH_TAB_INDEX range 8..17
			return nil, fmt.Errorf("mh table index %d not in 8..17: %w", idx, ErrBadOption)
		}
		return newMH(load, flags, idx, opts.Family), nil
	case "lblc", "lblcr":
		exp := opts.Expiration
		if exp == 0 {
			exp = defaultExpiration
		}
		if exp < 0 {
			return nil, fmt.Errorf("%s expiration %v is negative: %w", name, exp, ErrBadOption)
		}
		return newLBLC(name == "lblcr", load, int64(exp)), nil
	}
	return nil, fmt.Errorf("%q: %w", name, ErrUnknown)
}
