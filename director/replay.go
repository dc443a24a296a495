package director

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"

	"github.com/uvslb/uvs/conf"
	"github.com/uvslb/uvs/conntrack"
	"github.com/uvslb/uvs/dataplane"
	"github.com/uvslb/uvs/internal/header"
	"github.com/uvslb/uvs/internal/link"
	"github.com/uvslb/uvs/scheduler"
)

// Neighbour is a static neighbour given on the command line.
type Neighbour struct {
	IP  netip.Addr
	MAC [6]byte
}

// ReplayOptions are the inputs of Replay (DESIGN.md, "uvs replay").
type ReplayOptions struct {
	Config  string // configuration file path
	In, Out string // input and output pcap paths
	Trace   string // trace destination as given ("" none, "-" stdout)
	TraceW  io.Writer
	Text    bool // text trace instead of JSON Lines
	MAC     [6]byte
	HaveMAC bool
	// Addrs are the director's own addresses (at most one per family).
	Addrs      []netip.Addr
	Neighbours []Neighbour
	Down       []netip.AddrPort
	// Seed fixes the random source of the twos scheduler (replay must be
	// deterministic); 0 means a fixed default.
	Seed uint64
}

// ReplayResult counts what a replay did.
type ReplayResult struct {
	In, Out, Dropped int
	Drops            [dataplane.NumReasons]uint64
}

// replayMaxConns is the connection table size under replay.
const replayMaxConns = 1 << 16

// Replay runs the real dataplane over a capture: every input frame is
// received on the director's one interface, every frame the director
// transmits goes to the output capture stamped with the time of the frame
// that caused it, and the clock is the capture's timestamps. The same input
// always gives byte-identical output.
func Replay(opt ReplayOptions) (ReplayResult, error) {
	var res ReplayResult
	cfg, problems := conf.LoadFile(opt.Config)
	if conf.HasErrors(problems) {
		var msgs []string
		for _, p := range problems {
			if p.Severity == conf.SeverityError {
				msgs = append(msgs, p.Error())
			}
		}
		return res, errors.New(strings.Join(msgs, "\n"))
	}
	inF, err := os.Open(opt.In)
	if err != nil {
		return res, err
	}
	defer inF.Close()
	rd, err := link.OpenPcapReader(bufio.NewReader(inF))
	if err != nil {
		return res, fmt.Errorf("%s: %w", opt.In, err)
	}
	mac := opt.MAC
	if !opt.HaveMAC {
		m, ok, err := firstVIPMAC(opt.In, cfg)
		if err != nil {
			return res, err
		}
		if !ok {
			return res, fmt.Errorf("%s: no frame is sent to a VIP, so the director's MAC is unknown: give --mac", opt.In)
		}
		mac = m
	}
	outF, err := os.Create(opt.Out)
	if err != nil {
		return res, err
	}
	defer outF.Close()
	bw := bufio.NewWriter(outF)
	wr, err := link.NewPcapWriter(bw, rd.Type(), link.MaxFrame)
	if err != nil {
		return res, err
	}

	mt := cfg.Dataplane.MaxConns
	if mt <= 0 || mt > replayMaxConns {
		mt = replayMaxConns
	}
	table, err := conntrack.New(conntrack.Config{MaxConns: mt, Shards: 1, Seed: 1})
	if err != nil {
		return res, err
	}
	if t := cfg.Dataplane.Timeouts; t.TCP != 0 || t.TCPFin != 0 || t.UDP != 0 {
		if err := table.SetTimeouts(t.TCP, t.TCPFin, t.UDP); err != nil {
			return res, err
		}
	}
	neigh := map[netip.Addr]dataplane.MAC{}
	for _, n := range cfg.Dataplane.Neighbours {
		if len(n.MAC) == 6 {
			neigh[n.IP.Unmap()] = dataplane.MAC(n.MAC)
		}
	}
	for _, n := range opt.Neighbours {
		neigh[n.IP.Unmap()] = n.MAC
	}
	eng := dataplane.NewEngine(dataplane.Config{Table: table, Workers: 1, LinkType: rd.Type(), Neighbours: neigh})
	seed := opt.Seed
	if seed == 0 {
		seed = 0x75767321 // "uvs!"
	}
	comp := NewCompiler(tableAdapter{table}, 1, scheduler.Options{Rand: newSplitMix(seed).uint32n})
	dopt := dataplane.Options{MAC: mac}
	addrs := append(append([]netip.Addr{}, cfg.Dataplane.Addresses...), opt.Addrs...)
	for _, a := range addrs {
		a = a.Unmap()
		if a.Is4() {
			dopt.Addr4 = a
		} else {
			dopt.Addr6 = a
		}
	}
	down := map[netip.AddrPort]bool{}
	for _, d := range opt.Down {
		down[netip.AddrPortFrom(d.Addr().Unmap(), d.Port())] = true
	}
	health := func(vs *conf.VirtualServer, rs *conf.RealServer) bool {
		return !down[netip.AddrPortFrom(rs.Addr.Unmap(), rs.Port)]
	}
	snap, err := comp.Compile(cfg, health, dopt)
	if err != nil {
		return res, err
	}
	eng.Swap(snap)

	var tr dataplane.Tracer
	if opt.TraceW != nil {
		if opt.Text {
			tr = &textTracer{w: bufio.NewWriter(opt.TraceW), table: table}
		} else {
			tr = &jsonTracer{w: bufio.NewWriter(opt.TraceW)}
		}
	}
	w := eng.Worker(0)
	in := link.NewBatch(1) // one frame at a time: the clock moves per frame
	for {
		err := rd.ReadBatch(in)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, fmt.Errorf("%s: %w", opt.In, err)
		}
		for i := 0; i < in.N; i++ {
			eng.Tick(in.Meta[i].Time)
		}
		w.Process(in, tr)
		res.In += in.N
		if tx := w.TX(); tx.N > 0 {
			n, err := wr.WriteBatch(tx)
			res.Out += n
			if err != nil {
				return res, err
			}
		}
	}
	if f, ok := tr.(interface{ flush() error }); ok {
		if err := f.flush(); err != nil {
			return res, err
		}
	}
	if err := bw.Flush(); err != nil {
		return res, err
	}
	res.Drops = eng.Drops()
	for _, n := range res.Drops {
		res.Dropped += int(n)
	}
	return res, nil
}

// tableAdapter gives the compiler the conntrack table's counters and
// thresholds.
type tableAdapter struct{ t *conntrack.Table }

func (a tableAdapter) Counters(id scheduler.DestID) *scheduler.Counters { return a.t.Counters(id) }
func (a tableAdapter) SetThresholds(id scheduler.DestID, upper, lower uint32) error {
	return a.t.SetThresholds(id, upper, lower)
}

// firstVIPMAC reads the capture for the destination MAC of the first
// Ethernet frame sent to a VIP of cfg.
func firstVIPMAC(path string, cfg *conf.Config) ([6]byte, bool, error) {
	vips := map[netip.Addr]bool{}
	for _, vs := range cfg.VirtualServers {
		if vs.Addr.IsValid() {
			vips[vs.Addr.Unmap()] = true
		}
	}
	for _, g := range cfg.VirtualServerGroups {
		for _, e := range g.Entries {
			if e.Addr.IsValid() {
				vips[e.Addr.Unmap()] = true
			}
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return [6]byte{}, false, err
	}
	defer f.Close()
	rd, err := link.OpenPcapReader(bufio.NewReader(f))
	if err != nil {
		return [6]byte{}, false, fmt.Errorf("%s: %w", path, err)
	}
	if rd.Type() != link.Ethernet {
		return [6]byte{}, false, nil
	}
	b := link.NewBatch(1)
	var p header.Parsed
	for {
		err := rd.ReadBatch(b)
		if errors.Is(err, io.EOF) {
			return [6]byte{}, false, nil
		}
		if err != nil {
			return [6]byte{}, false, fmt.Errorf("%s: %w", path, err)
		}
		if p.Decode(b.Frame(0), link.Ethernet) == header.OK && p.IPVersion != 0 && vips[p.Dst] {
			return p.DstMAC, true, nil
		}
	}
}

// splitMix is a deterministic random source for twos under replay
// (SplitMix64). Replay is single-threaded, so it needs no lock.
type splitMix struct{ s uint64 }

func newSplitMix(seed uint64) *splitMix { return &splitMix{seed} }

func (r *splitMix) next() uint64 {
	r.s += 0x9E3779B97F4A7C15
	z := r.s
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	return z ^ z>>31
}

func (r *splitMix) uint32n(n uint32) uint32 {
	if n == 0 {
		return 0
	}
	return uint32(r.next() % uint64(n))
}
