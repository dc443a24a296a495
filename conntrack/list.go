package conntrack

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// List returns a copy of every live entry, connections and templates, in
// table order (as /proc/net/ip_vs_conn lists in hash order). Entries whose
// timer has run out are left out. It is for the control path (`uvsadm -L
// -c`) and allocates.
func (t *Table) List(now int64) []Conn {
	var out []Conn
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for slot := range s.hi {
			e := &s.ents[slot]
			if e.flags&fUsed == 0 || expiredLocked(e, now) {
				continue
			}
			out = append(out, t.connLocked(i, s, slot, now))
		}
		s.mu.Unlock()
	}
	return out
}

// ProtoName is the protocol column of `ipvsadm -L -c` (ip_vs_proto_name):
// TCP, UDP, SCTP, IP for fwmark templates, else the number.
func ProtoName(p uint8) string {
	switch p {
	case ProtoTCP:
		return "TCP"
	case ProtoUDP:
		return "UDP"
	case 132: // IPPROTO_SCTP
		return "SCTP"
	case ProtoIP:
		return "IP"
	}
	return strconv.Itoa(int(p))
}

// WriteList prints conns as `ipvsadm -L -n -c` does (reference ipvs.md
// §7.3): a two-line header, then one line per entry with the remaining
// time as minutes:seconds (minutes not capped), truncated to whole seconds
// as the kernel's jiffies/HZ division does.
func WriteList(w io.Writer, now int64, conns []Conn) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("IPVS connection entries\n")
	bw.WriteString("pro expire state       source             virtual            destination\n")
	for i := range conns {
		c := &conns[i]
		left := max(c.Expires-now, 0) / 1e9
		exp := fmt.Sprintf("%02d:%02d", left/60, left%60)
		fmt.Fprintf(bw, "%-3s %-6s %-11s %-18s %-18s %s\n",
			ProtoName(c.Proto), exp, c.State, c.Client, c.Virtual, c.Real)
	}
	return bw.Flush()
}
