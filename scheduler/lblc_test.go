package scheduler

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"
)

func at(d time.Duration, dst netip.Addr) *Input { return &Input{Dst: dst, Now: int64(d)} }

func TestLBLC(t *testing.T) {
	x := netip.MustParseAddr("10.9.9.9")
	f := newFakeLoad()
	// Add 1, 2 (w1 each): list 2, 1.
	v := newSvc(t, "lblc", 0, f, Options{}).add(dest(1, 1), dest(2, 1))
	steps := []struct {
		what string
		do   func()
		at   time.Duration
		want DestID
	}{
		// No entry: wlc over 2, 1 (both overhead 0): the first, 2. X -> 2.
		{"miss", nil, 0, 2},
		// 2 gets inactive 100, so wlc would now prefer 1, but the cached 2
		// is available, weight > 0 and not overloaded (act 0 <= w 1).
		{"hit", func() { f.set(2, 0, 100, false) }, time.Second, 2},
		// 2 has act 2 > w 1 and 1 has act*2 = 0 < w 1: is_overloaded, so
		// wlc again: 2 oh 612, 1 oh 0 -> 1. X -> 1.
		{"overloaded", func() { f.set(2, 2, 100, false) }, 2 * time.Second, 1},
		// The cached dest's OVERLOAD flag is not looked at.
		{"overload flag ignored on hit", func() { f.set(2, 0, 100, false); f.set(1, 0, 0, true) }, 3 * time.Second, 1},
		// 1 removed: the entry's dest is not AVAILABLE; wlc over [2].
		{"removed", func() { f.set(1, 0, 0, false); v.remove(1) }, 4 * time.Second, 2},
		// 2 quiescent: no real server at all.
		{"none", func() { v.edit(dest(2, 0)) }, 5 * time.Second, 0},
	}
	for _, st := range steps {
		if st.do != nil {
			st.do()
		}
		if got := pickID(v.s, at(st.at, x)); got != st.want {
			t.Fatalf("%s: lblc.Pick(dst %v, now %v) = %d, want %d", st.what, x, st.at, got, st.want)
		}
	}
}

func TestLBLCExpiry(t *testing.T) {
	// lblc_expiration 10 min. The GC timer ticks 60 s after the first Pick
	// and every 60 s; counter starts at 1 and the tick that finds
	// counter % 30 == 0 is a full check: the 30th (30:00) and 60th (60:00).
	x := netip.MustParseAddr("10.9.9.9")
	f := newFakeLoad()
	v := newSvc(t, "lblc", 0, f, Options{Expiration: 10 * time.Minute}).add(dest(1, 1), dest(2, 1))
	steps := []struct {
		at   time.Duration
		want DestID
	}{
		{0, 2}, // miss -> wlc -> 2; then 2 gets inactive 100 (below)
		// Hit; lastuse 29:59.
		{29*time.Minute + 59*time.Second, 2},
		// The full check at 30:00 keeps it (29:59 + 10 min > 30:00); hit,
		// lastuse 40:00.
		{40 * time.Minute, 2},
		// The full check at 60:00 removes it (40:00 + 10 min <= 60:00):
		// miss, and wlc now prefers 1 (overhead 0 vs 100).
		{90 * time.Minute, 1},
	}
	for i, st := range steps {
		if got := pickID(v.s, at(st.at, x)); got != st.want {
			t.Fatalf("lblc.Pick(now %v) = %d, want %d", st.at, got, st.want)
		}
		if i == 0 {
			f.set(2, 0, 100, false)
		}
	}
}

func TestLBLCR(t *testing.T) {
	x := netip.MustParseAddr("10.9.9.9")
	f := newFakeLoad()
	// Add 1, 2, 3 (w1): list 3, 2, 1. lblcr_expiration 10 min.
	v := newSvc(t, "lblcr", 0, f, Options{Expiration: 10 * time.Minute}).add(dest(1, 1), dest(2, 1), dest(3, 1))
	steps := []struct {
		what string
		do   func()
		at   time.Duration
		want DestID
	}{
		// Miss: wlc -> 3 (first of equals). Set {3}, lastmod 0.
		{"miss", nil, 0, 3},
		// 3 act 2 > w 1 and 2, 1 idle: is_overloaded; wlc: 3 oh 512, 2 oh
		// 0 -> 2, 1 oh 0 does not beat it. 2 is inserted at the front:
		// {2, 3}, lastmod 1 s.
		{"replicate", func() { f.set(3, 2, 0, false) }, time.Second, 2},
		// set_min({2, 3}): 2 oh 0, 3 oh 512 -> 2.
		{"set min", nil, 2 * time.Second, 2},
		// 2 oh 256, 3 oh 0: set_min -> 3.
		{"set min moves", func() { f.set(2, 1, 0, false); f.set(3, 0, 0, false) }, 3 * time.Second, 3},
		// now = lastmod + 10 min is not after it: no shrink yet, the set
		// is still {2, 3}.
		{"no shrink at expiry", nil, 10*time.Minute + time.Second, 3},
		{"set intact", func() { checkSet(t, v.s, x, []DestID{2, 3}) }, 10*time.Minute + time.Second, 3},
		// One ns later: set_max({2, 3}) = 2 (oh 256 vs 0) is erased; the
		// set_min computed before, 3, is returned. Set {3}.
		{"shrink", nil, 10*time.Minute + time.Second + 1, 3},
		// 3 act 2: overloaded. Were 2 still a member, set_min would give 2
		// (oh 256 < 512, act 1 <= w 1); it is not, so wlc: 3 oh 512, 2 oh
		// 256, 1 oh 0 -> 1. Set {1, 3}.
		{"after shrink", func() { f.set(3, 2, 0, false) }, 11 * time.Minute, 1},
		// 1 removed: set_min skips the unavailable 1 and gives 3 (act 2 >
		// w 1), but is_overloaded also needs a real server of the service
		// with act*2 < w: 3 (4 < 1) and 2 (2 < 1) are not, so 3 stays.
		{"removed member", func() { v.remove(1) }, 12 * time.Minute, 3},
		// 2 idle again: now 3 is overloaded; wlc over [3, 2]: 3 oh 512, 2
		// oh 0 -> 2. Set {2, 1, 3}.
		{"replicate again", func() { f.set(2, 0, 0, false) }, 13 * time.Minute, 2},
	}
	for _, st := range steps {
		if st.do != nil {
			st.do()
		}
		if got := pickID(v.s, at(st.at, x)); got != st.want {
			t.Fatalf("%s: lblcr.Pick(now %v) = %d, want %d", st.what, st.at, got, st.want)
		}
	}
	checkSet(t, v.s, x, []DestID{2, 1, 3})
}

// checkSet asserts the members of lblcr's set for dst, front first.
func checkSet(t *testing.T, s Scheduler, dst netip.Addr, want []DestID) {
	t.Helper()
	l := s.(*lblc)
	b := int(hash32(addrFold(dst), lblcTabBits))
	i := l.findLocked(b, dst)
	if i < 0 {
		t.Fatalf("lblcr: no entry for %v", dst)
	}
	var set []DestID
	for _, d := range l.buckets[b][i].set {
		set = append(set, d.ID)
	}
	if !slices.Equal(set, want) {
		t.Fatalf("lblcr set for %v = %v, want %v", dst, set, want)
	}
}

// lbModel is ip_vs_lblc.c / ip_vs_lblcr.c transcribed with a Go map for the
// cache and the GC timer run tick by tick (no skipping).
type lbModel struct {
	replicate bool
	exp       int64
	f         *fakeLoad
	list      []*mDest
	objs      map[DestID]*mDest
	cache     map[netip.Addr]*mEntry
	entries   int
	rover     int
	counter   int
	started   bool
	next      int64
}

type mDest struct {
	id    DestID
	w     int32
	avail bool
}

type mEntry struct {
	dest             *mDest
	set              []*mDest
	lastuse, lastmod int64
}

func newLBModel(replicate bool, exp time.Duration, f *fakeLoad) *lbModel {
	return &lbModel{replicate: replicate, exp: int64(exp), f: f, objs: map[DestID]*mDest{}, cache: map[netip.Addr]*mEntry{}, counter: 1}
}

func (m *lbModel) add(d Dest) {
	o := m.objs[d.ID]
	if o == nil {
		o = &mDest{id: d.ID}
		m.objs[d.ID] = o
	}
	o.w, o.avail = d.Weight, true
	m.list = append([]*mDest{o}, m.list...)
}

func (m *lbModel) edit(d Dest) { m.objs[d.ID].w = d.Weight }

func (m *lbModel) del(id DestID) {
	m.objs[id].avail = false
	m.list = slices.DeleteFunc(m.list, func(o *mDest) bool { return o.id == id })
}

func (m *lbModel) act(d *mDest) int32 { return m.f.Counters(d.id).Active.Load() }
func (m *lbModel) oh(d *mDest) int64  { return int64(m.f.Counters(d.id).Overhead()) }
func (m *lbModel) over(d *mDest) bool { return m.f.Counters(d.id).Overload.Load() }

func (m *lbModel) wlc() *mDest {
	var least *mDest
	for _, d := range m.list {
		if m.over(d) {
			continue
		}
		if least == nil {
			if d.w > 0 {
				least = d
			}
			continue
		}
		if m.oh(least)*int64(d.w) > m.oh(d)*int64(least.w) {
			least = d
		}
	}
	return least
}

func (m *lbModel) isOverloaded(d *mDest) bool {
	if m.act(d) <= d.w {
		return false
	}
	for _, o := range m.list {
		if m.act(o)*2 < o.w {
			return true
		}
	}
	return false
}

func (m *lbModel) sweep(now, age int64, goal int, full bool) {
	byBucket := map[int][]netip.Addr{}
	for a := range m.cache {
		b := int(hash32(addrFold(a), 10))
		byBucket[b] = append(byBucket[b], a)
	}
	j := m.rover
	for range 1024 {
		j = (j + 1) % 1024
		for _, a := range byBucket[j] {
			if now < m.cache[a].lastuse+age {
				continue
			}
			delete(m.cache, a)
			m.entries--
			goal--
		}
		if !full && goal <= 0 {
			break
		}
	}
	m.rover = j
}

func (m *lbModel) tick(now int64) {
	if m.counter%30 == 0 {
		m.sweep(now, m.exp, 0, true)
		m.counter = 1
		return
	}
	if m.entries <= 16384 {
		m.counter++
		return
	}
	goal := min((m.entries-16384)*4/3, 16384/2)
	m.sweep(now, int64(6*time.Minute), goal, false)
}

func (m *lbModel) schedule(in *Input) DestID {
	now := in.Now
	if !m.started {
		m.started, m.next = true, now+int64(time.Minute)
	}
	for now >= m.next {
		m.tick(m.next)
		m.next += int64(time.Minute)
	}
	var d *mDest
	if m.replicate {
		d = m.scheduleR(in.Dst, now)
	} else {
		d = m.scheduleC(in.Dst, now)
	}
	if d == nil {
		return 0
	}
	return d.id
}

func (m *lbModel) scheduleC(dst netip.Addr, now int64) *mDest {
	en := m.cache[dst]
	if en != nil {
		en.lastuse = now
		if d := en.dest; d.avail && d.w > 0 && !m.isOverloaded(d) {
			return d
		}
	}
	d := m.wlc()
	if d == nil {
		return nil
	}
	if en != nil && en.dest == d {
		return d
	}
	// A replaced entry is not subtracted from the count (ip_vs_lblc_new).
	m.cache[dst] = &mEntry{dest: d, lastuse: now}
	m.entries++
	return d
}

func (m *lbModel) scheduleR(dst netip.Addr, now int64) *mDest {
	en := m.cache[dst]
	if en == nil {
		d := m.wlc()
		if d == nil {
			return nil
		}
		m.cache[dst] = &mEntry{set: []*mDest{d}, lastuse: now, lastmod: now}
		m.entries++
		return d
	}
	en.lastuse = now
	// set_min: the first AVAILABLE non-OVERLOADed member with weight > 0,
	// then a strictly lower overhead/weight among AVAILABLE
	// non-OVERLOADed members.
	var least *mDest
	for _, d := range en.set {
		if m.over(d) {
			continue
		}
		if least == nil {
			if d.w > 0 && d.avail {
				least = d
			}
			continue
		}
		if d.avail && m.oh(least)*int64(d.w) > m.oh(d)*int64(least.w) {
			least = d
		}
	}
	if len(en.set) > 1 && now > en.lastmod+m.exp {
		// set_max over members with weight > 0.
		var most *mDest
		for _, d := range en.set {
			if d.w <= 0 {
				continue
			}
			if most == nil || m.oh(most)*int64(d.w) < m.oh(d)*int64(most.w) {
				most = d
			}
		}
		if most != nil {
			en.set = slices.DeleteFunc(en.set, func(o *mDest) bool { return o == most })
			en.lastmod = now
		}
	}
	if least != nil && !m.isOverloaded(least) {
		return least
	}
	d := m.wlc()
	if d == nil {
		return nil
	}
	if !slices.Contains(en.set, d) {
		en.set = append([]*mDest{d}, en.set...)
		en.lastmod = now
	}
	return d
}

func TestLBLCModel(t *testing.T) {
	for _, replicate := range []bool{false, true} {
		name := map[bool]string{false: "lblc", true: "lblcr"}[replicate]
		t.Run(name, func(t *testing.T) {
			for seed := uint64(1); seed <= 8; seed++ {
				r := rand.New(rand.NewPCG(seed, 11))
				f := newFakeLoad()
				exp := time.Duration(1+r.IntN(20)) * time.Minute
				fast := newSvc(t, name, 0, f, Options{Expiration: exp})
				m := newLBModel(replicate, exp, f)
				// A small pool of destination addresses so entries are hit,
				// replaced and expired; time moves by up to 40 minutes.
				pool := make([]netip.Addr, 12)
				for i := range pool {
					pool[i] = randomAddr(r)
				}
				now := int64(r.IntN(1000)) * int64(time.Second)
				var in *Input
				randomOps(t, seed, 400, fast, f, m.add, m.edit, m.del,
					func() DestID { return m.schedule(in) },
					func() *Input {
						if r.IntN(3) == 0 {
							now += r.Int64N(int64(40 * time.Minute))
						}
						in = &Input{Dst: pool[r.IntN(len(pool))], Now: now}
						return in
					})
				if s := fast.s.(*lblc); s.entries != m.entries || s.live != len(m.cache) {
					t.Fatalf("seed %d: entries %d live %d, model entries %d live %d", seed, s.entries, s.live, m.entries, len(m.cache))
				}
			}
		})
	}
}

func TestLBLCPartialGC(t *testing.T) {
	// Over max_size (16384) entries, each tick removes up to
	// min((entries - max)*4/3, max/2) entries older than 6 minutes,
	// walking buckets from the rover. Fill 17000 entries at t = 0..,
	// then let ticks run; fast and model must agree on the counts and on
	// which entries survive.
	for _, replicate := range []bool{false, true} {
		name := map[bool]string{false: "lblc", true: "lblcr"}[replicate]
		f := newFakeLoad()
		fast := newSvc(t, name, 0, f, Options{})
		m := newLBModel(replicate, defaultExpiration, f)
		fast.add(dest(1, 1))
		m.add(dest(1, 1))
		r := rand.New(rand.NewPCG(4, 4))
		var addrs []netip.Addr
		for i := range 17000 {
			a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
			addrs = append(addrs, a)
			in := &Input{Dst: a, Now: int64(i) * int64(10*time.Millisecond)}
			if got, want := pickID(fast.s, in), m.schedule(in); got != want {
				t.Fatalf("%s fill %d: Pick = %d, model %d", name, i, got, want)
			}
		}
		// Advance through several over-full ticks, probing random entries
		// (a probe refreshes lastuse, so some survive).
		now := int64(170 * time.Second)
		for step := range 20 {
			now += int64(time.Minute)
			in := &Input{Dst: addrs[r.IntN(len(addrs))], Now: now}
			if got, want := pickID(fast.s, in), m.schedule(in); got != want {
				t.Fatalf("%s step %d: Pick = %d, model %d", name, step, got, want)
			}
			s := fast.s.(*lblc)
			if s.entries != m.entries || s.live != len(m.cache) || s.rover != m.rover || s.counter != m.counter {
				t.Fatalf("%s step %d: entries %d live %d rover %d counter %d; model %d %d %d %d",
					name, step, s.entries, s.live, s.rover, s.counter, m.entries, len(m.cache), m.rover, m.counter)
			}
		}
		if s := fast.s.(*lblc); s.live >= 17000 {
			t.Fatalf("%s: partial GC removed nothing (%d live)", name, s.live)
		}
	}
}

func TestLBLCTrashRevival(t *testing.T) {
	// The kernel keeps a removed real server (the trash) while a cache
	// entry refers to it, and re-adding the same server takes that object
	// back: the entry is valid again.
	x := netip.MustParseAddr("10.9.9.9")
	f := newFakeLoad()
	v := newSvc(t, "lblc", 0, f, Options{}).add(dest(1, 1), dest(2, 1))
	if got := pickID(v.s, at(0, x)); got != 2 { // list 2, 1: wlc -> 2
		t.Fatalf("lblc.Pick = %d, want 2", got)
	}
	f.set(2, 0, 100, false) // wlc would now prefer 1
	v.remove(2)
	v.add(dest(2, 1)) // back at the head: list 2, 1
	if got := pickID(v.s, at(time.Second, x)); got != 2 {
		t.Fatalf("lblc.Pick after re-adding 2 = %d, want 2 (the cached entry is valid again)", got)
	}
	// A removed real server nothing refers to is forgotten.
	v.remove(1)
	if _, ok := v.s.(*lblc).byID[1]; ok {
		t.Fatalf("lblc still tracks removed, unreferenced real server 1")
	}
	// One that is referenced is kept until its entry goes.
	v.remove(2)
	if d := v.s.(*lblc).byID[2]; d == nil || d.available || d.refs != 1 {
		t.Fatalf("lblc byID[2] = %+v, want a trashed entry with one reference", d)
	}
}
