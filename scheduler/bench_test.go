package scheduler

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
)

// BenchmarkPick measures Pick for every scheduler at 3, 100 and 1000 real
// servers with random weights 1..10 and random live counts. Inputs rotate
// over 1024 sources (and, for dh/lblc/lblcr, 1024 destinations, so the
// lblc/lblcr caches are warm: the per-packet cost of a new connection to a
// known destination).
func BenchmarkPick(b *testing.B) {
	for _, name := range Names() {
		for _, n := range []int{3, 100, 1000} {
			b.Run(fmt.Sprintf("%s/%d", name, n), func(b *testing.B) {
				r := rand.New(rand.NewPCG(uint64(n), 1))
				f := newFakeLoad()
				s := mustNew(b, name, 0, f, Options{})
				ds := make([]Dest, n)
				for i := range ds {
					id := DestID(i + 1)
					ds[i] = Dest{ID: id, Addr: netip.AddrFrom4([4]byte{10, 0, byte(id >> 8), byte(id)}), Port: 80, Weight: int32(1 + r.IntN(10))}
					f.set(id, int32(r.IntN(50)), int32(r.IntN(500)), false)
				}
				if err := s.Update(ds); err != nil {
					b.Fatalf("Update = %v", err)
				}
				ins := make([]Input, 1024)
				for i := range ins {
					ins[i] = Input{
						Src:     netip.AddrFrom4([4]byte{192, 0, byte(i >> 8), byte(i)}),
						Dst:     netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)}),
						SrcPort: uint16(r.Uint32()),
					}
					s.Pick(&ins[i])
				}
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					in := &ins[i&1023]
					in.Now = int64(i)
					s.Pick(in)
				}
			})
		}
	}
}

// BenchmarkPickParallel measures contended Picks (all dataplane workers on
// one service) for the schedulers with shared mutable state and for mh.
func BenchmarkPickParallel(b *testing.B) {
	for _, name := range []string{"rr", "wrr", "mh", "lblc"} {
		b.Run(name, func(b *testing.B) {
			f := newFakeLoad()
			s := mustNew(b, name, 0, f, Options{})
			var ds []Dest
			for i := 1; i <= 100; i++ {
				ds = append(ds, dest(DestID(i), int32(1+i%5)))
			}
			if err := s.Update(ds); err != nil {
				b.Fatalf("Update = %v", err)
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				in := &Input{Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("198.51.100.1")}
				for pb.Next() {
					in.SrcPort++
					s.Pick(in)
				}
			})
		})
	}
}

// BenchmarkUpdate measures rebuilding after one change at 1000 real
// servers (control plane).
func BenchmarkUpdate(b *testing.B) {
	for _, name := range []string{"wrr", "sh", "mh"} {
		b.Run(name, func(b *testing.B) {
			s := mustNew(b, name, 0, newFakeLoad(), Options{})
			var ds []Dest
			for i := 1; i <= 1000; i++ {
				ds = append(ds, dest(DestID(i), int32(1+i%5)))
			}
			for i := 0; b.Loop(); i++ {
				ds[i%1000].Weight = int32(1 + i%7)
				if err := s.Update(ds); err != nil {
					b.Fatalf("Update = %v", err)
				}
			}
		})
	}
}
