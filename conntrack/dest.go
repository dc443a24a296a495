package conntrack

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/uvslb/uvs/scheduler"
)

// Per-real-server counters live in chunks of destChunk slots, allocated on
// first use and published through atomic pointers, so that Counters never
// moves a slot once handed out and readers take no lock.
const (
	destChunkBits = 10
	destChunk     = 1 << destChunkBits
	// MaxDestIDs is the number of DestIDs the table can count (IDs
	// 0..MaxDestIDs-1). Directors allocate small dense IDs.
	MaxDestIDs = 1 << 22
)

// destSlot is one real server's counters plus its thresholds (u_threshold,
// l_threshold; reference ipvs.md §1.4).
type destSlot struct {
	c     scheduler.Counters
	upper atomic.Int32
	lower atomic.Int32
}

type destChunkArr [destChunk]destSlot

// dests maps DestIDs to their slots.
type dests struct {
	chunks [MaxDestIDs / destChunk]atomic.Pointer[destChunkArr]
}

// slot returns the slot of id, allocating its chunk on first use. It panics
// if id >= MaxDestIDs: DestIDs are allocated by the director, and an ID that
// large is a programming error, not input.
func (d *dests) slot(id scheduler.DestID) *destSlot {
	if uint64(id) >= MaxDestIDs {
		panic(fmt.Sprintf("conntrack: DestID %d out of range (max %d)", id, MaxDestIDs-1))
	}
	p := &d.chunks[id>>destChunkBits]
	c := p.Load()
	if c == nil {
		c = new(destChunkArr)
		if !p.CompareAndSwap(nil, c) {
			c = p.Load()
		}
	}
	return &c[id&(destChunk-1)]
}

// Counters returns the live counters of real server id. The pointer is
// stable for the life of the table; it implements scheduler.Load.
func (t *Table) Counters(id scheduler.DestID) *scheduler.Counters {
	return &t.dests.slot(id).c
}

var _ scheduler.Load = (*Table)(nil)

// ErrThresholds is returned by SetThresholds when lower > upper (the kernel
// answers ERANGE).
var ErrThresholds = errors.New("conntrack: lower threshold above upper threshold")

// SetThresholds sets the connection thresholds of real server id (ipvsadm
// -x upper -y lower; 0 is no limit). As the kernel does on add/edit, the
// OVERLOAD flag is cleared when the new upper threshold is 0 or larger than
// the old one (reference ipvs.md §1.4).
func (t *Table) SetThresholds(id scheduler.DestID, upper, lower uint32) error {
	if upper != 0 && lower > upper {
		return ErrThresholds
	}
	s := t.dests.slot(id)
	old := uint32(s.upper.Load())
	if upper == 0 || upper > old {
		s.c.Overload.Store(false)
	}
	s.upper.Store(int32(upper))
	s.lower.Store(int32(lower))
	return nil
}

// bindConn counts a new connection (inactive, as every new connection
// starts) or template on its real server and applies the upper threshold
// (ip_vs_bind_dest).
func (d *dests) bind(id scheduler.DestID, template bool) {
	s := d.slot(id)
	if template {
		s.c.Persist.Add(1)
	} else {
		s.c.Inactive.Add(1)
	}
	if u := s.upper.Load(); u != 0 && s.c.Active.Load()+s.c.Inactive.Load() >= u {
		s.c.Overload.Store(true)
	}
}

// unbind uncounts a connection or template and clears OVERLOAD by the lower
// threshold rules (ip_vs_unbind_dest).
func (d *dests) unbind(id scheduler.DestID, template, inactive bool) {
	s := d.slot(id)
	switch {
	case template:
		s.c.Persist.Add(-1)
	case inactive:
		s.c.Inactive.Add(-1)
	default:
		s.c.Active.Add(-1)
	}
	n := s.c.Active.Load() + s.c.Inactive.Load()
	l, u := s.lower.Load(), s.upper.Load()
	switch {
	case l != 0:
		if n < l {
			s.c.Overload.Store(false)
		}
	case u != 0:
		if n*4 < u*3 {
			s.c.Overload.Store(false)
		}
	default:
		s.c.Overload.Store(false)
	}
}

// move transfers one connection between the active and inactive counts.
func (d *dests) move(id scheduler.DestID, toActive bool) {
	s := d.slot(id)
	if toActive {
		s.c.Inactive.Add(-1)
		s.c.Active.Add(1)
	} else {
		s.c.Active.Add(-1)
		s.c.Inactive.Add(1)
	}
}
