package dataplane

import (
	"testing"

	"github.com/uvslb/uvs/internal/header"
	"github.com/uvslb/uvs/internal/link"
)

// FuzzPipeline feeds arbitrary frames to a NAT engine (after a few valid
// frames that create state) and checks: no panic; every input gets exactly
// one action; every frame transmitted decodes and carries valid checksums.
func FuzzPipeline(f *testing.F) {
	for _, p := range []pkt{
		syn(cli, 40000),
		{srcMAC: rs2MAC, dstMAC: dirMAC, src: rs2, dst: cli, sport: 8080, dport: 40000, proto: ProtoTCP, flags: "SA"},
		{srcMAC: cliMAC, dstMAC: dirMAC, src: cli, dst: vip, sport: 53, dport: 80, proto: ProtoUDP, payload: []byte("x")},
		{srcMAC: cliMAC, dstMAC: dirMAC, src: cli, dst: vip, sport: 1, dport: 80, proto: ProtoTCP, flags: "S", ttl: 1},
	} {
		f.Add(p.bytes(&testing.T{}))
	}
	f.Add([]byte{})
	f.Add(make([]byte, 14))
	f.Fuzz(func(t *testing.T, frame []byte) {
		if len(frame) > link.MaxFrame {
			return
		}
		r := newRig(t, rigOpt{})
		r.send(syn(cli, 40000).bytes(t))
		// The fuzzed frame goes first in a batch of two, followed by an
		// established packet, so the batch prefetch phase sees it too.
		ack := pkt{srcMAC: cliMAC, dstMAC: dirMAC, src: cli, dst: vip, sport: 40000, dport: 80, proto: ProtoTCP, flags: "A"}.bytes(t)
		in := link.NewBatch(2)
		in.Len[0] = copy(in.Bufs[0][link.Headroom:], frame)
		in.Len[1] = copy(in.Bufs[1][link.Headroom:], ack)
		in.Meta[0].Time, in.Meta[1].Time = r.now+1, r.now+1
		in.N = 2
		var tr counter
		w := r.e.Worker(0)
		w.Process(in, &tr)
		if tr.n != 2 {
			t.Fatalf("%d trace records for two frames", tr.n)
		}
		if tr.act == 0 || tr.act >= numActions {
			t.Fatalf("invalid action %v", tr.act)
		}
		if tr.act == ActDrop && tr.reason == 0 {
			t.Fatalf("drop without a reason")
		}
		// Every drop and refusal is counted under its reason, exactly once.
		var drops uint64
		for _, n := range r.e.Drops() {
			drops += n
		}
		if drops != uint64(tr.counted) {
			t.Fatalf("%d drops counted, %d frames with a reason", drops, tr.counted)
		}
		for j := 0; j < w.TX().N; j++ {
			out := w.TX().Frame(j)
			var p header.Parsed
			if got := p.Decode(out, link.Ethernet); got != header.OK {
				t.Fatalf("output frame %d does not decode: %v (%x)", j, got, out)
			}
			if p.IPVersion != 0 && p.Flags&(header.FlagPorts) != 0 && p.Flags&header.FlagFragment == 0 && !p.VerifyL4(out) {
				t.Fatalf("output frame %d has a bad L4 checksum (%x)", j, out)
			}
		}
		// The same batch without a tracer (which takes the short path
		// for stepped packets, forwardStepped) must do exactly the same.
		r2 := newRig(t, rigOpt{})
		r2.send(syn(cli, 40000).bytes(t))
		in2 := link.NewBatch(2)
		in2.Len[0] = copy(in2.Bufs[0][link.Headroom:], frame)
		in2.Len[1] = copy(in2.Bufs[1][link.Headroom:], ack)
		in2.Meta[0].Time, in2.Meta[1].Time = r2.now+1, r2.now+1
		in2.N = 2
		w2 := r2.e.Worker(0)
		w2.Process(in2, nil)
		if w2.TX().N != w.TX().N {
			t.Fatalf("%d frames out without a tracer, %d with", w2.TX().N, w.TX().N)
		}
		for j := 0; j < w.TX().N; j++ {
			if a, b := w.TX().Frame(j), w2.TX().Frame(j); string(a) != string(b) {
				t.Fatalf("output frame %d differs without a tracer:\n%x\n%x", j, a, b)
			}
		}
		if a, b := r.e.Drops(), r2.e.Drops(); a != b {
			t.Fatalf("drops differ without a tracer: %v, %v", a, b)
		}
	})
}

// counter keeps the first record's action and reason and counts records
// and records with a reason.
type counter struct {
	n, counted int
	act        Action
	reason     Reason
}

func (c *counter) Trace(r *Record, _ *link.Batch) {
	if c.n == 0 {
		c.act, c.reason = r.Action, r.Reason
	}
	c.n++
	if r.Reason != 0 {
		c.counted++
	}
}
