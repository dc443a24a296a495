package director

import (
	"net/netip"
	"testing"
	"testing/fstest"

	"github.com/uvslb/uvs/conf"
	"github.com/uvslb/uvs/conntrack"
	"github.com/uvslb/uvs/dataplane"
	"github.com/uvslb/uvs/scheduler"
)

func load(t *testing.T, src string) *conf.Config {
	t.Helper()
	cfg, probs := conf.Load(fstest.MapFS{"k.conf": {Data: []byte(src)}}, "k.conf")
	if conf.HasErrors(probs) {
		t.Fatalf("conf.Load: %v", probs)
	}
	return cfg
}

const twoServices = `
virtual_server 198.51.100.100 80 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  sorry_server 192.0.2.99 8080
  real_server 192.0.2.21 8080 { weight 1 }
  real_server 192.0.2.22 8080 {
    weight 2
    inhibit_on_failure
  }
  real_server 192.0.2.23 8080 { weight 3 }
}
virtual_server 198.51.100.100 53 {
  lb_algo wlc
  lb_kind DR
  protocol UDP
  persistence_timeout 60
  real_server 192.0.2.21 53 { weight 1 }
}
`

func newTestCompiler(t *testing.T) (*Compiler, *conntrack.Table) {
	t.Helper()
	table, err := conntrack.New(conntrack.Config{MaxConns: 64, Shards: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return NewCompiler(tableAdapter{table}, 1, scheduler.Options{}), table
}

func addrs(ds []*dataplane.Dest, onlyAvailable bool) []string {
	var out []string
	for _, d := range ds {
		if d.Available || !onlyAvailable {
			out = append(out, netip.AddrPortFrom(d.Addr, d.Port).String())
		}
	}
	return out
}

func TestCompile(t *testing.T) {
	cfg := load(t, twoServices)
	c, _ := newTestCompiler(t)
	snap, err := c.Compile(cfg, AllAlive, dataplane.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svcs := snap.Services()
	if len(svcs) != 2 || svcs[0].Name != "TCP 198.51.100.100:80" || svcs[1].Name != "UDP 198.51.100.100:53" {
		t.Fatalf("services %v", svcs)
	}
	web := svcs[0]
	if got := addrs(web.Dests, true); len(got) != 3 || got[0] != "192.0.2.21:8080" {
		t.Fatalf("dests %v", got)
	}
	// Kernel order is the reverse of the file: rr starts with the last one.
	d, ok := web.Sched.Pick(&scheduler.Input{})
	if !ok || d.Addr != netip.MustParseAddr("192.0.2.23") {
		t.Fatalf("first rr pick %v, want 192.0.2.23", d.Addr)
	}
	dns := svcs[1]
	if !dns.Persistent || dns.PersistTimeout != 60e9 || dns.PersistBits != 32 || dns.Dests[0].Method != dataplane.MethodDR {
		t.Fatalf("dns service %+v", dns)
	}
	if !snap.IsVIP(netip.MustParseAddr("198.51.100.100")) {
		t.Fatal("the VIP is not active")
	}

	// .22 fails (inhibit_on_failure keeps it at weight 0), .21 fails
	// (removed, but its ID stays known so its connections drain).
	down := map[string]bool{"192.0.2.22": true, "192.0.2.21": true}
	health := func(_ *conf.VirtualServer, rs *conf.RealServer) bool { return !down[rs.Addr.String()] }
	id21 := web.Dests[0].ID
	snap2, err := c.Compile(cfg, health, dataplane.Options{})
	if err != nil {
		t.Fatal(err)
	}
	web2 := snap2.Services()[0]
	if web2.Stats != web.Stats {
		t.Error("a reload replaced the service's stats")
	}
	if got := addrs(web2.Dests, true); len(got) != 2 || got[0] != "192.0.2.22:8080" || got[1] != "192.0.2.23:8080" {
		t.Fatalf("after failures, available dests %v", got)
	}
	if web2.Dests[0].Weight != 0 {
		t.Errorf("inhibited real server weight %d, want 0", web2.Dests[0].Weight)
	}
	if d := snap2.Dest(id21); d == nil || d.Available {
		t.Errorf("removed real server: Dest(%d) = %+v, want known and unavailable", id21, d)
	}

	// Everything down: the sorry server takes over.
	down["192.0.2.23"] = true
	snap3, err := c.Compile(cfg, health, dataplane.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := addrs(snap3.Services()[0].Dests, true); len(got) != 1 || got[0] != "192.0.2.99:8080" {
		t.Fatalf("all down: available dests %v, want the sorry server", got)
	}
}
