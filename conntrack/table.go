package conntrack

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/uvslb/uvs/scheduler"
)

// IP protocol numbers (IANA "Assigned Internet Protocol Numbers").
const (
	ProtoIP  = 0  // IPPROTO_IP: fwmark persistence templates
	ProtoTCP = 6  // IPPROTO_TCP
	ProtoUDP = 17 // IPPROTO_UDP
)

// Key is a connection's identity as the client's packets show it: protocol,
// client address:port and virtual address:port. Both addresses must be of
// the same family (IPv4, or IPv6 including IPv4-mapped IPv6).
type Key struct {
	Proto uint8
	CAddr netip.Addr
	CPort uint16
	VAddr netip.Addr
	VPort uint16
}

// Ref names one entry for as long as it lives. A Ref to an entry that has
// since expired, been evicted or replaced is stale: every method taking a
// Ref reports it as absent, even when the slot has been reused. The zero Ref
// names nothing.
type Ref struct {
	idx uint32 // shard<<strideBits | slot
	gen uint32 // generation of the slot; 0 is never live
}

// IsZero reports whether r names nothing.
func (r Ref) IsZero() bool { return r.gen == 0 }

// Conn is a copy of one entry, as returned by lookups.
type Conn struct {
	Ref      Ref
	Proto    uint8
	Client   netip.AddrPort // caddr:cport (templates: masked client, port 0)
	Virtual  netip.AddrPort // vaddr:vport (fwmark templates: the mark as an address)
	Real     netip.AddrPort // daddr:dport
	Dest     scheduler.DestID
	Method   Method
	State    State // StateAssured for assured templates
	Template bool
	NoOutput bool  // the director has not seen a reply (DR/TUN)
	Control  Ref   // controlling template, zero if none
	Expires  int64 // nanoseconds on the caller's clock, rounded up to 1/64 s
	Timeout  time.Duration
}

// ReuseExpected reports whether a packet with these TCP flags reusing c's
// tuple must be scheduled afresh rather than continue c (conn_reuse_mode 1,
// reference ipvs.md §3.3): a SYN without RST on a TCP connection in
// TIME_WAIT or CLOSE that no template controls. The caller then schedules
// the packet as new; Schedule replaces c.
func (c *Conn) ReuseExpected(tcpFlags uint8) bool {
	return c.Proto == ProtoTCP && !c.Template && c.Control.IsZero() &&
		tcpFlags&(TCPFlagSYN|TCPFlagRST) == TCPFlagSYN &&
		(c.State == StateTimeWait || c.State == StateClose)
}

// Config sizes and tunes a Table.
type Config struct {
	// MaxConns bounds the number of entries (connections and templates).
	// Required, 1..MaxMaxConns.
	MaxConns int
	// Shards is the number of shards, rounded down to a power of two; 0
	// picks one per 8192 entries, at most 256. MaxConns is enforced
	// table-wide; each shard's slab has 1/5 headroom over an even split,
	// and an insert that needs room evicts within its own shard.
	Shards int
	// Locks is the number of locks the shards share (shard i uses lock
	// i mod Locks), rounded down to a power of two and at most Shards; 0
	// picks 4 per CPU (GOMAXPROCS), at least 8. Fewer locks let a batched
	// lookup cover more keys per lock; more let more workers run at once.
	Locks int
	// Seed keys the hash. 0 draws a random seed; replay sets a fixed one so
	// that eviction order (which follows slot order) is reproducible.
	Seed uint64
	// ExpireQuiescentTemplate is the expire_quiescent_template sysctl:
	// templates whose real server has weight 0 stop pinning clients.
	ExpireQuiescentTemplate bool
	// IdleEvict is how long an ESTABLISHED or UDP entry must have been
	// without packets before it may be evicted to make room; 0 means 60 s
	// (drop_entry's "no packet in the last 60 s", reference ipvs.md §4.7).
	IdleEvict time.Duration
}

// MaxMaxConns is the largest supported Config.MaxConns.
const MaxMaxConns = 1 << 30

// Entry flags.
const (
	fUsed     = 1 << iota // slot holds a live entry
	fV6                   // IPv6: full addresses in the shard's side store
	fTemplate             // persistence template (IP_VS_CONN_F_TEMPLATE)
	fNoOutput             // no reply seen yet on a non-NAT conn (IP_VS_CONN_F_NOOUTPUT)
	fInactive             // counted in inactconns (IP_VS_CONN_F_INACTIVE)
	fUnlinked             // invalidated template: off the index, waiting for expiry
)

// Template control word: the number of controlled connections in the low
// bits, assured in the top bit. Accessed only with atomics, because
// connections in other shards update it without the template's shard lock.
const ctlAssured = 1 << 31

// entry is one connection or template. It holds no pointers, so the garbage
// collector never scans the slabs. IPv4 addresses are stored inline as
// big-endian uint32s; IPv6 entries keep the low 32 bits of each address
// inline (a cheap filter) and the full addresses in the shard's side store.
type entry struct {
	// The fields a lookup reads come first, so that they share a line.
	caddr   uint32 // client address (IPv4, or IPv6 low 32 bits)
	vaddr   uint32 // virtual address
	cport   uint16
	vport   uint16
	proto   uint8
	method  uint8 // Method
	flags   uint16
	next    uint32 // far chain (see index.go): slot+1 in the shard, 0 ends
	gen     uint32 // generation, for Refs
	expires uint32 // ticks, wrapping; idle timer, re-armed on every packet
	timeout uint32 // ticks
	daddr   uint32 // real server address
	dest    uint32 // scheduler.DestID
	// link is, for a connection, the global index+1 of its controlling
	// template (0: none); for a template, its control word (ctlAssured |
	// number of controlled connections), accessed only with atomics.
	link  uint32
	dport uint16
	state uint8 // State
	_     uint8
}

// Entries keep time in ticks of 1/64 s in wrapping uint32s, so that an
// IPv4 entry fits in 48 bytes. Expiry is rounded up to the next tick (at most
// 15.6 ms late, never early); relative comparisons stay correct while every
// timer is within 2^31 ticks (388 days) of now, which maxTimeout and the
// sweep guarantee.
const tickNs = int64(time.Second) / 64

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// nowTicks is the tick containing now.
func nowTicks(now int64) uint32 { return uint32(floorDiv(now, tickNs)) }

// toTicks converts a timeout, rounding up.
func toTicks(d time.Duration) uint32 { return uint32(-floorDiv(-int64(d), tickNs)) }

// deadline is the first tick boundary at or after now + timeout ticks.
func deadline(now int64, timeout uint32) uint32 {
	return uint32(-floorDiv(-now, tickNs)) + timeout
}

// ticksDur converts ticks to a duration.
func ticksDur(t uint32) time.Duration { return time.Duration(int64(t) * tickNs) }

// expiresNs is e's expiry in nanoseconds on the caller's clock.
func expiresNs(e *entry, now int64) int64 {
	nt := floorDiv(now, tickNs)
	return (nt + int64(int32(e.expires-uint32(nt)))) * tickNs
}

// v6addrs is an IPv6 entry's full client, virtual and real addresses.
type v6addrs [3][16]byte

// shard is an independently locked part of the table: its own slab of
// entries (which is also its hash index, see entry.head) and counters.
type shard struct {
	// mu is the lock this shard shares with the others of its stripe
	// (Config.Locks): shards keep their slabs, eviction scans and sweeps
	// small, while a batch of keys spread over many shards takes few locks.
	mu *sync.Mutex
	// ents is allocated in New and never reassigned, so its header may be
	// read without mu (to reach a template's control word atomically).
	ents []entry
	// heads holds each home slot's far chain head (slot+1, 0: empty; see
	// index.go). Allocated in New and never reassigned.
	heads []uint32
	// tags is the slab's tag array (see index.go): len(ents) bytes, then
	// tagPadWords zero words. Allocated in New and never reassigned.
	tags []uint64

	// Guarded by mu.
	v6            []v6addrs // side store parallel to ents; nil until the first IPv6 entry
	hi            uint32    // no slot at or above hi has ever been used
	allocCur      uint32    // where the search for a free slot far from home resumes
	live          int32
	templates     int32
	byState       [numStates]int32 // connections (not templates) by state
	evictCur      uint32
	sweepCur      uint32
	noVictimUntil int64
	created       uint64
	expired       uint64
	evicted       uint64
	refused       uint64
	evictedBy     [numStates]uint64

	_ [64]byte // keep neighbouring shards' hot fields off one cache line
}

// lockStripe is one of the locks the shards share, on its own cache line.
type lockStripe struct {
	mu sync.Mutex
	_  [64 - unsafe.Sizeof(sync.Mutex{})]byte
}

// Table is the connection table. All methods are safe for concurrent use;
// lookups and updates lock only the shard of the key they touch (whose lock
// a few other shards share, see Config.Locks). Every
// method that can observe time takes now, in nanoseconds on the caller's
// clock (monotonic time for a live director, capture timestamps in replay);
// it must not go backwards by more than the shortest timeout.
//
// Lock order: sweepMu, then one shard lock (no method holds two, which
// matters all the more because shards share locks). Templates and
// the connections they control may live in different shards; the
// cross-shard link is the template's atomic control word.
type Table struct {
	shards          []shard
	locks           []lockStripe
	shardShift      uint // 64 - log2(len(shards)); shard = hash >> shardShift
	strideBits      uint // Ref index = shard<<strideBits | slot
	seed            uint64
	idleEvict       int64
	expireQuiescent bool

	timeouts [numStates]atomic.Uint32 // ticks

	secureTCP atomic.Bool // secure_tcp defence: use tcp_states_dos

	maxConns int64
	live     atomic.Int64 // entries plus reservations, bounded by maxConns

	sweepMu    sync.Mutex
	sweepShard int // guarded by sweepMu

	dests dests
}

// New returns an empty table. Memory for the entry slabs is reserved up
// front but only touched as entries are created.
func New(cfg Config) (*Table, error) {
	if cfg.MaxConns < 1 || cfg.MaxConns > MaxMaxConns {
		return nil, fmt.Errorf("conntrack: MaxConns %d out of range 1..%d", cfg.MaxConns, MaxMaxConns)
	}
	if cfg.Shards < 0 || cfg.Locks < 0 || cfg.IdleEvict < 0 {
		return nil, errors.New("conntrack: negative Shards, Locks or IdleEvict")
	}
	n := cfg.Shards
	if n == 0 {
		n = cfg.MaxConns / 8192
		n = min(max(n, 1), 256)
	}
	n = 1 << (bits.Len(uint(n)) - 1)
	if n > cfg.MaxConns {
		n = 1 << (bits.Len(uint(cfg.MaxConns)) - 1)
	}
	t := &Table{
		shards:          make([]shard, n),
		seed:            cfg.Seed,
		idleEvict:       int64(cfg.IdleEvict),
		expireQuiescent: cfg.ExpireQuiescentTemplate,
	}
	if t.idleEvict == 0 {
		t.idleEvict = int64(60 * time.Second)
	}
	if t.seed == 0 {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("conntrack: seed: %w", err)
		}
		t.seed = binary.LittleEndian.Uint64(b[:]) | 1
	}
	t.shardShift = 64 - uint(bits.Len(uint(n))-1)
	t.maxConns = int64(cfg.MaxConns)
	// Each shard's slab has 1/5 headroom over an even split: entries sit
	// in their home slot's window when it has room (see index.go), so a
	// full table leaves the slab at most about 83% occupied, which keeps
	// far chains rare; the headroom also absorbs uneven
	// hashing across shards (a shard that does fill its slab evicts within
	// itself, which is still bounded and counted). (48 B + a 4-byte far head + a tag byte) × 1.2
	// keeps a full IPv4 table under 64 B per entry.
	per := (cfg.MaxConns + n - 1) / n
	per += per/5 + 16
	t.strideBits = uint(bits.Len(uint(per - 1)))
	// One allocation for all slabs, so that large tables can be backed by
	// huge pages (random lookups over tens of MB are otherwise dominated by
	// TLB misses).
	ents := make([]entry, n*per)
	adviseHugePages(unsafe.Pointer(unsafe.SliceData(ents)), uintptr(len(ents))*unsafe.Sizeof(entry{}))
	nl := cfg.Locks
	if nl == 0 {
		nl = max(8, 4*runtime.GOMAXPROCS(0))
	}
	nl = min(1<<(bits.Len(uint(nl))-1), n)
	t.locks = make([]lockStripe, nl)
	heads := make([]uint32, n*per)
	adviseHugePages(unsafe.Pointer(unsafe.SliceData(heads)), uintptr(len(heads))*4)
	wps := (per+7)/8 + tagPadWords
	tags := make([]uint64, n*wps)
	for i := range t.shards {
		t.shards[i].ents = ents[i*per : (i+1)*per : (i+1)*per]
		t.shards[i].heads = heads[i*per : (i+1)*per : (i+1)*per]
		t.shards[i].tags = tags[i*wps : (i+1)*wps : (i+1)*wps]
		t.shards[i].mu = &t.locks[i&(nl-1)].mu
	}
	for s := StateNone; s < numStates; s++ {
		t.timeouts[s].Store(toTicks(DefaultTimeout(s)))
	}
	return t, nil
}

// mix is the splitmix64 finaliser.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// ikey is a Key in the table's internal form.
type ikey struct {
	proto  uint8
	v6     bool
	tag    uint8 // tagOf the key's hash, set by Table.hash
	cp, vp uint16
	ca, va uint32 // IPv4 address, or IPv6 low 32 bits
	ca6    [16]byte
	va6    [16]byte
}

// setAddrs fills the address fields from c and v; ok is false when they are
// invalid or of different families.
func (k *ikey) setAddrs(c, v netip.Addr) bool {
	switch {
	case c.Is4() && v.Is4():
		a, b := c.As4(), v.As4()
		k.ca, k.va = binary.BigEndian.Uint32(a[:]), binary.BigEndian.Uint32(b[:])
		k.v6 = false
		return true
	case c.Is6() && v.Is6():
		k.ca6, k.va6 = c.As16(), v.As16()
		k.ca, k.va = binary.BigEndian.Uint32(k.ca6[12:]), binary.BigEndian.Uint32(k.va6[12:])
		k.v6 = true
		return true
	}
	return false
}

// hash hashes what every lookup knows first: protocol and client
// address:port (as the kernel's ip_vs_conn_hashkey does), so that "in",
// "out" and template lookups share one window per entry.
//
// It also sets k.tag, the key's digest in the index (see index.go).
func (t *Table) hash(k *ikey) uint64 {
	var h uint64
	if !k.v6 {
		h = mix((uint64(k.ca)<<32 | uint64(k.cp)<<8 | uint64(k.proto)) ^ t.seed)
	} else {
		h = mix(binary.BigEndian.Uint64(k.ca6[:8]) ^ t.seed)
		h = mix(h ^ binary.BigEndian.Uint64(k.ca6[8:]))
		h = mix(h ^ (uint64(k.cp)<<8 | uint64(k.proto)))
	}
	k.tag = tagOf(h)
	return h
}

func (t *Table) shardOf(h uint64) (int, *shard) {
	i := int(h >> t.shardShift)
	if t.shardShift == 64 {
		i = 0
	}
	return i, &t.shards[i]
}

// home is the home slot of keys hashing to h (see index.go): the
// low 32 bits of h scaled to the slab (the shard takes the top bits).
func (s *shard) home(h uint64) uint32 {
	return uint32(uint64(uint32(h)) * uint64(len(s.ents)) >> 32)
}

func (t *Table) timeoutOf(s State) uint32 { return t.timeouts[s].Load() }

// expired reports whether e's timer has fired by now. A template that still
// controls connections never expires; instead it is re-armed in 60 s steps
// from its original expiry, as the kernel's timer would have done.
func expiredLocked(e *entry, now int64) bool {
	late := int32(nowTicks(now) - e.expires)
	if late < 0 {
		return false
	}
	if e.flags&fTemplate != 0 && atomic.LoadUint32(&e.link)&^ctlAssured != 0 {
		step := toTicks(templateStepTimeout)
		e.timeout = step
		e.expires += (uint32(late)/step + 1) * step
		return false
	}
	return true
}

// entryKey rebuilds the internal key of a live entry.
func (s *shard) entryKeyLocked(slot uint32) ikey {
	e := &s.ents[slot]
	k := ikey{proto: e.proto, cp: e.cport, vp: e.vport, ca: e.caddr, va: e.vaddr}
	if e.flags&fV6 != 0 {
		k.v6 = true
		k.ca6, k.va6 = s.v6[slot][0], s.v6[slot][1]
	}
	return k
}

// match reports whether live entry slot has key k on the "in" side.
func (s *shard) matchInLocked(slot uint32, k *ikey, template bool) bool {
	e := &s.ents[slot]
	if e.caddr != k.ca || e.cport != k.cp || e.vaddr != k.va || e.vport != k.vp || e.proto != k.proto {
		return false
	}
	want := uint16(0)
	if k.v6 {
		want |= fV6
	}
	if template {
		want |= fTemplate
	}
	if e.flags&(fV6|fTemplate) != want {
		return false
	}
	return !k.v6 || (s.v6[slot][0] == k.ca6 && s.v6[slot][1] == k.va6)
}

// findLocked finds k's live, unexpired entry (home slot b; k.tag set),
// expiring the expired entries with k's key it meets on the way. It
// returns the slot or -1.
func (t *Table) findLocked(s *shard, b uint32, k *ikey, now int64, template bool) int {
	ws := windowStart(b)
	for wi, x := range s.window(b) {
		for m := matchWord(x, k.tag); m != 0; m &= m - 1 {
			slot := matchSlot(ws, wi, m)
			if !s.matchInLocked(slot, k, template) {
				continue
			}
			if expiredLocked(&s.ents[slot], now) {
				t.removeLocked(s, slot, 0, b, remExpired)
				continue
			}
			return int(slot)
		}
	}
	if !s.far(b) {
		return -1
	}
	prev := uint32(0)
	for cur := s.heads[b]; cur != 0; {
		slot := cur - 1
		e := &s.ents[slot]
		next := e.next
		if s.matchInLocked(slot, k, template) {
			if expiredLocked(e, now) {
				t.removeLocked(s, slot, prev, b, remExpired)
				cur = next
				continue
			}
			return int(slot)
		}
		prev = cur
		cur = next
	}
	return -1
}

// findInLocked is findLocked for a client-side lookup (no templates), with
// IPv4 keys compared inline: the entry with the key (there is at most one)
// decides. Live, it is the answer; expired, findLocked looks again to
// remove it, so the effects are findLocked's exactly. IPv6 keys, whose
// full addresses are in the side store, take findLocked.
func (t *Table) findInLocked(s *shard, b uint32, k *ikey, now int64) int {
	if k.v6 {
		return t.findLocked(s, b, k, now, false)
	}
	ents := s.ents
	ws := windowStart(b)
	for wi, x := range s.window(b) {
		for m := matchWord(x, k.tag); m != 0; m &= m - 1 {
			slot := matchSlot(ws, wi, m)
			e := &ents[slot]
			if e.caddr == k.ca && e.vaddr == k.va && e.cport == k.cp && e.vport == k.vp &&
				e.proto == k.proto && e.flags&(fV6|fTemplate) == 0 {
				if int32(nowTicks(now)-e.expires) < 0 {
					return int(slot)
				}
				return t.findLocked(s, b, k, now, false)
			}
		}
	}
	if !s.far(b) {
		return -1
	}
	for h := s.heads[b]; h != 0; {
		e := &ents[h-1]
		if e.caddr == k.ca && e.vaddr == k.va && e.cport == k.cp && e.vport == k.vp &&
			e.proto == k.proto && e.flags&(fV6|fTemplate) == 0 {
			if int32(nowTicks(now)-e.expires) < 0 {
				return int(h - 1)
			}
			return t.findLocked(s, b, k, now, false)
		}
		h = e.next
	}
	return -1
}

// findCandLocked is findInLocked given cand, the slots of b's window where
// prepChunk saw k's tag (candidateHint's mask): when one of
// them holds k's live entry, that is the answer (a key has one indexed
// entry at most), found without reading the window again.
func (t *Table) findCandLocked(s *shard, b uint32, k *ikey, now int64, cand uint32) int {
	if !k.v6 {
		for ; cand != 0; cand &= cand - 1 {
			slot := rotSlot(b, bits.TrailingZeros32(cand))
			e := &s.ents[slot]
			if s.tagByte(slot)&tagMask == k.tag && e.caddr == k.ca && e.vaddr == k.va && e.cport == k.cp &&
				e.vport == k.vp && e.proto == k.proto && e.flags&(fV6|fTemplate) == 0 {
				if int32(nowTicks(now)-e.expires) < 0 {
					return int(slot)
				}
				break
			}
		}
	}
	return t.findInLocked(s, b, k, now)
}

// Lookup finds the connection of a packet from the client (the "in"
// lookup). An entry whose timer has run out is expired on the spot and not
// returned. It does not change the entry: call Update for the packet.
func (t *Table) Lookup(now int64, k Key) (c Conn, ok bool) {
	var ik ikey
	if !ik.setAddrs(k.CAddr, k.VAddr) {
		return Conn{}, false
	}
	ik.proto, ik.cp, ik.vp = k.Proto, k.CPort, k.VPort
	h := t.hash(&ik)
	si, s := t.shardOf(h)
	b := s.home(h)
	s.prefetchHome(b)
	s.mu.Lock()
	slot := t.findInLocked(s, b, &ik, now)
	if slot < 0 {
		s.mu.Unlock()
		return Conn{}, false
	}
	t.fillConnLocked(&c, si, s, uint32(slot), now)
	s.mu.Unlock()
	return c, true
}

// LookupOut finds the connection of a packet from a real server (the "out"
// lookup, reference ipvs.md §1.6): the packet's destination is the client;
// its source is the real server for NAT connections, the virtual address
// for the others.
func (t *Table) LookupOut(now int64, proto uint8, src netip.Addr, sport uint16, dst netip.Addr, dport uint16) (c Conn, ok bool) {
	var ik ikey
	if !ik.setAddrs(dst, src) {
		return Conn{}, false
	}
	ik.proto, ik.cp, ik.vp = proto, dport, sport
	h := t.hash(&ik)
	si, s := t.shardOf(h)
	b := s.home(h)
	s.prefetchHome(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	match := func(slot uint32) bool {
		e := &s.ents[slot]
		return e.flags&fTemplate == 0 && e.caddr == ik.ca && e.cport == ik.cp && e.proto == proto &&
			(e.flags&fV6 != 0) == ik.v6 && s.matchOutLocked(slot, &ik)
	}
	ws := windowStart(b)
	for wi, x := range s.window(b) {
		for m := matchWord(x, ik.tag); m != 0; m &= m - 1 {
			slot := matchSlot(ws, wi, m)
			if !match(slot) {
				continue
			}
			if expiredLocked(&s.ents[slot], now) {
				t.removeLocked(s, slot, 0, b, remExpired)
				continue
			}
			t.fillConnLocked(&c, si, s, slot, now)
			return c, true
		}
	}
	if !s.far(b) {
		return Conn{}, false
	}
	prev := uint32(0)
	for cur := s.heads[b]; cur != 0; {
		slot := cur - 1
		next := s.ents[slot].next
		if match(slot) {
			if expiredLocked(&s.ents[slot], now) {
				t.removeLocked(s, slot, prev, b, remExpired)
				cur = next
				continue
			}
			t.fillConnLocked(&c, si, s, slot, now)
			return c, true
		}
		prev = cur
		cur = next
	}
	return Conn{}, false
}

// matchOutLocked checks the source side of an "out" lookup; k.va/k.va6/k.vp
// hold the packet's source.
func (s *shard) matchOutLocked(slot uint32, k *ikey) bool {
	e := &s.ents[slot]
	if Method(e.method) == MethodMasq {
		if e.daddr != k.va || e.dport != k.vp {
			return false
		}
		return !k.v6 || (s.v6[slot][0] == k.ca6 && s.v6[slot][2] == k.va6)
	}
	if e.vaddr != k.va || e.vport != k.vp {
		return false
	}
	return !k.v6 || (s.v6[slot][0] == k.ca6 && s.v6[slot][1] == k.va6)
}

func addr4(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// connLocked copies live entry slot out.
func (t *Table) connLocked(si int, s *shard, slot uint32, now int64) Conn {
	var c Conn
	t.fillConnLocked(&c, si, s, slot, now)
	return c
}

// fillConnLocked is connLocked writing into *c: the lookup paths fill their
// result in place rather than copy a Conn (about 150 bytes) once more.
func (t *Table) fillConnLocked(c *Conn, si int, s *shard, slot uint32, now int64) {
	e := &s.ents[slot]
	var ca, va, da netip.Addr
	if e.flags&fV6 != 0 {
		a := &s.v6[slot]
		ca, va, da = netip.AddrFrom16(a[0]), netip.AddrFrom16(a[1]), netip.AddrFrom16(a[2])
	} else {
		ca, va, da = addr4(e.caddr), addr4(e.vaddr), addr4(e.daddr)
	}
	tmpl := e.flags&fTemplate != 0
	st := State(e.state)
	var ctl Ref
	if tmpl {
		if atomic.LoadUint32(&e.link)&ctlAssured != 0 {
			st = StateAssured
		}
	} else if e.link != 0 {
		ti := e.link - 1
		ts := &t.shards[ti>>t.strideBits]
		ctl = Ref{idx: ti, gen: atomic.LoadUint32(&ts.ents[ti&(1<<t.strideBits-1)].gen)}
	}
	c.Ref = Ref{idx: uint32(si)<<t.strideBits | slot, gen: e.gen}
	c.Proto = e.proto
	c.Client = netip.AddrPortFrom(ca, e.cport)
	c.Virtual = netip.AddrPortFrom(va, e.vport)
	c.Real = netip.AddrPortFrom(da, e.dport)
	c.Dest = scheduler.DestID(e.dest)
	c.Method = Method(e.method)
	c.State = st
	c.Template = tmpl
	c.NoOutput = e.flags&fNoOutput != 0
	c.Control = ctl
	c.Expires = expiresNs(e, now)
	c.Timeout = ticksDur(e.timeout)
}

// refLocked resolves r to its shard and slot; ok is false when r is stale.
// The caller must hold the returned shard's lock before trusting the entry,
// so it locks here and returns locked on success.
func (t *Table) lockRef(r Ref) (int, *shard, uint32, bool) {
	if r.gen == 0 {
		return 0, nil, 0, false
	}
	si := int(r.idx >> t.strideBits)
	if si >= len(t.shards) {
		return 0, nil, 0, false
	}
	s := &t.shards[si]
	slot := r.idx & (1<<t.strideBits - 1)
	if int(slot) >= len(s.ents) {
		return 0, nil, 0, false
	}
	s.mu.Lock()
	e := &s.ents[slot]
	if e.flags&fUsed == 0 || e.gen != r.gen {
		s.mu.Unlock()
		return 0, nil, 0, false
	}
	return si, s, slot, true
}

// Get returns the entry r names, if it is still live (expiring it on the
// spot if its timer has run out).
func (t *Table) Get(now int64, r Ref) (Conn, bool) {
	si, s, slot, ok := t.lockRef(r)
	if !ok {
		return Conn{}, false
	}
	defer s.mu.Unlock()
	if expiredLocked(&s.ents[slot], now) {
		t.unlinkRemoveLocked(s, slot, remExpired)
		return Conn{}, false
	}
	return t.connLocked(si, s, slot, now), true
}

// Update runs the state machine for one packet of connection r in direction
// dir (reference ipvs.md §4.2, §4.3): it picks the input, output or
// input-only table (clearing NOOUTPUT when a reply is seen), moves the real
// server's active/inactive counts when activity changes, marks the
// controlling template ASSURED when a TCP connection reaches ESTABLISHED or
// a UDP connection sees a reply, and re-arms the idle timer with the new
// state's current timeout. tcpFlags is the TCP header's flags byte (ignored
// for other protocols). It returns the new state, or false if r is stale or
// had expired (then it is expired now, and the packet has no connection).
func (t *Table) Update(now int64, r Ref, dir Dir, tcpFlags uint8) (State, bool) {
	_, s, slot, ok := t.lockRef(r)
	if !ok {
		return 0, false
	}
	e := &s.ents[slot]
	if expiredLocked(e, now) {
		t.unlinkRemoveLocked(s, slot, remExpired)
		s.mu.Unlock()
		return 0, false
	}
	next := t.updateLocked(s, e, now, dir, tcpFlags)
	s.mu.Unlock()
	return next, true
}

// LookupUpdate is Lookup followed, on a hit, by Update(now, c.Ref, dir,
// tcpFlags), with one hash and one shard lock: the same expiry, state
// transition, counter moves, template assurance and timer re-arming. The
// Conn returned is the entry after the update (as Get would return it):
// State, NoOutput, Expires and Timeout are the new ones. It suits a packet
// path that needs no decision between the lookup and the state change;
// one that may expire or reschedule the connection first (a real server
// gone, port reuse) must use Lookup and Update.
func (t *Table) LookupUpdate(now int64, k Key, dir Dir, tcpFlags uint8) (c Conn, ok bool) {
	var ik ikey
	if !ik.setAddrs(k.CAddr, k.VAddr) {
		return Conn{}, false
	}
	ik.proto, ik.cp, ik.vp = k.Proto, k.CPort, k.VPort
	h := t.hash(&ik)
	si, s := t.shardOf(h)
	b := s.home(h)
	s.prefetchHome(b)
	s.mu.Lock()
	slot := t.findInLocked(s, b, &ik, now)
	if slot < 0 {
		s.mu.Unlock()
		return Conn{}, false
	}
	t.updateLocked(s, &s.ents[slot], now, dir, tcpFlags)
	t.fillConnLocked(&c, si, s, uint32(slot), now)
	s.mu.Unlock()
	return c, true
}

// updateLocked is Update's state change on live, unexpired entry e.
func (t *Table) updateLocked(s *shard, e *entry, now int64, dir Dir, tcpFlags uint8) State {
	if e.flags&fTemplate != 0 {
		// Templates see no packets of their own: nothing changes.
		return State(e.state)
	}
	cur := State(e.state)
	next := cur
	assure := false
	if e.proto == ProtoTCP {
		td := tdInput
		if dir == DirOutput {
			td = tdOutput
			e.flags &^= fNoOutput
		} else if e.flags&fNoOutput != 0 {
			td = tdInputOnly
		}
		next = nextTCP(td, TCPEvent(tcpFlags), cur, t.secureTCP.Load())
		assure = next == StateEstablished
	} else {
		next = StateUDP
		if dir == DirOutput {
			e.flags &^= fNoOutput
			assure = true
		}
	}
	t.setStateLocked(s, e, next)
	e.timeout = t.timeoutOf(next)
	e.expires = deadline(now, e.timeout)
	if assure && e.link != 0 {
		t.templateEntry(e.link - 1).assure()
	}
	return next
}

// templateEntry returns the entry at global index gi without locking its
// shard; callers touch only its atomic control word (link), which is safe
// because a controlled connection holds the template alive.
func (t *Table) templateEntry(gi uint32) *entry {
	ts := &t.shards[gi>>t.strideBits]
	return &ts.ents[gi&(1<<t.strideBits-1)]
}

func (e *entry) assure() { atomic.OrUint32(&e.link, ctlAssured) }

// release drops one control reference of a template.
func (e *entry) release() { atomic.AddUint32(&e.link, ^uint32(0)) }

// Expire removes connection r now (counting it as expired), as the kernel
// does for connection reuse and expire_nodest_conn. A template that still
// controls connections is not removed. It reports whether r was removed.
func (t *Table) Expire(r Ref) bool {
	_, s, slot, ok := t.lockRef(r)
	if !ok {
		return false
	}
	defer s.mu.Unlock()
	e := &s.ents[slot]
	if e.flags&fTemplate != 0 && atomic.LoadUint32(&e.link)&^ctlAssured != 0 {
		return false
	}
	t.unlinkRemoveLocked(s, slot, remExpired)
	return true
}

// Removal reasons, for the counters.
const (
	_ = iota
	remExpired
	remEvicted
)

// unlinkRemoveLocked removes slot, finding its far chain predecessor
// first when it has one.
func (t *Table) unlinkRemoveLocked(s *shard, slot uint32, why int) {
	e := &s.ents[slot]
	if e.flags&fUnlinked != 0 {
		t.removeLocked(s, slot, 0, 0, why)
		return
	}
	k := s.entryKeyLocked(slot)
	b := s.home(t.hash(&k))
	prev := uint32(0)
	if !inWindow(b, slot) {
		for cur := s.heads[b]; cur != 0 && cur != slot+1; cur = s.ents[cur-1].next {
			prev = cur
		}
	}
	t.removeLocked(s, slot, prev, b, why)
}

// removeLocked takes slot off the index of home slot b (its window's
// tags, or b's far chain, where prev is its predecessor in slot+1 form, 0
// when it is the head), uncounts it from its real server exactly once,
// releases its template and frees the slot.
func (t *Table) removeLocked(s *shard, slot, prev, b uint32, why int) {
	e := &s.ents[slot]
	if e.flags&fUnlinked == 0 {
		s.unindexLocked(slot, prev, b)
	}
	tmpl := e.flags&fTemplate != 0
	t.dests.unbind(scheduler.DestID(e.dest), tmpl, e.flags&fInactive != 0)
	st := State(e.state)
	if tmpl {
		s.templates--
	} else {
		s.byState[st]--
	}
	if !tmpl && e.link != 0 {
		t.templateEntry(e.link - 1).release()
	}
	s.live--
	t.live.Add(-1)
	switch why {
	case remExpired:
		s.expired++
	case remEvicted:
		s.evicted++
		if tmpl {
			st = StateNone
		}
		s.evictedBy[st]++
	}
	gen := e.gen + 1
	if gen == 0 {
		gen = 1
	}
	atomic.StoreUint32(&e.link, 0)
	*e = entry{gen: gen}
}

// unindexLocked takes slot off the index of its home slot b: clears its
// tag, or unlinks it from b's far chain (prev: its predecessor, slot+1
// form, 0 when it is the head).
func (s *shard) unindexLocked(slot, prev, b uint32) {
	if inWindow(b, slot) {
		s.setTag(slot, 0)
		return
	}
	e := &s.ents[slot]
	if prev == 0 {
		s.heads[b] = e.next
	} else {
		s.ents[prev-1].next = e.next
	}
	e.next = 0
	if s.heads[b] == 0 {
		s.setFar(b, false)
	}
}

// Eviction classes, best victim first.
const (
	evExpired  = iota // timer already ran out: reclaim, count as expired
	evHalfOpen        // no completed handshake
	evClosing         // finishing TCP states; unassured idle templates
	evIdle            // ESTABLISHED/UDP idle for IdleEvict; assured idle templates
	evNever           // recent traffic, or a template in use
)

func (t *Table) evictClassLocked(e *entry, now int64) int {
	if expiredLocked(e, now) {
		return evExpired
	}
	if e.flags&fTemplate != 0 {
		ctl := atomic.LoadUint32(&e.link)
		switch {
		case ctl&^ctlAssured != 0:
			return evNever
		case ctl&ctlAssured == 0:
			return evClosing
		}
		return evIdle
	}
	st := State(e.state)
	switch {
	case st.halfOpen():
		return evHalfOpen
	case st.closing():
		return evClosing
	}
	last := e.expires - e.timeout
	if int64(int32(nowTicks(now)-last))*tickNs >= t.idleEvict {
		return evIdle
	}
	return evNever
}

// noVictimHold is how long a shard that had nothing to evict refuses new
// entries without rescanning, unless a half-open or closing entry appears
// (those are counted exactly, so their arrival is seen at once). It keeps a
// flood against a table full of busy flows from costing a full scan per
// packet.
const noVictimHold = int64(time.Second)

// evictLookAhead is how many more slots the eviction scan examines after
// finding a victim of the wanted class, in case an already expired entry
// (which costs nothing to reclaim) is close by.
const evictLookAhead = 32

// allocLocked reserves room for one entry in the table-wide bound and
// returns a free slot of shard s, as close after home slot b as it finds
// one, reclaiming an expired entry or evicting one of s when the table or
// the shard's slab is full; ok is false when nothing in s may be evicted.
func (t *Table) allocLocked(s *shard, b uint32, now int64) (uint32, bool) {
	// Reserve a place in the bound. Another worker may take the place an
	// eviction just made, so try a few times before refusing.
	for attempt := 0; ; attempt++ {
		cur := t.live.Load()
		if cur < t.maxConns {
			if t.live.CompareAndSwap(cur, cur+1) {
				break
			}
			continue
		}
		if attempt >= maxEvictAttempts || !t.evictLocked(s, now) {
			return 0, false
		}
	}
	if int(s.live) >= len(s.ents) {
		// The slab is full although the table is not (uneven hashing): make
		// room here. The victim's removal releases its own reservation.
		if !t.evictLocked(s, now) {
			t.live.Add(-1)
			return 0, false
		}
	}
	slot := s.freeSlotLocked(b)
	s.hi = max(s.hi, slot+1)
	return slot, true
}

// freeSlotLocked returns a free slot of s, preferring home slot b's window
// (from b to its end, then from its start: freeHint's order), else the
// next free slot anywhere. The slab must not be full.
func (s *shard) freeSlotLocked(b uint32) uint32 {
	n := uint32(len(s.ents))
	w := s.window(b)
	for m := windowMask(w[0], w[1], w[2], w[3], 0, b); m != 0; m &= m - 1 {
		// Tag 0: free, or an entry on a far chain or off the index.
		if i := rotSlot(b, bits.TrailingZeros32(m)); i < n && s.ents[i].flags&fUsed == 0 {
			return i
		}
	}
	for {
		i := s.allocCur
		if s.allocCur++; s.allocCur >= n {
			s.allocCur = 0
		}
		if s.ents[i].flags&fUsed == 0 {
			return i
		}
	}
}

// maxEvictAttempts bounds how many entries one insert may evict when other
// workers keep taking the room it makes.
const maxEvictAttempts = 3

// evictLocked removes one entry of s to make room: an expired one if close
// at hand, else by class (half-open, then closing, then idle). It reports
// false if s holds nothing evictable.
func (t *Table) evictLocked(s *shard, now int64) bool {
	var ho, cl int32
	for st := StateNone; st <= StateSynAck; st++ {
		switch {
		case st.halfOpen():
			ho += s.byState[st]
		case st.closing():
			cl += s.byState[st]
		}
	}
	target := evIdle
	switch {
	case ho > 0:
		target = evHalfOpen
	case cl > 0:
		target = evClosing
	case now < s.noVictimUntil:
		return false
	}
	best := [evNever]int{-1, -1, -1, -1}
	victim, class := -1, evNever
	lookAhead := -1 // after a target-class find: slots left to look for an expired entry
	for range s.hi {
		if lookAhead == 0 {
			break
		}
		lookAhead--
		slot := s.evictCur
		if s.evictCur++; s.evictCur >= s.hi {
			s.evictCur = 0
		}
		e := &s.ents[slot]
		if e.flags&fUsed == 0 {
			continue
		}
		c := t.evictClassLocked(e, now)
		if c == evExpired {
			victim, class = int(slot), c
			break
		}
		if c <= target && victim < 0 {
			victim, class = int(slot), c
			lookAhead = evictLookAhead
		}
		if c < evNever && best[c] < 0 {
			best[c] = int(slot)
		}
	}
	if victim < 0 {
		for c := evHalfOpen; c < evNever; c++ {
			if best[c] >= 0 {
				victim, class = best[c], c
				break
			}
		}
	}
	if victim < 0 {
		s.noVictimUntil = now + noVictimHold
		return false
	}
	why := remEvicted
	if class == evExpired {
		why = remExpired
	}
	t.unlinkRemoveLocked(s, uint32(victim), why)
	return true
}

// newEntry describes an entry to insert.
type newEntry struct {
	k        ikey
	daddr    uint32
	daddr6   [16]byte
	dport    uint16
	dest     scheduler.DestID
	method   Method
	template bool
	control  uint32 // global index+1
	state    State
	timeout  uint32 // ticks
}

// replaceLocked takes live entry slot (indexed from home slot b) out of the way of a new
// entry with the same key: it is removed, unless it is a template that
// still controls connections, which is invalidated instead (taken off the
// hash, left to expire) because those connections hold its slot.
func (t *Table) replaceLocked(s *shard, slot, b uint32) {
	e := &s.ents[slot]
	if e.flags&fTemplate != 0 && atomic.LoadUint32(&e.link)&^ctlAssured != 0 {
		t.unlinkTemplateLocked(s, slot, b)
		return
	}
	t.unlinkRemoveLocked(s, slot, remExpired)
}

// insertLocked adds n to shard s (home slot b), replacing a live entry with the
// same key. It returns the slot, or false if the shard is full and nothing
// may be evicted (counted as refused).
func (t *Table) insertLocked(s *shard, b uint32, n *newEntry, now int64) (uint32, bool) {
	if old := t.findLocked(s, b, &n.k, now, n.template); old >= 0 {
		t.replaceLocked(s, uint32(old), b)
	}
	slot, ok := t.allocLocked(s, b, now)
	if !ok {
		s.refused++
		return 0, false
	}
	e := &s.ents[slot]
	gen := e.gen
	if gen == 0 {
		gen = 1
	}
	indexed := inWindow(b, slot)
	next := uint32(0)
	if !indexed {
		next = s.heads[b]
	}
	flags := uint16(fUsed | fInactive)
	if n.k.v6 {
		flags |= fV6
		if s.v6 == nil {
			s.v6 = make([]v6addrs, len(s.ents))
		}
		s.v6[slot] = v6addrs{n.k.ca6, n.k.va6, n.daddr6}
	}
	if n.template {
		flags |= fTemplate
		flags &^= fInactive
	} else if n.method != MethodMasq {
		flags |= fNoOutput
	}
	*e = entry{
		expires: deadline(now, n.timeout),
		caddr:   n.k.ca,
		vaddr:   n.k.va,
		daddr:   n.daddr,
		dest:    uint32(n.dest),
		link:    n.control,
		next:    next,
		gen:     gen,
		timeout: n.timeout,
		cport:   n.k.cp,
		vport:   n.k.vp,
		dport:   n.dport,
		flags:   flags,
		proto:   n.k.proto,
		state:   uint8(n.state),
		method:  uint8(n.method),
	}
	if indexed {
		s.setTag(slot, n.k.tag)
	} else {
		s.heads[b] = slot + 1
		s.setFar(b, true)
	}
	s.live++
	s.created++
	if n.template {
		s.templates++
	} else {
		s.byState[n.state]++
	}
	t.dests.bind(n.dest, n.template)
	return slot, true
}
