package bench

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/uvslb/uvs/conntrack"
	"github.com/uvslb/uvs/dataplane"
	"github.com/uvslb/uvs/internal/header"
	"github.com/uvslb/uvs/internal/link"
	"github.com/uvslb/uvs/scheduler"
)

var (
	dirMAC = dataplane.MAC{2, 0, 0, 0, 0, 2}
	cliMAC = dataplane.MAC{2, 0, 0, 0, 1, 0x10}
	rsMAC  = dataplane.MAC{2, 0, 0, 0, 2, 0x21}
	vip    = netip.MustParseAddr("198.18.0.100")
	rs     = []netip.Addr{netip.MustParseAddr("198.19.0.2"), netip.MustParseAddr("198.19.0.3")}
)

// engine builds a NAT (or method m) service VIP:80 with rr over two real
// servers and a table of maxConns entries.
func engine(tb testing.TB, maxConns int, m dataplane.Method, batch int) (*dataplane.Engine, *conntrack.Table) {
	tb.Helper()
	table, err := conntrack.New(conntrack.Config{MaxConns: maxConns, Seed: 1})
	if err != nil {
		tb.Fatal(err)
	}
	sched, err := scheduler.New("rr", 0, table, scheduler.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	svc := &dataplane.Service{Proto: dataplane.ProtoTCP, VIP: vip, Port: 80, Family: 4, Sched: sched, SchedName: "rr",
		Stats: dataplane.NewStats(1), Name: "TCP 198.18.0.100:80"}
	var l scheduler.List
	neigh := map[netip.Addr]dataplane.MAC{}
	for i, a := range rs {
		d := &dataplane.Dest{ID: scheduler.DestID(i + 1), Addr: a, Port: 80, Weight: 1, Method: m, Stats: dataplane.NewStats(1), Available: true}
		svc.Dests = append(svc.Dests, d)
		l.Add(scheduler.Dest{ID: d.ID, Addr: a, Port: 80, Weight: 1})
		sched.Update(l.Dests())
		neigh[a] = rsMAC
	}
	snap, err := dataplane.NewSnapshot(dataplane.Options{MAC: dirMAC, Addr4: netip.MustParseAddr("198.19.0.1")}, []*dataplane.Service{svc}, nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	e := dataplane.NewEngine(dataplane.Config{Table: table, Workers: 1, LinkType: link.Ethernet, Neighbours: neigh, BatchSize: batch})
	e.Swap(snap)
	return e, table
}

// template returns a TCP/IPv4 frame from client 198.18.1.1 to the VIP.
func template(tb testing.TB, flags string) []byte {
	tb.Helper()
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IP{198, 18, 1, 1}, DstIP: vip.AsSlice(), Flags: layers.IPv4DontFragment}
	tcp := &layers.TCP{SrcPort: 1024, DstPort: 80, Seq: 1, Window: 65535, SYN: flags == "S", ACK: flags == "A"}
	tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&layers.Ethernet{SrcMAC: cliMAC[:], DstMAC: dirMAC[:], EthernetType: layers.EthernetTypeIPv4}, ip, tcp); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// clientFrame writes into dst the template with client number i as source
// (address 198.18.128.0 + i/60000, port 1024 + i%60000), checksums fixed
// incrementally.
func clientFrame(dst, tmpl []byte, i int) []byte {
	dst = append(dst[:0], tmpl...)
	var p header.Parsed
	p.Decode(dst, link.Ethernet)
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], 0xC6128000+uint32(i/60000))
	p.SetSrcAddr(dst, netip.AddrFrom4(a))
	p.SetSrcPort(dst, uint16(1024+i%60000))
	return dst
}

// run pushes frames through a worker in batches of len(in.Bufs).
func run(b *testing.B, w *dataplane.Worker, in *link.Batch, frames [][]byte, now int64) {
	n := 0
	for i := 0; i < b.N; {
		in.N = 0
		for j := 0; j < in.Cap() && i < b.N; j, i = j+1, i+1 {
			in.Off[j] = link.Headroom
			in.Len[j] = copy(in.Bufs[j][link.Headroom:], frames[n])
			in.Meta[j].Time = now
			in.N++
			if n++; n == len(frames) {
				n = 0
			}
		}
		w.Process(in, nil)
	}
}

// established fills a table with conns NAT connections (one SYN each) and
// then measures established-flow client packets over a working set of
// `active` of them, visited with a stride co-prime to the count.
func established(b *testing.B, conns, active int) {
	e, table := engine(b, conns+conns/4, dataplane.MethodNAT, 32)
	syn, ack := template(b, "S"), template(b, "A")
	w := e.Worker(0)
	in := link.NewBatch(32)
	now := int64(1e18)
	frames := make([][]byte, 32)
	for i := 0; i < conns; i += 32 {
		in.N = 0
		for j := 0; j < 32 && i+j < conns; j++ {
			frames[j] = clientFrame(frames[j], syn, i+j)
			in.Off[j] = link.Headroom
			in.Len[j] = copy(in.Bufs[j][link.Headroom:], frames[j])
			in.Meta[j].Time = now
			in.N++
		}
		w.Process(in, nil)
	}
	if st := table.Stats(); st.Entries < int64(conns) {
		b.Fatalf("table holds %d entries, want %d", st.Entries, conns)
	}
	order := make([][]byte, min(active, 1<<16))
	for i := range order {
		order[i] = clientFrame(nil, ack, (i*7919)%active)
	}
	b.ReportAllocs()
	b.ResetTimer()
	run(b, w, in, order, now)
	if d := e.Drops(); d != ([dataplane.NumReasons]uint64{}) {
		b.Fatalf("drops: %v", d)
	}
}

// BenchmarkEstablishedNAT1M: 1M connections in the table, packets from
// flows all over it (every lookup a cache miss: the worst case).
func BenchmarkEstablishedNAT1M(b *testing.B) { established(b, 1<<20, 1<<20) }

// BenchmarkEstablishedNAT1MHot: 1M connections in the table, packets from
// 4096 busy flows (the rest idle): the usual shape of a director's load.
func BenchmarkEstablishedNAT1MHot(b *testing.B) { established(b, 1<<20, 4096) }

// BenchmarkNewConnection: a SYN from a new client: lookup miss, scheduler,
// insert, NAT.
func BenchmarkNewConnection(b *testing.B) {
	e, _ := engine(b, 1<<22, dataplane.MethodNAT, 32)
	syn := template(b, "S")
	w := e.Worker(0)
	in := link.NewBatch(32)
	// Every SYN is from a new client (b.N distinct clients; the table is
	// sized for 4M, beyond which eviction would be measured instead).
	frames := make([][]byte, min(b.N, 1<<22-1))
	for i := range frames {
		frames[i] = clientFrame(nil, syn, i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	run(b, w, in, frames, int64(1e18))
}

// BenchmarkARPReply: an ARP request for the VIP answered.
func BenchmarkARPReply(b *testing.B) {
	e, _ := engine(b, 1024, dataplane.MethodNAT, 32)
	buf := gopacket.NewSerializeBuffer()
	gopacket.SerializeLayers(buf, gopacket.SerializeOptions{},
		&layers.Ethernet{SrcMAC: cliMAC[:], DstMAC: net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: layers.ARPRequest, SourceHwAddress: cliMAC[:], SourceProtAddress: []byte{198, 18, 1, 1}, DstHwAddress: make([]byte, 6), DstProtAddress: vip.AsSlice()})
	b.ReportAllocs()
	b.ResetTimer()
	run(b, e.Worker(0), link.NewBatch(32), [][]byte{buf.Bytes()}, 1e18)
}

// BenchmarkICMPErrorTranslation: a "fragmentation needed" from a router
// about the VIP's packet to a client, translated to the real server (NAT).
func BenchmarkICMPErrorTranslation(b *testing.B) {
	e, _ := engine(b, 1024, dataplane.MethodNAT, 32)
	w := e.Worker(0)
	in := link.NewBatch(1)
	syn := clientFrame(nil, template(b, "S"), 0)
	in.Len[0] = copy(in.Bufs[0][link.Headroom:], syn)
	in.Meta[0].Time = 1e18
	in.N = 1
	w.Process(in, nil)
	// The quoted packet: VIP:80 → client (what the director sent).
	quoted := &layers.IPv4{Version: 4, TTL: 63, Protocol: layers.IPProtocolTCP, SrcIP: vip.AsSlice(), DstIP: net.IP{198, 18, 128, 0}}
	qtcp := &layers.TCP{SrcPort: 80, DstPort: 1024, SYN: true, ACK: true}
	qtcp.SetNetworkLayerForChecksum(quoted)
	qb := gopacket.NewSerializeBuffer()
	gopacket.SerializeLayers(qb, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, quoted, qtcp)
	buf := gopacket.NewSerializeBuffer()
	gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&layers.Ethernet{SrcMAC: cliMAC[:], DstMAC: dirMAC[:], EthernetType: layers.EthernetTypeIPv4},
		&layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolICMPv4, SrcIP: net.IP{198, 18, 9, 9}, DstIP: vip.AsSlice()},
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 4), Seq: 1400},
		gopacket.Payload(qb.Bytes()[:28]))
	b.ReportAllocs()
	b.ResetTimer()
	run(b, w, link.NewBatch(32), [][]byte{buf.Bytes()}, 1e18)
	if d := e.Drops(); d != ([dataplane.NumReasons]uint64{}) {
		b.Fatalf("ICMP error dropped: %v", d)
	}
}

// BenchmarkPipelineMemLink: the whole loop through the in-memory link
// pair, as a daemon worker runs it: frames written into one end, read as a
// batch from the other, processed, transmitted back, and drained. Traffic
// is established NAT packets over 4096 busy flows of a 1M-connection table.
func BenchmarkPipelineMemLink(b *testing.B) {
	const conns, active, batch = 1 << 20, 4096, 32
	e, _ := engine(b, conns+conns/4, dataplane.MethodNAT, batch)
	syn, ack := template(b, "S"), template(b, "A")
	w := e.Worker(0)
	wire, dir := link.NewPair(link.Ethernet, 1500, 4*batch)
	defer wire.Close()
	defer dir.Close()
	src, in, sink := link.NewBatch(batch), link.NewBatch(batch), link.NewBatch(batch)
	send := func(frames func(i int) []byte, n int) {
		for i := 0; i < n; {
			src.N = 0
			for j := 0; j < batch && i < n; j, i = j+1, i+1 {
				src.Off[j] = link.Headroom
				src.Len[j] = copy(src.Bufs[j][link.Headroom:], frames(i))
				src.Meta[j].Time = 1e18
				src.N++
			}
			if _, err := wire.WriteBatch(src); err != nil {
				b.Fatal(err)
			}
			if err := dir.ReadBatch(in); err != nil {
				b.Fatal(err)
			}
			w.Process(in, nil)
			if _, err := dir.WriteBatch(w.TX()); err != nil {
				b.Fatal(err)
			}
			if err := wire.ReadBatch(sink); err != nil {
				b.Fatal(err)
			}
		}
	}
	var tmp []byte
	send(func(i int) []byte { tmp = clientFrame(tmp, syn, i); return tmp }, conns)
	order := make([][]byte, active)
	for i := range order {
		order[i] = clientFrame(nil, ack, (i*7919)%active)
	}
	b.ReportAllocs()
	b.ResetTimer()
	send(func(i int) []byte { return order[i%active] }, b.N)
	b.StopTimer()
	if d := e.Drops(); d != ([dataplane.NumReasons]uint64{}) {
		b.Fatalf("drops: %v", d)
	}
	if st := wire.Stats(); st.Dropped != 0 {
		b.Fatalf("link dropped %d frames", st.Dropped)
	}
}
