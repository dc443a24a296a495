package scheduler

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestNeverQuiescentOrOverloaded: for every scheduler and flag set, over
// random lists, weights and loads, a pick is always a listed real server
// with weight > 0 and, except for lblc's cache hit (which the kernel does
// not check for OVERLOAD), not OVERLOADed; and when some real server is
// usable, the rr/wrr/lc family always find one (dh/sh/mh may legitimately
// hash to an unusable bucket).
func TestNeverQuiescentOrOverloaded(t *testing.T) {
	alwaysFinds := map[string]bool{"rr": true, "wrr": true, "lc": true, "wlc": true, "sed": true, "nq": true, "fo": true, "twos": true}
	for _, name := range Names() {
		for _, flags := range []Flags{0, FlagFallback | FlagPort} {
			r := rand.New(rand.NewPCG(uint64(len(name)), uint64(flags)))
			f := newFakeLoad()
			s := mustNew(t, name, flags, f, Options{})
			now := int64(0)
			for it := range 300 {
				var list []Dest
				for i := range 1 + r.IntN(8) {
					list = append(list, dest(DestID(1+i+r.IntN(3)*10), int32(r.IntN(4))))
				}
				if err := s.Update(list); err != nil {
					// Random IDs may repeat; such a list is rejected, skip it.
					continue
				}
				randomLoad(r, f, ids(list), 0.3)
				byID := map[DestID]Dest{}
				usable := false
				for _, d := range list {
					byID[d.ID] = d
					usable = usable || usableModel(f, d)
				}
				for range 5 {
					now += int64(time.Second)
					in := randomInput(r)
					in.Now = now
					d, ok := s.Pick(in)
					if !ok {
						if usable && alwaysFinds[name] {
							t.Fatalf("%s flags %d iter %d: Pick(%+v) = none with a usable real server in %v", name, flags, it, in, list)
						}
						continue
					}
					cur, listed := byID[d.ID]
					if !listed || cur.Weight <= 0 {
						t.Fatalf("%s flags %d iter %d: Pick = %v, not a listed real server with weight > 0 (%v)", name, flags, it, d, list)
					}
					if name != "lblc" && f.Counters(d.ID).Overload.Load() {
						t.Fatalf("%s flags %d iter %d: Pick = %v, which is OVERLOADed", name, flags, it, d)
					}
				}
			}
		}
	}
}
