package dataplane

import (
	"encoding/binary"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/uvslb/uvs/conntrack"
	"github.com/uvslb/uvs/internal/header"
	"github.com/uvslb/uvs/internal/link"
	"github.com/uvslb/uvs/scheduler"
)

// ConnKind says whether a frame belonged to a connection (trace `conn`).
type ConnKind uint8

// Connection kinds.
const (
	_            ConnKind = iota
	ConnNone              // "none"
	ConnNew               // "new"
	ConnExisting          // "existing"
)

// String returns the trace name.
func (c ConnKind) String() string {
	switch c {
	case ConnNew:
		return "new"
	case ConnExisting:
		return "existing"
	}
	return "none"
}

// Choice says how the real server of a new connection was chosen.
type Choice uint8

// Choices.
const (
	_               Choice = iota
	ChoiceScheduler        // the service's scheduler picked it
	ChoiceTemplate         // a persistence template pinned the client to it
	ChoiceReuse            // port reuse: an old TIME_WAIT/CLOSE entry was replaced
)

// Record is what a Tracer learns about one input frame. In is a copy of the
// frame as received (valid during the Trace call); Out are the indices of
// the transmit-batch frames this input caused.
type Record struct {
	Time     int64
	In       []byte
	LinkType link.Type
	Service  *Service
	Conn     ConnKind
	State    conntrack.State // 0: none
	Dest     *Dest
	Real     netip.AddrPort // the connection's real server address:port
	Choice   Choice
	Action   Action
	Reason   Reason
	OutFirst int // tx frames [OutFirst, OutEnd) were caused by this input
	OutEnd   int
	// Resolved is the neighbour whose reply released queued frames, if any.
	Resolved netip.Addr
}

// Tracer receives one Record per input frame (replay's --trace). It runs
// on the worker goroutine and must not keep r or tx after returning.
type Tracer interface {
	Trace(r *Record, tx *link.Batch)
}

// Worker processes frame batches. It owns its transmit batch and counters;
// one goroutine drives it.
type Worker struct {
	e     *Engine
	id    int
	p     *header.Parsed // the frame being handled: &own, or &ps[i] after prefetch
	own   header.Parsed
	tx    *link.Batch
	drops [NumReasons]atomic.Uint64 // written only by this worker (bump)
	icmp  tokenBucket
	ipID  uint16
	stats statBatch // counts of the current Process call

	ctx    schedCtx
	pickFn func() (conntrack.Target, bool)
	destFn func(scheduler.DestID) (conntrack.Target, bool)

	tracer      Tracer
	rec         Record
	inCopy      []byte
	releasedAct Action // action of the first frame released by learn

	// The prefetch phase of Process: every frame decoded up front, and the
	// connections of established client packets looked up together so
	// their cache misses overlap (conntrack.LookupBatchHits).
	pre   bool            // the current batch went through prefetch
	ps    []header.Parsed // decoded frames
	pr    []header.Reason // their decode results
	pslot []int           // index into keys/hits for frame i, or -1
	// pfirst[i]: no earlier frame of the batch shares frame i's token, so
	// a connection its lookup did not find cannot have been created by
	// the time frame i is handled (see toService).
	pfirst []bool
	psvc   []*Service // frame i's virtual service, if any
	keys   []conntrack.Key
	steps  []conntrack.Step // whether and how LookupBatchHits applied keys[k]'s packet
	hits   []conntrack.Hit
	found  []bool
	cur    int // the frame being handled
}

func newWorker(e *Engine, id int) *Worker {
	w := &Worker{e: e, id: id, tx: link.NewBatch(e.cfg.BatchSize + maxPendingFrames + 1)}
	n := e.cfg.BatchSize
	w.ps, w.pr, w.pslot, w.psvc = make([]header.Parsed, n), make([]header.Reason, n), make([]int, n), make([]*Service, n)
	w.pfirst = make([]bool, n)
	w.keys, w.steps, w.hits, w.found = make([]conntrack.Key, n), make([]conntrack.Step, n), make([]conntrack.Hit, n), make([]bool, n)
	w.p = &w.own
	w.pickFn = w.pick
	w.destFn = w.target // a template's real server: still usable?
	return w
}

// TX returns the frames produced by the last Process call: TX().N frames,
// each stamped with the time of the input that caused it. They are valid
// until the next Process call.
func (w *Worker) TX() *link.Batch { return w.tx }

// Process handles in's N frames; what they cause is left in TX(). It may
// exchange buffers between in and the transmit batch (forwarding without a
// copy), so in's buffers after the call are not the ones before it. tr,
// if not nil, receives one Record per frame.
func (w *Worker) Process(in *link.Batch, tr Tracer) {
	w.tx.N = 0
	w.tracer = tr
	s := w.e.snap.Load()
	w.pre = s != nil && in.N > 1 && in.N <= len(w.ps)
	if w.pre {
		w.prefetch(in, s)
	}
	for i := 0; i < in.N; i++ {
		w.cur = i
		if w.pre && tr == nil && w.forwardStepped(in, i, s) {
			continue
		}
		w.frame(in, i, s)
	}
	w.stats.flush(w.id)
}

// forwardStepped is the common case, handled without the general path's
// repeated checks: a client packet of an established NAT connection that
// the prefetch phase already applied to its connection (a Step, so every
// check before the state change has passed), TTL above 1, real server of
// the packet's family and neighbour known. It does exactly what handle
// would (counters, take, ForwardNATDst, MACs) and reports true; false
// (having changed nothing) sends the frame down the general path. Not used
// when tracing, whose records need the general path's detail.
func (w *Worker) forwardStepped(in *link.Batch, i int, s *Snapshot) bool {
	k := w.pslot[i]
	if k < 0 || !w.steps[k].Advance || !w.found[k] {
		return false
	}
	h := &w.hits[k]
	p := &w.ps[i]
	real := h.Real.Addr()
	if h.Method != conntrack.MethodMasq || p.TTL <= 1 || real.Is4() != p.Dst.Is4() {
		return false
	}
	var mac MAC
	ether := w.e.cfg.LinkType == link.Ethernet
	if ether {
		var ok bool
		if mac, ok = w.e.neigh.lookup(real); !ok {
			return false // the general path parks it and asks
		}
	}
	_, out, ok := w.takeFrame(in, i)
	if !ok {
		return false
	}
	n := p.IPLen
	w.stats.in(w.id, w.psvc[i].Stats, n)
	if d := s.Dest(h.Dest); d != nil {
		w.stats.in(w.id, d.Stats, n)
	}
	p.ForwardNATDst(out, real, h.Real.Port())
	if ether {
		copy(out[0:6], mac[:])
		copy(out[6:12], s.MAC[:])
	}
	return true
}

// prefetch decodes every frame of the batch and looks up, in one
// conntrack.LookupBatchHits, the connections of the client packets to
// virtual services, so that their cache misses overlap. A packet on an
// established flow that is sure to be forwarded (it passes every check
// that comes before the state change, see advanceable) is also applied to
// its connection there: a conntrack.Step, which saves the second shard
// lock of a separate Update.
//
// Steps run before the rest of the batch is handled, so a packet whose
// connection another frame of the batch may touch first (a reply, a SYN,
// any packet that takes the slow path) is not stepped when that frame
// comes earlier in the batch: it is then handled in frame order like the
// others. Frames are matched by their connection's client side (a token of
// protocol, client address and port), so a token collision only costs a
// lookup.
func (w *Worker) prefetch(in *link.Batch, s *Snapshot) {
	k := 0
	var touched [4]uint64 // tokens of frames handled in order, so far
	var seen [4]uint64    // tokens of every frame with ports, so far
	for i := 0; i < in.N; i++ {
		p := &w.ps[i]
		w.pslot[i] = -1
		w.psvc[i] = nil
		frame := in.Frame(i)
		r := p.Decode(frame, w.e.cfg.LinkType)
		w.pr[i] = r
		if r != header.OK || p.Flags&(header.FlagPorts|header.FlagICMPError) != header.FlagPorts {
			continue
		}
		svc := s.lookup(p.Proto, p.Dst, p.DstPort, p.IPVersion)
		w.psvc[i] = svc // handle uses it for every frame with ports
		if svc == nil {
			// Perhaps a real server's reply: its client is the destination.
			t := flowToken(p, frame, false)
			touched[t>>6] |= 1 << (t & 63)
			seen[t>>6] |= 1 << (t & 63)
			continue
		}
		if p.Flags&header.FlagFragment != 0 {
			continue
		}
		// Frames off the fast path (a SYN, say) are looked up too: their
		// result is not used, but their later Lookup and the insert at the
		// same home slot then hit the cache.
		key := &w.keys[k] // field by field, see toService
		key.Proto, key.CPort, key.VPort = p.Proto, p.SrcPort, p.DstPort
		key.CAddr, key.VAddr = p.Src, p.Dst
		t := flowToken(p, frame, true)
		word, bit := t>>6, uint64(1)<<(t&63)
		w.pfirst[i] = seen[word]&bit == 0
		seen[word] |= bit
		st := &w.steps[k]
		if touched[word]&bit == 0 && advanceable(s, svc, p, frame) {
			st.Now, st.TCPFlags, st.Advance = in.Meta[i].Time, p.TCPFlags, true
		} else {
			*st = conntrack.Step{}
			touched[word] |= bit
		}
		w.pslot[i] = k
		k++
	}
	if k > 0 {
		w.e.table.LookupBatchHits(in.Meta[0].Time, w.keys[:k], w.steps[:k], w.hits[:k], w.found[:k])
	}
}

// advanceable reports whether a client packet to svc passes every check
// that toService makes before changing its connection's state: not from
// the director's own MAC, valid TCP flags, the fast path's conditions and,
// for NAT, a good L4 checksum. Such a packet, if its connection exists,
// is forwarded with the state the packet leads to.
func advanceable(s *Snapshot, svc *Service, p *header.Parsed, frame []byte) bool {
	if p.LinkType == link.Ethernet && p.SrcMAC == s.MAC {
		return false
	}
	if p.Proto == ProtoTCP && !header.ValidTCPFlags(p.TCPFlags) {
		return false
	}
	return fastPath(s, svc, p) && (svc.method != MethodNAT || p.VerifyL4(frame))
}

// flowToken is an 8-bit digest of a connection's client side (protocol,
// the low 32 bits of the client address, client port), for prefetch's
// ordering check: the client is the frame's source (src) or, for a real
// server's reply, its destination. It reads the address from the frame,
// which is cheaper than from a netip.Addr.
func flowToken(p *header.Parsed, frame []byte, src bool) uint8 {
	// The address's last 4 bytes: IPv4 source at 12, destination at 16;
	// IPv6 source at 8..24, destination at 24..40.
	off, port := 16, p.DstPort
	if src {
		off, port = 12, p.SrcPort
	}
	if p.IPVersion == 6 {
		off = off*4 - 28 // 12 → 20, 16 → 36
	}
	off += p.L3Off
	x := uint64(binary.BigEndian.Uint32(frame[off:]))<<24 ^ uint64(port)<<8 ^ uint64(p.Proto)
	x *= 0x9E3779B97F4A7C15
	return uint8(x >> 56)
}

func (w *Worker) frame(in *link.Batch, i int, s *Snapshot) {
	now := in.Meta[i].Time
	start := w.tx.N
	w.releasedAct = 0
	if w.tracer != nil {
		w.inCopy = append(w.inCopy[:0], in.Frame(i)...)
		w.rec = Record{Time: now, In: w.inCopy, LinkType: w.e.cfg.LinkType, OutFirst: start}
	}
	act, reason := w.handle(in, i, s, now)
	if act == ActDrop || reason != 0 {
		bump(&w.drops[reason], 1) // one writer: this worker
	}
	if w.tracer != nil {
		w.rec.Action, w.rec.Reason, w.rec.OutEnd = act, reason, w.tx.N
		w.tracer.Trace(&w.rec, w.tx)
	}
}

// Drop counts a frame dropped outside Process (the daemon's link errors).
func (w *Worker) Drop(r Reason) { w.drops[r].Add(1) }

// handle decides what to do with one frame.
func (w *Worker) handle(in *link.Batch, i int, s *Snapshot, now int64) (Action, Reason) {
	var r header.Reason
	if w.pre {
		w.p, r = &w.ps[i], w.pr[i]
	} else {
		w.p = &w.own
		r = w.p.Decode(in.Frame(i), w.e.cfg.LinkType)
	}
	p := w.p
	if r != header.OK {
		if r.Pass() {
			return ActPass, 0
		}
		return ActDrop, Reason(r)
	}
	if s == nil {
		return ActPass, 0 // no configuration yet: never forward
	}
	if p.LinkType == link.Ethernet && p.SrcMAC == s.MAC {
		return ActDrop, ReasonOwnMAC
	}
	switch {
	case p.Flags&header.FlagARP != 0:
		return w.arp(s, now)
	case p.Flags&header.FlagND != 0:
		return w.nd(s, now)
	case p.Flags&header.FlagICMPError != 0:
		return w.icmpError(in, i, s, now)
	}
	if p.Flags&header.FlagFragment != 0 && p.Flags&header.FlagPorts == 0 {
		// A non-first fragment: it cannot be mapped to a connection
		// without reassembly, which uvs does not do (reliability.md §3.2).
		if s.IsVIP(p.Dst) {
			return ActDrop, Reason(header.Fragment)
		}
		return ActPass, 0
	}
	if p.Flags&header.FlagPorts == 0 {
		return ActPass, 0 // ICMP echo to a VIP and the like: the kernel's business
	}
	var svc *Service
	if w.pre {
		svc = w.psvc[i] // the prefetch phase looked it up (same snapshot)
	} else {
		svc = s.lookup(p.Proto, p.Dst, p.DstPort, p.IPVersion)
	}
	if svc != nil {
		return w.toService(in, i, s, svc, now)
	}
	return w.reply(in, i, s, now)
}

// toService handles a client packet to a virtual service (reference
// ipvs.md §3.3–§3.6).
func (w *Worker) toService(in *link.Batch, i int, s *Snapshot, svc *Service, now int64) (Action, Reason) {
	p := w.p
	if w.tracer != nil {
		w.rec.Service = svc
	}
	if w.pre && w.pslot[i] >= 0 && w.steps[w.pslot[i]].Advance && w.found[w.pslot[i]] {
		// The prefetch phase checked the packet and applied it already.
		// Filled field by field: a composite literal of this size is built
		// in a temporary and copied.
		h := &w.hits[w.pslot[i]]
		var c conntrack.Conn
		c.Ref, c.Proto, c.Dest, c.Method, c.State = h.Ref, p.Proto, h.Dest, h.Method, h.State
		c.Client = netip.AddrPortFrom(p.Src, p.SrcPort)
		c.Virtual = netip.AddrPortFrom(p.Dst, p.DstPort)
		c.Real = h.Real
		return w.forwardIn(in, i, s, svc, &c, ConnExisting, 0, now)
	}
	if p.Proto == ProtoTCP && !header.ValidTCPFlags(p.TCPFlags) {
		return ActDrop, Reason(header.BadTCPFlags)
	}
	if p.Flags&header.FlagFragment != 0 {
		return ActDrop, Reason(header.Fragment)
	}
	key := conntrack.Key{Proto: p.Proto, CAddr: p.Src, CPort: p.SrcPort, VAddr: p.Dst, VPort: p.DstPort}
	missed := false // a lookup at now found no connection
	if fastPath(s, svc, p) {
		// Nothing can happen between the lookup and the state change: no
		// real server is gone, the packet cannot reuse or reschedule a
		// connection, and the checksum rule is known from the service.
		if svc.method == MethodNAT && !p.VerifyL4(in.Frame(i)) {
			return ActDrop, Reason(header.BadL4Checksum)
		}
		if w.pre && w.pslot[i] >= 0 && w.found[w.pslot[i]] && !w.steps[w.pslot[i]].Advance {
			h := &w.hits[w.pslot[i]]
			if st, ok := w.e.table.Update(now, h.Ref, conntrack.DirInput, p.TCPFlags); ok {
				// A client-side hit: Client, Virtual and Proto are the key's.
				c := conntrack.Conn{Ref: h.Ref, Proto: key.Proto, Client: netip.AddrPortFrom(key.CAddr, key.CPort),
					Virtual: netip.AddrPortFrom(key.VAddr, key.VPort), Real: h.Real, Dest: h.Dest, Method: h.Method, State: st}
				return w.forwardIn(in, i, s, svc, &c, ConnExisting, 0, now)
			}
		}
		if c, ok := w.e.table.LookupUpdate(now, key, conntrack.DirInput, p.TCPFlags); ok {
			return w.forwardIn(in, i, s, svc, &c, ConnExisting, 0, now)
		}
		if p.Proto == ProtoTCP {
			return ActPass, 0 // no connection and not a SYN: the director's own stack
		}
		missed = true
	}
	var c conntrack.Conn
	ok := false
	if !missed && (!w.pre || w.pslot[i] < 0 || w.found[w.pslot[i]] || !w.pfirst[i]) {
		c, ok = w.e.table.Lookup(now, key)
	}
	// Else LookupUpdate just missed, or the batched lookup found no
	// connection and no earlier frame of the batch could have created one
	// (none shares the frame's token): the answer stands. (A connection
	// created meanwhile by another worker is a race the kernel has too.)
	kind := ConnExisting
	choice := Choice(0)
	if ok {
		d := s.Dest(c.Dest)
		switch {
		case d == nil || !d.Available:
			if !s.ExpireNodestConn {
				w.traceConn(&c, d, ConnExisting, 0)
				return ActDrop, ReasonDestUnavailable
			}
			w.e.table.Expire(c.Ref)
			ok = false
		case s.ExpireNodestConn && d.Weight == 0 && p.Proto == ProtoTCP && p.TCPFlags&(header.TCPSyn|header.TCPRst) == header.TCPSyn:
			w.e.table.Expire(c.Ref)
			ok = false
		case c.ReuseExpected(p.TCPFlags):
			ok, choice = false, ChoiceReuse
		}
	}
	if !ok {
		// Only SYN (without RST) creates TCP connections; anything else
		// with no connection goes to the director's own stack (passed).
		if p.Proto == ProtoTCP && p.TCPFlags&(header.TCPSyn|header.TCPRst) != header.TCPSyn {
			return ActPass, 0
		}
		var st conntrack.Status
		c, st, choice = w.schedule(s, svc, key, now, choice)
		switch st {
		case conntrack.StatusCreated:
		case conntrack.StatusNoDest:
			return w.noDest(in, i, s, now)
		case conntrack.StatusRefused:
			return ActDrop, ReasonTableFull
		default:
			return ActDrop, ReasonNoRoute
		}
		kind = ConnNew
		w.stats.conn(w.id, svc.Stats)
		if d := s.Dest(c.Dest); d != nil {
			w.stats.conn(w.id, d.Stats)
		}
		if p.LinkType == link.Ethernet {
			w.e.clients.store(p.Src, p.SrcMAC)
		}
	}
	if c.Method == conntrack.MethodMasq && !p.VerifyL4(in.Frame(i)) {
		// IPVS verifies the checksum before rewriting a NAT packet.
		w.traceConn(&c, s.Dest(c.Dest), kind, choice)
		return ActDrop, Reason(header.BadL4Checksum)
	}
	if !c.Ref.IsZero() {
		c.State, _ = w.e.table.Update(now, c.Ref, conntrack.DirInput, p.TCPFlags)
	}
	return w.forwardIn(in, i, s, svc, &c, kind, choice, now)
}

// fastPath reports whether a client packet to svc may be looked up and
// advanced in one step (conntrack.LookupUpdate): no real server is in the
// trash, the packet is no SYN (which could reuse a closed connection), and
// the real servers share one forwarding method (so whether to verify the
// checksum is known before the lookup).
func fastPath(s *Snapshot, svc *Service, p *header.Parsed) bool {
	return !s.trash && svc.method != 0 && (p.Proto == ProtoUDP || p.Proto == ProtoTCP && p.TCPFlags&header.TCPSyn == 0)
}

// forwardIn sends a client packet of connection c (its state already
// advanced) to the real server: TTL, stats, then the method's rewrite.
func (w *Worker) forwardIn(in *link.Batch, i int, s *Snapshot, svc *Service, c *conntrack.Conn, kind ConnKind, choice Choice, now int64) (Action, Reason) {
	p := w.p
	d := s.Dest(c.Dest)
	w.traceConn(c, d, kind, choice)
	if p.TTL <= 1 {
		return w.timeExceeded(in, i, s, now)
	}
	n := p.IPLen
	w.stats.in(w.id, svc.Stats, n)
	if d != nil {
		w.stats.in(w.id, d.Stats, n)
	}
	switch c.Method {
	case conntrack.MethodMasq:
		return w.natIn(in, i, s, c) // decrements the TTL with the rewrite
	case conntrack.MethodRoute:
		p.DecrementTTL(in.Frame(i))
		return w.dr(in, i, s, c, now)
	case conntrack.MethodTunnel:
		p.DecrementTTL(in.Frame(i))
		return w.tun(in, i, s, c, now)
	}
	return ActDrop, ReasonNoRoute
}

func (w *Worker) traceConn(c *conntrack.Conn, d *Dest, kind ConnKind, choice Choice) {
	if w.tracer == nil {
		return
	}
	w.rec.Conn, w.rec.State, w.rec.Dest, w.rec.Real, w.rec.Choice = kind, c.State, d, c.Real, choice
}

// schedule creates a connection (with persistence) for a packet.
func (w *Worker) schedule(s *Snapshot, svc *Service, key conntrack.Key, now int64, choice Choice) (conntrack.Conn, conntrack.Status, Choice) {
	p := w.p
	w.ctx = schedCtx{svc: svc, snap: s, in: scheduler.Input{Src: p.Src, Dst: p.Dst, SrcPort: p.SrcPort, Now: now}}
	cs := conntrack.Service{
		Proto: svc.Proto, Port: svc.Port, Fwmark: svc.FWMark, OnePacket: svc.OPS,
	}
	if svc.Proto == 0 {
		cs.Proto = p.Proto
	}
	if svc.Persistent {
		cs.PersistTimeout = time.Duration(svc.PersistTimeout)
		if p.IPVersion == 4 {
			cs.Netmask = prefixMask4(svc.PersistBits)
		} else {
			cs.Prefix6 = uint8(svc.PersistBits)
		}
	}
	c, st := w.e.table.Schedule(now, key, &cs, w.pickFn, w.destFn)
	if choice == 0 {
		choice = ChoiceScheduler
		if svc.Persistent && !w.ctx.picked {
			choice = ChoiceTemplate
		}
	}
	return c, st, choice
}

// pick runs the service's scheduler (called by conntrack under a shard
// lock).
func (w *Worker) pick() (conntrack.Target, bool) {
	w.ctx.picked = true
	d, ok := w.ctx.svc.Sched.Pick(&w.ctx.in)
	if !ok {
		return conntrack.Target{}, false
	}
	return w.target(d.ID)
}

func (w *Worker) target(id scheduler.DestID) (conntrack.Target, bool) {
	d := w.ctx.snap.Dest(id)
	if d == nil || !d.Available {
		return conntrack.Target{}, false
	}
	m := conntrack.MethodMasq
	switch d.Method {
	case MethodDR:
		m = conntrack.MethodRoute
	case MethodTUN:
		m = conntrack.MethodTunnel
	}
	return conntrack.Target{Dest: scheduler.Dest{ID: d.ID, Addr: d.Addr, Port: d.Port, Weight: d.Weight}, Method: m}, true
}

// reply handles a packet that is not to a virtual service: a real
// server's reply on a NAT connection, or not ours.
func (w *Worker) reply(in *link.Batch, i int, s *Snapshot, now int64) (Action, Reason) {
	p := w.p
	c, ok := w.e.table.LookupOut(now, p.Proto, p.Src, p.SrcPort, p.Dst, p.DstPort)
	if !ok || c.Method != conntrack.MethodMasq {
		return ActPass, 0
	}
	frame := in.Frame(i)
	d := s.Dest(c.Dest)
	svc := s.lookup(c.Proto, c.Virtual.Addr(), c.Virtual.Port(), p.IPVersion)
	if w.tracer != nil {
		w.rec.Service = svc
	}
	w.traceConn(&c, d, ConnExisting, 0)
	if p.Proto == ProtoTCP && !header.ValidTCPFlags(p.TCPFlags) {
		return ActDrop, Reason(header.BadTCPFlags)
	}
	if !p.VerifyL4(frame) {
		return ActDrop, Reason(header.BadL4Checksum)
	}
	if p.TTL <= 1 {
		return w.timeExceeded(in, i, s, now)
	}
	c.State, _ = w.e.table.Update(now, c.Ref, conntrack.DirOutput, p.TCPFlags)
	w.traceConn(&c, d, ConnExisting, 0) // the state after the packet
	if d != nil {
		w.stats.out(w.id, d.Stats, p.IPLen)
	}
	if svc != nil {
		w.stats.out(w.id, svc.Stats, p.IPLen)
	}
	j, ok := w.take(in, i)
	if !ok {
		return ActDrop, ReasonNoBuffer
	}
	// TTL − 1 and source → VIP:vport, one checksum update each.
	p.ForwardNATSrc(w.tx.Frame(j), c.Virtual.Addr(), c.Virtual.Port())
	return w.sendToClient(s, j, c.Client.Addr(), c.Virtual.Addr(), ActReplyNAT, now)
}

// natIn rewrites a client packet to its real server.
func (w *Worker) natIn(in *link.Batch, i int, s *Snapshot, c *conntrack.Conn) (Action, Reason) {
	p := w.p
	if c.Real.Addr().Is4() != p.Dst.Is4() {
		return ActDrop, ReasonNoRoute
	}
	now := in.Meta[i].Time
	j, out, ok := w.takeFrame(in, i)
	if !ok {
		return ActDrop, ReasonNoBuffer
	}
	// TTL − 1 and destination → real server, one checksum update each.
	p.ForwardNATDst(out, c.Real.Addr(), c.Real.Port())
	return w.sendFrame(s, j, out, c.Real.Addr(), w.srcFor(s, c.Real.Addr(), c.Virtual.Addr()), ActNAT, now)
}

// dr forwards a client packet unchanged to its real server's MAC.
func (w *Worker) dr(in *link.Batch, i int, s *Snapshot, c *conntrack.Conn, now int64) (Action, Reason) {
	if w.e.cfg.LinkType != link.Ethernet {
		return ActDrop, ReasonNoRoute // direct routing needs L2
	}
	j, ok := w.take(in, i)
	if !ok {
		return ActDrop, ReasonNoBuffer
	}
	return w.sendTo(s, j, c.Real.Addr(), w.srcFor(s, c.Real.Addr(), c.Virtual.Addr()), ActDR, now)
}

// srcFor returns the address the director speaks from toward dst: its own
// address of that family, else the VIP when of that family.
func (w *Worker) srcFor(s *Snapshot, dst, vip netip.Addr) netip.Addr {
	if dst.Is4() {
		if s.Addr4.IsValid() {
			return s.Addr4
		}
	} else if s.Addr6.IsValid() {
		return s.Addr6
	}
	if vip.Is4() == dst.Is4() {
		return vip
	}
	return netip.Addr{}
}

// take moves input frame i into the transmit batch without copying when
// its buffer is a full-size one (so the transmit batch only ever holds
// full-size buffers), else by copying, and returns its index there.
func (w *Worker) take(in *link.Batch, i int) (int, bool) {
	j, _, ok := w.takeFrame(in, i)
	return j, ok
}

// takeFrame is take, also returning the frame (tx.Frame(j)) from the
// values at hand rather than reading back the slots just written.
func (w *Worker) takeFrame(in *link.Batch, i int) (int, []byte, bool) {
	tx := w.tx
	j := tx.N
	if j >= tx.Cap() {
		return 0, nil, false
	}
	buf, off, n := in.Bufs[i], in.Off[i], in.Len[i]
	if cap(buf) >= link.Headroom+link.MaxFrame && off >= link.Headroom {
		tx.Bufs[j], in.Bufs[i] = buf, tx.Bufs[j]
		tx.Off[j], in.Off[i] = off, link.Headroom
		tx.Len[j] = n
		in.Len[i] = 0
	} else {
		buf, off = tx.Bufs[j], link.Headroom
		n = copy(buf[off:off+link.MaxFrame], in.Frame(i))
		tx.Off[j], tx.Len[j] = off, n
	}
	tx.Meta[j] = link.Meta{Time: in.Meta[i].Time}
	tx.N++
	return j, buf[off : off+n], true
}

// alloc returns a free transmit buffer for a frame the director
// originates.
func (w *Worker) alloc(now int64) (int, []byte, bool) {
	tx := w.tx
	j := tx.N
	if j >= tx.Cap() {
		return 0, nil, false
	}
	tx.Off[j] = link.Headroom
	tx.Meta[j] = link.Meta{Time: now}
	return j, tx.Bufs[j][link.Headroom : link.Headroom+link.MaxFrame], true
}

// commit adds the frame alloc returned, of n bytes.
func (w *Worker) commit(j, n int) {
	w.tx.Len[j] = n
	w.tx.N = j + 1
}

// sendTo addresses transmit frame j to the neighbour ip (Ethernet), or
// parks it until ip resolves, asking for it from src.
func (w *Worker) sendTo(s *Snapshot, j int, ip, src netip.Addr, act Action, now int64) (Action, Reason) {
	if w.e.cfg.LinkType != link.Ethernet {
		return act, 0
	}
	return w.sendFrame(s, j, w.tx.Frame(j), ip, src, act, now)
}

// sendFrame is sendTo given out, transmit frame j.
func (w *Worker) sendFrame(s *Snapshot, j int, out []byte, ip, src netip.Addr, act Action, now int64) (Action, Reason) {
	if w.e.cfg.LinkType != link.Ethernet {
		return act, 0
	}
	if mac, ok := w.e.neigh.lookup(ip); ok {
		copy(out[0:6], mac[:])
		copy(out[6:12], s.MAC[:])
		return act, 0
	}
	return w.park(s, j, ip, src, act, now)
}

// sendToClient addresses frame j to a client: its static neighbour entry,
// else the MAC its connection arrived from, else resolution.
func (w *Worker) sendToClient(s *Snapshot, j int, client, src netip.Addr, act Action, now int64) (Action, Reason) {
	if w.e.cfg.LinkType != link.Ethernet {
		return act, 0
	}
	if _, ok := w.e.neigh.lookup(client); !ok {
		if mac, ok := w.e.clients.load(client); ok {
			out := w.tx.Frame(j)
			copy(out[0:6], mac[:])
			copy(out[6:12], s.MAC[:])
			return act, 0
		}
	}
	return w.sendTo(s, j, client, src, act, now)
}

// park takes frame j back out of the transmit batch and queues it until ip
// resolves; the first frame (and one per retry interval) sends a request.
func (w *Worker) park(s *Snapshot, j int, ip, src netip.Addr, act Action, now int64) (Action, Reason) {
	frame := w.tx.Frame(j)
	w.tx.N = j // frame j was the last one added
	copy(frame[6:12], s.MAC[:])
	ask, ok := w.e.neigh.queue(ip, frame, now, act)
	if !ok {
		return ActDrop, ReasonNeighQueueFull
	}
	if ask && src.IsValid() {
		w.solicit(s, ip, src, now)
	}
	return ActARPRequest, 0
}

// ICMP rate limiting: a token bucket on the worker's clock, like the
// kernel's icmp_ratelimit (per worker, so no shared state).
type tokenBucket struct {
	tokens int64 // scaled by 1e9
	last   int64
}

func (b *tokenBucket) allow(now int64, rate int) bool {
	max := int64(rate) * 1_000_000_000
	if b.last == 0 {
		b.tokens = max
	} else if now > b.last {
		b.tokens += (now - b.last) * int64(rate)
		if b.tokens > max {
			b.tokens = max
		}
	}
	b.last = now
	if b.tokens < 1_000_000_000 {
		return false
	}
	b.tokens -= 1_000_000_000
	return true
}

// noDest answers a packet no real server can take with ICMP port
// unreachable (ip_vs_leave), rate-limited, and drops it.
func (w *Worker) noDest(in *link.Batch, i int, s *Snapshot, now int64) (Action, Reason) {
	if w.sendICMP(in, i, s, icmpPortUnreachable, 0, now) {
		return ActICMP, ReasonNoDest
	}
	return ActDrop, ReasonNoDest
}

// timeExceeded answers a packet whose TTL ran out and drops it.
func (w *Worker) timeExceeded(in *link.Batch, i int, s *Snapshot, now int64) (Action, Reason) {
	if w.sendICMP(in, i, s, icmpTimeExceeded, 0, now) {
		return ActICMP, ReasonTTLExceeded
	}
	return ActDrop, ReasonTTLExceeded
}

// sendICMP originates an ICMP error about input frame i back to its
// sender.
func (w *Worker) sendICMP(in *link.Batch, i int, s *Snapshot, kind icmpKind, mtu int, now int64) bool {
	if !w.icmp.allow(now, s.ICMPRate) {
		return false
	}
	p := w.p
	src := w.srcFor(s, p.Src, p.Dst)
	if !src.IsValid() {
		return false
	}
	j, buf, ok := w.alloc(now)
	if !ok {
		return false
	}
	n := buildICMPError(buf, w.e.cfg.LinkType, p, in.Frame(i), kind, src, mtu, s.MAC)
	if n == 0 {
		return false
	}
	w.commit(j, n)
	// The error goes back where the packet came from: the sender's static
	// neighbour entry when there is one, else the frame's source MAC.
	if w.e.cfg.LinkType == link.Ethernet {
		mac := MAC(p.SrcMAC)
		if m, ok := w.e.neigh.lookup(p.Src); ok {
			mac = m
		}
		copy(w.tx.Frame(j)[0:6], mac[:])
	}
	return true
}
