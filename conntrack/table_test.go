package conntrack

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/uvslb/uvs/scheduler"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

func establish(t *testing.T, tb *Table, now int64, k Key, tg Target) Conn {
	t.Helper()
	c, st := tb.Schedule(now, k, &Service{Proto: k.Proto, Port: k.VPort}, fixed(tg), noDest)
	if st != StatusCreated {
		t.Fatalf("Schedule(%v) = %v", k, st)
	}
	tb.Update(now, c.Ref, DirInput, fSYN)
	tb.Update(now, c.Ref, DirInput, fACK)
	return c
}

// TestEviction fills a one-shard table and checks the order in which
// entries make room: half-open first, then closing, never an ESTABLISHED
// flow with recent traffic; idle ones once IdleEvict has passed.
func TestEviction(t *testing.T) {
	tb := newTable(t, Config{MaxConns: 8})
	rs := target(1, "192.168.1.11", 80, MethodRoute)
	k := func(i int) Key { return key(ProtoTCP, "203.0.113.7", uint16(1000+i), "10.0.0.1", 80) }
	var old []Conn
	for i := range 4 {
		old = append(old, establish(t, tb, 0, k(i), rs))
	}
	for i := 4; i < 6; i++ { // half-open
		c, _ := tb.Schedule(0, k(i), &Service{Proto: ProtoTCP, Port: 80}, fixed(rs), noDest)
		tb.Update(0, c.Ref, DirInput, fSYN)
	}
	for i := 6; i < 8; i++ { // closing
		c := establish(t, tb, 0, k(i), rs)
		tb.Update(0, c.Ref, DirInput, fFINACK) // ES → FW (input only)
	}
	wantEvicted := []State{StateSynRecv, StateSynRecv, StateFinWait, StateFinWait}
	var fresh []Conn
	for i, want := range wantEvicted {
		before := tb.Stats().EvictedByState
		c := establish(t, tb, sec, k(100+i), rs)
		fresh = append(fresh, c)
		after := tb.Stats().EvictedByState
		if after[want] != before[want]+1 {
			t.Fatalf("insert %d: evicted by state %v → %v, want one more %v", i, before, after, want)
		}
	}
	st := tb.Stats()
	if st.Entries != 8 || st.Evicted != 4 || st.ByState[StateEstablished] != 8 {
		t.Fatalf("Stats() = %+v, want 8 ESTABLISHED entries, 4 evicted", st)
	}
	for _, c := range fresh {
		tb.Update(30*sec, c.Ref, DirInput, fACK)
	}
	// Only busy ESTABLISHED flows left: refuse, and count it.
	if _, s := tb.Schedule(31*sec, k(200), &Service{Proto: ProtoTCP, Port: 80}, fixed(rs), noDest); s != StatusRefused {
		t.Fatalf("Schedule into a table of busy flows = %v, want refused", s)
	}
	if _, s := tb.Schedule(31*sec+1, k(201), &Service{Proto: ProtoTCP, Port: 80}, fixed(rs), noDest); s != StatusRefused {
		t.Fatalf("second Schedule into a table of busy flows = %v, want refused", s)
	}
	if st := tb.Stats(); st.Refused != 2 || st.Evicted != 4 || st.Entries != 8 {
		t.Fatalf("Stats() = %+v, want 2 refused, 4 evicted, 8 entries", st)
	}
	if a := tb.Counters(1).Active.Load(); a != 8 {
		t.Fatalf("Active = %d, want 8", a)
	}
	// At 62 s the first four have been idle for 62 s, the fresh ones for 32 s.
	c, s := tb.Schedule(62*sec, k(202), &Service{Proto: ProtoTCP, Port: 80}, fixed(rs), noDest)
	if s != StatusCreated {
		t.Fatalf("Schedule with idle flows present = %v, want created", s)
	}
	gone := 0
	for _, o := range old {
		if _, ok := tb.Get(62*sec, o.Ref); !ok {
			gone++
		}
	}
	for _, f := range fresh {
		if _, ok := tb.Get(62*sec, f.Ref); !ok {
			t.Fatalf("a flow with traffic 32 s ago was evicted")
		}
	}
	if gone != 1 {
		t.Fatalf("%d idle flows evicted, want 1", gone)
	}
	if a, i := tb.Counters(1).Active.Load(), tb.Counters(1).Inactive.Load(); a != 7 || i != 1 {
		t.Fatalf("counts after idle eviction = %d/%d, want 7/1", a, i)
	}
	if _, ok := tb.Get(62*sec, c.Ref); !ok {
		t.Fatalf("new conn missing")
	}
}

// TestBoundAcrossShards checks that MaxConns is exact with several shards.
func TestBoundAcrossShards(t *testing.T) {
	const max = 1000
	tb := newTable(t, Config{MaxConns: max, Shards: 8})
	rs := target(1, "192.168.1.11", 80, MethodRoute)
	for i := range max {
		establish(t, tb, 0, key(ProtoTCP, fmt.Sprintf("203.0.%d.%d", i/250, i%250), 1000, "10.0.0.1", 80), rs)
	}
	if _, s := tb.Schedule(0, key(ProtoTCP, "198.51.100.1", 1, "10.0.0.1", 80), &Service{Proto: ProtoTCP, Port: 80}, fixed(rs), noDest); s != StatusRefused {
		t.Fatalf("Schedule into a full table = %v, want refused", s)
	}
	if st := tb.Stats(); st.Entries != max || st.Refused != 1 || st.Capacity != max {
		t.Fatalf("Stats() = %+v, want %d entries, 1 refused", st, max)
	}
}

func TestEvictionPrefersExpiredAndKeepsControllingTemplates(t *testing.T) {
	tb := newTable(t, Config{MaxConns: 3})
	p := threeReals()
	svc := persistSvc()
	c := mustSchedule(t, tb, 0, key(ProtoTCP, "203.0.113.7", 1000, "10.0.0.1", 80), svc, p) // template + conn
	tb.Update(0, c.Ref, DirInput, fSYN)
	tb.Update(0, c.Ref, DirInput, fACK)
	u, _ := tb.Schedule(0, key(ProtoUDP, "203.0.113.8", 53, "10.0.0.1", 53), &Service{Proto: ProtoUDP, Port: 53}, p.pick, p.dest)
	tb.Update(0, u.Ref, DirInput, 0) // UDP, 300 s
	// At 301 s the UDP entry has expired (unswept): it is reclaimed, not evicted.
	if _, s := tb.Schedule(301*sec, key(ProtoUDP, "203.0.113.9", 53, "10.0.0.1", 53), &Service{Proto: ProtoUDP, Port: 53}, p.pick, p.dest); s != StatusCreated {
		t.Fatalf("Schedule = %v, want created", s)
	}
	if st := tb.Stats(); st.Expired != 1 || st.Evicted != 0 {
		t.Fatalf("Stats() = %+v, want 1 expired, 0 evicted", st)
	}
	// Full again: template (controls c), c (ESTABLISHED, idle 302 s), new UDP (fresh NONE... UDP).
	if _, s := tb.Schedule(302*sec, key(ProtoUDP, "203.0.113.10", 53, "10.0.0.1", 53), &Service{Proto: ProtoUDP, Port: 53}, p.pick, p.dest); s != StatusCreated {
		t.Fatalf("Schedule = %v, want created (idle ESTABLISHED evictable)", s)
	}
	if _, ok := tb.Get(302*sec, c.Ref); ok {
		t.Fatalf("idle ESTABLISHED conn survived; want it evicted before the template it holds")
	}
}

// TestListGolden checks the exact `ipvsadm -L -n -c` text (reference
// ipvs.md §7.3).
func TestListGolden(t *testing.T) {
	ap := netip.MustParseAddrPort
	now := int64(1000 * sec)
	conns := []Conn{
		{Proto: ProtoTCP, Expires: now + 898*sec + 1, State: StateEstablished, Client: ap("203.0.113.7:51234"), Virtual: ap("10.0.0.1:80"), Real: ap("192.168.1.12:8080")},
		{Proto: ProtoTCP, Expires: now + 118*sec + sec/2, State: StateTimeWait, Client: ap("203.0.113.8:40000"), Virtual: ap("10.0.0.1:80"), Real: ap("192.168.1.11:80")},
		{Proto: ProtoUDP, Expires: now + 299*sec, State: StateUDP, Client: ap("203.0.113.9:5353"), Virtual: ap("10.0.0.1:53"), Real: ap("192.168.1.21:53")},
		{Proto: ProtoTCP, Expires: now + 359*sec, State: StateNone, Template: true, Client: ap("203.0.113.0:0"), Virtual: ap("10.0.0.2:443"), Real: ap("192.168.1.13:443")},
		{Proto: ProtoIP, Expires: now + 359*sec, State: StateAssured, Template: true, Client: ap("203.0.113.7:0"), Virtual: ap("0.0.0.5:0"), Real: ap("192.168.1.31:0")},
		{Proto: ProtoTCP, Expires: now + 6000*sec, State: StateSynRecv, Client: ap("[2001:db8::7]:1000"), Virtual: ap("[2001:db8::80]:80"), Real: ap("[2001:db8::11]:80")},
	}
	var buf bytes.Buffer
	if err := WriteList(&buf, now, conns); err != nil {
		t.Fatalf("WriteList = %v", err)
	}
	golden := filepath.Join("testdata", "list.golden")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), buf.String()); diff != "" {
		t.Fatalf("WriteList mismatch (-want +got):\n%s", diff)
	}
}

// TestListFromTable builds the reference example's entries in a real table
// and checks the listed lines.
func TestListFromTable(t *testing.T) {
	tb := newTable(t, Config{MaxConns: 64})
	c := establish(t, tb, 0, key(ProtoTCP, "203.0.113.7", 51234, "10.0.0.1", 80), target(1, "192.168.1.12", 8080, MethodMasq))
	_ = c
	fw := newPicker(target(2, "192.168.1.31", 0, MethodTunnel))
	svc := &Service{Proto: ProtoTCP, Fwmark: 5, PersistTimeout: 360 * time.Second, Netmask: 0xffffffff}
	fc := mustSchedule(t, tb, 0, key(ProtoTCP, "203.0.113.7", 40000, "10.0.0.3", 443), svc, fw)
	tb.Update(0, fc.Ref, DirInput, fSYN)
	tb.Update(0, fc.Ref, DirInput, fACK)
	var buf bytes.Buffer
	WriteList(&buf, sec+sec/2, tb.List(sec+sec/2))
	got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	want := []string{
		"IPVS connection entries",
		"pro expire state       source             virtual            destination",
		"TCP 14:58  ESTABLISHED 203.0.113.7:51234  10.0.0.1:80        192.168.1.12:8080",
		"TCP 14:58  ESTABLISHED 203.0.113.7:40000  10.0.0.3:443       192.168.1.31:443",
		"IP  05:58  ASSURED     203.0.113.7:0      0.0.0.5:0          192.168.1.31:0",
	}
	if len(got) != len(want) {
		t.Fatalf("List lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	gotRows := got[2:]
	wantRows := want[2:]
	for _, w := range wantRows {
		found := false
		for _, g := range gotRows {
			found = found || g == w
		}
		if !found {
			t.Errorf("List has no line %q; got:\n%s", w, strings.Join(got, "\n"))
		}
	}
	if diff := cmp.Diff(want[:2], got[:2]); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
}

// refTable is reference ipvs.md §4.2 as printed there; the model parses it
// rather than sharing the implementation's table.
const refTable = `
| IN syn | SR | ES | ES | SR | SR | SR | SR | SR | SR | SR | SR |
| IN fin | CL | CW | SS | TW | TW | TW | CL | CW | LA | LI | TW |
| IN ack | ES | ES | SS | ES | FW | TW | CL | CW | CL | LI | ES |
| IN rst | CL | CL | CL | SR | CL | CL | CL | CL | LA | LI | SR |
| OUT syn | SS | ES | SS | SR | SS | SS | SS | SS | SS | LI | SR |
| OUT fin | TW | FW | SS | TW | FW | TW | CL | TW | LA | LI | TW |
| OUT ack | ES | ES | SS | ES | FW | TW | CL | CW | LA | ES | ES |
| OUT rst | CL | CL | SS | CL | CL | TW | CL | CL | CL | CL | CL |
| INONLY syn | SR | ES | ES | SR | SR | SR | SR | SR | SR | SR | SR |
| INONLY fin | CL | FW | SS | TW | FW | TW | CL | CW | LA | LI | TW |
| INONLY ack | ES | ES | SS | ES | FW | TW | CL | CW | CL | LI | ES |
| INONLY rst | CL | CL | CL | SR | CL | CL | CL | CL | LA | LI | CL |
`

func parseRefTable(t *testing.T) map[string]State {
	abbrev := map[string]State{"NO": StateNone, "ES": StateEstablished, "SS": StateSynSent, "SR": StateSynRecv,
		"FW": StateFinWait, "TW": StateTimeWait, "CL": StateClose, "CW": StateCloseWait, "LA": StateLastAck,
		"LI": StateListen, "SA": StateSynAck}
	cols := []State{StateNone, StateEstablished, StateSynSent, StateSynRecv, StateFinWait, StateTimeWait,
		StateClose, StateCloseWait, StateLastAck, StateListen, StateSynAck}
	m := map[string]State{}
	for _, line := range strings.Split(strings.TrimSpace(refTable), "\n") {
		f := strings.Split(strings.Trim(line, "| "), "|")
		ev := strings.TrimSpace(f[0])
		for i, c := range f[1:] {
			s, ok := abbrev[strings.TrimSpace(c)]
			if !ok {
				t.Fatalf("bad cell %q", c)
			}
			m[fmt.Sprintf("%s %v", ev, cols[i])] = s
		}
	}
	return m
}

type mconn struct {
	state    State
	expires  int64
	dest     scheduler.DestID
	method   Method
	noOutput bool
	ref      Ref
}

// TestRandomAgainstModel drives the table and a slow model (a map with
// linear expiry and the reference transition table) with the same random
// operations and compares every observable result.
func TestRandomAgainstModel(t *testing.T) {
	trans := parseRefTable(t)
	timeouts := map[State]int64{}
	for s := StateNone; s <= StateUDP; s++ {
		timeouts[s] = int64(DefaultTimeout(s))
	}
	for seed := uint64(1); seed <= 4; seed++ {
		rng := rand.New(rand.NewPCG(seed, 99))
		tb := newTable(t, Config{MaxConns: 4096, Shards: 4, Seed: seed})
		model := map[Key]*mconn{}
		targets := []Target{
			target(1, "192.168.1.11", 8080, MethodMasq),
			target(2, "192.168.1.12", 0, MethodRoute),
			target(3, "2001:db8::11", 8080, MethodMasq),
			target(4, "2001:db8::12", 0, MethodTunnel),
		}
		randKey := func() (Key, Target) {
			proto := uint8(ProtoTCP)
			if rng.IntN(4) == 0 {
				proto = ProtoUDP
			}
			i := rng.IntN(2)
			if rng.IntN(3) == 0 { // IPv6
				return key(proto, fmt.Sprintf("2001:db8:9::%d", rng.IntN(3)), uint16(1000+rng.IntN(6)), "2001:db8::80", 80), targets[2+i]
			}
			return key(proto, fmt.Sprintf("203.0.113.%d", rng.IntN(3)), uint16(1000+rng.IntN(6)), "10.0.0.1", 80), targets[i]
		}
		live := func(k Key, now int64) *mconn {
			m := model[k]
			if m == nil || m.expires <= now {
				delete(model, k)
				return nil
			}
			return m
		}
		now := int64(0)
		for op := range 20000 {
			now += rng.Int64N(20 * sec)
			k, tg := randKey()
			what := rng.IntN(10)
			switch {
			case what < 2: // schedule
				c, st := tb.Schedule(now, k, &Service{Proto: k.Proto, Port: 80}, fixed(tg), noDest)
				if st != StatusCreated {
					t.Fatalf("seed %d op %d: Schedule(%v) = %v", seed, op, k, st)
				}
				s := StateNone
				if k.Proto != ProtoTCP {
					s = StateUDP
				}
				model[k] = &mconn{state: s, expires: tickCeil(now) + int64(newConnTimeout), dest: tg.Dest.ID, method: tg.Method, noOutput: tg.Method != MethodMasq, ref: c.Ref}
			case what < 7: // packet
				dir := DirInput
				if rng.IntN(3) == 0 {
					dir = DirOutput
				}
				flags := []uint8{fSYN, fSYNACK, fACK, fFINACK, fRST, 0}[rng.IntN(6)]
				m := live(k, now)
				var ref Ref
				if m != nil {
					ref = m.ref
				} else if old := model[k]; old != nil {
					ref = old.ref
				}
				got, ok := tb.Update(now, ref, dir, flags)
				if m == nil {
					if ok {
						t.Fatalf("seed %d op %d: Update(%v) on an absent conn = %v, ok", seed, op, k, got)
					}
					continue
				}
				want := StateUDP
				if k.Proto == ProtoTCP {
					tdir := "IN"
					if dir == DirOutput {
						tdir = "OUT"
						m.noOutput = false
					} else if m.noOutput {
						tdir = "INONLY"
					}
					ev := map[Event]string{EventSYN: "syn", EventFIN: "fin", EventACK: "ack", EventRST: "rst"}[TCPEvent(flags)]
					want = StateClose
					if ev != "" {
						want = trans[fmt.Sprintf("%s %s %v", tdir, ev, m.state)]
					}
				} else if dir == DirOutput {
					m.noOutput = false
				}
				if !ok || got != want {
					t.Fatalf("seed %d op %d: Update(%v, %v, %#x) from %v = %v, %v; want %v", seed, op, k, dir, flags, m.state, got, ok, want)
				}
				m.state = want
				m.expires = tickCeil(now) + timeouts[want]
			case what < 8: // lookup
				m := live(k, now)
				c, ok := tb.Lookup(now, k)
				if (m != nil) != ok {
					t.Fatalf("seed %d op %d: Lookup(%v) = %v, model has %v", seed, op, k, ok, m != nil)
				}
				if ok && (c.State != m.state || c.Expires != m.expires || c.Dest != m.dest || c.Ref != m.ref || c.NoOutput != m.noOutput) {
					t.Fatalf("seed %d op %d: Lookup(%v) = %+v, model %+v", seed, op, k, c, *m)
				}
				if ok && m.method == MethodMasq {
					o, ok := tb.LookupOut(now, k.Proto, c.Real.Addr(), c.Real.Port(), k.CAddr, k.CPort)
					if !ok || o.Ref != c.Ref {
						t.Fatalf("seed %d op %d: LookupOut(%v → %v) = %v, %v; want %v", seed, op, c.Real, c.Client, o.Ref, ok, c.Ref)
					}
				}
			case what < 9: // expire
				m := live(k, now)
				var ref Ref
				if old := model[k]; old != nil {
					ref = old.ref
				}
				if got := tb.Expire(ref); got != (m != nil) && m != nil {
					t.Fatalf("seed %d op %d: Expire(%v) = %v, want %v", seed, op, k, got, m != nil)
				}
				delete(model, k)
			default: // sweep
				tb.Sweep(now, 1+rng.IntN(64))
			}
			if op%500 == 0 {
				compareModel(t, tb, model, now, seed, op)
			}
		}
		compareModel(t, tb, model, now, seed, -1)
	}
}

// tickCeil rounds now up to the table's timer granularity (1/64 s).
func tickCeil(now int64) int64 { return (now + tickNs - 1) / tickNs * tickNs }

// compareModel sweeps the whole table (so that lazily expired entries are
// uncounted) and compares counts per real server and per state.
func compareModel(t *testing.T, tb *Table, model map[Key]*mconn, now int64, seed uint64, op int) {
	t.Helper()
	tb.Sweep(now, 1<<20)
	var byState [NumStates]int64
	act := map[scheduler.DestID]int32{}
	inact := map[scheduler.DestID]int32{}
	for k, m := range model {
		if m.expires <= now {
			delete(model, k)
			continue
		}
		byState[m.state]++
		if m.state.Active() {
			act[m.dest]++
		} else {
			inact[m.dest]++
		}
	}
	st := tb.Stats()
	if st.ByState != byState || st.Entries != int64(len(model)) {
		t.Fatalf("seed %d op %d: Stats() = %v (%d entries), model %v (%d)", seed, op, st.ByState, st.Entries, byState, len(model))
	}
	for id := scheduler.DestID(1); id <= 4; id++ {
		c := tb.Counters(id)
		if c.Active.Load() != act[id] || c.Inactive.Load() != inact[id] {
			t.Fatalf("seed %d op %d: Counters(%d) = %d/%d, model %d/%d", seed, op, id, c.Active.Load(), c.Inactive.Load(), act[id], inact[id])
		}
	}
	if n := len(tb.List(now)); n != len(model) {
		t.Fatalf("seed %d op %d: List has %d entries, model %d", seed, op, n, len(model))
	}
}

func TestAllocs(t *testing.T) {
	tb := newTable(t, Config{MaxConns: 1024})
	tg := target(1, "192.168.1.11", 80, MethodMasq)
	k := key(ProtoTCP, "203.0.113.7", 1000, "10.0.0.1", 80)
	k6 := key(ProtoTCP, "2001:db8::7", 1000, "2001:db8::80", 80)
	tg6 := target(2, "2001:db8::11", 80, MethodMasq)
	c, _ := tb.Schedule(0, k, &Service{Proto: ProtoTCP, Port: 80}, fixed(tg), noDest)
	c6, _ := tb.Schedule(0, k6, &Service{Proto: ProtoTCP, Port: 80}, fixed(tg6), noDest)
	miss := k
	miss.CPort = 9
	svc := &Service{Proto: ProtoTCP, Port: 80}
	psvc := persistSvc()
	pick := func() (Target, bool) { return tg, true }
	dest := func(scheduler.DestID) (Target, bool) { return tg, true }
	tests := []struct {
		name string
		f    func()
	}{
		{"Lookup hit", func() { tb.Lookup(1, k) }},
		{"Lookup hit v6", func() { tb.Lookup(1, k6) }},
		{"Lookup miss", func() { tb.Lookup(1, miss) }},
		{"LookupOut", func() { tb.LookupOut(1, ProtoTCP, tg.Dest.Addr, 80, k.CAddr, k.CPort) }},
		{"Update", func() { tb.Update(1, c.Ref, DirInput, fACK) }},
		{"Update v6", func() { tb.Update(1, c6.Ref, DirOutput, fACK) }},
		{"LookupUpdate", func() { tb.LookupUpdate(1, k, DirInput, fACK) }},
		{"LookupUpdate v6", func() { tb.LookupUpdate(1, k6, DirOutput, fACK) }},
		{"Schedule", func() { tb.Schedule(1, miss, svc, pick, dest) }},
		{"Schedule persistent", func() { tb.Schedule(1, miss, psvc, pick, dest) }},
		{"Counters", func() { tb.Counters(1) }},
	}
	for _, tc := range tests {
		tc.f()
		if n := testing.AllocsPerRun(100, tc.f); n != 0 {
			t.Errorf("%s: AllocsPerRun = %v, want 0", tc.name, n)
		}
	}
}

func TestConcurrent(t *testing.T) {
	tb := newTable(t, Config{MaxConns: 1 << 12, Shards: 8})
	p := threeReals()
	svc := persistSvc()
	svc.Netmask = 0xffffff00
	var mu = make(chan struct{}, 1) // serialises the picker, which is not concurrency safe
	pick := func() (Target, bool) { mu <- struct{}{}; defer func() { <-mu }(); return p.pick() }
	dest := func(id scheduler.DestID) (Target, bool) { mu <- struct{}{}; defer func() { <-mu }(); return p.dest(id) }
	done := make(chan struct{})
	for w := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 2000 {
				now := int64(i) * sec / 10
				k := key(ProtoTCP, fmt.Sprintf("203.0.113.%d", (i*7+w)%50), uint16(1000+i%64), "10.0.0.1", 80)
				c, ok := tb.Lookup(now, k)
				if !ok || c.ReuseExpected(fSYN) {
					c, _ = tb.Schedule(now, k, svc, pick, dest)
				}
				tb.Update(now, c.Ref, DirInput, []uint8{fSYN, fACK, fFINACK, fRST}[i%4])
				if i%100 == 0 {
					tb.Sweep(now, 300)
				}
				if i%10 == 0 {
					var keys [40]Key
					for j := range keys {
						keys[j] = key(ProtoTCP, fmt.Sprintf("203.0.113.%d", (i+j)%50), uint16(1000+j), "10.0.0.1", 80)
					}
					var out [40]Conn
					var found [40]bool
					tb.LookupBatch(now, keys[:], out[:], found[:])
					var hits [40]Hit
					tb.LookupBatchHits(now, keys[:], nil, hits[:], found[:])
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
	end := int64(3600 * sec)
	tb.Sweep(end, 1<<20)
	tb.Sweep(end+int64(time.Hour), 1<<20)
	st := tb.Stats()
	if st.Entries != 0 {
		t.Fatalf("after expiry Stats() = %+v, want empty", st)
	}
	for id := scheduler.DestID(1); id <= 3; id++ {
		c := tb.Counters(id)
		if c.Active.Load() != 0 || c.Inactive.Load() != 0 || c.Persist.Load() != 0 {
			t.Fatalf("Counters(%d) = %d/%d/%d after expiry, want zeros", id, c.Active.Load(), c.Inactive.Load(), c.Persist.Load())
		}
	}
}

func TestEntrySize(t *testing.T) {
	if got := unsafe.Sizeof(entry{}); got != 48 {
		t.Fatalf("unsafe.Sizeof(entry{}) = %d, want 48", got)
	}
}

func TestTicks(t *testing.T) {
	tests := []struct {
		now     int64
		timeout time.Duration
		want    int64 // expiry, ns
	}{
		{0, 3 * time.Second, 3 * sec},
		{sec, 900 * time.Second, 901 * sec},
		{1, time.Second, sec + tickNs},                             // rounded up to the next tick
		{-sec, 2 * time.Second, sec},                               // before the epoch
		{(1 << 38) * tickNs, time.Minute, (1<<38)*tickNs + 60*sec}, // far from zero: wrapping ticks
		{(1<<38)*tickNs + 1, time.Minute, (1<<38+1)*tickNs + 60*sec},
		{sec, 100 * time.Millisecond, sec + 7*tickNs}, // 100 ms → 7 ticks (109.4 ms)
	}
	for _, tc := range tests {
		e := entry{timeout: toTicks(tc.timeout)}
		e.expires = deadline(tc.now, e.timeout)
		if got := expiresNs(&e, tc.now); got != tc.want {
			t.Errorf("expiresNs(deadline(%d, %v)) = %d, want %d", tc.now, tc.timeout, got, tc.want)
		}
		if expiredLocked(&e, tc.want-1) || !expiredLocked(&e, tc.want) {
			t.Errorf("deadline(%d, %v): expiry not exactly at %d", tc.now, tc.timeout, tc.want)
		}
	}
}
