package dataplane

import "sync/atomic"

// Counters are the five IPVS traffic counters of a service, a real server or
// the whole director (reference ipvs.md §10).
type Counters struct {
	Conns, InPkts, OutPkts, InBytes, OutBytes uint64
}

// Sub returns c - o field by field.
func (c Counters) Sub(o Counters) Counters {
	return Counters{c.Conns - o.Conns, c.InPkts - o.InPkts, c.OutPkts - o.OutPkts, c.InBytes - o.InBytes, c.OutBytes - o.OutBytes}
}

// statShard is one worker's slice of a Stats, padded to its own cache line
// so workers never write the same line.
type statShard struct {
	conns, inPkts, outPkts, inBytes, outBytes atomic.Uint64
	_                                         [64 - 40]byte
}

// Stats are the live counters of a service or real server plus its rate
// estimator. Each dataplane worker adds to its own shard (no shared cache
// line, no lock); readers sum the shards. A Stats lives across snapshots
// for as long as its service or real server exists (and, like IPVS's trash,
// keeps its counters when a real server is re-added).
type Stats struct {
	shards []statShard
	// zero is the snapshot taken by Zero (ipvsadm -Z): reported values are
	// current - zero, as in the kernel.
	zero atomic.Pointer[Counters]
	est  estimator
}

// NewStats returns Stats for the given number of workers (at least one).
func NewStats(workers int) *Stats {
	if workers < 1 {
		workers = 1
	}
	return &Stats{shards: make([]statShard, workers)}
}

// Each shard has one writer (its worker), so the counters are bumped with
// an atomic load and store rather than an atomic add; readers see whole
// values. The store is still a locked instruction on amd64 (XCHG), which
// is why packets are counted per batch (statBatch).
func bump(c *atomic.Uint64, n uint64) { c.Store(c.Load() + n) }

// add adds c to worker w's shard.
func (s *Stats) add(w int, c *Counters) {
	sh := &s.shards[w]
	if c.Conns != 0 {
		bump(&sh.conns, c.Conns)
	}
	if c.InPkts != 0 {
		bump(&sh.inPkts, c.InPkts)
		bump(&sh.inBytes, c.InBytes)
	}
	if c.OutPkts != 0 {
		bump(&sh.outPkts, c.OutPkts)
		bump(&sh.outBytes, c.OutBytes)
	}
}

// statBatchSize is how many Stats one batch gathers counts for before it
// adds them early.
const statBatchSize = 8

// statBatch gathers a worker's counts during one Process call in plain
// memory and adds them to their Stats at its end: an atomic store costs
// about as much as the rest of a packet's counting, and a batch usually
// touches only a service and a few real servers. Readers see the counts at
// most one batch late.
type statBatch struct {
	n   int
	ent [statBatchSize]struct {
		s *Stats
		c Counters
	}
}

// of returns the pending counts of s.
func (b *statBatch) of(w int, s *Stats) *Counters {
	for i := range b.n {
		if b.ent[i].s == s {
			return &b.ent[i].c
		}
	}
	if b.n == len(b.ent) {
		b.flush(w)
	}
	e := &b.ent[b.n]
	b.n++
	e.s, e.c = s, Counters{}
	return &e.c
}

func (b *statBatch) in(w int, s *Stats, n int) {
	c := b.of(w, s)
	c.InPkts++
	c.InBytes += uint64(n)
}

func (b *statBatch) out(w int, s *Stats, n int) {
	c := b.of(w, s)
	c.OutPkts++
	c.OutBytes += uint64(n)
}

func (b *statBatch) conn(w int, s *Stats) { b.of(w, s).Conns++ }

// flush adds the pending counts to their Stats.
func (b *statBatch) flush(w int) {
	for i := range b.n {
		e := &b.ent[i]
		e.s.add(w, &e.c)
		e.s = nil
	}
	b.n = 0
}

// raw sums the shards without the zero offset.
func (s *Stats) raw() Counters {
	var c Counters
	for i := range s.shards {
		sh := &s.shards[i]
		c.Conns += sh.conns.Load()
		c.InPkts += sh.inPkts.Load()
		c.OutPkts += sh.outPkts.Load()
		c.InBytes += sh.inBytes.Load()
		c.OutBytes += sh.outBytes.Load()
	}
	return c
}

// Snapshot returns the counters as ipvsadm --stats reports them (since the
// last Zero).
func (s *Stats) Snapshot() Counters {
	c := s.raw()
	if z := s.zero.Load(); z != nil {
		c = c.Sub(*z)
	}
	return c
}

// Zero makes the reported counters start again from 0 and resets the rate
// estimator, as ipvsadm -Z does (the kernel snapshots rather than clears).
func (s *Stats) Zero() {
	c := s.raw()
	s.zero.Store(&c)
	s.est.reset(c)
}

// Rates are the estimated per-second rates ipvsadm --rate prints.
type Rates struct {
	CPS, InPPS, OutPPS, InBPS, OutBPS uint64
}

// Rates returns the current estimates.
func (s *Stats) Rates() Rates { return s.est.rates() }

// Estimate runs one 2-second estimator step (the kernel's
// ip_vs_read_estimator arithmetic, reference ipvs.md §10). The caller calls
// it every EstimatorInterval of its clock (capture time under replay).
func (s *Stats) Estimate() { s.est.step(s.raw()) }

// EstimatorInterval is the kernel's estimation period (2 s, in ns).
const EstimatorInterval = 2_000_000_000

// estimator keeps the kernel's scaled EWMA values. step and reset are
// called by one control goroutine; rates may be read concurrently, so the
// averages are atomics.
type estimator struct {
	last               Counters
	cps, inpps, outpps atomic.Int64 // scaled by 2^10
	inbps, outbps      atomic.Int64 // scaled by 2^5
	primed             bool
}

// ewma is avg += ((delta << shift) - avg) >> 2 in signed 64-bit arithmetic
// (arithmetic right shift rounds toward -inf, as in C on the kernel's
// targets).
func ewma(avg *atomic.Int64, delta uint64, shift uint) {
	a := avg.Load()
	a += (int64(delta)<<shift - a) >> 2
	avg.Store(a)
}

func (e *estimator) step(now Counters) {
	if !e.primed {
		// The kernel's first estimation of a new estimator starts from
		// the counters at registration; we start from the first step.
		e.last, e.primed = now, true
		return
	}
	d := now.Sub(e.last)
	e.last = now
	ewma(&e.cps, d.Conns, 9)
	ewma(&e.inpps, d.InPkts, 9)
	ewma(&e.outpps, d.OutPkts, 9)
	ewma(&e.inbps, d.InBytes, 4)
	ewma(&e.outbps, d.OutBytes, 4)
}

func (e *estimator) reset(now Counters) {
	e.last, e.primed = now, true
	e.cps.Store(0)
	e.inpps.Store(0)
	e.outpps.Store(0)
	e.inbps.Store(0)
	e.outbps.Store(0)
}

func (e *estimator) rates() Rates {
	return Rates{
		CPS:    uint64((e.cps.Load() + 0x1FF) >> 10),
		InPPS:  uint64((e.inpps.Load() + 0x1FF) >> 10),
		OutPPS: uint64((e.outpps.Load() + 0x1FF) >> 10),
		InBPS:  uint64((e.inbps.Load() + 0xF) >> 5),
		OutBPS: uint64((e.outbps.Load() + 0xF) >> 5),
	}
}
