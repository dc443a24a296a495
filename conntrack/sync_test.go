package conntrack

import (
	"net/netip"
	"testing"
	"time"

	"github.com/uvslb/uvs/scheduler"
)

func TestRestore(t *testing.T) {
	tb := newTable(t, Config{MaxConns: 64})
	k := key(ProtoTCP, "203.0.113.7", 1000, "10.0.0.1", 80)
	real := netip.MustParseAddrPort("192.168.1.11:8080")
	sc := Synced{Key: k, Real: real, Dest: 1, Method: MethodMasq, State: StateEstablished, Timeout: 900 * time.Second}
	steps := []struct {
		state            State
		dest             int
		active, inactive [3]int32 // by dest 1, 2 (index 0 unused)
	}{
		{StateEstablished, 1, [3]int32{0, 1, 0}, [3]int32{}},
		{StateEstablished, 1, [3]int32{0, 1, 0}, [3]int32{}},
		{StateFinWait, 1, [3]int32{}, [3]int32{0, 1, 0}},
		{StateSynRecv, 1, [3]int32{0, 1, 0}, [3]int32{}},
		{StateSynRecv, 2, [3]int32{0, 0, 1}, [3]int32{}}, // moved to another real server: replaced
	}
	for i, st := range steps {
		sc.State = st.state
		sc.Dest = 1
		sc.Real = real
		if st.dest == 2 {
			sc.Dest, sc.Real = 2, netip.MustParseAddrPort("192.168.1.12:8080")
		}
		now := int64(i) * sec
		c, s := tb.Restore(now, sc)
		if s != StatusCreated || c.State != st.state || c.Expires != now+900*sec || c.Real != sc.Real {
			t.Fatalf("step %d: Restore(%+v) = %+v, %v", i, sc, c, s)
		}
		for d := 1; d <= 2; d++ {
			cn := tb.Counters(scheduler.DestID(d))
			if cn.Active.Load() != st.active[d] || cn.Inactive.Load() != st.inactive[d] {
				t.Fatalf("step %d: Counters(%d) = %d/%d, want %d/%d", i, d, cn.Active.Load(), cn.Inactive.Load(), st.active[d], st.inactive[d])
			}
		}
		if got, ok := tb.LookupOut(now, ProtoTCP, sc.Real.Addr(), sc.Real.Port(), k.CAddr, k.CPort); !ok || got.Ref != c.Ref {
			t.Fatalf("step %d: LookupOut after Restore = %v, %v", i, got.Ref, ok)
		}
	}
	if st := tb.Stats(); st.Entries != 1 {
		t.Fatalf("Stats().Entries = %d, want 1", st.Entries)
	}
	if _, s := tb.Restore(0, Synced{Key: k, Real: real, Dest: 1, Method: MethodMasq}); s != StatusBadKey {
		t.Fatalf("Restore(no state) = %v, want bad-key", s)
	}
}

func TestRestoreTemplate(t *testing.T) {
	tb := newTable(t, Config{MaxConns: 64})
	tk := key(ProtoTCP, "203.0.113.0", 0, "10.0.0.1", 80)
	c, s := tb.Restore(0, Synced{Key: tk, Real: netip.MustParseAddrPort("192.168.1.12:80"), Dest: 2, Method: MethodMasq,
		State: StateAssured, Template: true, Timeout: 300 * time.Second})
	if s != StatusCreated || !c.Template || c.State != StateAssured {
		t.Fatalf("Restore(template) = %+v, %v", c, s)
	}
	if got := tb.Counters(2).Persist.Load(); got != 1 {
		t.Fatalf("Persist = %d, want 1", got)
	}
	p := threeReals()
	svc := persistSvc()
	svc.Netmask = 0xffffff00
	nc := mustSchedule(t, tb, sec, key(ProtoTCP, "203.0.113.77", 5000, "10.0.0.1", 80), svc, p)
	if nc.Dest != 2 || p.calls != 0 || nc.Control != c.Ref {
		t.Fatalf("Schedule after restored template: dest %d, calls %d, control %v; want dest 2 via %v", nc.Dest, p.calls, nc.Control, c.Ref)
	}
}

// TestRestoreTemplateInUse moves a template that controls a connection to
// another real server: the old one must stay (invalidated) until its
// connection is gone, and nothing may be corrupted when it goes.
func TestRestoreTemplateInUse(t *testing.T) {
	tb := newTable(t, Config{MaxConns: 64})
	p := threeReals()
	svc := persistSvc()
	c := mustSchedule(t, tb, 0, key(ProtoTCP, "203.0.113.7", 1000, "10.0.0.1", 80), svc, p)
	old, _ := tb.Get(0, c.Control)
	other := scheduler.DestID(3)
	if c.Dest == other {
		other = 2
	}
	tk := Key{Proto: ProtoTCP, CAddr: old.Client.Addr(), VAddr: old.Virtual.Addr(), VPort: old.Virtual.Port()}
	nt, s := tb.Restore(sec, Synced{Key: tk, Real: netip.MustParseAddrPort("192.168.1.13:80"), Dest: other, Method: MethodMasq,
		State: StateNone, Template: true, Timeout: 300 * time.Second})
	if s != StatusCreated || nt.Ref == old.Ref {
		t.Fatalf("Restore(moved template) = %+v, %v; want a new template", nt, s)
	}
	if _, ok := tb.Get(sec, c.Control); !ok {
		t.Fatalf("template in use was removed by Restore")
	}
	c2 := mustSchedule(t, tb, 2*sec, key(ProtoTCP, "203.0.113.7", 1001, "10.0.0.1", 80), svc, p)
	if c2.Dest != other || c2.Control != nt.Ref {
		t.Fatalf("new conn dest %d control %v, want dest %d via the restored template", c2.Dest, c2.Control, other)
	}
	tb.Expire(c.Ref)
	tb.Sweep(400*sec, 1000)
	tb.Sweep(800*sec, 1000)
	if st := tb.Stats(); st.Entries != 0 {
		t.Fatalf("after expiry Stats() = %+v, want empty", st)
	}
	for id := scheduler.DestID(1); id <= 3; id++ {
		cn := tb.Counters(id)
		if cn.Active.Load() != 0 || cn.Inactive.Load() != 0 || cn.Persist.Load() != 0 {
			t.Fatalf("Counters(%d) = %d/%d/%d, want zeros", id, cn.Active.Load(), cn.Inactive.Load(), cn.Persist.Load())
		}
	}
}
