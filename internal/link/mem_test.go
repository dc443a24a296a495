package link

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/synctest"
)

// fill puts frames into batch b (at Headroom) with times t0+i.
func fill(b *Batch, frames [][]byte, t0 int64) {
	for i, f := range frames {
		b.Off[i] = Headroom
		b.Len[i] = copy(b.Bufs[i][Headroom:], f)
		b.Meta[i] = Meta{Time: t0 + int64(i), Flags: MetaFlags(i % 2)}
	}
	b.N = len(frames)
}

func frames(n, size int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = bytes.Repeat([]byte{byte(i + 1)}, size+i)
	}
	return out
}

func TestPairRoundTrip(t *testing.T) {
	a, b := NewPair(Ethernet, 1500, 8)
	defer a.Close()
	defer b.Close()
	if a.Type() != Ethernet || b.MTU() != 1500 {
		t.Fatalf("Type() = %v, MTU() = %d", a.Type(), b.MTU())
	}
	for _, dir := range []struct {
		name string
		w, r *Mem
	}{{"a→b", a, b}, {"b→a", b, a}} {
		want := frames(3, 60)
		wb := NewBatch(4)
		fill(wb, want, 1000)
		if n, err := dir.w.WriteBatch(wb); n != 3 || err != nil {
			t.Fatalf("%s: WriteBatch = %d, %v; want 3, nil", dir.name, n, err)
		}
		// Copy on write: the writer may reuse its buffers at once.
		for i := range wb.Bufs {
			clear(wb.Bufs[i])
		}
		rb := NewBatch(4)
		if err := dir.r.ReadBatch(rb); err != nil || rb.N != 3 {
			t.Fatalf("%s: ReadBatch = %v, N %d; want nil, 3", dir.name, err, rb.N)
		}
		for i := range want {
			if !bytes.Equal(rb.Frame(i), want[i]) || rb.Off[i] != Headroom {
				t.Errorf("%s: frame %d = %x at %d, want %x at %d", dir.name, i, rb.Frame(i), rb.Off[i], want[i], Headroom)
			}
			if w := (Meta{Time: 1000 + int64(i), Flags: MetaFlags(i % 2)}); rb.Meta[i] != w {
				t.Errorf("%s: meta %d = %+v, want %+v", dir.name, i, rb.Meta[i], w)
			}
		}
	}
	if s := a.Stats(); s != (MemStats{Sent: 3, Received: 3}) {
		t.Errorf("a.Stats() = %+v", s)
	}
}

func TestPairBatchSmallerThanQueue(t *testing.T) {
	a, b := NewPair(RawIP, 1500, 8)
	wb := NewBatch(5)
	fill(wb, frames(5, 20), 0)
	a.WriteBatch(wb)
	rb := NewBatch(2)
	var got []int
	for range 3 {
		if err := b.ReadBatch(rb); err != nil {
			t.Fatalf("ReadBatch = %v", err)
		}
		got = append(got, rb.N)
	}
	if fmt.Sprint(got) != "[2 2 1]" {
		t.Errorf("ReadBatch sizes = %v, want [2 2 1]", got)
	}
}

func TestPairQueueFullDrops(t *testing.T) {
	a, b := NewPair(Ethernet, 1500, 2)
	wb := NewBatch(5)
	fill(wb, frames(5, 60), 0)
	if n, err := a.WriteBatch(wb); n != 5 || err != nil {
		t.Fatalf("WriteBatch(5 into depth 2) = %d, %v; want 5, nil (drops are counted, not errors)", n, err)
	}
	if s := a.Stats(); s.Sent != 2 || s.Dropped != 3 {
		t.Errorf("a.Stats() = %+v, want Sent 2 Dropped 3", s)
	}
	rb := NewBatch(8)
	if err := b.ReadBatch(rb); err != nil || rb.N != 2 || rb.Frame(1)[0] != 2 {
		t.Fatalf("ReadBatch = %v, N %d; want the first 2 frames", err, rb.N)
	}
	// Oversize frames are dropped too.
	big := NewBatch(1)
	big.Bufs[0] = make([]byte, Headroom+MaxFrame+1)
	big.Off[0], big.Len[0], big.N = Headroom, MaxFrame+1, 1
	a.WriteBatch(big)
	if s := a.Stats(); s.Dropped != 4 {
		t.Errorf("after oversize frame a.Stats() = %+v, want Dropped 4", s)
	}
}

func TestPairEmptyBatch(t *testing.T) {
	a, b := NewPair(Ethernet, 1500, 4)
	wb := NewBatch(1)
	fill(wb, frames(1, 10), 0)
	a.WriteBatch(wb)
	if err := b.ReadBatch(&Batch{}); err != nil {
		t.Errorf("ReadBatch(zero-capacity batch) = %v, want nil", err)
	}
	rb := NewBatch(1)
	if err := b.ReadBatch(rb); err != nil || rb.N != 1 {
		t.Errorf("ReadBatch after an empty batch = %v, N %d; want the queued frame", err, rb.N)
	}
}

func TestPairShortReaderBuffer(t *testing.T) {
	a, b := NewPair(Ethernet, 1500, 4)
	wb := NewBatch(2)
	fill(wb, [][]byte{make([]byte, 200), make([]byte, 50)}, 0)
	a.WriteBatch(wb)
	rb := &Batch{Bufs: [][]byte{make([]byte, 100), make([]byte, 100)}, Off: make([]int, 2), Len: make([]int, 2), Meta: make([]Meta, 2)}
	if err := b.ReadBatch(rb); err != nil || rb.N != 1 || rb.Len[0] != 50 || rb.Off[0] != 0 {
		t.Fatalf("ReadBatch(100-byte buffers) = %v, N %d Len %d Off %d; want the 50-byte frame at 0", err, rb.N, rb.Len[0], rb.Off[0])
	}
	if s := b.Stats(); s.Dropped != 1 {
		t.Errorf("b.Stats() = %+v, want Dropped 1", s)
	}
}

func TestPairCloseUnblocksReader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := NewPair(Ethernet, 1500, 4)
		done := make(chan error)
		go func() { done <- a.ReadBatch(NewBatch(1)) }()
		synctest.Wait() // the reader is blocked: nothing is queued
		a.Close()
		if err := <-done; !errors.Is(err, ErrClosed) {
			t.Errorf("blocked ReadBatch after Close = %v, want ErrClosed", err)
		}
		if err := a.ReadBatch(NewBatch(1)); !errors.Is(err, ErrClosed) {
			t.Errorf("ReadBatch on closed end = %v, want ErrClosed", err)
		}
		wb := NewBatch(1)
		fill(wb, frames(1, 10), 0)
		if _, err := a.WriteBatch(wb); !errors.Is(err, ErrClosed) {
			t.Errorf("WriteBatch on closed end = %v, want ErrClosed", err)
		}
		if _, err := b.WriteBatch(wb); !errors.Is(err, ErrClosed) {
			t.Errorf("WriteBatch to closed peer = %v, want ErrClosed", err)
		}
		b.Close()
	})
}

func TestPairPeerCloseDrainsThenEOF(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := NewPair(Ethernet, 1500, 4)
		wb := NewBatch(2)
		fill(wb, frames(2, 10), 0)
		a.WriteBatch(wb)
		a.Close()
		rb := NewBatch(4)
		if err := b.ReadBatch(rb); err != nil || rb.N != 2 {
			t.Fatalf("ReadBatch after peer Close = %v, N %d; want the 2 queued frames", err, rb.N)
		}
		if err := b.ReadBatch(rb); err != io.EOF {
			t.Fatalf("ReadBatch after drain = %v, want io.EOF", err)
		}
		// A reader blocked before the peer closes is woken with io.EOF.
		c, d := NewPair(Ethernet, 1500, 4)
		done := make(chan error)
		go func() { done <- d.ReadBatch(NewBatch(1)) }()
		synctest.Wait()
		c.Close()
		if err := <-done; err != io.EOF {
			t.Errorf("blocked ReadBatch after peer Close = %v, want io.EOF", err)
		}
		b.Close()
		d.Close()
	})
}

func TestPairConcurrent(t *testing.T) {
	a, b := NewPair(Ethernet, 1500, 1024)
	const total = 5000
	done := make(chan int)
	go func() {
		rb := NewBatch(16)
		n := 0
		for n < total {
			if err := b.ReadBatch(rb); err != nil {
				break
			}
			for i := 0; i < rb.N; i++ {
				if rb.Frame(i)[0] != byte(n) {
					t.Errorf("frame %d = %d, want %d (order)", n, rb.Frame(i)[0], byte(n))
				}
				n++
			}
		}
		done <- n
	}()
	wb := NewBatch(1)
	for i := 0; i < total; {
		fill(wb, [][]byte{{byte(i)}}, 0)
		before := a.Stats().Dropped
		a.WriteBatch(wb)
		if a.Stats().Dropped == before {
			i++
		}
	}
	if n := <-done; n != total {
		t.Errorf("read %d frames, want %d", n, total)
	}
	a.Close()
	b.Close()
}

func TestPairSteadyStateAllocs(t *testing.T) {
	a, b := NewPair(Ethernet, 1500, 4)
	wb, rb := NewBatch(4), NewBatch(4)
	fill(wb, frames(4, 100), 0)
	a.WriteBatch(wb) // first use sizes the queue slots
	b.ReadBatch(rb)
	if n := testing.AllocsPerRun(100, func() {
		a.WriteBatch(wb)
		b.ReadBatch(rb)
	}); n != 0 {
		t.Errorf("WriteBatch+ReadBatch allocs = %v, want 0", n)
	}
}
