package link

import (
	"io"
	"sync"
	"sync/atomic"
)

// Mem is one end of an in-memory link pair made by NewPair: what one end
// writes, the other reads. It is the test twin of a live link (compare
// gVisor's link/channel and wireguard-go's tuntest). Queues are bounded: a
// write to a full queue drops the frame and counts it, never blocks.
// Frames are copied on write, so the writer keeps its buffers, and copied
// again into the reader's buffers at Headroom. Mem starts no goroutines.
type Mem struct {
	typ Type
	mtu int
	rx  *queue // frames for this end to read
	tx  *queue // the peer's rx

	closeOnce sync.Once

	sent, received, dropped atomic.Uint64
}

var _ Link = (*Mem)(nil)

// queue is one direction of a pair.
type queue struct {
	// ready has room for one token: it is signalled after every change a
	// blocked reader waits for (a frame queued, either end closed).
	ready chan struct{}

	mu sync.Mutex
	// Guarded by mu:
	slots        [][]byte // ring of depth frames; slot memory is reused
	meta         []Meta
	head, n      int
	readerClosed bool // the reading end was closed
	writerClosed bool // the writing end was closed
}

func newQueue(depth int) *queue {
	return &queue{
		ready: make(chan struct{}, 1),
		slots: make([][]byte, depth),
		meta:  make([]Meta, depth),
	}
}

func (q *queue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// MemStats counts what one end of a pair did.
type MemStats struct {
	// Sent is the number of frames this end queued for its peer.
	Sent uint64
	// Received is the number of frames this end read.
	Received uint64
	// Dropped is the number of frames lost at this end: written while the
	// peer's queue was full, longer than MaxFrame, or read into a buffer
	// too small for them.
	Dropped uint64
}

// NewPair returns two connected in-memory links of type typ and MTU mtu,
// each direction queueing at most depth frames (depth < 1 means 1).
func NewPair(typ Type, mtu, depth int) (a, b *Mem) {
	depth = max(depth, 1)
	ab, ba := newQueue(depth), newQueue(depth)
	a = &Mem{typ: typ, mtu: mtu, rx: ba, tx: ab}
	b = &Mem{typ: typ, mtu: mtu, rx: ab, tx: ba}
	return a, b
}

// ReadBatch copies queued frames into b's own buffers, each at Headroom
// (Off[i] = Headroom; Bufs are never replaced), and sets b.N. It blocks
// until a frame is queued. It returns ErrClosed once this end is closed,
// and io.EOF once the peer is closed and every frame it sent was read.
// One reader at a time is expected; concurrent readers are safe.
func (m *Mem) ReadBatch(b *Batch) error {
	b.N = 0
	if b.Cap() == 0 {
		return nil // nothing could be returned; do not wait for it
	}
	q := m.rx
	for {
		q.mu.Lock()
		if q.readerClosed {
			q.mu.Unlock()
			q.signal() // wake any other blocked reader
			return ErrClosed
		}
		if q.n > 0 {
			m.takeLocked(b)
			more := q.n > 0
			q.mu.Unlock()
			if more {
				q.signal() // hand the rest to another reader
			}
			if b.N == 0 {
				continue // every frame taken was dropped
			}
			return nil
		}
		if q.writerClosed {
			q.mu.Unlock()
			q.signal()
			return io.EOF
		}
		q.mu.Unlock()
		<-q.ready
	}
}

// takeLocked moves up to b.Cap() frames from m.rx into b.
func (m *Mem) takeLocked(b *Batch) {
	q := m.rx
	for q.n > 0 && b.N < b.Cap() {
		f := q.slots[q.head]
		meta := q.meta[q.head]
		q.head = (q.head + 1) % len(q.slots)
		q.n--
		i := b.N
		off := Headroom
		if len(b.Bufs[i]) < Headroom+len(f) {
			off = 0
			if len(b.Bufs[i]) < len(f) {
				m.dropped.Add(1)
				continue
			}
		}
		b.Off[i] = off
		b.Len[i] = copy(b.Bufs[i][off:], f)
		b.Meta[i] = meta
		b.N++
		m.received.Add(1)
	}
}

// WriteBatch copies b's N frames into the peer's queue. Frames that do not
// fit (queue full, or longer than MaxFrame) are dropped and counted in
// Stats; they still count as handled, so it returns b.N unless an end is
// closed, when it returns the frames handled so far and ErrClosed.
func (m *Mem) WriteBatch(b *Batch) (int, error) {
	q := m.tx
	q.mu.Lock()
	defer q.signal()
	defer q.mu.Unlock()
	for i := 0; i < b.N; i++ {
		if q.writerClosed || q.readerClosed {
			return i, ErrClosed
		}
		f := b.Frame(i)
		if len(f) > MaxFrame || q.n == len(q.slots) {
			m.dropped.Add(1)
			continue
		}
		tail := (q.head + q.n) % len(q.slots)
		q.slots[tail] = append(q.slots[tail][:0], f...)
		q.meta[tail] = b.Meta[i]
		q.n++
		m.sent.Add(1)
	}
	return b.N, nil
}

// Type returns the link type given to NewPair.
func (m *Mem) Type() Type { return m.typ }

// MTU returns the MTU given to NewPair.
func (m *Mem) MTU() int { return m.mtu }

// Stats returns this end's counters.
func (m *Mem) Stats() MemStats {
	return MemStats{Sent: m.sent.Load(), Received: m.received.Load(), Dropped: m.dropped.Load()}
}

// Close closes this end: its blocked and later ReadBatch calls return
// ErrClosed, writes to or from it return ErrClosed, and the peer reads what
// was already queued for it and then io.EOF. Closing twice is a no-op.
func (m *Mem) Close() error {
	m.closeOnce.Do(func() {
		m.rx.mu.Lock()
		m.rx.readerClosed = true
		m.rx.mu.Unlock()
		m.rx.signal()
		m.tx.mu.Lock()
		m.tx.writerClosed = true
		m.tx.mu.Unlock()
		m.tx.signal()
	})
	return nil
}
