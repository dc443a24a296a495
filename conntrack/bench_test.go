package conntrack

import (
	"encoding/binary"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/uvslb/uvs/scheduler"
	"golang.org/x/sys/unix"
)

// threadCPU is the CPU time consumed by the calling OS thread.
func threadCPU(b *testing.B) int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		b.Fatal(err)
	}
	return ts.Nano()
}

// cpuPerOp reports, besides wall time, the CPU time the benchmark's thread
// actually got per operation ("cpu-ns/op"): on a shared machine the wall
// time includes time spent descheduled. Call the returned func after the
// loop.
func cpuPerOp(b *testing.B) func() {
	runtime.LockOSThread()
	start := threadCPU(b)
	return func() {
		b.ReportMetric(float64(threadCPU(b)-start)/float64(b.N), "cpu-ns/op")
		runtime.UnlockOSThread()
	}
}

// benchKey is the j-th distinct IPv4 client key: 16 client ports per
// client address under 10.0.0.0/8, all to one VIP.
func benchKey(j uint64) Key {
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], 0x0a000000+uint32(j>>4))
	return Key{Proto: ProtoTCP, CAddr: netip.AddrFrom4(a), CPort: 1024 + uint16(j&15),
		VAddr: netip.AddrFrom4([4]byte{192, 0, 2, 1}), VPort: 80}
}

// spread visits 0..n-1 in a scattered order (a multiplicative step), so that
// successive operations hit unrelated cache lines.
func spread(i, n uint64) uint64 { return (i * 0x9E3779B97F4A7C15 >> 11) % n }

type benchState struct {
	tb     *Table
	refs   []Ref
	n      uint64
	nextID uint64 // next fresh key index
	bytes  float64
}

func buildBench(b *testing.B, n int) *benchState {
	b.Helper()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	tb, err := New(Config{MaxConns: n, Seed: 7})
	if err != nil {
		b.Fatal(err)
	}
	tg := Target{Dest: scheduler.Dest{ID: 1, Addr: netip.AddrFrom4([4]byte{192, 168, 1, 11}), Port: 80, Weight: 1}, Method: MethodMasq}
	pick := func() (Target, bool) { return tg, true }
	svc := &Service{Proto: ProtoTCP, Port: 80}
	refs := make([]Ref, n)
	for j := range uint64(n) {
		c, st := tb.Schedule(0, benchKey(j), svc, pick, nil)
		if st != StatusCreated {
			b.Fatalf("Schedule(%d) = %v", j, st)
		}
		tb.Update(0, c.Ref, DirInput, fSYN)
		tb.Update(0, c.Ref, DirInput, fACK)
		refs[j] = c.Ref
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	refBytes := float64(n) * 8
	return &benchState{tb: tb, refs: refs, n: uint64(n), nextID: uint64(n),
		bytes: (float64(after.HeapAlloc) - float64(before.HeapAlloc) - refBytes) / float64(n)}
}

// farEntries counts the live entries placed outside their home's window
// (on far chains, see index.go): the index's overflow.
func farEntries(tb *Table) int {
	n := 0
	for si := range tb.shards {
		s := &tb.shards[si]
		for slot := range uint32(len(s.ents)) {
			if e := &s.ents[slot]; e.flags&fUsed != 0 && e.flags&fUnlinked == 0 && s.tagByte(slot)&tagMask == 0 {
				n++
			}
		}
	}
	return n
}

// BenchmarkTable measures lookups, updates and inserts on a table holding
// 1k, 1M and 10M ESTABLISHED IPv4 connections, plus heap bytes per entry and
// the GC pause with the table live. The 10M size is skipped under -short.
func BenchmarkTable(b *testing.B) {
	sizes := []struct {
		name string
		n    int
	}{{"1k", 1 << 10}, {"1M", 1 << 20}, {"10M", 10_000_000}}
	for _, sz := range sizes {
		if sz.n > 1<<20 && testing.Short() {
			b.Logf("skipping %s under -short", sz.name)
			continue
		}
		st := buildBench(b, sz.n)
		tb := st.tb
		now := int64(time.Second)
		// The keys, made up front in a scattered order (so that the
		// figures are the table's alone): every entry at 1M, 1M of the 10M.
		keys := make([]Key, min(sz.n, 1<<20))
		for i := range keys {
			keys[i] = benchKey(spread(uint64(i), st.n))
		}
		mask := len(keys) - 1 // a power of two
		if len(keys)&mask != 0 {
			b.Fatalf("%d keys: not a power of two", len(keys))
		}
		farPct := 100 * float64(farEntries(tb)) / float64(st.n)
		b.Run("LookupHit/"+sz.name, func(b *testing.B) {
			defer cpuPerOp(b)()
			b.ReportMetric(st.bytes, "heapB/entry")
			b.ReportMetric(farPct, "far%")
			for i := range b.N {
				if _, ok := tb.Lookup(now, keys[i&mask]); !ok {
					b.Fatal("miss")
				}
			}
		})
		b.Run("LookupBatch32/"+sz.name, func(b *testing.B) {
			defer cpuPerOp(b)()
			var out [32]Conn
			var found [32]bool
			for i := 0; i < b.N; i += 32 {
				j := i & mask
				tb.LookupBatch(now, keys[j:j+32], out[:], found[:])
				if !found[0] {
					b.Fatal("miss")
				}
			}
		})
		b.Run("LookupBatchHits32/"+sz.name, func(b *testing.B) {
			defer cpuPerOp(b)()
			var out [32]Hit
			var found [32]bool
			for i := 0; i < b.N; i += 32 {
				j := i & mask
				tb.LookupBatchHits(now, keys[j:j+32], nil, out[:], found[:])
				if !found[0] {
					b.Fatal("miss")
				}
			}
		})
		// Lookup and state change together: an ACK on each connection.
		b.Run("LookupBatchHitsStep32/"+sz.name, func(b *testing.B) {
			defer cpuPerOp(b)()
			var out [32]Hit
			var found [32]bool
			var steps [32]Step
			for i := range steps {
				steps[i] = Step{Now: now, TCPFlags: fACK, Advance: true}
			}
			for i := 0; i < b.N; i += 32 {
				j := i & mask
				tb.LookupBatchHits(now, keys[j:j+32], steps[:], out[:], found[:])
				if !found[0] || out[0].State != StateEstablished {
					b.Fatal("miss")
				}
			}
		})
		b.Run("LookupMiss/"+sz.name, func(b *testing.B) {
			defer cpuPerOp(b)()
			for i := range uint64(b.N) {
				k := benchKey(spread(i, st.n))
				k.VPort = 81
				if _, ok := tb.Lookup(now, k); ok {
					b.Fatal("hit")
				}
			}
		})
		b.Run("Update/"+sz.name, func(b *testing.B) {
			defer cpuPerOp(b)()
			for i := range uint64(b.N) {
				if _, ok := tb.Update(now, st.refs[spread(i, st.n)], DirInput, fACK); !ok {
					b.Fatal("stale")
				}
			}
		})
		b.Run("LookupUpdate/"+sz.name, func(b *testing.B) {
			defer cpuPerOp(b)()
			for i := range uint64(b.N) {
				c, ok := tb.Lookup(now, keys[i&uint64(mask)])
				if !ok {
					b.Fatal("miss")
				}
				tb.Update(now, c.Ref, DirInput, fACK)
			}
		})
		b.Run("LookupUpdateCombined/"+sz.name, func(b *testing.B) {
			defer cpuPerOp(b)()
			for i := range uint64(b.N) {
				if _, ok := tb.LookupUpdate(now, keys[i&uint64(mask)], DirInput, fACK); !ok {
					b.Fatal("miss")
				}
			}
		})
		b.Run("LookupParallel/"+sz.name, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				i := uint64(0)
				for pb.Next() {
					i++
					tb.Lookup(now, keys[i&uint64(mask)])
				}
			})
		})
		// Insert at steady size: each op expires the oldest entry and
		// schedules a fresh key into its place.
		b.Run("ExpireInsert/"+sz.name, func(b *testing.B) {
			defer cpuPerOp(b)()
			tg := Target{Dest: scheduler.Dest{ID: 1, Addr: netip.AddrFrom4([4]byte{192, 168, 1, 11}), Port: 80, Weight: 1}, Method: MethodMasq}
			pick := func() (Target, bool) { return tg, true }
			svc := &Service{Proto: ProtoTCP, Port: 80}
			for range b.N {
				slot := st.nextID % st.n
				tb.Expire(st.refs[slot])
				c, s := tb.Schedule(now, benchKey(st.nextID), svc, pick, nil)
				if s != StatusCreated {
					b.Fatalf("Schedule = %v", s)
				}
				st.refs[slot] = c.Ref
				st.nextID++
			}
		})
		// Sweep over live, unexpired entries: the cost per examined slot.
		b.Run("Sweep4096/"+sz.name, func(b *testing.B) {
			defer cpuPerOp(b)()
			for range b.N {
				if n := tb.Sweep(now, 4096); n != 0 {
					b.Fatalf("Sweep removed %d", n)
				}
			}
		})
		keys = nil // not part of the heap the GC figures describe
		b.Run("GC/"+sz.name, func(b *testing.B) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for range b.N {
				runtime.GC()
			}
			runtime.ReadMemStats(&after)
			gcs := float64(after.NumGC - before.NumGC)
			b.ReportMetric(float64(after.PauseTotalNs-before.PauseTotalNs)/gcs, "pause-ns/gc")
			var maxPause uint64
			// PauseNs[(k+255)%256] is the pause of GC number k (1-based);
			// only the last 256 are kept.
			for k := max(before.NumGC+1, after.NumGC-255); k <= after.NumGC; k++ {
				maxPause = max(maxPause, after.PauseNs[(k+255)%256])
			}
			b.ReportMetric(float64(maxPause), "max-pause-ns")
			b.ReportMetric(float64(after.HeapAlloc)/float64(st.n), "heapB/entry")
		})
		runtime.KeepAlive(tb)
	}
}

// benchKey6 is the j-th distinct IPv6 client key.
func benchKey6(j uint64) Key {
	var a [16]byte
	a[0], a[1] = 0x20, 0x01
	binary.BigEndian.PutUint64(a[8:], j>>4)
	return Key{Proto: ProtoTCP, CAddr: netip.AddrFrom16(a), CPort: 1024 + uint16(j&15),
		VAddr: netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}), VPort: 80}
}

// BenchmarkTable6 measures IPv6 lookups and heap bytes per IPv6 entry (the
// side store included) at 1k and 1M entries.
func BenchmarkTable6(b *testing.B) {
	for _, sz := range []struct {
		name string
		n    int
	}{{"1k", 1 << 10}, {"1M", 1 << 20}} {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		tb, err := New(Config{MaxConns: sz.n, Seed: 7})
		if err != nil {
			b.Fatal(err)
		}
		tg := Target{Dest: scheduler.Dest{ID: 1, Addr: netip.MustParseAddr("2001:db8::11"), Port: 80, Weight: 1}, Method: MethodMasq}
		pick := func() (Target, bool) { return tg, true }
		svc := &Service{Proto: ProtoTCP, Port: 80}
		for j := range uint64(sz.n) {
			c, st := tb.Schedule(0, benchKey6(j), svc, pick, nil)
			if st != StatusCreated {
				b.Fatalf("Schedule(%d) = %v", j, st)
			}
			tb.Update(0, c.Ref, DirInput, fSYN)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perEntry := (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(sz.n)
		n := uint64(sz.n)
		b.Run("LookupHit/"+sz.name, func(b *testing.B) {
			defer cpuPerOp(b)()
			b.ReportMetric(perEntry, "heapB/entry")
			for i := range uint64(b.N) {
				if _, ok := tb.Lookup(int64(time.Second), benchKey6(spread(i, n))); !ok {
					b.Fatal("miss")
				}
			}
		})
		runtime.KeepAlive(tb)
	}
}
