package director

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"

	"github.com/uvslb/uvs/conf"
	"github.com/uvslb/uvs/dataplane"
	"github.com/uvslb/uvs/scheduler"
)

// DestTable is what the director needs from the connection table: the live
// per-real-server counters the schedulers read, and the thresholds that
// drive the OVERLOAD flag.
type DestTable interface {
	scheduler.Load
	SetThresholds(id scheduler.DestID, upper, lower uint32) error
}

// Health says whether a real server of a virtual service is alive. The
// checkers provide it in the daemon; replay marks everything alive except
// its --down list.
type Health func(vs *conf.VirtualServer, rs *conf.RealServer) bool

// AllAlive is the Health of a director whose checkers have not run: every
// real server is up (replay without --down).
func AllAlive(*conf.VirtualServer, *conf.RealServer) bool { return true }

// svcIdent identifies a virtual service across reloads.
type svcIdent struct {
	proto  uint8
	vip    netip.Addr
	port   uint16
	fwmark uint32
	family uint8
}

// destIdent identifies a real server of a service across reloads.
type destIdent struct {
	addr   netip.Addr
	port   uint16
	method dataplane.Method
}

// svcState is what survives a reload for one virtual service: its
// scheduler (rr pointer, wrr cursor, lblc cache), its kernel-order list,
// its stats, and the IDs and stats of its real servers.
type svcState struct {
	sched     scheduler.Scheduler
	schedName string
	flags     scheduler.Flags
	list      scheduler.List
	stats     *dataplane.Stats
	dests     map[destIdent]*dataplane.Dest
}

// Compiler turns configuration plus health into dataplane snapshots. It
// keeps the long-lived parts (scheduler state, real-server IDs, stats)
// across compilations so a reload keeps connections and counters. It is
// used by one goroutine at a time.
type Compiler struct {
	table    DestTable
	workers  int
	schedOpt scheduler.Options
	nextID   scheduler.DestID
	services map[svcIdent]*svcState
}

// NewCompiler returns a compiler whose schedulers read load from table and
// whose stats have one shard per dataplane worker.
func NewCompiler(table DestTable, workers int, schedOpt scheduler.Options) *Compiler {
	return &Compiler{table: table, workers: workers, schedOpt: schedOpt, nextID: 1, services: map[svcIdent]*svcState{}}
}

func protoNum(p conf.Protocol) uint8 {
	switch p {
	case conf.TCP:
		return dataplane.ProtoTCP
	case conf.UDP:
		return dataplane.ProtoUDP
	case conf.SCTP:
		return dataplane.ProtoSCTP
	}
	return 0
}

func method(m conf.Method) dataplane.Method {
	switch m {
	case conf.MethodDR:
		return dataplane.MethodDR
	case conf.MethodTUN:
		return dataplane.MethodTUN
	}
	return dataplane.MethodNAT
}

func schedFlags(fs []conf.SchedFlag) scheduler.Flags {
	var f scheduler.Flags
	for _, x := range fs {
		switch x.Bits() {
		case 0x8:
			f |= scheduler.FlagFallback
		case 0x10:
			f |= scheduler.FlagPort
		case 0x20:
			f |= scheduler.Flag3
		}
	}
	return f
}

func family(a netip.Addr) uint8 {
	if a.Unmap().Is4() {
		return 4
	}
	return 6
}

// maxGroupExpansion bounds how many services one virtual_server_group
// range may expand into.
const maxGroupExpansion = 4096

// serviceKeys expands a virtual server into the IPVS services it stands
// for: itself, or one per address of its virtual_server_group.
func serviceKeys(cfg *conf.Config, vs *conf.VirtualServer) ([]svcIdent, error) {
	proto := protoNum(vs.Protocol)
	if vs.Group == "" {
		if vs.FWMark != 0 {
			fam := uint8(4)
			if vs.IPFamily == conf.IPv6 {
				fam = 6
			}
			return []svcIdent{{proto: proto, fwmark: vs.FWMark, family: fam}}, nil
		}
		a := vs.Addr.Unmap()
		return []svcIdent{{proto: proto, vip: a, port: vs.Port, family: family(a)}}, nil
	}
	var g *conf.VirtualServerGroup
	for i := range cfg.VirtualServerGroups {
		if cfg.VirtualServerGroups[i].Name == vs.Group {
			g = &cfg.VirtualServerGroups[i]
		}
	}
	if g == nil {
		return nil, fmt.Errorf("%s: virtual_server_group %q is not defined", vs.Pos, vs.Group)
	}
	var out []svcIdent
	for _, e := range g.Entries {
		switch {
		case e.FWMark != 0:
			fam := uint8(4)
			if e.Family == conf.IPv6 {
				fam = 6
			}
			out = append(out, svcIdent{proto: proto, fwmark: e.FWMark, family: fam})
		case e.Prefix.IsValid():
			p := e.Prefix.Masked()
			for a := p.Addr(); p.Contains(a); a = a.Next() {
				if len(out) >= maxGroupExpansion {
					return nil, fmt.Errorf("%s: group %q expands to more than %d services", e.Pos, g.Name, maxGroupExpansion)
				}
				out = append(out, svcIdent{proto: proto, vip: a, port: e.Port, family: family(a)})
			}
		default:
			last := e.Addr
			if e.Last.IsValid() {
				last = e.Last
			}
			for a := e.Addr; a.IsValid() && a.Compare(last) <= 0; a = a.Next() {
				if len(out) >= maxGroupExpansion {
					return nil, fmt.Errorf("%s: group %q expands to more than %d services", e.Pos, g.Name, maxGroupExpansion)
				}
				out = append(out, svcIdent{proto: proto, vip: a.Unmap(), port: e.Port, family: family(a)})
			}
		}
	}
	return out, nil
}

// desired is one real server as the configuration and health want it.
type desired struct {
	ident  destIdent
	weight int32
	upper  uint32
	lower  uint32
}

// wantedDests applies keepalived's health, inhibit_on_failure, quorum and
// sorry-server rules (reference keepalived.md §4.3, §4.5) to one virtual
// server and returns the real servers IPVS should hold, in file order.
func wantedDests(vs *conf.VirtualServer, health Health) []desired {
	var alive []desired
	var inhibited []desired
	weightSum := 0
	for i := range vs.RealServers {
		rs := &vs.RealServers[i]
		w := 1
		if rs.Weight != nil {
			w = *rs.Weight
		}
		d := desired{
			ident:  destIdent{rs.Addr.Unmap(), rs.Port, method(rs.Method)},
			weight: int32(w),
			upper:  rs.UThreshold,
			lower:  rs.LThreshold,
		}
		if health(vs, rs) {
			alive = append(alive, d)
			weightSum += w
		} else if rs.InhibitOnFailure != nil && *rs.InhibitOnFailure {
			d.weight = 0
			inhibited = append(inhibited, d)
		}
	}
	quorum := vs.Quorum
	if quorum == 0 {
		quorum = 1
	}
	if weightSum == 0 || weightSum < quorum-vs.Hysteresis {
		if vs.SorryServer.IsValid() {
			sm := vs.SorryServerMethod
			if sm == 0 {
				sm = vs.Method
			}
			port := vs.SorryServer.Port()
			if port == 0 {
				port = vs.Port
			}
			return []desired{{ident: destIdent{vs.SorryServer.Addr().Unmap(), port, method(sm)}, weight: 1}}
		}
	}
	// Inhibited servers stay in IPVS at weight 0, in file order among the
	// alive ones.
	out := make([]desired, 0, len(alive)+len(inhibited))
	for i := range vs.RealServers {
		rs := &vs.RealServers[i]
		id := destIdent{rs.Addr.Unmap(), rs.Port, method(rs.Method)}
		for _, d := range alive {
			if d.ident == id {
				out = append(out, d)
			}
		}
		for _, d := range inhibited {
			if d.ident == id {
				out = append(out, d)
			}
		}
	}
	return out
}

// Compile builds a snapshot from a compiled configuration (conf.Load output
// with no errors) and health. opt carries the director-wide settings.
func (c *Compiler) Compile(cfg *conf.Config, health Health, opt dataplane.Options) (*dataplane.Snapshot, error) {
	var services []*dataplane.Service
	seen := map[svcIdent]bool{}
	for i := range cfg.VirtualServers {
		vs := &cfg.VirtualServers[i]
		keys, err := serviceKeys(cfg, vs)
		if err != nil {
			return nil, err
		}
		want := wantedDests(vs, health)
		for _, k := range keys {
			if seen[k] {
				return nil, fmt.Errorf("%s: virtual server %s defined twice", vs.Pos, dataplane.ServiceName(k.proto, k.vip, k.port, k.fwmark))
			}
			seen[k] = true
			svc, err := c.service(k, vs, want)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", vs.Pos, err)
			}
			services = append(services, svc)
		}
	}
	// Services gone from the configuration lose their state; their
	// connections drain through the conntrack timeouts.
	for k := range c.services {
		if !seen[k] {
			delete(c.services, k)
		}
	}
	var marks []dataplane.MarkMatch
	for _, r := range cfg.Dataplane.FWMarks {
		for _, m := range r.Match {
			marks = append(marks, dataplane.MarkMatch{
				Mark: r.Mark, Proto: protoNum(m.Protocol), Prefix: m.Prefix,
				PortLo: m.Ports.Lo, PortHi: m.Ports.Hi,
			})
		}
	}
	return dataplane.NewSnapshot(opt, services, marks, nil)
}

// service brings one IPVS service's long-lived state in line with the
// configuration, applying real-server changes one by one as the kernel
// would see them (so scheduler state moves exactly as in IPVS), and
// returns its dataplane view.
func (c *Compiler) service(k svcIdent, vs *conf.VirtualServer, want []desired) (*dataplane.Service, error) {
	name := string(vs.Scheduler)
	if name == "" {
		name = "wlc"
	}
	flags := schedFlags(vs.SchedFlags)
	st := c.services[k]
	if st == nil || st.schedName != name || st.flags != flags {
		sched, err := scheduler.New(name, flags, c.table, c.schedOpt)
		if err != nil {
			return nil, err
		}
		old := st
		st = &svcState{sched: sched, schedName: name, flags: flags, stats: dataplane.NewStats(c.workers), dests: map[destIdent]*dataplane.Dest{}}
		if old != nil { // a scheduler change keeps stats and real-server identities
			st.stats, st.dests = old.stats, old.dests
			for _, d := range old.dests {
				d.Available = false
			}
		}
		c.services[k] = st
	}
	// Remove real servers no longer wanted.
	wanted := map[destIdent]bool{}
	for _, w := range want {
		wanted[w.ident] = true
	}
	for _, d := range st.list.Dests() {
		id := c.identOf(st, d.ID)
		if !wanted[id] {
			if err := st.list.Remove(d.ID); err != nil {
				return nil, err
			}
			if err := st.sched.Update(st.list.Dests()); err != nil {
				return nil, err
			}
			st.dests[id].Available = false
		}
	}
	// Add new ones in file order (each goes to the head, as in IPVS) and
	// edit changed ones in place.
	for _, w := range want {
		d := st.dests[w.ident]
		if d == nil {
			d = &dataplane.Dest{ID: c.nextID, Addr: w.ident.addr, Port: w.ident.port, Method: w.ident.method, Stats: dataplane.NewStats(c.workers)}
			c.nextID++
			st.dests[w.ident] = d
		}
		if err := st.apply(scheduler.Dest{ID: d.ID, Addr: d.Addr, Port: d.Port, Weight: w.weight}); err != nil {
			return nil, err
		}
		d.Weight = w.weight
		d.Available = true
		if err := c.table.SetThresholds(d.ID, w.upper, w.lower); err != nil {
			return nil, err
		}
	}
	svc := &dataplane.Service{
		Proto: k.proto, VIP: k.vip, Port: k.port, FWMark: k.fwmark, Family: k.family,
		Sched: st.sched, SchedName: name,
		Persistent: vs.PersistenceTimeout > 0, PersistTimeout: int64(vs.PersistenceTimeout),
		PersistBits: vs.PersistenceGranularity, OPS: vs.OPS,
		Stats: st.stats,
		Name:  dataplane.ServiceName(k.proto, k.vip, k.port, k.fwmark),
	}
	if svc.PersistBits == 0 {
		svc.PersistBits = 32
		if k.family == 6 {
			svc.PersistBits = 128
		}
	}
	for _, w := range want {
		svc.Dests = append(svc.Dests, st.dests[w.ident])
	}
	// Removed real servers stay reachable by ID (unavailable) so their
	// connections are handled by the expire_nodest_conn rule.
	// They follow the wanted ones in ID order, so snapshots are
	// deterministic.
	n := len(svc.Dests)
	for id, d := range st.dests {
		if !wanted[id] {
			svc.Dests = append(svc.Dests, d)
		}
	}
	slices.SortFunc(svc.Dests[n:], func(a, b *dataplane.Dest) int { return cmp.Compare(a.ID, b.ID) })
	return svc, nil
}

// apply adds d to the service's list (at the head, as IPVS does) or edits
// it in place when its weight changed, and tells the scheduler: one kernel
// add_dest/edit_dest event per call.
func (st *svcState) apply(d scheduler.Dest) error {
	var err error
	switch old, ok := st.find(d.ID); {
	case !ok:
		err = st.list.Add(d)
	case old.Weight != d.Weight:
		err = st.list.Edit(d)
	default:
		return nil
	}
	if err != nil {
		return err
	}
	return st.sched.Update(st.list.Dests())
}

func (st *svcState) find(id scheduler.DestID) (scheduler.Dest, bool) {
	for _, x := range st.list.Dests() {
		if x.ID == id {
			return x, true
		}
	}
	return scheduler.Dest{}, false
}

func (c *Compiler) identOf(st *svcState, id scheduler.DestID) destIdent {
	for k, d := range st.dests {
		if d.ID == id {
			return k
		}
	}
	return destIdent{}
}
