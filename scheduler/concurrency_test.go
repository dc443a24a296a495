package scheduler

import (
	"net/netip"
	"sync"
	"testing"
	"time"
)

// TestPickAllocs proves Pick does not allocate, for every scheduler, with
// and without the fallback/port flags; lblc and lblcr on their cache-hit
// path (a miss may grow a bucket).
func TestPickAllocs(t *testing.T) {
	for _, name := range Names() {
		for _, flags := range []Flags{0, FlagFallback | FlagPort} {
			f := newFakeLoad()
			s := mustNew(t, name, flags, f, Options{})
			var ds []Dest
			for i := 1; i <= 10; i++ {
				ds = append(ds, dest(DestID(i), int32(i%4)))
			}
			if err := s.Update(ds); err != nil {
				t.Fatalf("%s.Update = %v", name, err)
			}
			f.set(3, 1, 2, true) // some OVERLOAD to exercise fallback
			in := &Input{Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("198.51.100.7"), SrcPort: 4321}
			s.Pick(in) // warm the lblc/lblcr cache
			if n := testing.AllocsPerRun(1000, func() {
				in.Now += int64(time.Millisecond)
				s.Pick(in)
			}); n != 0 {
				t.Errorf("%s (flags %d): Pick allocates %v times per call, want 0", name, flags, n)
			}
		}
	}
}

// TestRoundRobinLinearizable: with a fixed list, concurrent Picks of rr and
// wrr behave as if serialised: over a whole number of periods every real
// server gets exactly its share (rr: equal; wrr: its weight).
func TestRoundRobinLinearizable(t *testing.T) {
	for _, tc := range []struct {
		name    string
		weights []int32
	}{
		{"rr", []int32{1, 1, 1}},
		{"wrr", []int32{3, 1, 2}},
	} {
		f := newFakeLoad()
		s := mustNew(t, tc.name, 0, f, Options{})
		var ds []Dest
		period := int32(0)
		for i, w := range tc.weights {
			ds = append(ds, dest(DestID(i+1), w))
			period += w
		}
		if err := s.Update(ds); err != nil {
			t.Fatalf("Update = %v", err)
		}
		const workers, perWorker = 4, 3000 // 12000 picks = 2000 periods of 6
		counts := make([]map[DestID]int, workers)
		var wg sync.WaitGroup
		for w := range workers {
			counts[w] = map[DestID]int{}
			wg.Go(func() {
				for range perWorker {
					counts[w][pickID(s, &Input{})]++
				}
			})
		}
		wg.Wait()
		total := map[DestID]int{}
		for _, c := range counts {
			for id, n := range c {
				total[id] += n
			}
		}
		periods := workers * perWorker / int(period)
		for i, w := range tc.weights {
			if got, want := total[DestID(i+1)], periods*int(w); got != want {
				t.Errorf("%s: real server %d (w%d) picked %d times in %d concurrent picks, want %d", tc.name, i+1, w, got, workers*perWorker, want)
			}
		}
	}
}

// TestConcurrentPickUpdate runs Picks on several goroutines while the list
// changes; under -race this checks the snapshot and cursor handover. Every
// pick must name a real server that was in one of the lists with weight > 0.
func TestConcurrentPickUpdate(t *testing.T) {
	lists := [][]Dest{
		{dest(1, 1), dest(2, 2), dest(3, 3)},
		{dest(4, 2), dest(2, 1)},
		{dest(5, 1), dest(4, 2), dest(2, 1), dest(1, 4)},
		{},
	}
	valid := map[DestID]bool{}
	for _, l := range lists {
		for _, d := range l {
			valid[d.ID] = true
		}
	}
	for _, name := range Names() {
		f := newFakeLoad()
		for id := range valid {
			f.Counters(id)
		}
		s := mustNew(t, name, FlagFallback, f, Options{})
		stop := make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan DestID, 4)
		for w := range 3 {
			wg.Go(func() {
				in := &Input{Src: netip.AddrFrom4([4]byte{10, 1, 1, byte(w)}), Dst: netip.AddrFrom4([4]byte{10, 2, 2, byte(w)})}
				for {
					select {
					case <-stop:
						return
					default:
					}
					in.Now += int64(time.Second)
					in.SrcPort++
					if d, ok := s.Pick(in); ok && !valid[d.ID] {
						select {
						case errs <- d.ID:
						default:
						}
						return
					}
				}
			})
		}
		for i := range 200 {
			if err := s.Update(lists[i%len(lists)]); err != nil {
				t.Fatalf("%s.Update = %v", name, err)
			}
		}
		close(stop)
		wg.Wait()
		select {
		case id := <-errs:
			t.Fatalf("%s: Pick returned unknown real server %d", name, id)
		default:
		}
	}
}
