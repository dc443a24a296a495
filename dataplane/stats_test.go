package dataplane

import "testing"

// TestEstimator checks the kernel's EWMA arithmetic (reference ipvs.md §10)
// on a constant load, derived by hand:
//
//	100 conns/s → Δconns = 200 per 2 s step.
//	step 1 primes (no estimate yet).
//	step 2: cps_avg = 0 + ((200<<9) − 0)>>2 = 102400>>2 = 25600 → (25600+511)>>10 = 25.
//	step 3: cps_avg = 25600 + (102400 − 25600)>>2 = 25600 + 19200 = 44800 → 44.
//	limit: 102400 → (102400+511)>>10 = 100.
//
//	bytes: 1000 B/s → Δ = 2000; inbps_avg step 2 = (2000<<4)>>2 = 8000 → (8000+15)>>5 = 250.
func TestEstimator(t *testing.T) {
	s := NewStats(2)
	step := func() {
		for i := 0; i < 200; i++ {
			s.add(i%2, &Counters{Conns: 1})
		}
		s.add(0, &Counters{InPkts: 1, InBytes: 1000})
		s.add(1, &Counters{InPkts: 1, InBytes: 1000})
		s.Estimate()
	}
	s.Estimate() // primes
	want := []uint64{25, 44, 58, 68}
	for i, w := range want {
		step()
		if got := s.Rates().CPS; got != w {
			t.Fatalf("after step %d: Rates().CPS = %d, want %d", i+2, got, w)
		}
	}
	for i := 0; i < 100; i++ {
		step()
	}
	r := s.Rates()
	if r.CPS != 100 || r.InPPS != 1 || r.InBPS != 1000 {
		t.Fatalf("steady state Rates() = %+v, want CPS 100, InPPS 1, InBPS 1000", r)
	}
	if c := s.Snapshot(); c.Conns != 200*104 || c.InPkts != 2*104 || c.InBytes != 2000*104 {
		t.Fatalf("Snapshot() = %+v", c)
	}
	s.Zero()
	if c, r := s.Snapshot(), s.Rates(); c != (Counters{}) || r != (Rates{}) {
		t.Fatalf("after Zero: Snapshot() = %+v, Rates() = %+v, want zeros", c, r)
	}
	s.add(1, &Counters{OutPkts: 1, OutBytes: 60})
	if c := s.Snapshot(); c.OutPkts != 1 || c.OutBytes != 60 {
		t.Fatalf("after Out: Snapshot() = %+v", c)
	}
}
