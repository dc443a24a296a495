package scheduler

import (
	"net/netip"
	"sync"
	"time"
)

// Constants of ip_vs_lblc.c and ip_vs_lblcr.c (identical in both).
const (
	lblcTabBits            = 10                      // CONFIG_IP_VS_LBLC_TAB_BITS / LBLCR_TAB_BITS default
	lblcTabSize            = 1 << lblcTabBits        // IP_VS_LBLC_TAB_SIZE
	lblcTabMask            = lblcTabSize - 1         // IP_VS_LBLC_TAB_MASK
	lblcMaxSize            = lblcTabSize * 16        // tbl->max_size
	checkExpireInterval    = int64(60 * time.Second) // CHECK_EXPIRE_INTERVAL
	entryTimeout           = int64(6 * time.Minute)  // ENTRY_TIMEOUT
	countForFullExpiration = 30                      // COUNT_FOR_FULL_EXPIRATION
	defaultExpiration      = 24 * time.Hour          // DEFAULT_EXPIRATION
)

// lbDest is a real server as the lblc/lblcr cache sees it: like the kernel's
// struct ip_vs_dest it outlives its removal from the service while a cache
// entry refers to it (the kernel's trash), and it is the same object again
// if the same DestID is added back.
type lbDest struct {
	Dest
	c         *Counters
	available bool // IP_VS_DEST_F_AVAILABLE: linked to the service
	refs      int  // cache entries and set members referring to it
}

// lbEntry is an ip_vs_lblc_entry (dest) or ip_vs_lblcr_entry (set).
type lbEntry struct {
	addr    netip.Addr
	lastuse int64
	dest    *lbDest   // lblc
	set     []*lbDest // lblcr; set[0] is the front (newest member)
	lastmod int64     // lblcr set.lastmod
}

// lblc implements lblc and, with replicate, lblcr. The cache is per new
// connection, not per packet, so one mutex guards it; Pick holds it for
// the whole decision, as the kernel's decision reads and writes the cache.
//
// Time is Input.Now. The garbage-collection timer's first tick is 60 s
// after the first Pick and every 60 s after that; the ticks due are run at
// the start of a Pick, before it looks at the cache (a tick at exactly Now
// runs first).
type lblc struct {
	replicate bool
	load      Load
	exp       int64 // lblc(r)_expiration in ns

	mu       sync.Mutex
	dests    []*lbDest              // the service's list, kernel order; guarded by mu
	byID     map[DestID]*lbDest     // listed and trashed-but-referenced; guarded by mu
	buckets  [lblcTabSize][]lbEntry // guarded by mu
	entries  int                    // tbl->entries, with the kernel's accounting; guarded by mu
	live     int                    // entries actually present; guarded by mu
	rover    int                    // guarded by mu
	counter  int                    // guarded by mu
	started  bool                   // guarded by mu
	nextTick int64                  // guarded by mu
}

func newLBLC(replicate bool, load Load, exp int64) *lblc {
	return &lblc{replicate: replicate, load: load, exp: exp, byID: map[DestID]*lbDest{}, counter: 1}
}

// Name implements Scheduler.
func (s *lblc) Name() string {
	if s.replicate {
		return "lblcr"
	}
	return "lblc"
}

// Update implements Scheduler. lblc and lblcr have no dest hooks; cache
// entries keep referring to removed real servers, which are then not
// AVAILABLE, until the entries expire.
func (s *lblc) Update(dests []Dest) error {
	es, _, err := buildEntries(dests, s.load)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := make([]*lbDest, len(es))
	keep := make(map[*lbDest]bool, len(es))
	for i := range es {
		d := s.byID[es[i].ID]
		if d != nil && (d.Addr != es[i].Addr || d.Port != es[i].Port) {
			// A different real server under a reused ID: retire the old one.
			d.available = false
			delete(s.byID, d.ID)
			d = nil
		}
		if d == nil {
			d = &lbDest{}
			s.byID[es[i].ID] = d
		}
		d.Dest, d.c, d.available = es[i].Dest, es[i].c, true
		list[i] = d
		keep[d] = true
	}
	for _, d := range s.dests {
		if !keep[d] {
			d.available = false
			if d.refs == 0 && s.byID[d.ID] == d {
				delete(s.byID, d.ID)
			}
		}
	}
	s.dests = list
	return nil
}

// hold and release count cache references to a real server.
func (s *lblc) holdLocked(d *lbDest) { d.refs++ }

func (s *lblc) releaseLocked(d *lbDest) {
	d.refs--
	if d.refs == 0 && !d.available && s.byID[d.ID] == d {
		delete(s.byID, d.ID)
	}
}

// Pick implements Scheduler.
func (s *lblc) Pick(in *Input) (Dest, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(in.Now)
	var d *lbDest
	if s.replicate {
		d = s.pickLBLCRLocked(in.Dst, in.Now)
	} else {
		d = s.pickLBLCLocked(in.Dst, in.Now)
	}
	if d == nil {
		return Dest{}, false
	}
	return d.Dest, true
}

// wlcLocked is __ip_vs_lblc_schedule / __ip_vs_lblcr_schedule: wlc over the
// service's list.
func (s *lblc) wlcLocked() *lbDest {
	var least *lbDest
	var loh int64
	i := 0
	for ; i < len(s.dests); i++ {
		d := s.dests[i]
		if !d.c.Overload.Load() && d.Weight > 0 {
			least, loh = d, int64(d.c.Overhead())
			break
		}
	}
	if least == nil {
		return nil
	}
	for i++; i < len(s.dests); i++ {
		d := s.dests[i]
		if d.c.Overload.Load() {
			continue
		}
		doh := int64(d.c.Overhead())
		if loh*int64(d.Weight) > doh*int64(least.Weight) {
			least, loh = d, doh
		}
	}
	return least
}

// isOverloadedLocked is is_overloaded(): activeconns > weight and some real
// server of the service has activeconns * 2 < weight.
func (s *lblc) isOverloadedLocked(d *lbDest) bool {
	if d.c.Active.Load() <= d.Weight {
		return false
	}
	for _, m := range s.dests {
		if m.c.Active.Load()*2 < m.Weight {
			return true
		}
	}
	return false
}

func (s *lblc) findLocked(b int, addr netip.Addr) int {
	for i := range s.buckets[b] {
		if s.buckets[b][i].addr == addr {
			return i
		}
	}
	return -1
}

// removeLocked unlinks entry i of bucket b and drops its references. It does
// not touch s.entries: callers do, as the kernel's callers do.
func (s *lblc) removeLocked(b, i int) {
	bk := s.buckets[b]
	en := &bk[i]
	if en.dest != nil {
		s.releaseLocked(en.dest)
	}
	for _, d := range en.set {
		s.releaseLocked(d)
	}
	last := len(bk) - 1
	bk[i] = bk[last]
	bk[last] = lbEntry{}
	s.buckets[b] = bk[:last]
	s.live--
}

func (s *lblc) addLocked(b int, en lbEntry) {
	s.buckets[b] = append(s.buckets[b], en)
	s.entries++ // ip_vs_lblc_hash: atomic_inc(&tbl->entries)
	s.live++
}

// pickLBLCLocked is ip_vs_lblc_schedule.
func (s *lblc) pickLBLCLocked(dst netip.Addr, now int64) *lbDest {
	b := int(hash32(addrFold(dst), lblcTabBits))
	i := s.findLocked(b, dst)
	if i >= 0 {
		en := &s.buckets[b][i]
		en.lastuse = now
		d := en.dest
		// The cached dest's OVERLOAD flag is not checked here.
		if d.available && d.Weight > 0 && !s.isOverloadedLocked(d) {
			return d
		}
	}
	d := s.wlcLocked()
	if d == nil {
		return nil
	}
	// ip_vs_lblc_new: keep an entry already pointing at d; else replace it.
	// The kernel unlinks the old entry without decrementing tbl->entries
	// and increments it for the new one; that accounting is kept.
	if i >= 0 {
		if s.buckets[b][i].dest == d {
			return d
		}
		s.removeLocked(b, i)
	}
	s.holdLocked(d)
	s.addLocked(b, lbEntry{addr: dst, dest: d, lastuse: now})
	return d
}

// setMin is ip_vs_dest_set_min.
func setMin(set []*lbDest) *lbDest {
	var least *lbDest
	var loh int64
	i := 0
	for ; i < len(set); i++ {
		d := set[i]
		if d.c.Overload.Load() {
			continue
		}
		if d.Weight > 0 && d.available {
			least, loh = d, int64(d.c.Overhead())
			break
		}
	}
	if least == nil {
		return nil
	}
	for i++; i < len(set); i++ {
		d := set[i]
		if d.c.Overload.Load() {
			continue
		}
		doh := int64(d.c.Overhead())
		if loh*int64(d.Weight) > doh*int64(least.Weight) && d.available {
			least, loh = d, doh
		}
	}
	return least
}

// setMax is ip_vs_dest_set_max: the most loaded member with weight > 0;
// neither OVERLOAD nor AVAILABLE is looked at.
func setMax(set []*lbDest) *lbDest {
	var most *lbDest
	var moh int64
	i := 0
	for ; i < len(set); i++ {
		if set[i].Weight > 0 {
			most, moh = set[i], int64(set[i].c.Overhead())
			break
		}
	}
	if most == nil {
		return nil
	}
	for i++; i < len(set); i++ {
		d := set[i]
		doh := int64(d.c.Overhead())
		if moh*int64(d.Weight) < doh*int64(most.Weight) && d.Weight > 0 {
			most, moh = d, doh
		}
	}
	return most
}

// setInsertLocked is ip_vs_dest_set_insert(check = true): front insertion,
// lastmod = now, unless d is already a member.
func (s *lblc) setInsertLocked(en *lbEntry, d *lbDest, now int64) {
	for _, m := range en.set {
		if m == d {
			return
		}
	}
	s.holdLocked(d)
	en.set = append(en.set, nil)
	copy(en.set[1:], en.set)
	en.set[0] = d
	en.lastmod = now
}

// setEraseLocked is ip_vs_dest_set_erase.
func (s *lblc) setEraseLocked(en *lbEntry, d *lbDest, now int64) {
	for i, m := range en.set {
		if m == d {
			en.lastmod = now
			copy(en.set[i:], en.set[i+1:])
			en.set[len(en.set)-1] = nil
			en.set = en.set[:len(en.set)-1]
			s.releaseLocked(d)
			return
		}
	}
}

// pickLBLCRLocked is ip_vs_lblcr_schedule.
func (s *lblc) pickLBLCRLocked(dst netip.Addr, now int64) *lbDest {
	b := int(hash32(addrFold(dst), lblcTabBits))
	i := s.findLocked(b, dst)
	if i >= 0 {
		en := &s.buckets[b][i]
		en.lastuse = now
		d := setMin(en.set)
		// More than one member and nothing changed for lblcr_expiration
		// (time_after: strictly later): drop the most loaded member.
		if len(en.set) > 1 && now > en.lastmod+s.exp {
			if m := setMax(en.set); m != nil {
				s.setEraseLocked(en, m, now)
			}
		}
		if d != nil && !s.isOverloadedLocked(d) {
			return d
		}
		d = s.wlcLocked()
		if d == nil {
			return nil
		}
		s.setInsertLocked(en, d, now)
		return d
	}
	d := s.wlcLocked()
	if d == nil {
		return nil
	}
	s.holdLocked(d)
	s.addLocked(b, lbEntry{addr: dst, lastuse: now, set: []*lbDest{d}, lastmod: now})
	return d
}

// advanceLocked runs the garbage-collection ticks due at or before now.
// Ticks that provably change nothing but tbl->counter are skipped in bulk.
func (s *lblc) advanceLocked(now int64) {
	if !s.started {
		s.started = true
		s.nextTick = now + checkExpireInterval
		return
	}
	for now >= s.nextTick {
		due := (now-s.nextTick)/checkExpireInterval + 1
		switch {
		case s.entries > lblcMaxSize && s.live == 0:
			// Over-full by the kernel's count but empty: partial GC finds
			// nothing, the rover goes full circle, counter stays.
			s.nextTick += due * checkExpireInterval
			continue
		case s.entries <= lblcMaxSize && s.counter%countForFullExpiration != 0:
			// Only counter++ until the next full check.
			k := int64(countForFullExpiration - s.counter%countForFullExpiration)
			k = min(k, due)
			s.counter += int(k)
			s.nextTick += k * checkExpireInterval
			continue
		}
		s.checkExpireLocked(s.nextTick)
		s.nextTick += checkExpireInterval
	}
}

// checkExpireLocked is ip_vs_lblc_check_expire / ip_vs_lblcr_check_expire
// at time now.
func (s *lblc) checkExpireLocked(now int64) {
	if s.counter%countForFullExpiration == 0 {
		s.sweepLocked(now, s.exp, 0, true) // ip_vs_lblc_full_check
		s.counter = 1
		return
	}
	if s.entries <= lblcMaxSize {
		s.counter++
		return
	}
	goal := (s.entries - lblcMaxSize) * 4 / 3
	goal = min(goal, lblcMaxSize/2)
	s.sweepLocked(now, entryTimeout, goal, false)
}

// sweepLocked walks the buckets from the one after the rover, removing
// entries with now >= lastuse + age (time_before(now, lastuse + age) keeps
// them). A full check walks every bucket; a partial one stops after the
// bucket in which goal removals are reached.
func (s *lblc) sweepLocked(now, age int64, goal int, full bool) {
	j := s.rover
	for i := 0; i < lblcTabSize; i++ {
		j = (j + 1) & lblcTabMask
		bk := s.buckets[j]
		for k := 0; k < len(bk); {
			if now < bk[k].lastuse+age {
				k++
				continue
			}
			s.removeLocked(j, k)
			bk = s.buckets[j]
			s.entries--
			goal--
		}
		if !full && goal <= 0 {
			break
		}
	}
	s.rover = j
}
