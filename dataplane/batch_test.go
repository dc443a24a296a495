package dataplane

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/uvslb/uvs/conntrack"
	"github.com/uvslb/uvs/internal/link"
)

var rs62 = netip.MustParseAddr("2001:db8:200::22")

// TestBatchEquivalence checks that handling frames in batches (with the
// prefetch phase and its in-lookup state changes) is exactly the same as
// handling them one at a time: the same frames out, in the same order, the
// same drops, connection table, states and counters. The traffic is random
// over a few clients so that batches often hold several frames of one
// connection, replies and client packets of one connection, SYNs reusing
// closed connections, bad checksums, frames from the director's own MAC,
// TTL 1 and time jumps past the timeouts.
func TestBatchEquivalence(t *testing.T) {
	for _, o := range []rigOpt{
		{},
		{proto: ProtoUDP},
		// Many short flows: new connections all the time, often with
		// their second packet in the same batch as their first.
		{proto: ProtoUDP, ports: 300},
		{ports: 300},
		{method: MethodDR},
		{persist: 300e9},
		{v6: true, reals: []netip.Addr{rs61, rs62}, neigh: map[netip.Addr]MAC{rs61: rs1MAC, rs62: rs2MAC}},
	} {
		for seed := uint64(1); seed <= 4; seed++ {
			name := fmt.Sprintf("method%d/proto%d/persist%v/v6%v/ports%d/seed%d", o.method, o.proto, o.persist > 0, o.v6, o.ports, seed)
			t.Run(name, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, 99))
				frames, times := randomTraffic(t, rng, o, 3000)
				one, many := newRig(t, o), newRig(t, o)
				var outOne, outMany bytes.Buffer
				runFrames(one, frames, times, func() int { return 1 }, &outOne)
				stepped := runFrames(many, frames, times, func() int { return 1 + rng.IntN(32) }, &outMany)
				if outOne.Len() == 0 {
					t.Fatal("nothing was transmitted")
				}
				if !bytes.Equal(outOne.Bytes(), outMany.Bytes()) {
					t.Fatalf("transmitted frames differ (%d bytes one at a time, %d in batches)", outOne.Len(), outMany.Len())
				}
				if a, b := one.e.Drops(), many.e.Drops(); a != b {
					t.Fatalf("drops differ:\none at a time %v\nin batches   %v", a, b)
				}
				now := times[len(times)-1]
				if a, b := tableContents(one.table, now), tableContents(many.table, now); a != b {
					t.Fatalf("tables differ:\none at a time %s\nin batches   %s", a, b)
				}
				// Expired entries are reclaimed lazily, and batching may
				// reclaim some earlier: sweep both before counting.
				one.table.Sweep(now, 1<<30)
				many.table.Sweep(now, 1<<30)
				if a, b := one.table.Stats(), many.table.Stats(); a != b {
					t.Fatalf("table stats differ:\n%+v\n%+v", a, b)
				}
				if a, b := one.svc.Stats.Snapshot(), many.svc.Stats.Snapshot(); a != b {
					t.Fatalf("service counters differ: %+v, %+v", a, b)
				}
				for i := range one.svc.Dests {
					if a, b := one.svc.Dests[i].Stats.Snapshot(), many.svc.Dests[i].Stats.Snapshot(); a != b {
						t.Fatalf("real server %d counters differ: %+v, %+v", i, a, b)
					}
				}
				// The in-lookup state change must actually have been
				// exercised, else this test proves nothing about it.
				minStepped := 200
				if o.ports > 0 {
					// Many short flows: few reach an established packet.
					minStepped = 20
				}
				if stepped < minStepped {
					t.Fatalf("only %d packets were applied by the batched lookup", stepped)
				}
			})
		}
	}
}

// tableContents lists t's entries without where they sit: Refs (and
// template Refs) name slots, and which free slot an insert takes depends
// on when expired entries were reclaimed, which batching may change
// (a batch's lookups run at its first frame's time) without changing
// any connection.
func tableContents(t *conntrack.Table, now int64) string {
	var out []string
	for _, c := range t.List(now) {
		c.Ref, c.Control = conntrack.Ref{}, conntrack.Ref{}
		out = append(out, fmt.Sprint(c))
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// runFrames feeds frames to r's worker in batches of size(), appending every
// transmitted frame to out, and returns how many packets the prefetch
// phase applied to their connections.
func runFrames(r *rig, frames [][]byte, times []int64, size func() int, out *bytes.Buffer) int {
	w := r.e.Worker(0)
	in := link.NewBatch(32)
	stepped := 0
	for i := 0; i < len(frames); {
		in.N = 0
		for n := size(); in.N < n && i < len(frames); i++ {
			j := in.N
			in.Off[j] = link.Headroom
			in.Len[j] = copy(in.Bufs[j][link.Headroom:], frames[i])
			in.Meta[j].Time = times[i]
			in.N++
		}
		w.Process(in, nil)
		if w.pre {
			// Only the keys this batch made (steps past them are stale).
			for _, k := range w.pslot[:in.N] {
				if k >= 0 && w.steps[k].Advance && w.found[k] {
					stepped++
				}
			}
		}
		for j := 0; j < w.TX().N; j++ {
			f := w.TX().Frame(j)
			fmt.Fprintf(out, "%d:", len(f))
			out.Write(f)
		}
	}
	return stepped
}

// randomTraffic makes n frames of mixed traffic for a rig built with o, at
// non-decreasing times.
func randomTraffic(t *testing.T, rng *rand.Rand, o rigOpt, n int) ([][]byte, []int64) {
	proto := o.proto
	if proto == 0 {
		proto = ProtoTCP
	}
	rsPort := uint16(8080)
	if o.method == MethodDR {
		rsPort = 80
	}
	clients := []netip.Addr{cli, netip.MustParseAddr("198.51.100.11"), netip.MustParseAddr("198.51.100.12")}
	v, reals := vip, []netip.Addr{rs1, rs2}
	if o.v6 {
		clients = []netip.Addr{cli6, netip.MustParseAddr("2001:db8:100::11"), netip.MustParseAddr("2001:db8:100::12")}
		v, reals = vip6, o.reals
	}
	frames := make([][]byte, 0, n)
	times := make([]int64, 0, n)
	now := startTime
	for range n {
		now += rng.Int64N(400e6) // up to 0.4 s
		if rng.IntN(200) == 0 {
			now += 70e9 // past SYN_RECV, FIN_WAIT and CLOSE timeouts
		}
		c := clients[rng.IntN(len(clients))]
		ports := 4
		if o.ports > 0 {
			ports = o.ports
		}
		port := uint16(40000 + rng.IntN(ports))
		p := pkt{srcMAC: cliMAC, dstMAC: dirMAC, src: c, dst: v, sport: port, dport: 80, proto: proto}
		switch r := rng.IntN(100); {
		case r < 30 && proto == ProtoTCP:
			p.flags = []string{"S", "S", "A", "PA", "FA", "R", "RA"}[rng.IntN(7)]
		case r < 30:
			p.payload = []byte("q")
		case r < 55 && proto == ProtoTCP:
			p.flags = "PA"
		case r < 55:
			p.payload = []byte("query")
		case r < 80:
			// A real server's reply (matching a connection or not).
			rs := reals[rng.IntN(2)]
			p = pkt{srcMAC: []MAC{rs1MAC, rs2MAC}[rng.IntN(2)], dstMAC: dirMAC, src: rs, dst: c, sport: rsPort, dport: port, proto: proto}
			if proto == ProtoTCP {
				p.flags = []string{"SA", "A", "PA", "FA", "R"}[rng.IntN(5)]
			}
		case r < 85 && proto == ProtoTCP && !o.v6:
			p.flags, p.badCsum = "PA", true
		case r < 90:
			p.flags, p.ttl = "PA", 1
			if proto == ProtoUDP {
				p.flags = ""
			}
		case r < 93:
			p.flags, p.srcMAC = "PA", dirMAC
			if proto == ProtoUDP {
				p.flags = ""
			}
		case r < 96 && proto == ProtoTCP:
			p.flags = "SF" // invalid flags
		default:
			p.flags = "A"
			if proto == ProtoUDP {
				p.flags = ""
			}
		}
		frames = append(frames, p.bytes(t))
		times = append(times, now)
	}
	return frames, times
}
