package conntrack

import (
	"net/netip"
	"testing"
	"time"

	"github.com/uvslb/uvs/scheduler"
)

const sec = int64(time.Second)

func newTable(t testing.TB, cfg Config) *Table {
	t.Helper()
	if cfg.Seed == 0 {
		cfg.Seed = 42
	}
	tb, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v) = %v", cfg, err)
	}
	return tb
}

func target(id scheduler.DestID, addr string, port uint16, m Method) Target {
	return Target{Dest: scheduler.Dest{ID: id, Addr: netip.MustParseAddr(addr), Port: port, Weight: 1}, Method: m}
}

func fixed(tg Target) func() (Target, bool) { return func() (Target, bool) { return tg, true } }

func noDest(scheduler.DestID) (Target, bool) { return Target{}, false }

func key(proto uint8, c string, cp uint16, v string, vp uint16) Key {
	return Key{Proto: proto, CAddr: netip.MustParseAddr(c), CPort: cp, VAddr: netip.MustParseAddr(v), VPort: vp}
}

const (
	fSYN    = TCPFlagSYN
	fSYNACK = TCPFlagSYN | TCPFlagACK
	fACK    = TCPFlagACK
	fFINACK = TCPFlagFIN | TCPFlagACK
	fRST    = TCPFlagRST
	fRSTACK = TCPFlagRST | TCPFlagACK
)

type step struct {
	dir      Dir
	flags    uint8
	want     State
	timeout  time.Duration
	active   int32
	inactive int32
}

// TestWalks plays the packet sequences of reference ipvs.md §4.2 and checks
// state, timeout and the real server's counts after every packet.
func TestWalks(t *testing.T) {
	in, out := DirInput, DirOutput
	m, s := time.Minute, time.Second
	tests := []struct {
		name   string
		proto  uint8
		method Method
		steps  []step
	}{
		{"nat client close", ProtoTCP, MethodMasq, []step{
			{in, fSYN, StateSynRecv, m, 1, 0},
			{out, fSYNACK, StateSynRecv, m, 1, 0},
			{in, fACK, StateEstablished, 15 * m, 1, 0},
			{out, fACK, StateEstablished, 15 * m, 1, 0},
			{in, fFINACK, StateCloseWait, m, 0, 1},
			{out, fACK, StateCloseWait, m, 0, 1},
			{out, fFINACK, StateTimeWait, 2 * m, 0, 1},
			{in, fACK, StateTimeWait, 2 * m, 0, 1},
		}},
		{"nat server close", ProtoTCP, MethodMasq, []step{
			{in, fSYN, StateSynRecv, m, 1, 0},
			{out, fSYNACK, StateSynRecv, m, 1, 0},
			{in, fACK, StateEstablished, 15 * m, 1, 0},
			{out, fFINACK, StateFinWait, 2 * m, 0, 1},
			{in, fACK, StateFinWait, 2 * m, 0, 1},
			{in, fFINACK, StateTimeWait, 2 * m, 0, 1},
			{out, fACK, StateTimeWait, 2 * m, 0, 1},
		}},
		{"dr input only", ProtoTCP, MethodRoute, []step{
			{in, fSYN, StateSynRecv, m, 1, 0},
			{in, fACK, StateEstablished, 15 * m, 1, 0},
			{in, fACK, StateEstablished, 15 * m, 1, 0},
			{in, fFINACK, StateFinWait, 2 * m, 0, 1}, // input-only: ES fin → FW (normal input: CW)
			{in, fACK, StateFinWait, 2 * m, 0, 1},
			{in, fSYN, StateSynRecv, m, 1, 0},
		}},
		{"tun rst from client", ProtoTCP, MethodTunnel, []step{
			{in, fSYN, StateSynRecv, m, 1, 0},
			{in, fACK, StateEstablished, 15 * m, 1, 0},
			{in, fRST, StateClose, 10 * s, 0, 1},
		}},
		{"dr syn_recv rst", ProtoTCP, MethodRoute, []step{
			{in, fSYN, StateSynRecv, m, 1, 0},
			{in, fRST, StateSynRecv, m, 1, 0},
			{in, fACK, StateEstablished, 15 * m, 1, 0},
		}},
		{"nat rst from client", ProtoTCP, MethodMasq, []step{
			{in, fSYN, StateSynRecv, m, 1, 0},
			{out, fSYNACK, StateSynRecv, m, 1, 0},
			{in, fACK, StateEstablished, 15 * m, 1, 0},
			{in, fRSTACK, StateClose, 10 * s, 0, 1},
		}},
		{"nat rst from server", ProtoTCP, MethodMasq, []step{
			{in, fSYN, StateSynRecv, m, 1, 0},
			{out, fRSTACK, StateClose, 10 * s, 0, 1},
			{in, fSYN, StateSynRecv, m, 1, 0},
			{out, fSYNACK, StateSynRecv, m, 1, 0},
			{in, fACK, StateEstablished, 15 * m, 1, 0},
			{out, fRST, StateClose, 10 * s, 0, 1},
		}},
		{"dr sees a reply", ProtoTCP, MethodRoute, []step{
			{in, fSYN, StateSynRecv, m, 1, 0},
			{out, fSYNACK, StateSynRecv, m, 1, 0}, // clears NOOUTPUT
			{in, fACK, StateEstablished, 15 * m, 1, 0},
			{in, fFINACK, StateCloseWait, m, 0, 1}, // normal input table now
		}},
		{"null flags", ProtoTCP, MethodMasq, []step{
			{in, fSYN, StateSynRecv, m, 1, 0},
			{in, 0, StateClose, 10 * s, 0, 1},
		}},
		{"udp", ProtoUDP, MethodMasq, []step{
			{in, 0, StateUDP, 5 * m, 0, 1},
			{out, 0, StateUDP, 5 * m, 0, 1},
			{in, 0, StateUDP, 5 * m, 0, 1},
		}},
		{"udp dr", ProtoUDP, MethodRoute, []step{
			{in, 0, StateUDP, 5 * m, 0, 1},
			{in, 0, StateUDP, 5 * m, 0, 1},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := newTable(t, Config{MaxConns: 64})
			k := key(tc.proto, "203.0.113.7", 51234, "10.0.0.1", 80)
			c, st := tb.Schedule(0, k, &Service{Proto: tc.proto, Port: 80},
				fixed(target(1, "192.168.1.11", 8080, tc.method)), noDest)
			if st != StatusCreated {
				t.Fatalf("Schedule(%v) = %v, want created", k, st)
			}
			wantNew := StateNone
			if tc.proto != ProtoTCP {
				wantNew = StateUDP
			}
			if c.State != wantNew || c.Timeout != newConnTimeout || c.NoOutput != (tc.method != MethodMasq) {
				t.Fatalf("Schedule(%v) = %+v, want state %v timeout 3s", k, c, wantNew)
			}
			if a, i := tb.Counters(1).Active.Load(), tb.Counters(1).Inactive.Load(); a != 0 || i != 1 {
				t.Fatalf("after Schedule: active/inactive = %d/%d, want 0/1", a, i)
			}
			now := int64(0)
			for i, p := range tc.steps {
				now += sec
				got, ok := tb.Update(now, c.Ref, p.dir, p.flags)
				if !ok || got != p.want {
					t.Fatalf("step %d: Update(%v, %#x) = %v, %v, want %v", i, p.dir, p.flags, got, ok, p.want)
				}
				g, ok := tb.Get(now, c.Ref)
				if !ok || g.State != p.want || g.Timeout != p.timeout || g.Expires != now+int64(p.timeout) {
					t.Fatalf("step %d: Get = %+v, %v; want state %v timeout %v expires %d", i, g, ok, p.want, p.timeout, now+int64(p.timeout))
				}
				cn := tb.Counters(1)
				if a, in := cn.Active.Load(), cn.Inactive.Load(); a != p.active || in != p.inactive {
					t.Fatalf("step %d (%v %#x → %v): active/inactive = %d/%d, want %d/%d", i, p.dir, p.flags, p.want, a, in, p.active, p.inactive)
				}
			}
			// Expiry unbinds exactly once.
			now += int64(time.Hour)
			if _, ok := tb.Lookup(now, k); ok {
				t.Fatalf("Lookup(%v) after an hour found the connection", k)
			}
			if _, ok := tb.Update(now, c.Ref, DirInput, fACK); ok {
				t.Fatalf("Update(stale ref) succeeded")
			}
			tb.Sweep(now, 1000)
			if a, i := tb.Counters(1).Active.Load(), tb.Counters(1).Inactive.Load(); a != 0 || i != 0 {
				t.Fatalf("after expiry: active/inactive = %d/%d, want 0/0", a, i)
			}
		})
	}
}

func TestTCPEvent(t *testing.T) {
	tests := []struct {
		flags uint8
		want  Event
	}{
		{fSYN, EventSYN}, {fSYNACK, EventSYN}, {fRST | TCPFlagSYN, EventRST},
		{fFINACK, EventFIN}, {fACK, EventACK}, {0, EventNone}, {0x08, EventNone},
		{TCPFlagFIN | TCPFlagSYN, EventSYN},
	}
	for _, tc := range tests {
		if got := TCPEvent(tc.flags); got != tc.want {
			t.Errorf("TCPEvent(%#x) = %v, want %v", tc.flags, got, tc.want)
		}
	}
}

func TestStateNames(t *testing.T) {
	want := "NONE ESTABLISHED SYN_SENT SYN_RECV FIN_WAIT TIME_WAIT CLOSE CLOSE_WAIT LAST_ACK LISTEN SYNACK UDP ASSURED"
	got := ""
	for s := StateNone; s < numStates; s++ {
		if got != "" {
			got += " "
		}
		got += s.String()
	}
	if got != want {
		t.Fatalf("state names = %q, want %q", got, want)
	}
	for s := StateNone; s <= StateUDP; s++ {
		wantActive := s == StateEstablished || s == StateSynSent || s == StateSynRecv || s == StateSynAck
		if s.Active() != wantActive {
			t.Errorf("%v.Active() = %v, want %v", s, s.Active(), wantActive)
		}
	}
}

// TestSetTimeouts checks `ipvsadm --set` semantics (reference ipvs.md §4.5).
func TestSetTimeouts(t *testing.T) {
	tb := newTable(t, Config{MaxConns: 64})
	if tcp, fin, udp := tb.Timeouts(); tcp != 900*time.Second || fin != 120*time.Second || udp != 300*time.Second {
		t.Fatalf("Timeouts() = %v %v %v, want 900s 120s 300s", tcp, fin, udp)
	}
	k := key(ProtoTCP, "203.0.113.7", 1000, "10.0.0.1", 80)
	c, _ := tb.Schedule(0, k, &Service{Proto: ProtoTCP, Port: 80}, fixed(target(1, "192.168.1.11", 80, MethodMasq)), noDest)
	tb.Update(0, c.Ref, DirInput, fSYN)
	tb.Update(0, c.Ref, DirInput, fACK) // ES, expires 900 s
	if err := tb.SetTimeouts(100*time.Second, 50*time.Second, 200*time.Second); err != nil {
		t.Fatalf("SetTimeouts(100s, 50s, 200s) = %v", err)
	}
	if g, _ := tb.Get(sec, c.Ref); g.Expires != 900*sec {
		t.Fatalf("running timer changed by --set: expires %d, want %d", g.Expires, 900*sec)
	}
	tb.Update(sec, c.Ref, DirInput, fACK)
	if g, _ := tb.Get(sec, c.Ref); g.Timeout != 100*time.Second || g.Expires != 101*sec {
		t.Fatalf("after next packet: timeout %v expires %d, want 100s %d", g.Timeout, g.Expires, 101*sec)
	}
	if err := tb.SetTimeouts(0, 0, 0); err != nil {
		t.Fatalf("SetTimeouts(0, 0, 0) = %v", err)
	}
	if tcp, fin, udp := tb.Timeouts(); tcp != 100*time.Second || fin != 50*time.Second || udp != 200*time.Second {
		t.Fatalf("Timeouts() after zeros = %v %v %v, want 100s 50s 200s", tcp, fin, udp)
	}
	if got := tb.Timeout(StateTimeWait); got != 120*time.Second {
		t.Fatalf("Timeout(TIME_WAIT) = %v, want 120s (tcpfin sets FIN_WAIT only)", got)
	}
	if got := tb.Timeout(StateCloseWait); got != 60*time.Second {
		t.Fatalf("Timeout(CLOSE_WAIT) = %v, want 60s", got)
	}
	tb.Update(2*sec, c.Ref, DirOutput, fFINACK) // ES → FW
	if g, _ := tb.Get(2*sec, c.Ref); g.State != StateFinWait || g.Timeout != 50*time.Second {
		t.Fatalf("FIN_WAIT after --set: %v %v, want FIN_WAIT 50s", g.State, g.Timeout)
	}
	u := key(ProtoUDP, "203.0.113.7", 53, "10.0.0.1", 53)
	uc, _ := tb.Schedule(0, u, &Service{Proto: ProtoUDP, Port: 53}, fixed(target(2, "192.168.1.12", 53, MethodMasq)), noDest)
	tb.Update(0, uc.Ref, DirInput, 0)
	if g, _ := tb.Get(0, uc.Ref); g.Timeout != 200*time.Second {
		t.Fatalf("UDP timeout after --set = %v, want 200s", g.Timeout)
	}
	for _, bad := range [][3]time.Duration{{-time.Second, 0, 0}, {0, MaxSetTimeout + time.Second, 0}} {
		if err := tb.SetTimeouts(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("SetTimeouts(%v) = nil, want error", bad)
		}
	}
}

// TestThresholds checks the OVERLOAD rules of reference ipvs.md §1.4.
func TestThresholds(t *testing.T) {
	tests := []struct {
		upper, lower uint32
		// overload after each bind, then after each unbind.
		binds, unbinds []bool
	}{
		{3, 0, []bool{false, false, true}, []bool{false, false, false}},             // clear when n*4 < 9
		{4, 2, []bool{false, false, false, true}, []bool{true, true, false, false}}, // clear when n < 2
		{0, 0, []bool{false, false}, []bool{false, false}},
		{8, 0, []bool{false, false}, []bool{false, false}},
	}
	for _, tc := range tests {
		tb := newTable(t, Config{MaxConns: 64})
		if err := tb.SetThresholds(1, tc.upper, tc.lower); err != nil {
			t.Fatalf("SetThresholds(1, %d, %d) = %v", tc.upper, tc.lower, err)
		}
		var refs []Ref
		for i, want := range tc.binds {
			k := key(ProtoUDP, "203.0.113.7", uint16(1000+i), "10.0.0.1", 53)
			c, _ := tb.Schedule(0, k, &Service{Proto: ProtoUDP, Port: 53}, fixed(target(1, "192.168.1.11", 53, MethodMasq)), noDest)
			refs = append(refs, c.Ref)
			if got := tb.Counters(1).Overload.Load(); got != want {
				t.Fatalf("thresholds %d/%d: after bind %d Overload = %v, want %v", tc.upper, tc.lower, i+1, got, want)
			}
		}
		for i, want := range tc.unbinds {
			tb.Expire(refs[i])
			if got := tb.Counters(1).Overload.Load(); got != want {
				t.Fatalf("thresholds %d/%d: after unbind %d Overload = %v, want %v", tc.upper, tc.lower, i+1, got, want)
			}
		}
	}
	tb := newTable(t, Config{MaxConns: 64})
	if err := tb.SetThresholds(1, 2, 3); err != ErrThresholds {
		t.Fatalf("SetThresholds(1, 2, 3) = %v, want ErrThresholds", err)
	}
	edits := []struct {
		upper uint32
		want  bool
	}{{5, true}, {4, true}, {6, false}}
	for _, e := range edits {
		tb.SetThresholds(1, 5, 0)
		tb.Counters(1).Overload.Store(true)
		tb.SetThresholds(1, e.upper, 0)
		if got := tb.Counters(1).Overload.Load(); got != e.want {
			t.Errorf("edit upper 5 → %d: Overload = %v, want %v", e.upper, got, e.want)
		}
	}
	tb.SetThresholds(1, 0, 0)
	tb.Counters(1).Overload.Store(true)
	tb.SetThresholds(1, 0, 0)
	if tb.Counters(1).Overload.Load() {
		t.Errorf("edit upper → 0: Overload still set")
	}
}

// TestSecureTCP checks the secure_tcp table against the cells reference
// ipvs.md §4.2 lists as different, and two walks with it switched on.
func TestSecureTCP(t *testing.T) {
	type cell struct {
		td   int
		ev   Event
		from State
	}
	changed := map[cell]State{
		{tdInput, EventSYN, sSA}: sSA, {tdInput, EventFIN, sSA}: sSA,
		{tdInput, EventACK, sSR}: sSR, {tdInput, EventACK, sSA}: sSA,
		{tdInput, EventRST, sSA}:  sCL,
		{tdOutput, EventSYN, sSR}: sSA, {tdOutput, EventSYN, sSA}: sSA,
	}
	for _, from := range []State{sNO, sFW, sTW, sCL, sCW, sLA, sLI, sSA} {
		changed[cell{tdInputOnly, EventSYN, from}] = sSA
	}
	for td := range numTableDirs {
		for ev := EventSYN; ev <= EventRST; ev++ {
			for from := StateNone; from <= StateSynAck; from++ {
				want, ok := changed[cell{td, ev, from}]
				if !ok {
					want = nextTCP(td, ev, from, false)
				}
				if got := nextTCP(td, ev, from, true); got != want {
					t.Errorf("nextTCP(dir %d, %v, %v, secure) = %v, want %v", td, ev, from, got, want)
				}
			}
		}
	}
	walks := []struct {
		method Method
		steps  []step
	}{
		{MethodMasq, []step{
			{DirInput, fSYN, StateSynRecv, time.Minute, 1, 0},
			{DirInput, fACK, StateSynRecv, time.Minute, 1, 0}, // a spoofed handshake stays half-open
			{DirOutput, fSYNACK, StateSynAck, 2 * time.Minute, 1, 0},
			{DirInput, fACK, StateSynAck, 2 * time.Minute, 1, 0},
			{DirOutput, fACK, StateEstablished, 15 * time.Minute, 1, 0},
		}},
		{MethodRoute, []step{
			{DirInput, fSYN, StateSynAck, 2 * time.Minute, 1, 0},
			{DirInput, fACK, StateEstablished, 15 * time.Minute, 1, 0},
			{DirInput, fFINACK, StateFinWait, 2 * time.Minute, 0, 1},
		}},
	}
	for _, w := range walks {
		tb := newTable(t, Config{MaxConns: 16})
		tb.SetSecureTCP(true)
		c, _ := tb.Schedule(0, key(ProtoTCP, "203.0.113.7", 1000, "10.0.0.1", 80), &Service{Proto: ProtoTCP, Port: 80},
			fixed(target(1, "192.168.1.11", 80, w.method)), noDest)
		for i, p := range w.steps {
			got, _ := tb.Update(0, c.Ref, p.dir, p.flags)
			g, _ := tb.Get(0, c.Ref)
			cn := tb.Counters(1)
			if got != p.want || g.Timeout != p.timeout || cn.Active.Load() != p.active || cn.Inactive.Load() != p.inactive {
				t.Fatalf("%v step %d: Update(%v, %#x) = %v (timeout %v, counts %d/%d), want %v (%v, %d/%d)", w.method, i, p.dir, p.flags,
					got, g.Timeout, cn.Active.Load(), cn.Inactive.Load(), p.want, p.timeout, p.active, p.inactive)
			}
		}
	}
}
