package conntrack

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/uvslb/uvs/scheduler"
)

// sweepChunk is how many slots Sweep examines per shard lock hold, so that
// a large budget does not stall the dataplane workers of one shard.
const sweepChunk = 256

// Sweep examines up to budget slots, continuing where the previous call
// stopped and visiting shards in turn (at most one full pass per call), and removes the entries whose timer
// has run out (templates that still control connections are re-armed in
// 60 s steps instead). It returns the number of entries removed. The
// director calls it periodically; replay calls it from capture time. Lookups
// never return expired entries whether or not Sweep has run.
func (t *Table) Sweep(now int64, budget int) int {
	t.sweepMu.Lock()
	defer t.sweepMu.Unlock()
	removed := 0
	for wraps := 0; budget > 0 && wraps <= len(t.shards); {
		s := &t.shards[t.sweepShard]
		s.mu.Lock()
		n := min(budget, sweepChunk)
		done := 0
		for ; done < n && s.sweepCur < s.hi; done++ {
			slot := s.sweepCur
			s.sweepCur++
			e := &s.ents[slot]
			if e.flags&fUsed != 0 && expiredLocked(e, now) {
				t.unlinkRemoveLocked(s, slot, remExpired)
				removed++
			}
		}
		atEnd := s.sweepCur >= s.hi
		if atEnd {
			s.sweepCur = 0
		}
		s.mu.Unlock()
		// An empty shard costs one unit, so that the loop always ends.
		budget -= max(done, 1)
		if atEnd {
			t.sweepShard = (t.sweepShard + 1) % len(t.shards)
			wraps++
		}
	}
	return removed
}

// Stats are the table's counters.
type Stats struct {
	Entries   int64            // live entries, templates included
	Templates int64            // live persistence templates
	ByState   [NumStates]int64 // live connections (not templates) by state
	Created   uint64           // entries created, templates included
	Expired   uint64           // entries removed by timeout, replacement or Expire
	Evicted   uint64           // entries evicted to make room
	Refused   uint64           // inserts refused: full and nothing evictable
	// EvictedByState counts evictions by the state the entry was in
	// (templates count as NONE).
	EvictedByState [NumStates]uint64
	Capacity       int64 // MaxConns
}

// Stats sums the counters of every shard. Entries whose timer ran out but
// that no lookup or Sweep has reached yet are still counted as live.
func (t *Table) Stats() Stats {
	var st Stats
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		st.Entries += int64(s.live)
		st.Templates += int64(s.templates)
		for j := range s.byState {
			st.ByState[j] += int64(s.byState[j])
			st.EvictedByState[j] += s.evictedBy[j]
		}
		st.Created += s.created
		st.Expired += s.expired
		st.Evicted += s.evicted
		st.Refused += s.refused
		s.mu.Unlock()
	}
	st.Capacity = t.maxConns
	return st
}

// MaxSetTimeout is the largest value SetTimeouts accepts (ipvsadm's limit,
// 31 days).
const MaxSetTimeout = 2678400 * time.Second

// ErrTimeout is returned by SetTimeouts for a negative or too large value.
var ErrTimeout = errors.New("conntrack: timeout out of range")

// SetTimeouts is `ipvsadm --set tcp tcpfin udp` (reference ipvs.md §4.5):
// tcp sets the ESTABLISHED timeout, tcpfin the FIN_WAIT timeout only, udp
// the UDP timeout; 0 leaves a value unchanged. Values are whole seconds for
// ipvsadm; others are rounded up to the table's 1/64 s timer granularity. New values apply from each
// connection's next packet; running timers keep their expiry.
func (t *Table) SetTimeouts(tcp, tcpfin, udp time.Duration) error {
	for _, d := range [...]time.Duration{tcp, tcpfin, udp} {
		if d < 0 || d > MaxSetTimeout {
			return ErrTimeout
		}
	}
	set := func(s State, d time.Duration) {
		if d != 0 {
			t.timeouts[s].Store(toTicks(d))
		}
	}
	set(StateEstablished, tcp)
	set(StateFinWait, tcpfin)
	set(StateUDP, udp)
	return nil
}

// Timeouts returns the three values `ipvsadm -L --timeout` prints.
func (t *Table) Timeouts() (tcp, tcpfin, udp time.Duration) {
	get := func(s State) time.Duration { return ticksDur(t.timeouts[s].Load()) }
	return get(StateEstablished), get(StateFinWait), get(StateUDP)
}

// Timeout returns the current timeout of state s.
func (t *Table) Timeout(s State) time.Duration {
	if s >= numStates {
		return 0
	}
	return ticksDur(t.timeouts[s].Load())
}

// FlushDest removes every connection bound to real server id, and every
// template of it that no longer controls connections (what the kernel's
// expire_nodest_conn work does after a destination is deleted). It scans the
// whole table and is meant for the control path. It returns the number of
// entries removed.
func (t *Table) FlushDest(now int64, id scheduler.DestID) int {
	removed := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		// Connections first, so that their templates are free to go after.
		for pass := range 2 {
			for slot := range s.hi {
				e := &s.ents[slot]
				if e.flags&fUsed == 0 || e.dest != uint32(id) || (e.flags&fTemplate != 0) != (pass == 1) {
					continue
				}
				if pass == 1 && !expiredOrIdleTemplate(e) {
					continue
				}
				t.unlinkRemoveLocked(s, slot, remExpired)
				removed++
			}
		}
		s.mu.Unlock()
	}
	// Templates in earlier shards may have lost their last connection to a
	// later shard; one more pass catches them.
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for slot := range s.hi {
			e := &s.ents[slot]
			if e.flags&(fUsed|fTemplate) == fUsed|fTemplate && e.dest == uint32(id) && expiredOrIdleTemplate(e) {
				t.unlinkRemoveLocked(s, slot, remExpired)
				removed++
			}
		}
		s.mu.Unlock()
	}
	return removed
}

func expiredOrIdleTemplate(e *entry) bool {
	return atomic.LoadUint32(&e.link)&^ctlAssured == 0
}

// SetSecureTCP switches the TCP state machine to the kernel's secure_tcp
// table (tcp_states_dos, reference ipvs.md §4.2) or back. In it a client's
// ACK does not move SYN_RECV to ESTABLISHED: a NAT entry goes SYN_RECV →
// SYNACK on the real server's SYN+ACK and ESTABLISHED (900 s) on the real
// server's next ACK, so a spoofed handshake cannot buy a long entry; DR/TUN
// entries start in SYNACK. Timeouts are unchanged. It applies from the next
// packet.
func (t *Table) SetSecureTCP(on bool) { t.secureTCP.Store(on) }
