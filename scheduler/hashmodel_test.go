package scheduler

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

// randomAddr returns a random IPv4 address, or IPv6 one time in four.
func randomAddr(r *rand.Rand) netip.Addr {
	if r.IntN(4) == 0 {
		var b [16]byte
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return netip.AddrFrom16(b)
	}
	return netip.AddrFrom4([4]byte{byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())})
}

func randomInput(r *rand.Rand) *Input {
	return &Input{Src: randomAddr(r), Dst: randomAddr(r), SrcPort: uint16(r.Uint32())}
}

// listModel keeps a kernel-order list of real servers under single
// operations, with last_weight as ip_vs_ctl.c keeps it.
type listModel struct {
	list []Dest
	lw   map[DestID]int32
}

func (m *listModel) add(d Dest) {
	m.list = append([]Dest{d}, m.list...)
	m.lw[d.ID] = d.Weight // set on add whatever the weight
}

func (m *listModel) edit(d Dest) {
	i := slices.IndexFunc(m.list, func(x Dest) bool { return x.ID == d.ID })
	m.list[i] = d
	if d.Weight != 0 {
		m.lw[d.ID] = d.Weight
	}
}

func (m *listModel) del(id DestID) {
	m.list = slices.DeleteFunc(m.list, func(x Dest) bool { return x.ID == id })
	delete(m.lw, id)
}

func usableModel(f *fakeLoad, d Dest) bool {
	return d.Weight > 0 && !f.Counters(d.ID).Overload.Load()
}

// dhModel: bucket i holds list[i mod n]; the bucket of a packet is
// hash_32(daddr, 8); no fallback.
func dhModel(list []Dest, f *fakeLoad, in *Input) DestID {
	if len(list) == 0 {
		return 0
	}
	d := list[int(hash32(addrFold(in.Dst), 8))%len(list)]
	if !usableModel(f, d) {
		return 0
	}
	return d.ID
}

// shTableModel lays the list out cyclically as runs of max(weight, 1)
// copies and truncates to the table size.
func shTableModel(list []Dest, size int) []Dest {
	if len(list) == 0 {
		return make([]Dest, size)
	}
	var seq []Dest
	for len(seq) < size {
		for _, d := range list {
			for range max(d.Weight, 1) {
				seq = append(seq, d)
			}
		}
	}
	return seq[:size]
}

// shModel picks as §2.11 states it: bucket ih = hash_32(port + addr); with
// sh-fallback, probe buckets (2*ih + offset) mod size.
func shModel(list []Dest, f *fakeLoad, flags Flags, tabBits uint, in *Input) DestID {
	size := 1 << tabBits
	tab := shTableModel(list, size)
	var port uint32
	if flags&FlagPort != 0 {
		port = uint32(in.SrcPort)
	}
	ih := int(hash32(port+addrFold(in.Src), tabBits))
	d := tab[ih]
	if d.ID == 0 {
		return 0
	}
	if usableModel(f, d) {
		return d.ID
	}
	if flags&FlagFallback == 0 {
		return 0
	}
	for off := 0; off < size; off++ {
		d = tab[(2*ih+off)%size]
		if d.ID == 0 {
			return 0
		}
		if usableModel(f, d) {
			return d.ID
		}
	}
	return 0
}

func TestDHModel(t *testing.T) {
	for seed := uint64(1); seed <= 10; seed++ {
		r := rand.New(rand.NewPCG(seed, 99))
		f := newFakeLoad()
		fast := newSvc(t, "dh", 0, f, Options{})
		m := &listModel{lw: map[DestID]int32{}}
		var in *Input
		randomOps(t, seed, 300, fast, f, m.add, m.edit, m.del,
			func() DestID { return dhModel(m.list, f, in) },
			func() *Input { in = randomInput(r); return in })
	}
}

func TestSHModel(t *testing.T) {
	for _, flags := range []Flags{0, FlagFallback, FlagPort, FlagFallback | FlagPort} {
		for _, tabBits := range []uint{4, 8} {
			for seed := uint64(1); seed <= 5; seed++ {
				r := rand.New(rand.NewPCG(seed, 7))
				f := newFakeLoad()
				fast := newSvc(t, "sh", flags, f, Options{SHTabBits: int(tabBits)})
				m := &listModel{lw: map[DestID]int32{}}
				var in *Input
				randomOps(t, seed, 300, fast, f, m.add, m.edit, m.del,
					func() DestID { return shModel(m.list, f, flags, tabBits, in) },
					func() *Input { in = randomInput(r); return in })
			}
		}
	}
}

// mhRefHash is ip_vs_mh_hashkey through the reference SipHash-1-3 over the
// four little-endian bytes of offset + port + addr.
func mhRefHash(a, port uint32, key uint64, offset uint32) uint32 {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], offset+port+a)
	return uint32(refSipHash(1, 3, key, key, b[:]))
}

// mhTableModel is Maglev population as the paper's pseudo-code states it
// (Eisenbud et al., NSDI'16, §3.4, Pseudocode 1), with the kernel's weights:
// every real server has a permutation (offset + j*skip) mod M and a
// next index; rounds go over the list in order, each real server with
// turns >= 1 claiming turns slots, each claim taking the first free slot of
// its permutation.
func mhTableModel(list []Dest, lw map[DestID]int32, m int, tabBits int) []DestID {
	out := make([]DestID, m)
	g := int32(0)
	maxw := int32(0)
	for _, d := range list {
		w := lw[d.ID]
		if w > 0 {
			if g == 0 {
				g = w
			} else {
				g = gcd(g, w)
			}
		}
		maxw = max(maxw, w)
	}
	if g == 0 {
		return out
	}
	rshift := max(bits.Len32(uint32(maxw/g))-tabBits, 0)
	n := len(list)
	offset, skip, next, turns := make([]uint64, n), make([]uint64, n), make([]uint64, n), make([]int32, n)
	for i, d := range list {
		a := addrFold(d.Addr)
		offset[i] = uint64(mhRefHash(a, uint32(d.Port), mhKey1Word, 0) % uint32(m))
		skip[i] = uint64(mhRefHash(a, uint32(d.Port), mhKey2Word, 0)%uint32(m-1) + 1)
		turns[i] = (lw[d.ID] / g) >> rshift
		if turns[i] == 0 && lw[d.ID] != 0 {
			turns[i] = 1
		}
	}
	filled := 0
	for {
		for i, d := range list {
			for range turns[i] {
				for {
					c := (offset[i] + next[i]*skip[i]) % uint64(m)
					next[i]++
					if out[c] == 0 {
						out[c] = d.ID
						break
					}
				}
				filled++
				if filled == m {
					return out
				}
			}
		}
	}
}

// mhModel picks from a model table with §2.12's lookup and fallback.
func mhModel(tab []DestID, byID map[DestID]Dest, f *fakeLoad, flags Flags, in *Input) DestID {
	m := uint32(len(tab))
	a := addrFold(in.Src)
	var port uint32
	if flags&FlagPort != 0 {
		port = uint32(in.SrcPort)
	}
	usable := func(id DestID) bool { return usableModel(f, byID[id]) }
	ih := mhRefHash(a, port, mhKey1Word, 0) % m
	if tab[ih] == 0 {
		return 0
	}
	if usable(tab[ih]) {
		return tab[ih]
	}
	if flags&FlagFallback == 0 {
		return 0
	}
	for off := uint32(0); off < m; off++ {
		id := tab[mhRefHash(a, port, mhKey1Word, (off+ih)%m)%m]
		if id == 0 {
			return 0
		}
		if usable(id) {
			return id
		}
	}
	return 0
}

func TestMHModel(t *testing.T) {
	for _, flags := range []Flags{0, FlagFallback, FlagPort | FlagFallback} {
		for _, idx := range []int{8, 12} {
			for seed := uint64(1); seed <= 3; seed++ {
				r := rand.New(rand.NewPCG(seed, 5))
				f := newFakeLoad()
				fast := newSvc(t, "mh", flags, f, Options{MHTabIndex: idx})
				m := &listModel{lw: map[DestID]int32{}}
				var tab []DestID
				byID := map[DestID]Dest{}
				rebuild := func() {
					tab = mhTableModel(m.list, m.lw, int(mhPrime(idx)), idx/2)
					clear(byID)
					for _, d := range m.list {
						byID[d.ID] = d
					}
					// The fast table must equal the model slot for slot.
					slots := fast.s.(*mh).tab.Load().slots
					for i := range tab {
						var got DestID
						if slots[i] != nil {
							got = slots[i].ID
						}
						if got != tab[i] {
							t.Fatalf("seed %d: mh slot %d = %d, model %d; list %v", seed, i, got, tab[i], m.list)
						}
					}
				}
				var in *Input
				randomOps(t, seed, 60, fast, f,
					func(d Dest) { m.add(d); rebuild() },
					func(d Dest) { m.edit(d); rebuild() },
					func(id DestID) { m.del(id); rebuild() },
					func() DestID { return mhModel(tab, byID, f, flags, in) },
					func() *Input { in = randomInput(r); return in })
			}
		}
	}
}
