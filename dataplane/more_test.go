package dataplane

import (
	"net/netip"
	"sync"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/uvslb/uvs/conntrack"
	"github.com/uvslb/uvs/internal/header"
	"github.com/uvslb/uvs/internal/link"
	"github.com/uvslb/uvs/scheduler"
)

func TestPersistence(t *testing.T) {
	r := newRig(t, rigOpt{persist: 300e9})
	rec, _ := r.send(syn(cli, 40000).bytes(t))
	first := rec.Real
	if rec.Choice != ChoiceScheduler {
		t.Fatalf("first connection choice %v, want scheduler", rec.Choice)
	}
	for port := uint16(40001); port < 40005; port++ {
		rec, _ = r.send(syn(cli, port).bytes(t))
		if rec.Real != first || rec.Choice != ChoiceTemplate {
			t.Fatalf("connection from port %d went to %v (choice %v), want %v by template", port, rec.Real, rec.Choice, first)
		}
	}
	// Another client is scheduled (rr moves on).
	rec, _ = r.send(syn(netip.MustParseAddr("198.51.100.77"), 1).bytes(t))
	if rec.Real == first || rec.Choice != ChoiceScheduler {
		t.Fatalf("other client went to %v (%v)", rec.Real, rec.Choice)
	}
}

func TestFWMarkClassifier(t *testing.T) {
	table, _ := conntrack.New(conntrack.Config{MaxConns: 64, Shards: 1, Seed: 1})
	sched, _ := scheduler.New("rr", 0, table, scheduler.Options{})
	d := &Dest{ID: 1, Addr: rs1, Port: 0, Weight: 1, Method: MethodDR, Stats: NewStats(1), Available: true}
	sched.Update([]scheduler.Dest{{ID: 1, Addr: rs1, Weight: 1}})
	svc := &Service{Proto: ProtoTCP, FWMark: 5, Family: 4, Sched: sched, SchedName: "rr", Stats: NewStats(1), Dests: []*Dest{d}, Name: "FWM 5"}
	marks := []MarkMatch{{Mark: 5, Proto: ProtoTCP, Prefix: netip.MustParsePrefix("198.51.100.96/29"), PortLo: 8000, PortHi: 8099}}
	snap, err := NewSnapshot(Options{MAC: dirMAC}, []*Service{svc}, marks, []netip.Addr{vip})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dst  string
		port uint16
		want bool
	}{{"198.51.100.100", 8080, true}, {"198.51.100.103", 8000, true}, {"198.51.100.100", 80, false}, {"198.51.100.200", 8080, false}} {
		got := snap.lookup(ProtoTCP, netip.MustParseAddr(tc.dst), tc.port, 4) == svc
		if got != tc.want {
			t.Errorf("lookup(TCP %s:%d) found FWM 5 = %v, want %v", tc.dst, tc.port, got, tc.want)
		}
	}
	if snap.lookup(ProtoUDP, vip, 8080, 4) != nil {
		t.Error("a UDP packet matched a TCP-only mark")
	}
	// Through the engine: the DR real server keeps the packet's port.
	e := NewEngine(Config{Table: table, Workers: 1, LinkType: link.Ethernet, Neighbours: map[netip.Addr]MAC{rs1: rs1MAC}})
	e.Swap(snap)
	r := &rig{t: t, e: e, table: table, svc: svc, now: startTime}
	p := syn(cli, 1234)
	p.dport = 8080
	rec, out := r.send(p.bytes(t))
	if rec.Action != ActDR || rec.Real != netip.AddrPortFrom(rs1, 8080) || len(out) != 1 || rec.Service != svc {
		t.Fatalf("fwmark DR: action %v real %v service %v, %d out", rec.Action, rec.Real, rec.Service, len(out))
	}
}

// TestICMPErrorTranslation: a router's frag-needed about the VIP's reply
// to a client reaches the real server with the quoted packet rewritten.
func TestICMPErrorTranslation(t *testing.T) {
	r := newRig(t, rigOpt{})
	r.send(syn(cli, 40000).bytes(t))
	quoted := &layers.IPv4{Version: 4, TTL: 63, Protocol: layers.IPProtocolTCP, SrcIP: vip.AsSlice(), DstIP: cli.AsSlice()}
	qtcp := &layers.TCP{SrcPort: 80, DstPort: 40000, SYN: true, ACK: true}
	qtcp.SetNetworkLayerForChecksum(quoted)
	qb := gopacket.NewSerializeBuffer()
	gopacket.SerializeLayers(qb, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, quoted, qtcp)
	buf := gopacket.NewSerializeBuffer()
	router := netip.MustParseAddr("198.51.100.1")
	gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&layers.Ethernet{SrcMAC: cliMAC[:], DstMAC: dirMAC[:], EthernetType: layers.EthernetTypeIPv4},
		&layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolICMPv4, SrcIP: router.AsSlice(), DstIP: vip.AsSlice()},
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 4), Seq: 1400},
		gopacket.Payload(qb.Bytes()[:28]))
	rec, out := r.send(buf.Bytes())
	if rec.Action != ActICMP || rec.Conn != ConnExisting || len(out) != 1 {
		t.Fatalf("ICMP error: action %v reason %v conn %v, %d out", rec.Action, rec.Reason, rec.Conn, len(out))
	}
	pk := verify(t, out[0])
	ip := pk.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	if !ip.DstIP.Equal(rs2.AsSlice()) {
		t.Fatalf("ICMP error sent to %v, want %v", ip.DstIP, rs2)
	}
	inner := pk.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4).Payload
	if got := netip.AddrFrom4([4]byte(inner[12:16])); got != rs2 || inner[20] != 0x1f || inner[21] != 0x90 {
		t.Fatalf("quoted source %v:%d, want %v:8080", got, int(inner[20])<<8|int(inner[21]), rs2)
	}
}

// TestWorkersConcurrent runs two workers on one engine while the
// snapshot is swapped (run with -race).
func TestWorkersConcurrent(t *testing.T) {
	table, _ := conntrack.New(conntrack.Config{MaxConns: 4096, Seed: 1})
	sched, _ := scheduler.New("wlc", 0, table, scheduler.Options{})
	sched.Update([]scheduler.Dest{{ID: 1, Addr: rs1, Port: 80, Weight: 1}, {ID: 2, Addr: rs2, Port: 80, Weight: 2}})
	mk := func() *Snapshot {
		svc := &Service{Proto: ProtoTCP, VIP: vip, Port: 80, Family: 4, Sched: sched, SchedName: "wlc", Stats: NewStats(2), Name: "TCP"}
		for i, a := range []netip.Addr{rs1, rs2} {
			svc.Dests = append(svc.Dests, &Dest{ID: scheduler.DestID(i + 1), Addr: a, Port: 80, Weight: int32(i + 1), Method: MethodNAT, Stats: NewStats(2), Available: true})
		}
		s, err := NewSnapshot(Options{MAC: dirMAC}, []*Service{svc}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	e := NewEngine(Config{Table: table, Workers: 2, LinkType: link.Ethernet, Neighbours: map[netip.Addr]MAC{rs1: rs1MAC, rs2: rs2MAC}})
	e.Swap(mk())
	frames := make([][]byte, 200)
	for i := range frames {
		frames[i] = syn(netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}), uint16(1000+i)).bytes(t)
	}
	var wg sync.WaitGroup
	for wi := 0; wi < 2; wi++ {
		wg.Add(1)
		go func(w *Worker, off int) {
			defer wg.Done()
			in := link.NewBatch(8)
			for i := off; i < len(frames); i += 2 * 8 {
				in.N = 0
				for j := 0; j < 8 && i+j*2 < len(frames); j++ {
					in.Off[j], in.Len[j] = link.Headroom, copy(in.Bufs[j][link.Headroom:], frames[i+j*2])
					in.Meta[j].Time = startTime
					in.N++
				}
				w.Process(in, nil)
				if w.TX().N != in.N {
					t.Errorf("worker %d: %d in, %d out", off, in.N, w.TX().N)
				}
			}
		}(e.Worker(wi), wi)
	}
	for i := 0; i < 20; i++ {
		e.Swap(mk())
	}
	wg.Wait()
	if n := table.Counters(1).Active.Load() + table.Counters(2).Active.Load(); n != 200 {
		t.Fatalf("%d active connections, want 200", n)
	}
}

// TestTunnelFragNeeded: a router between the director and a TUN real
// server says the IPIP packet is too big; the client hears it with the
// tunnel overhead taken off (reference ipvs.md §5).
func TestTunnelFragNeeded(t *testing.T) {
	r := newRig(t, rigOpt{method: MethodTUN})
	_, out := r.send(syn(cli, 40000).bytes(t))
	if len(out) != 1 {
		t.Fatalf("SYN: %d frames out", len(out))
	}
	tunnelled := out[0][14:] // the IPIP packet the director sent
	buf := gopacket.NewSerializeBuffer()
	router := netip.MustParseAddr("192.0.2.254")
	gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&layers.Ethernet{SrcMAC: rs1MAC[:], DstMAC: dirMAC[:], EthernetType: layers.EthernetTypeIPv4},
		&layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolICMPv4, SrcIP: router.AsSlice(), DstIP: dirAddr.AsSlice()},
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 4), Seq: 1400},
		gopacket.Payload(tunnelled[:20+20+8]))
	rec, out := r.send(buf.Bytes())
	if rec.Action != ActICMP || rec.Conn != ConnExisting || len(out) != 1 {
		t.Fatalf("frag-needed about IPIP: action %v reason %v conn %v, %d out", rec.Action, rec.Reason, rec.Conn, len(out))
	}
	pk := verify(t, out[0])
	ip := pk.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	icmp := pk.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4)
	if !ip.DstIP.Equal(cli.AsSlice()) || icmp.TypeCode != layers.CreateICMPv4TypeCode(3, 4) || icmp.Seq != 1380 {
		t.Fatalf("relayed %v mtu %d to %v, want frag-needed 1380 to %v", icmp.TypeCode, icmp.Seq, ip.DstIP, cli)
	}
	if eth := pk.Layer(layers.LayerTypeEthernet).(*layers.Ethernet); MAC(eth.DstMAC) != cliMAC {
		t.Fatalf("relayed to MAC %v, want the client's %v", eth.DstMAC, cliMAC)
	}
}

// TestTunnelErrorRateLimit: relayed errors about the director's own tunnel
// packets take tokens from the ICMP rate limit; once it is spent, the
// error is dropped as icmp_rate_limit, whatever its type (it used to be
// counted as too_big even for a port unreachable).
func TestTunnelErrorRateLimit(t *testing.T) {
	for _, tc := range []struct {
		name      string
		typ, code uint8
		mtu       uint16
	}{
		{"port unreachable", 3, 3, 0},
		{"frag needed", 3, 4, 1400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, rigOpt{method: MethodTUN})
			_, out := r.send(syn(cli, 40000).bytes(t))
			if len(out) != 1 {
				t.Fatalf("SYN: %d frames out", len(out))
			}
			buf := gopacket.NewSerializeBuffer()
			gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
				&layers.Ethernet{SrcMAC: rs1MAC[:], DstMAC: dirMAC[:], EthernetType: layers.EthernetTypeIPv4},
				&layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolICMPv4, SrcIP: netip.MustParseAddr("192.0.2.254").AsSlice(), DstIP: dirAddr.AsSlice()},
				&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(tc.typ, tc.code), Seq: tc.mtu},
				gopacket.Payload(out[0][14:][:20+20+8]))
			w := r.e.Worker(0)
			in := link.NewBatch(1)
			now := r.now + 1_000_000
			relayed, limited := 0, 0
			// All at one instant: the bucket (1000 tokens at the default
			// 1000/s) empties and stays empty.
			for range 1200 {
				in.Len[0] = copy(in.Bufs[0][link.Headroom:], buf.Bytes())
				in.Off[0], in.Meta[0].Time, in.N = link.Headroom, now, 1
				var tr recorder
				w.Process(in, &tr)
				switch {
				case tr.rec.Action == ActICMP && w.TX().N == 1:
					relayed++
				case tr.rec.Action == ActDrop && tr.rec.Reason == ReasonICMPRateLimit && w.TX().N == 0:
					limited++
				default:
					t.Fatalf("after %d relayed and %d limited: action %v reason %v, %d out", relayed, limited, tr.rec.Action, tr.rec.Reason, w.TX().N)
				}
			}
			if relayed != 1000 || limited != 200 {
				t.Fatalf("%d relayed, %d rate-limited; want 1000 and 200", relayed, limited)
			}
			if got := r.e.Drops()[ReasonICMPRateLimit]; got != 200 {
				t.Fatalf("icmp_rate_limit counted %d, want 200", got)
			}
			if ReasonICMPRateLimit.String() != "icmp_rate_limit" {
				t.Fatalf("name %q", ReasonICMPRateLimit.String())
			}
		})
	}
}

// TestIPv6DRAndTUN: DR keeps the IPv6 packet (hop limit − 1, new MAC); TUN
// wraps it in IPv6-in-IPv6 from the VIP (no director IPv6 address given).
func TestIPv6DRAndTUN(t *testing.T) {
	in := pkt{srcMAC: cliMAC, dstMAC: dirMAC, src: cli6, dst: vip6, sport: 40000, dport: 80, proto: ProtoTCP, flags: "S"}
	r := newRig(t, rigOpt{v6: true, method: MethodDR})
	rec, out := r.send(in.bytes(t))
	if rec.Action != ActDR || len(out) != 1 {
		t.Fatalf("IPv6 DR: action %v reason %v, %d out", rec.Action, rec.Reason, len(out))
	}
	ip := verify(t, out[0]).Layer(layers.LayerTypeIPv6).(*layers.IPv6)
	if !ip.DstIP.Equal(vip6.AsSlice()) || ip.HopLimit != 63 {
		t.Errorf("IPv6 DR out dst %v hop %d", ip.DstIP, ip.HopLimit)
	}
	r = newRig(t, rigOpt{v6: true, method: MethodTUN})
	rec, out = r.send(in.bytes(t))
	if rec.Action != ActTUN || len(out) != 1 {
		t.Fatalf("IPv6 TUN: action %v reason %v, %d out", rec.Action, rec.Reason, len(out))
	}
	ls := verify(t, out[0]).Layers()
	outer, inner := ls[1].(*layers.IPv6), ls[2].(*layers.IPv6)
	if outer.NextHeader != layers.IPProtocolIPv6 || !outer.SrcIP.Equal(vip6.AsSlice()) || !outer.DstIP.Equal(rs61.AsSlice()) || !inner.DstIP.Equal(vip6.AsSlice()) {
		t.Errorf("IPv6 TUN outer %v > %v (next %v), inner to %v", outer.SrcIP, outer.DstIP, outer.NextHeader, inner.DstIP)
	}
}

// TestBatchPrefetch: frames of one flow in one batch, so the prefetch
// phase looks up connections before earlier frames of the batch create or
// change them: SYN (new), ACK (prefetch missed: fresh lookup), data, and a
// second batch where an RST precedes an ACK of the prefetched connection.
func TestBatchPrefetch(t *testing.T) {
	r := newRig(t, rigOpt{})
	mk := func(flags string) []byte {
		return pkt{srcMAC: cliMAC, dstMAC: dirMAC, src: cli, dst: vip, sport: 40000, dport: 80, proto: ProtoTCP, flags: flags}.bytes(t)
	}
	run := func(frames ...[]byte) {
		in := link.NewBatch(len(frames))
		for i, f := range frames {
			in.Len[i] = copy(in.Bufs[i][link.Headroom:], f)
			in.Meta[i].Time = r.now
		}
		in.N = len(frames)
		w := r.e.Worker(0)
		w.Process(in, nil) // no tracer: the prefetch phase runs
		if w.TX().N != len(frames) {
			t.Fatalf("%d frames in, %d out", len(frames), w.TX().N)
		}
		for j := 0; j < w.TX().N; j++ {
			verify(t, w.TX().Frame(j))
		}
	}
	run(mk("S"), mk("A"), mk("PA"))
	c, ok := r.table.Lookup(r.now, conntrack.Key{Proto: ProtoTCP, CAddr: cli, CPort: 40000, VAddr: vip, VPort: 80})
	if !ok || c.State != conntrack.StateEstablished {
		t.Fatalf("after SYN, ACK, data in one batch: state %v (found %v), want ESTABLISHED", c.State, ok)
	}
	if got := r.table.Counters(c.Dest).Active.Load(); got != 1 {
		t.Fatalf("active connections %d, want 1", got)
	}
	run(mk("RA"), mk("A"))
	c, _ = r.table.Lookup(r.now, conntrack.Key{Proto: ProtoTCP, CAddr: cli, CPort: 40000, VAddr: vip, VPort: 80})
	if c.State != conntrack.StateClose {
		t.Fatalf("after RST then ACK in one batch: state %v, want CLOSE", c.State)
	}
	if got := r.table.Counters(c.Dest).Active.Load(); got != 0 {
		t.Fatalf("active connections %d after RST, want 0", got)
	}
}

// TestBatchFirstFragment: a first fragment to a service is dropped as a
// fragment, alone (no prefetch) and in a batch (prefetch).
func TestBatchFirstFragment(t *testing.T) {
	r := newRig(t, rigOpt{})
	frag := syn(cli, 40000).bytes(t)
	frag[14+6] |= 0x20 // IPv4 MF: a first fragment carrying its TCP header
	frag[14+10], frag[14+11] = 0, 0
	c := csumIPv4(frag[14 : 14+20])
	frag[14+10], frag[14+11] = byte(c>>8), byte(c)
	want := uint64(0)
	for _, n := range []int{1, 2} {
		in := link.NewBatch(2)
		for i := 0; i < n; i++ {
			in.Len[i] = copy(in.Bufs[i][link.Headroom:], frag)
			in.Meta[i].Time = r.now
		}
		in.N = n
		r.e.Worker(0).Process(in, nil)
		want += uint64(n)
		if got := r.e.Drops()[Reason(header.Fragment)]; got != want {
			t.Fatalf("after a batch of %d first fragments: %d fragment drops, want %d", n, got, want)
		}
	}
}

func csumIPv4(h []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(h); i += 2 {
		s += uint32(h[i])<<8 | uint32(h[i+1])
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}
