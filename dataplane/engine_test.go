package dataplane

import (
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/uvslb/uvs/conntrack"
	"github.com/uvslb/uvs/internal/header"
	"github.com/uvslb/uvs/internal/link"
	"github.com/uvslb/uvs/internal/pkttest"
	"github.com/uvslb/uvs/scheduler"
)

var (
	dirMAC    = MAC{2, 0, 0, 0, 0, 2}
	cliMAC    = MAC{2, 0, 0, 0, 1, 0x10}
	rs1MAC    = MAC{2, 0, 0, 0, 2, 0x21}
	rs2MAC    = MAC{2, 0, 0, 0, 2, 0x22}
	vip       = netip.MustParseAddr("198.51.100.100")
	cli       = netip.MustParseAddr("198.51.100.10")
	rs1       = netip.MustParseAddr("192.0.2.21")
	rs2       = netip.MustParseAddr("192.0.2.22")
	dirAddr   = netip.MustParseAddr("192.0.2.1")
	vip6      = netip.MustParseAddr("2001:db8:100::100")
	cli6      = netip.MustParseAddr("2001:db8:100::10")
	rs61      = netip.MustParseAddr("2001:db8:200::21")
	startTime = int64(1_700_000_000_000_000_000)
)

// rig is an engine with one service and two real servers (rs1 first in
// configuration order, so rs2 heads the scheduler list, as in IPVS).
type rig struct {
	t     *testing.T
	e     *Engine
	table *conntrack.Table
	svc   *Service
	now   int64
}

type rigOpt struct {
	method  Method
	proto   uint8
	sched   string
	v6      bool
	neigh   map[netip.Addr]MAC
	persist int64
	reals   []netip.Addr
	ports   int // client ports per client in randomTraffic (0: 4)
}

func newRig(t *testing.T, o rigOpt) *rig {
	t.Helper()
	if o.proto == 0 {
		o.proto = ProtoTCP
	}
	if o.sched == "" {
		o.sched = "rr"
	}
	if o.method == 0 {
		o.method = MethodNAT
	}
	v := vip
	if o.v6 {
		v = vip6
	}
	if o.reals == nil {
		o.reals = []netip.Addr{rs1, rs2}
		if o.v6 {
			o.reals = []netip.Addr{rs61}
		}
	}
	if o.neigh == nil {
		o.neigh = map[netip.Addr]MAC{rs1: rs1MAC, rs2: rs2MAC, rs61: rs1MAC}
	}
	table, err := conntrack.New(conntrack.Config{MaxConns: 1024, Shards: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	sched, err := scheduler.New(o.sched, 0, table, scheduler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc := &Service{Proto: o.proto, VIP: v, Port: 80, Family: 4, Sched: sched, SchedName: o.sched, Stats: NewStats(1),
		Persistent: o.persist > 0, PersistTimeout: o.persist, PersistBits: 32, Name: ServiceName(o.proto, v, 80, 0)}
	var list scheduler.List
	for i, a := range o.reals {
		port := uint16(8080)
		if o.method != MethodNAT {
			port = 80
		}
		d := &Dest{ID: scheduler.DestID(i + 1), Addr: a, Port: port, Weight: 1, Method: o.method, Stats: NewStats(1), Available: true}
		svc.Dests = append(svc.Dests, d)
		if err := list.Add(scheduler.Dest{ID: d.ID, Addr: a, Port: port, Weight: 1}); err != nil {
			t.Fatal(err)
		}
		if err := sched.Update(list.Dests()); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := NewSnapshot(Options{MAC: dirMAC, Addr4: dirAddr}, []*Service{svc}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := NewEngine(Config{Table: table, Workers: 1, LinkType: link.Ethernet, Neighbours: o.neigh})
	e.Swap(snap)
	return &rig{t: t, e: e, table: table, svc: svc, now: startTime}
}

// send runs one frame through the worker and returns the record and the
// transmitted frames.
func (r *rig) send(frame []byte) (Record, [][]byte) {
	r.t.Helper()
	r.now += 1_000_000
	in := link.NewBatch(1)
	in.Len[0] = copy(in.Bufs[0][link.Headroom:], frame)
	in.Meta[0].Time = r.now
	in.N = 1
	var tr recorder
	r.e.Tick(r.now)
	w := r.e.Worker(0)
	w.Process(in, &tr)
	var out [][]byte
	for j := 0; j < w.TX().N; j++ {
		out = append(out, append([]byte(nil), w.TX().Frame(j)...))
	}
	return tr.rec, out
}

type recorder struct{ rec Record }

func (r *recorder) Trace(rec *Record, _ *link.Batch) { r.rec = *rec }

// pkt builds an Ethernet frame with gopacket.
type pkt struct {
	srcMAC, dstMAC MAC
	src, dst       netip.Addr
	sport, dport   uint16
	proto          uint8
	flags          string // TCP flags: S A F R P
	ttl            uint8
	payload        []byte
	badCsum        bool
}

func (p pkt) bytes(t *testing.T) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr(p.srcMAC[:]), DstMAC: net.HardwareAddr(p.dstMAC[:])}
	ttl := p.ttl
	if ttl == 0 {
		ttl = 64
	}
	var net4 *layers.IPv4
	var net6 *layers.IPv6
	var nl gopacket.NetworkLayer
	proto := layers.IPProtocol(p.proto)
	if p.src.Is4() {
		eth.EthernetType = layers.EthernetTypeIPv4
		net4 = &layers.IPv4{Version: 4, TTL: ttl, Protocol: proto, SrcIP: p.src.AsSlice(), DstIP: p.dst.AsSlice(), Flags: layers.IPv4DontFragment}
		nl = net4
	} else {
		eth.EthernetType = layers.EthernetTypeIPv6
		net6 = &layers.IPv6{Version: 6, HopLimit: ttl, NextHeader: proto, SrcIP: p.src.AsSlice(), DstIP: p.dst.AsSlice()}
		nl = net6
	}
	var ls []gopacket.SerializableLayer
	ls = append(ls, eth)
	if net4 != nil {
		ls = append(ls, net4)
	} else {
		ls = append(ls, net6)
	}
	switch p.proto {
	case ProtoTCP:
		tcp := &layers.TCP{SrcPort: layers.TCPPort(p.sport), DstPort: layers.TCPPort(p.dport), Seq: 1000, Window: 65535}
		for _, c := range p.flags {
			switch c {
			case 'S':
				tcp.SYN = true
			case 'A':
				tcp.ACK = true
			case 'F':
				tcp.FIN = true
			case 'R':
				tcp.RST = true
			case 'P':
				tcp.PSH = true
			}
		}
		tcp.SetNetworkLayerForChecksum(nl)
		ls = append(ls, tcp)
	case ProtoUDP:
		udp := &layers.UDP{SrcPort: layers.UDPPort(p.sport), DstPort: layers.UDPPort(p.dport)}
		udp.SetNetworkLayerForChecksum(nl)
		ls = append(ls, udp)
	}
	ls = append(ls, gopacket.Payload(p.payload))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if p.badCsum {
		b[14+20+16] ^= 0xff // corrupt the TCP checksum (IPv4, no options)
	}
	return b
}

// verify decodes an output frame with gopacket, checking every checksum.
func verify(t *testing.T, frame []byte) gopacket.Packet {
	t.Helper()
	return pkttest.Verify(t, frame, layers.LayerTypeEthernet)
}

func syn(src netip.Addr, sport uint16) pkt {
	return pkt{srcMAC: cliMAC, dstMAC: dirMAC, src: src, dst: vip, sport: sport, dport: 80, proto: ProtoTCP, flags: "S"}
}

func TestNATFlow(t *testing.T) {
	r := newRig(t, rigOpt{})
	rec, out := r.send(syn(cli, 40000).bytes(t))
	if rec.Action != ActNAT || rec.Conn != ConnNew || len(out) != 1 {
		t.Fatalf("SYN: action %v conn %v, %d frames out; want nat new 1", rec.Action, rec.Conn, len(out))
	}
	// rs2 was added last, so it heads the list and rr picks it first.
	if rec.Real != netip.AddrPortFrom(rs2, 8080) || rec.State != conntrack.StateSynRecv {
		t.Fatalf("SYN: real %v state %v, want %v:8080 SYN_RECV", rec.Real, rec.State, rs2)
	}
	pk := verify(t, out[0])
	eth := pk.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	ip := pk.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	tcp := pk.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if MAC(eth.DstMAC) != rs2MAC || MAC(eth.SrcMAC) != dirMAC {
		t.Errorf("SYN out MACs %v > %v, want %v > %v", eth.SrcMAC, eth.DstMAC, dirMAC, rs2MAC)
	}
	if !ip.DstIP.Equal(rs2.AsSlice()) || !ip.SrcIP.Equal(cli.AsSlice()) || tcp.DstPort != 8080 || tcp.SrcPort != 40000 || ip.TTL != 63 {
		t.Errorf("SYN out %v:%d > %v:%d ttl %d, want %v:40000 > %v:8080 ttl 63", ip.SrcIP, tcp.SrcPort, ip.DstIP, tcp.DstPort, ip.TTL, cli, rs2)
	}
	if c := r.table.Counters(2); c.Active.Load() != 1 || c.Inactive.Load() != 0 {
		t.Errorf("rs2 counters active %d inactive %d, want 1 0", c.Active.Load(), c.Inactive.Load())
	}
	// The real server's SYN+ACK goes back from the VIP to the client's MAC.
	rec, out = r.send(pkt{srcMAC: rs2MAC, dstMAC: dirMAC, src: rs2, dst: cli, sport: 8080, dport: 40000, proto: ProtoTCP, flags: "SA"}.bytes(t))
	if rec.Action != ActReplyNAT || rec.Conn != ConnExisting || len(out) != 1 {
		t.Fatalf("SYN+ACK: action %v conn %v, %d out; want reply-nat existing 1", rec.Action, rec.Conn, len(out))
	}
	pk = verify(t, out[0])
	eth = pk.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	ip = pk.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	tcp = pk.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if MAC(eth.DstMAC) != cliMAC || !ip.SrcIP.Equal(vip.AsSlice()) || tcp.SrcPort != 80 || !ip.DstIP.Equal(cli.AsSlice()) {
		t.Errorf("SYN+ACK out %v %v:%d > %v, want to %v from %v:80", eth.DstMAC, ip.SrcIP, tcp.SrcPort, ip.DstIP, cliMAC, vip)
	}
	rec, _ = r.send(pkt{srcMAC: cliMAC, dstMAC: dirMAC, src: cli, dst: vip, sport: 40000, dport: 80, proto: ProtoTCP, flags: "A"}.bytes(t))
	if rec.State != conntrack.StateEstablished {
		t.Fatalf("ACK: state %v, want ESTABLISHED", rec.State)
	}
	// A second client goes to rs1 (round robin).
	rec, _ = r.send(syn(netip.MustParseAddr("198.51.100.11"), 40001).bytes(t))
	if rec.Real.Addr() != rs1 {
		t.Fatalf("second SYN went to %v, want %v", rec.Real, rs1)
	}
	c := r.svc.Stats.Snapshot()
	if c.Conns != 2 || c.InPkts != 3 || c.OutPkts != 1 {
		t.Errorf("service stats %+v, want 2 conns, 3 in, 1 out", c)
	}
}

func TestNATUDPAndIPv6(t *testing.T) {
	r := newRig(t, rigOpt{proto: ProtoUDP})
	rec, out := r.send(pkt{srcMAC: cliMAC, dstMAC: dirMAC, src: cli, dst: vip, sport: 5353, dport: 80, proto: ProtoUDP, payload: []byte("q")}.bytes(t))
	if rec.Action != ActNAT || rec.State != conntrack.StateUDP || len(out) != 1 {
		t.Fatalf("UDP: action %v state %v, %d out", rec.Action, rec.State, len(out))
	}
	verify(t, out[0])
	r6 := newRig(t, rigOpt{v6: true})
	rec, out = r6.send(pkt{srcMAC: cliMAC, dstMAC: dirMAC, src: cli6, dst: vip6, sport: 40000, dport: 80, proto: ProtoTCP, flags: "S"}.bytes(t))
	if rec.Action != ActNAT || len(out) != 1 {
		t.Fatalf("IPv6 SYN: action %v reason %v, %d out", rec.Action, rec.Reason, len(out))
	}
	pk := verify(t, out[0])
	if ip := pk.Layer(layers.LayerTypeIPv6).(*layers.IPv6); !ip.DstIP.Equal(rs61.AsSlice()) || ip.HopLimit != 63 {
		t.Errorf("IPv6 out dst %v hop %d, want %v 63", ip.DstIP, ip.HopLimit, rs61)
	}
}

func TestDRAndTUN(t *testing.T) {
	r := newRig(t, rigOpt{method: MethodDR})
	in := syn(cli, 40000).bytes(t)
	rec, out := r.send(in)
	if rec.Action != ActDR || len(out) != 1 {
		t.Fatalf("DR: action %v, %d out", rec.Action, len(out))
	}
	pk := verify(t, out[0])
	ip := pk.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	if eth := pk.Layer(layers.LayerTypeEthernet).(*layers.Ethernet); MAC(eth.DstMAC) != rs2MAC || !ip.DstIP.Equal(vip.AsSlice()) || ip.TTL != 63 {
		t.Errorf("DR out to %v dst %v ttl %d; want MAC %v, VIP unchanged, ttl 63", eth.DstMAC, ip.DstIP, ip.TTL, rs2MAC)
	}
	if len(out[0]) != len(in) || string(out[0][34:]) != string(in[34:]) {
		t.Errorf("DR changed more than the MACs, TTL and IP checksum")
	}

	r = newRig(t, rigOpt{method: MethodTUN})
	rec, out = r.send(in)
	if rec.Action != ActTUN || len(out) != 1 {
		t.Fatalf("TUN: action %v reason %v, %d out", rec.Action, rec.Reason, len(out))
	}
	pk = verify(t, out[0])
	ips := pk.Layers()
	outer := ips[1].(*layers.IPv4)
	if outer.Protocol != layers.IPProtocolIPv4 || !outer.SrcIP.Equal(dirAddr.AsSlice()) || !outer.DstIP.Equal(rs2.AsSlice()) || outer.TTL != 63 {
		t.Fatalf("TUN outer %v > %v proto %v ttl %d", outer.SrcIP, outer.DstIP, outer.Protocol, outer.TTL)
	}
	inner := ips[2].(*layers.IPv4)
	if !inner.DstIP.Equal(vip.AsSlice()) || !inner.SrcIP.Equal(cli.AsSlice()) {
		t.Errorf("TUN inner %v > %v", inner.SrcIP, inner.DstIP)
	}
	// An oversize DF packet is answered with frag-needed carrying MTU-20.
	big := syn(cli, 40001)
	big.payload = make([]byte, 1500-40)
	rec, out = r.send(big.bytes(t))
	if rec.Action != ActICMP || rec.Reason != ReasonTooBig || len(out) != 1 {
		t.Fatalf("oversize TUN: action %v reason %v, %d out", rec.Action, rec.Reason, len(out))
	}
	icmp := verify(t, out[0]).Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4)
	if icmp.TypeCode != layers.CreateICMPv4TypeCode(3, 4) || icmp.Seq != 1480 {
		t.Errorf("oversize TUN answered with %v mtu %d, want frag-needed 1480", icmp.TypeCode, icmp.Seq)
	}
}

func TestRefusals(t *testing.T) {
	r := newRig(t, rigOpt{reals: []netip.Addr{}})
	rec, out := r.send(syn(cli, 40000).bytes(t))
	if rec.Action != ActICMP || rec.Reason != ReasonNoDest || len(out) != 1 {
		t.Fatalf("no real server: action %v reason %v, %d out", rec.Action, rec.Reason, len(out))
	}
	icmp := verify(t, out[0]).Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4)
	if icmp.TypeCode != layers.CreateICMPv4TypeCode(3, 3) {
		t.Errorf("no real server answered with %v, want port unreachable", icmp.TypeCode)
	}

	r = newRig(t, rigOpt{})
	for _, tc := range []struct {
		name   string
		p      pkt
		act    Action
		reason Reason
	}{
		{"ttl 1", pkt{srcMAC: cliMAC, dstMAC: dirMAC, src: cli, dst: vip, sport: 1, dport: 80, proto: ProtoTCP, flags: "S", ttl: 1}, ActICMP, ReasonTTLExceeded},
		{"syn+fin", pkt{srcMAC: cliMAC, dstMAC: dirMAC, src: cli, dst: vip, sport: 2, dport: 80, proto: ProtoTCP, flags: "SF"}, ActDrop, Reason(header.BadTCPFlags)},
		{"bad checksum", pkt{srcMAC: cliMAC, dstMAC: dirMAC, src: cli, dst: vip, sport: 3, dport: 80, proto: ProtoTCP, flags: "S", badCsum: true}, ActDrop, Reason(header.BadL4Checksum)},
		{"ack without connection", pkt{srcMAC: cliMAC, dstMAC: dirMAC, src: cli, dst: vip, sport: 4, dport: 80, proto: ProtoTCP, flags: "A"}, ActPass, 0},
		{"not a service port", pkt{srcMAC: cliMAC, dstMAC: dirMAC, src: cli, dst: vip, sport: 5, dport: 81, proto: ProtoTCP, flags: "S"}, ActPass, 0},
		{"own MAC", pkt{srcMAC: dirMAC, dstMAC: dirMAC, src: cli, dst: vip, sport: 6, dport: 80, proto: ProtoTCP, flags: "S"}, ActDrop, ReasonOwnMAC},
	} {
		rec, _ := r.send(tc.p.bytes(t))
		if rec.Action != tc.act || rec.Reason != tc.reason {
			t.Errorf("%s: action %v reason %v, want %v %v", tc.name, rec.Action, rec.Reason, tc.act, tc.reason)
		}
	}
	if got := r.e.Drops()[ReasonOwnMAC]; got != 1 {
		t.Errorf("Drops()[own_mac] = %d, want 1", got)
	}
}

func TestARPAndResolution(t *testing.T) {
	r := newRig(t, rigOpt{neigh: map[netip.Addr]MAC{}})
	arp := func(op uint16, sha MAC, spa netip.Addr, tpa netip.Addr, dst MAC) []byte {
		buf := gopacket.NewSerializeBuffer()
		gopacket.SerializeLayers(buf, gopacket.SerializeOptions{},
			&layers.Ethernet{SrcMAC: sha[:], DstMAC: dst[:], EthernetType: layers.EthernetTypeARP},
			&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
				Operation: op, SourceHwAddress: sha[:], SourceProtAddress: spa.AsSlice(), DstHwAddress: make([]byte, 6), DstProtAddress: tpa.AsSlice()})
		return buf.Bytes()
	}
	rec, out := r.send(arp(layers.ARPRequest, cliMAC, cli, vip, MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}))
	if rec.Action != ActARPReply || len(out) != 1 {
		t.Fatalf("ARP for VIP: action %v, %d out", rec.Action, len(out))
	}
	a := verify(t, out[0]).Layer(layers.LayerTypeARP).(*layers.ARP)
	if a.Operation != layers.ARPReply || MAC(a.SourceHwAddress) != dirMAC || !net.IP(a.SourceProtAddress).Equal(vip.AsSlice()) {
		t.Errorf("ARP reply %+v", a)
	}
	if rec, _ := r.send(arp(layers.ARPRequest, cliMAC, cli, netip.MustParseAddr("198.51.100.1"), MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})); rec.Action != ActPass {
		t.Errorf("ARP for another address: action %v, want pass", rec.Action)
	}
	// The real server's MAC is unknown: the SYN waits and an ARP request
	// goes out from the director's address.
	rec, out = r.send(syn(cli, 40000).bytes(t))
	if rec.Action != ActARPRequest || len(out) != 1 {
		t.Fatalf("SYN to unresolved real: action %v, %d out", rec.Action, len(out))
	}
	a = verify(t, out[0]).Layer(layers.LayerTypeARP).(*layers.ARP)
	if a.Operation != layers.ARPRequest || !net.IP(a.DstProtAddress).Equal(rs2.AsSlice()) || !net.IP(a.SourceProtAddress).Equal(dirAddr.AsSlice()) {
		t.Errorf("ARP request %+v", a)
	}
	// The reply releases the SYN, addressed to the learned MAC.
	rec, out = r.send(arp(layers.ARPReply, rs2MAC, rs2, dirAddr, dirMAC))
	if rec.Action != ActNAT || rec.Resolved != rs2 || len(out) != 1 {
		t.Fatalf("ARP reply: action %v resolved %v, %d out", rec.Action, rec.Resolved, len(out))
	}
	if eth := verify(t, out[0]).Layer(layers.LayerTypeEthernet).(*layers.Ethernet); MAC(eth.DstMAC) != rs2MAC {
		t.Errorf("released frame to %v, want %v", eth.DstMAC, rs2MAC)
	}
}

// TestEstablishedAllocs: an established-flow packet costs no allocation.
func TestEstablishedAllocs(t *testing.T) {
	r := newRig(t, rigOpt{})
	r.send(syn(cli, 40000).bytes(t))
	ack := pkt{srcMAC: cliMAC, dstMAC: dirMAC, src: cli, dst: vip, sport: 40000, dport: 80, proto: ProtoTCP, flags: "A"}.bytes(t)
	in := link.NewBatch(1)
	w := r.e.Worker(0)
	allocs := testing.AllocsPerRun(1000, func() {
		in.Off[0] = link.Headroom
		in.Len[0] = copy(in.Bufs[0][link.Headroom:], ack)
		in.Meta[0].Time = r.now
		in.N = 1
		w.Process(in, nil)
		if w.TX().N != 1 {
			t.Fatalf("established ACK produced %d frames", w.TX().N)
		}
	})
	if allocs != 0 {
		t.Fatalf("established packet: %v allocations, want 0", allocs)
	}
}
