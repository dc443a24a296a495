package dataplane

import (
	"net/netip"
	"sync/atomic"

	"github.com/uvslb/uvs/conntrack"
	"github.com/uvslb/uvs/internal/link"
	"github.com/uvslb/uvs/scheduler"
)

// Config is what an Engine is built from.
type Config struct {
	// Table is the connection table; it also provides the scheduler Load.
	Table *conntrack.Table
	// Workers is the number of workers (and of Stats shards); at least 1.
	Workers int
	// LinkType is the kind of frames the engine's link carries.
	LinkType link.Type
	// Neighbours are static IP → MAC entries (config, --neigh).
	Neighbours map[netip.Addr]MAC
	// BatchSize is the largest input batch a worker takes with its
	// prefetch phase; 0 means 64. The transmit batch holds BatchSize +
	// maxPendingFrames + 1 frames (one output per input, plus the frames a
	// resolved neighbour releases); what does not fit is dropped and
	// counted as no_buffer.
	BatchSize int
}

// Engine is the dataplane: a snapshot, the connection table, neighbour
// state, and workers that process frame batches.
type Engine struct {
	cfg     Config
	table   *conntrack.Table
	snap    atomic.Pointer[Snapshot]
	neigh   *neighTable
	clients *macCache
	workers []*Worker
	// neighDrops counts frames dropped when their neighbour never
	// resolved (they are not attributed to one worker).
	neighDrops atomic.Uint64
	// lastEstimate and lastSweep are the control clock (Tick).
	lastEstimate, lastSweep int64
}

// NewEngine returns an engine with no snapshot: until Swap is called every
// frame is passed (no forwarding before the first configuration).
func NewEngine(cfg Config) *Engine {
	if cfg.Workers < 1 {
		cfg.Workers = 1
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 64
	}
	e := &Engine{cfg: cfg, table: cfg.Table, neigh: newNeighTable(cfg.Neighbours), clients: newMACCache()}
	for i := 0; i < cfg.Workers; i++ {
		e.workers = append(e.workers, newWorker(e, i))
	}
	return e
}

// Swap installs a new snapshot; workers pick it up at their next batch.
func (e *Engine) Swap(s *Snapshot) { e.snap.Store(s) }

// Snapshot returns the snapshot in force, or nil.
func (e *Engine) Snapshot() *Snapshot { return e.snap.Load() }

// Worker returns worker i. Each worker must be driven by one goroutine.
func (e *Engine) Worker(i int) *Worker { return e.workers[i] }

// Drops returns the number of dropped frames per reason, over all workers.
func (e *Engine) Drops() [NumReasons]uint64 {
	var out [NumReasons]uint64
	for _, w := range e.workers {
		for i := range w.drops {
			out[i] += w.drops[i].Load()
		}
	}
	out[ReasonNeighUnresolved] += e.neighDrops.Load()
	return out
}

// Tick runs the time-driven work on the engine's clock (monotonic ns, or
// capture time under replay): the 2-second rate estimator, an incremental
// connection-table sweep and neighbour-resolution give-ups. The daemon
// calls it periodically, from one goroutine (its clock fields are not
// shared); replay calls it before every frame.
func (e *Engine) Tick(now int64) {
	if e.lastEstimate == 0 {
		e.lastEstimate = now
	}
	for now-e.lastEstimate >= EstimatorInterval {
		e.lastEstimate += EstimatorInterval
		if s := e.snap.Load(); s != nil {
			for _, svc := range s.services {
				svc.Stats.Estimate()
				for _, d := range svc.Dests {
					d.Stats.Estimate()
				}
			}
		}
	}
	if now-e.lastSweep >= sweepInterval {
		e.lastSweep = now
		e.table.Sweep(now, sweepBudget)
	}
	if n := e.neigh.expire(now); n > 0 {
		e.neighDrops.Add(uint64(n))
	}
}

// Sweep pacing: every 100 ms of clock, look at up to 4096 entries (a full
// 1M-entry table is visited in under 30 s, well within the shortest
// timeouts' tolerance; lookups never return expired entries anyway).
const (
	sweepInterval = 100_000_000
	sweepBudget   = 4096
)

// scheduler input and callbacks run under a conntrack shard lock; the
// worker keeps the per-packet context in fields so the callbacks are
// method values built once (no allocation per new connection).
type schedCtx struct {
	svc    *Service
	snap   *Snapshot
	in     scheduler.Input
	picked bool // the scheduler ran (false: a template chose)
}
