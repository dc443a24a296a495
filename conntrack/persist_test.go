package conntrack

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/uvslb/uvs/scheduler"
)

// picker is a round-robin scheduler over fixed targets that counts its calls.
type picker struct {
	targets []Target
	next    int
	calls   int
	weight  map[scheduler.DestID]int32
	down    map[scheduler.DestID]bool
}

func newPicker(ts ...Target) *picker {
	return &picker{targets: ts, weight: map[scheduler.DestID]int32{}, down: map[scheduler.DestID]bool{}}
}

func (p *picker) pick() (Target, bool) {
	p.calls++
	for range p.targets {
		tg := p.targets[p.next%len(p.targets)]
		p.next++
		if !p.down[tg.Dest.ID] && p.weightOf(tg.Dest.ID) > 0 {
			return tg, true
		}
	}
	return Target{}, false
}

func (p *picker) weightOf(id scheduler.DestID) int32 {
	if w, ok := p.weight[id]; ok {
		return w
	}
	return 1
}

func (p *picker) dest(id scheduler.DestID) (Target, bool) {
	for _, tg := range p.targets {
		if tg.Dest.ID == id && !p.down[id] {
			tg.Dest.Weight = p.weightOf(id)
			return tg, true
		}
	}
	return Target{}, false
}

func threeReals() *picker {
	return newPicker(
		target(1, "192.168.1.11", 80, MethodMasq),
		target(2, "192.168.1.12", 80, MethodMasq),
		target(3, "192.168.1.13", 80, MethodMasq),
	)
}

func persistSvc() *Service {
	return &Service{Proto: ProtoTCP, Port: 80, PersistTimeout: 300 * time.Second, Netmask: 0xffffffff}
}

func mustSchedule(t *testing.T, tb *Table, now int64, k Key, svc *Service, p *picker) Conn {
	t.Helper()
	c, st := tb.Schedule(now, k, svc, p.pick, p.dest)
	if st != StatusCreated {
		t.Fatalf("Schedule(%d, %v) = %v, want created", now, k, st)
	}
	return c
}

func TestPersistSameClient(t *testing.T) {
	tb := newTable(t, Config{MaxConns: 64})
	p := threeReals()
	svc := persistSvc()
	var first scheduler.DestID
	for i := range 5 {
		k := key(ProtoTCP, "203.0.113.7", uint16(40000+i), "10.0.0.1", 80)
		c := mustSchedule(t, tb, int64(i)*sec, k, svc, p)
		if i == 0 {
			first = c.Dest
		}
		if c.Dest != first || c.Control.IsZero() {
			t.Fatalf("Schedule(%v) = dest %d control %v, want dest %d under a template", k, c.Dest, c.Control, first)
		}
	}
	if p.calls != 1 {
		t.Fatalf("scheduler called %d times for one client, want 1", p.calls)
	}
	other := mustSchedule(t, tb, 5*sec, key(ProtoTCP, "203.0.113.8", 40000, "10.0.0.1", 80), svc, p)
	if other.Dest == first || p.calls != 2 {
		t.Fatalf("second client: dest %d (first %d), scheduler calls %d; want another dest, 2 calls", other.Dest, first, p.calls)
	}
	if got := tb.Counters(first).Persist.Load(); got != 1 {
		t.Fatalf("Counters(%d).Persist = %d, want 1", first, got)
	}
	if got := tb.Counters(first).Inactive.Load(); got != 5 {
		t.Fatalf("Counters(%d).Inactive = %d, want 5", first, got)
	}
	st := tb.Stats()
	if st.Templates != 2 || st.Entries != 8 || st.ByState[StateNone] != 6 {
		t.Fatalf("Stats() = %+v, want 2 templates, 8 entries, 6 NONE", st)
	}
}

func TestPersistNetmask(t *testing.T) {
	tests := []struct {
		name    string
		svc     Service
		a, b, c string // a and b share a template, c does not
		vip     string
	}{
		{"ipv4 /24", Service{Proto: ProtoTCP, Port: 80, PersistTimeout: time.Minute, Netmask: 0xffffff00},
			"10.1.1.1", "10.1.1.200", "10.1.2.1", "10.0.0.1"},
		{"ipv4 /32", Service{Proto: ProtoTCP, Port: 80, PersistTimeout: time.Minute, Netmask: 0xffffffff},
			"10.1.1.1", "10.1.1.1", "10.1.1.2", "10.0.0.1"},
		{"ipv6 /64", Service{Proto: ProtoTCP, Port: 80, PersistTimeout: time.Minute, Prefix6: 64},
			"2001:db8:1:1::1", "2001:db8:1:1:ffff::9", "2001:db8:1:2::1", "2001:db8::80"},
		{"ipv6 /57", Service{Proto: ProtoTCP, Port: 80, PersistTimeout: time.Minute, Prefix6: 57},
			"2001:db8:1:100::1", "2001:db8:1:17f::1", "2001:db8:1:180::1", "2001:db8::80"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := newTable(t, Config{MaxConns: 64})
			p := newPicker(target(1, "192.168.1.11", 80, MethodMasq), target(2, "192.168.1.12", 80, MethodMasq))
			if tc.vip != "10.0.0.1" {
				p = newPicker(target(1, "2001:db8::11", 80, MethodMasq), target(2, "2001:db8::12", 80, MethodMasq))
			}
			ca := mustSchedule(t, tb, 0, key(ProtoTCP, tc.a, 1000, tc.vip, 80), &tc.svc, p)
			cb := mustSchedule(t, tb, 0, key(ProtoTCP, tc.b, 1001, tc.vip, 80), &tc.svc, p)
			cc := mustSchedule(t, tb, 0, key(ProtoTCP, tc.c, 1002, tc.vip, 80), &tc.svc, p)
			if ca.Dest != cb.Dest || ca.Control != cb.Control {
				t.Errorf("%s and %s: dests %d, %d; want one template", tc.a, tc.b, ca.Dest, cb.Dest)
			}
			if cc.Dest == ca.Dest || cc.Control == ca.Control {
				t.Errorf("%s and %s share dest %d; want different templates", tc.a, tc.c, cc.Dest)
			}
			if p.calls != 2 {
				t.Errorf("scheduler calls = %d, want 2", p.calls)
			}
		})
	}
}

func TestPersistQuiescent(t *testing.T) {
	for _, expireQuiescent := range []bool{false, true} {
		tb := newTable(t, Config{MaxConns: 64, ExpireQuiescentTemplate: expireQuiescent})
		p := threeReals()
		svc := persistSvc()
		c1 := mustSchedule(t, tb, 0, key(ProtoTCP, "203.0.113.7", 1000, "10.0.0.1", 80), svc, p)
		p.weight[c1.Dest] = 0
		c2 := mustSchedule(t, tb, sec, key(ProtoTCP, "203.0.113.7", 1001, "10.0.0.1", 80), svc, p)
		if expireQuiescent {
			if c2.Dest == c1.Dest || c2.Control == c1.Control || p.calls != 2 {
				t.Fatalf("expire_quiescent_template: second conn dest %d (first %d), calls %d; want rescheduled", c2.Dest, c1.Dest, p.calls)
			}
			// The invalidated template lives on, counted, until it expires.
			if got := tb.Counters(c1.Dest).Persist.Load(); got != 1 {
				t.Fatalf("old template Persist = %d, want 1 until expiry", got)
			}
			listed := 0
			for _, r := range tb.List(sec) {
				if r.Template && r.Dest == c1.Dest && r.Virtual.Port() == 65535 && r.Real.Port() == 65535 {
					listed++
				}
			}
			if listed != 1 {
				t.Fatalf("invalidated template listed %d times with ports 65535, want 1", listed)
			}
			c3 := mustSchedule(t, tb, 2*sec, key(ProtoTCP, "203.0.113.7", 1002, "10.0.0.1", 80), svc, p)
			if c3.Dest != c2.Dest || p.calls != 2 {
				t.Fatalf("third conn dest %d, calls %d; want the new template's dest %d", c3.Dest, p.calls, c2.Dest)
			}
			tb.Expire(c1.Ref)
			tb.Sweep(302*sec, 1000)
			if got := tb.Counters(c1.Dest).Persist.Load(); got != 0 {
				t.Fatalf("old template Persist after expiry = %d, want 0", got)
			}
		} else if c2.Dest != c1.Dest || p.calls != 1 {
			t.Fatalf("weight 0: second conn dest %d (first %d), calls %d; want kept", c2.Dest, c1.Dest, p.calls)
		}
		// A real server that is gone loses its clients either way.
		p.down[c2.Dest] = true
		c4 := mustSchedule(t, tb, 3*sec, key(ProtoTCP, "203.0.113.7", 1003, "10.0.0.1", 80), svc, p)
		if c4.Dest == c2.Dest {
			t.Fatalf("dest %d down: conn still sent there", c2.Dest)
		}
	}
}

func TestTemplateLifetime(t *testing.T) {
	t.Run("own timeout after last conn", func(t *testing.T) {
		tb := newTable(t, Config{MaxConns: 64})
		p := threeReals()
		svc := persistSvc() // 300 s
		c1 := mustSchedule(t, tb, 0, key(ProtoTCP, "203.0.113.7", 1000, "10.0.0.1", 80), svc, p)
		tb.Update(0, c1.Ref, DirInput, fSYN)
		tb.Update(0, c1.Ref, DirInput, fACK)
		tb.Update(10*sec, c1.Ref, DirInput, fRST) // CLOSE, gone at 20 s
		c2 := mustSchedule(t, tb, 100*sec, key(ProtoTCP, "203.0.113.7", 1001, "10.0.0.1", 80), svc, p)
		if c2.Control != c1.Control {
			t.Fatalf("second conn not under the first template")
		}
		tb.Update(100*sec, c2.Ref, DirInput, fSYN)
		tb.Update(100*sec, c2.Ref, DirInput, fACK)
		tb.Update(100*sec, c2.Ref, DirInput, fRST) // gone at 110 s
		tb.Sweep(150*sec, 1000)
		tmpl, ok := tb.Get(399*sec, c1.Control)
		if !ok || tmpl.Expires != 400*sec || tmpl.Timeout != 300*time.Second || !tmpl.Template {
			t.Fatalf("Get(template, 399s) = %+v, %v; want live, expiring at 400 s", tmpl, ok)
		}
		if _, ok := tb.Get(400*sec, c1.Control); ok {
			t.Fatalf("Get(template, 400s) found it; want expired")
		}
		if got := tb.Counters(c1.Dest).Persist.Load(); got != 0 {
			t.Fatalf("Persist after template expiry = %d, want 0", got)
		}
	})
	t.Run("60 s steps while controlling", func(t *testing.T) {
		tb := newTable(t, Config{MaxConns: 64})
		p := threeReals()
		svc := persistSvc()
		svc.PersistTimeout = 10 * time.Second
		c := mustSchedule(t, tb, 0, key(ProtoTCP, "203.0.113.7", 1000, "10.0.0.1", 80), svc, p)
		tb.Update(0, c.Ref, DirInput, fSYN)
		if tmpl, _ := tb.Get(0, c.Control); tmpl.State != StateNone {
			t.Fatalf("template state before ESTABLISHED = %v, want NONE", tmpl.State)
		}
		tb.Update(sec, c.Ref, DirInput, fACK)
		for _, at := range []int64{9, 10, 69, 70, 99} {
			tmpl, ok := tb.Get(at*sec, c.Control)
			wantExp, wantTO := int64(10), 10*time.Second
			if at >= 10 {
				wantExp, wantTO = 70, 60*time.Second
			}
			if at >= 70 {
				wantExp = 130
			}
			if !ok || tmpl.Expires != wantExp*sec || tmpl.Timeout != wantTO || tmpl.State != StateAssured {
				t.Fatalf("Get(template, %ds) = %+v, %v; want ASSURED, expires %ds, timeout %v", at, tmpl, ok, wantExp, wantTO)
			}
		}
		tb.Update(100*sec, c.Ref, DirInput, fRST) // CLOSE, gone at 110 s
		tb.Sweep(115*sec, 1000)
		if _, ok := tb.Get(129*sec, c.Control); !ok {
			t.Fatalf("template gone at 129 s; want it until its 60 s step at 130 s")
		}
		if _, ok := tb.Get(130*sec, c.Control); ok {
			t.Fatalf("template alive at 130 s with no connections")
		}
	})
	t.Run("udp reply assures", func(t *testing.T) {
		tb := newTable(t, Config{MaxConns: 64})
		p := threeReals()
		svc := &Service{Proto: ProtoUDP, Port: 53, PersistTimeout: time.Minute, Netmask: 0xffffffff}
		c := mustSchedule(t, tb, 0, key(ProtoUDP, "203.0.113.7", 1000, "10.0.0.1", 53), svc, p)
		tb.Update(0, c.Ref, DirInput, 0)
		if tmpl, _ := tb.Get(0, c.Control); tmpl.State != StateNone {
			t.Fatalf("template state after request = %v, want NONE", tmpl.State)
		}
		tb.Update(0, c.Ref, DirOutput, 0)
		if tmpl, _ := tb.Get(0, c.Control); tmpl.State != StateAssured {
			t.Fatalf("template state after reply = %v, want ASSURED", tmpl.State)
		}
	})
}

// TestTemplateIdentity checks the template keys and ports of reference
// ipvs.md §3.5.
func TestTemplateIdentity(t *testing.T) {
	tests := []struct {
		name     string
		svc      Service
		k        Key
		destPort uint16
		// template and connection as listed
		tmplProto            uint8
		tmplVirtual, tmplRel string
		connReal             string
	}{
		{"service port", Service{Proto: ProtoTCP, Port: 80}, key(ProtoTCP, "203.0.113.7", 1000, "10.0.0.1", 80), 8080,
			ProtoTCP, "10.0.0.1:80", "192.168.1.11:8080", "192.168.1.11:8080"},
		{"ftp", Service{Proto: ProtoTCP, Port: 21}, key(ProtoTCP, "203.0.113.7", 1000, "10.0.0.1", 21), 21,
			ProtoTCP, "10.0.0.1:0", "192.168.1.11:0", "192.168.1.11:21"},
		{"fwmark", Service{Proto: ProtoTCP, Fwmark: 5}, key(ProtoTCP, "203.0.113.7", 1000, "10.0.0.1", 443), 8443,
			ProtoIP, "0.0.0.5:0", "192.168.1.11:0", "192.168.1.11:443"},
		{"port zero", Service{Proto: ProtoTCP}, key(ProtoTCP, "203.0.113.7", 1000, "10.0.0.1", 8080), 0,
			ProtoTCP, "10.0.0.1:0", "192.168.1.11:0", "192.168.1.11:8080"},
		{"fwmark v6", Service{Proto: ProtoUDP, Fwmark: 7, Prefix6: 128}, key(ProtoUDP, "2001:db8::7", 1000, "2001:db8::80", 53), 53,
			ProtoIP, "[0:7::]:0", "[2001:db8::11]:0", "[2001:db8::11]:53"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := newTable(t, Config{MaxConns: 64})
			tc.svc.PersistTimeout = time.Minute
			tc.svc.Netmask = 0xffffff00
			addr := "192.168.1.11"
			if tc.k.CAddr.Is6() {
				addr = "2001:db8::11"
			}
			p := newPicker(target(1, addr, tc.destPort, MethodMasq))
			c := mustSchedule(t, tb, 0, tc.k, &tc.svc, p)
			if c.Real.String() != tc.connReal {
				t.Errorf("conn real = %v, want %s", c.Real, tc.connReal)
			}
			tmpl, ok := tb.Get(0, c.Control)
			if !ok {
				t.Fatalf("Get(template) failed")
			}
			wantClient := "203.0.113.0:0"
			if tc.k.CAddr.Is6() {
				wantClient = "[2001:db8::7]:0"
			}
			if tmpl.Proto != tc.tmplProto || tmpl.Virtual.String() != tc.tmplVirtual || tmpl.Real.String() != tc.tmplRel || tmpl.Client.String() != wantClient {
				t.Errorf("template = %s %v %v %v, want %s %s %s %s", ProtoName(tmpl.Proto), tmpl.Client, tmpl.Virtual, tmpl.Real,
					ProtoName(tc.tmplProto), wantClient, tc.tmplVirtual, tc.tmplRel)
			}
			// A second connection finds the same template.
			k2 := tc.k
			k2.CPort++
			c2 := mustSchedule(t, tb, sec, k2, &tc.svc, p)
			if c2.Control != c.Control || p.calls != 1 {
				t.Errorf("second conn: control %v (first %v), calls %d; want same template", c2.Control, c.Control, p.calls)
			}
		})
	}
}

func TestOnePacket(t *testing.T) {
	tb := newTable(t, Config{MaxConns: 64})
	p := threeReals()
	svc := &Service{Proto: ProtoUDP, Port: 53, OnePacket: true}
	k := key(ProtoUDP, "203.0.113.7", 1000, "10.0.0.1", 53)
	c, st := tb.Schedule(0, k, svc, p.pick, p.dest)
	if st != StatusCreated || !c.Ref.IsZero() || !c.Real.IsValid() {
		t.Fatalf("Schedule(ops) = %+v, %v; want an unstored conn", c, st)
	}
	if _, ok := tb.Lookup(0, k); ok {
		t.Fatalf("Lookup after one-packet Schedule found an entry")
	}
	svc.PersistTimeout = time.Minute
	svc.Netmask = 0xffffffff
	c1, _ := tb.Schedule(0, k, svc, p.pick, p.dest)
	c2, _ := tb.Schedule(sec, k, svc, p.pick, p.dest)
	if c1.Dest != c2.Dest {
		t.Fatalf("persistent ops: dests %d, %d; want pinned", c1.Dest, c2.Dest)
	}
	if st := tb.Stats(); st.Entries != 1 || st.Templates != 1 {
		t.Fatalf("Stats() = %+v, want only the template", st)
	}
	rows := tb.List(sec)
	if len(rows) != 1 || rows[0].Expires != 61*sec {
		t.Fatalf("List = %+v, want the template re-armed to 61 s", rows)
	}
}

func TestPortReuse(t *testing.T) {
	tb := newTable(t, Config{MaxConns: 64})
	p := threeReals()
	svc := &Service{Proto: ProtoTCP, Port: 80}
	k := key(ProtoTCP, "203.0.113.7", 1000, "10.0.0.1", 80)
	c := mustSchedule(t, tb, 0, k, svc, p)
	for _, f := range []uint8{fSYN, fACK, fFINACK} {
		tb.Update(0, c.Ref, DirInput, f)
	}
	tb.Update(0, c.Ref, DirOutput, fFINACK) // TIME_WAIT
	got, ok := tb.Lookup(sec, k)
	if !ok || got.State != StateTimeWait {
		t.Fatalf("Lookup = %v %v, want TIME_WAIT", got.State, ok)
	}
	for _, tc := range []struct {
		flags uint8
		want  bool
	}{{fSYN, true}, {fACK, false}, {fSYN | TCPFlagRST, false}, {fSYNACK, true}} {
		if r := got.ReuseExpected(tc.flags); r != tc.want {
			t.Errorf("ReuseExpected(%#x) in TIME_WAIT = %v, want %v", tc.flags, r, tc.want)
		}
	}
	nc := mustSchedule(t, tb, sec, k, svc, p)
	if nc.Dest == c.Dest || nc.Ref == c.Ref {
		t.Fatalf("rescheduled conn: dest %d ref %v; want a fresh pick and entry", nc.Dest, nc.Ref)
	}
	if _, ok := tb.Update(sec, c.Ref, DirInput, fACK); ok {
		t.Fatalf("Update(old ref) succeeded after replacement")
	}
	if a, i := tb.Counters(c.Dest).Active.Load(), tb.Counters(c.Dest).Inactive.Load(); a != 0 || i != 0 {
		t.Fatalf("old dest counts = %d/%d, want 0/0", a, i)
	}
	if st := tb.Stats(); st.Entries != 1 || st.Expired != 1 {
		t.Fatalf("Stats() = %+v, want 1 entry, 1 expired", st)
	}
	// A connection under a template is not "expected to be new".
	pc := mustSchedule(t, tb, sec, key(ProtoTCP, "203.0.113.9", 1000, "10.0.0.1", 80), persistSvc(), p)
	tb.Update(sec, pc.Ref, DirInput, fSYN)
	tb.Update(sec, pc.Ref, DirInput, fRST)
	tb.Update(sec, pc.Ref, DirInput, 0)
	g, _ := tb.Get(sec, pc.Ref)
	if g.State != StateClose || g.ReuseExpected(fSYN) {
		t.Fatalf("controlled conn in %v: ReuseExpected(SYN) = true, want false", g.State)
	}
}

func TestLookupOut(t *testing.T) {
	tb := newTable(t, Config{MaxConns: 64, Shards: 4})
	nat := target(1, "192.168.1.11", 8080, MethodMasq)
	dr := target(2, "192.168.1.12", 80, MethodRoute)
	nat6 := target(3, "2001:db8::11", 8080, MethodMasq)
	kn := key(ProtoTCP, "203.0.113.7", 1000, "10.0.0.1", 80)
	kd := key(ProtoTCP, "203.0.113.8", 1000, "10.0.0.1", 80)
	k6 := key(ProtoTCP, "2001:db8:9::7", 1000, "2001:db8::80", 80)
	cn, _ := tb.Schedule(0, kn, &Service{Proto: ProtoTCP, Port: 80}, fixed(nat), noDest)
	cd, _ := tb.Schedule(0, kd, &Service{Proto: ProtoTCP, Port: 80}, fixed(dr), noDest)
	c6, _ := tb.Schedule(0, k6, &Service{Proto: ProtoTCP, Port: 80}, fixed(nat6), noDest)
	ap := netip.MustParseAddrPort
	tests := []struct {
		src, dst string
		want     Ref
	}{
		{"192.168.1.11:8080", "203.0.113.7:1000", cn.Ref},
		{"10.0.0.1:80", "203.0.113.7:1000", Ref{}}, // NAT conn: source must be the real server
		{"10.0.0.1:80", "203.0.113.8:1000", cd.Ref},
		{"192.168.1.12:80", "203.0.113.8:1000", Ref{}},
		{"192.168.1.11:8080", "203.0.113.7:1001", Ref{}},
		{"[2001:db8::11]:8080", "[2001:db8:9::7]:1000", c6.Ref},
		{"[2001:db8::12]:8080", "[2001:db8:9::7]:1000", Ref{}},
	}
	for _, tc := range tests {
		s, d := ap(tc.src), ap(tc.dst)
		c, ok := tb.LookupOut(0, ProtoTCP, s.Addr(), s.Port(), d.Addr(), d.Port())
		if ok != !tc.want.IsZero() || c.Ref != tc.want {
			t.Errorf("LookupOut(%s → %s) = %v, %v; want %v", tc.src, tc.dst, c.Ref, ok, tc.want)
		}
	}
	if c, ok := tb.Lookup(0, k6); !ok || c.Ref != c6.Ref || c.Real.String() != "[2001:db8::11]:8080" {
		t.Errorf("Lookup(%v) = %+v, %v", k6, c, ok)
	}
	if _, ok := tb.Lookup(0, Key{Proto: ProtoTCP, CAddr: k6.CAddr, VAddr: kn.VAddr}); ok {
		t.Errorf("Lookup with mixed families succeeded")
	}
}

func TestFlushDest(t *testing.T) {
	tb := newTable(t, Config{MaxConns: 256, Shards: 4})
	p := threeReals()
	svc := persistSvc()
	byDest := map[scheduler.DestID]int{}
	for i := range 30 {
		c := mustSchedule(t, tb, 0, key(ProtoTCP, fmt.Sprintf("203.0.113.%d", i%10), uint16(1000+i), "10.0.0.1", 80), svc, p)
		tb.Update(0, c.Ref, DirInput, fSYN)
		byDest[c.Dest]++
	}
	u := mustSchedule(t, tb, 0, key(ProtoUDP, "198.51.100.1", 53, "10.0.0.1", 53), &Service{Proto: ProtoUDP, Port: 53}, p)
	byDest[u.Dest]++
	victim := u.Dest
	before := tb.Stats().Entries
	cn := tb.Counters(victim)
	removed := tb.FlushDest(sec, victim)
	if want := byDest[victim] + int(cn.Persist.Load()); removed == 0 || cn.Active.Load() != 0 || cn.Inactive.Load() != 0 || cn.Persist.Load() != 0 {
		t.Fatalf("FlushDest(%d) removed %d; counters %d/%d/%d, want all zero (about %d entries)", victim, removed, cn.Active.Load(), cn.Inactive.Load(), cn.Persist.Load(), want)
	}
	if after := tb.Stats().Entries; before-after != int64(removed) {
		t.Fatalf("FlushDest(%d) = %d, but entries went %d → %d", victim, removed, before, after)
	}
	for _, c := range tb.List(sec) {
		if c.Dest == victim {
			t.Fatalf("entry for flushed dest %d left: %+v", victim, c)
		}
	}
	for id := scheduler.DestID(1); id <= 3; id++ {
		if id == victim {
			continue
		}
		if got := tb.Counters(id).Active.Load(); int(got) != byDest[id] {
			t.Errorf("Counters(%d).Active = %d, want %d (untouched)", id, got, byDest[id])
		}
	}
}
