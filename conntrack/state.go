package conntrack

import "time"

// State is a connection's IPVS state. The names are those ipvsadm prints in
// `-L -c` (reference ipvs.md §4.1, §4.3, §7.3).
type State uint8

// States. TCP states follow the kernel's IP_VS_TCP_S_* order; UDP (and any
// other non-TCP protocol) connections are always StateUDP; StateAssured only
// appears on persistence templates.
const (
	_                State = iota
	StateNone              // NONE
	StateEstablished       // ESTABLISHED
	StateSynSent           // SYN_SENT
	StateSynRecv           // SYN_RECV
	StateFinWait           // FIN_WAIT
	StateTimeWait          // TIME_WAIT
	StateClose             // CLOSE
	StateCloseWait         // CLOSE_WAIT
	StateLastAck           // LAST_ACK
	StateListen            // LISTEN
	StateSynAck            // SYNACK
	StateUDP               // UDP
	StateAssured           // ASSURED (templates only)
	numStates
)

// NumStates bounds the State values; arrays indexed by State have this length.
const NumStates = int(numStates)

var stateNames = [numStates]string{
	"INVALID", "NONE", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT",
	"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "SYNACK", "UDP",
	"ASSURED",
}

// String returns the name ipvsadm prints for the state.
func (s State) String() string {
	if s >= numStates {
		return "INVALID"
	}
	return stateNames[s]
}

// Active reports whether a connection in this state counts in the real
// server's activeconns (ip_vs_proto_tcp.c tcp_state_active: ESTABLISHED,
// SYN_SENT, SYN_RECV and SYNACK; reference ipvs.md §4.1). UDP is never active.
func (s State) Active() bool {
	switch s {
	case StateEstablished, StateSynSent, StateSynRecv, StateSynAck:
		return true
	}
	return false
}

// halfOpen reports the states the eviction policy reclaims first (the
// drop_entry defence drops SYN_RECV and SYNACK outright, reference ipvs.md
// §4.7; NONE and SYN_SENT have not completed a handshake either).
func (s State) halfOpen() bool {
	switch s {
	case StateNone, StateSynSent, StateSynRecv, StateSynAck:
		return true
	}
	return false
}

// closing reports the inactive TCP states of a finished or finishing flow.
func (s State) closing() bool {
	switch s {
	case StateFinWait, StateTimeWait, StateClose, StateCloseWait, StateLastAck, StateListen:
		return true
	}
	return false
}

// Dir is the direction of a packet relative to a connection.
type Dir uint8

// Directions (IP_VS_DIR_INPUT / IP_VS_DIR_OUTPUT). The input-only table used
// for DR/TUN connections is chosen by the table itself from the connection's
// NOOUTPUT flag.
const (
	_         Dir = iota
	DirInput      // client → director
	DirOutput     // real server → director (NAT replies)
)

// String names the direction.
func (d Dir) String() string {
	switch d {
	case DirInput:
		return "input"
	case DirOutput:
		return "output"
	}
	return "invalid"
}

// Event is the TCP event a packet's flags map to (tcp_state_idx).
type Event uint8

// Events, in the priority the kernel checks them: RST, then SYN, then FIN,
// then ACK; a packet with none of these flags is EventNone and moves the
// connection to CLOSE.
const (
	_ Event = iota
	EventSYN
	EventFIN
	EventACK
	EventRST
	EventNone
)

var eventNames = [...]string{"invalid", "syn", "fin", "ack", "rst", "none"}

// String names the event as the kernel's state tables do.
func (e Event) String() string {
	if int(e) >= len(eventNames) {
		return "invalid"
	}
	return eventNames[e]
}

// TCP header flag bits (RFC 9293 §3.1).
const (
	TCPFlagFIN = 0x01
	TCPFlagSYN = 0x02
	TCPFlagRST = 0x04
	TCPFlagACK = 0x10
)

// TCPEvent maps a TCP header's flags byte (offset 13) to its state-machine
// event, as tcp_state_idx does.
func TCPEvent(flags uint8) Event {
	switch {
	case flags&TCPFlagRST != 0:
		return EventRST
	case flags&TCPFlagSYN != 0:
		return EventSYN
	case flags&TCPFlagFIN != 0:
		return EventFIN
	case flags&TCPFlagACK != 0:
		return EventACK
	}
	return EventNone
}

// Short names for the transition tables below.
const (
	sNO = StateNone
	sES = StateEstablished
	sSS = StateSynSent
	sSR = StateSynRecv
	sFW = StateFinWait
	sTW = StateTimeWait
	sCL = StateClose
	sCW = StateCloseWait
	sLA = StateLastAck
	sLI = StateListen
	sSA = StateSynAck
)

// Table directions: the kernel's TCP_DIR_INPUT, TCP_DIR_OUTPUT and
// TCP_DIR_INPUT_ONLY offsets into tcp_states.
const (
	tdInput = iota
	tdOutput
	tdInputOnly
	numTableDirs
)

// tcpStates is ip_vs_proto_tcp.c tcp_states (the normal, non-secure_tcp
// table; reference ipvs.md §4.2): [direction][event-1][state-1] → next state,
// columns NO ES SS SR FW TW CL CW LA LI SA.
var tcpStates = [numTableDirs][4][11]State{
	tdInput: {
		/* syn */ {sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR},
		/* fin */ {sCL, sCW, sSS, sTW, sTW, sTW, sCL, sCW, sLA, sLI, sTW},
		/* ack */ {sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES},
		/* rst */ {sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sSR},
	},
	tdOutput: {
		/* syn */ {sSS, sES, sSS, sSR, sSS, sSS, sSS, sSS, sSS, sLI, sSR},
		/* fin */ {sTW, sFW, sSS, sTW, sFW, sTW, sCL, sTW, sLA, sLI, sTW},
		/* ack */ {sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sLA, sES, sES},
		/* rst */ {sCL, sCL, sSS, sCL, sCL, sTW, sCL, sCL, sCL, sCL, sCL},
	},
	tdInputOnly: {
		/* syn */ {sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR},
		/* fin */ {sCL, sFW, sSS, sTW, sFW, sTW, sCL, sCW, sLA, sLI, sTW},
		/* ack */ {sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES},
		/* rst */ {sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL},
	},
}

// tcpStatesSecure is tcp_states_dos, the table secure_tcp switches to
// (reference ipvs.md §4.2): the normal table with these cells changed.
var tcpStatesSecure = func() [numTableDirs][4][11]State {
	t := tcpStates
	in, out, io := &t[tdInput], &t[tdOutput], &t[tdInputOnly]
	syn, fin, ack, rst := EventSYN-1, EventFIN-1, EventACK-1, EventRST-1
	in[syn][sSA-1] = sSA
	in[fin][sSA-1] = sSA
	in[ack][sSR-1] = sSR
	in[ack][sSA-1] = sSA
	in[rst][sSA-1] = sCL
	out[syn][sSR-1] = sSA
	out[syn][sSA-1] = sSA
	for _, from := range []State{sNO, sFW, sTW, sCL, sCW, sLA, sLI, sSA} {
		io[syn][from-1] = sSA
	}
	return t
}()

// nextTCP returns the state after a packet with event ev in table direction
// td, for a connection in state cur, from the normal or the secure_tcp
// table.
func nextTCP(td int, ev Event, cur State, secure bool) State {
	if ev == EventNone || ev == 0 || ev > EventRST || cur < StateNone || cur > StateSynAck {
		return StateClose
	}
	if secure {
		return tcpStatesSecure[td][ev-1][cur-1]
	}
	return tcpStates[td][ev-1][cur-1]
}

// DefaultTimeout returns the kernel's default timeout for a state
// (tcp_timeouts and udp_timeouts; reference ipvs.md §4.1, §4.3). Templates
// use their service's persistence timeout instead.
func DefaultTimeout(s State) time.Duration {
	switch s {
	case StateNone:
		return 2 * time.Second
	case StateEstablished:
		return 15 * time.Minute
	case StateSynSent:
		return 2 * time.Minute
	case StateSynRecv:
		return time.Minute
	case StateFinWait, StateTimeWait:
		return 2 * time.Minute
	case StateClose:
		return 10 * time.Second
	case StateCloseWait:
		return time.Minute
	case StateLastAck:
		return 30 * time.Second
	case StateListen, StateSynAck:
		return 2 * time.Minute
	case StateUDP:
		return 5 * time.Minute
	}
	return 0
}

// newConnTimeout is the timeout of a connection that has been created but
// has not yet had its first packet processed (ip_vs_conn_new: 3*HZ).
const newConnTimeout = 3 * time.Second

// templateStepTimeout is the timeout a template gets when its timer fires
// while it still controls connections (ip_vs_conn_expire: cp->timeout =
// 60*HZ; reference ipvs.md §3.5).
const templateStepTimeout = 60 * time.Second

// maxTimeout is the largest timeout the table stores (2^30 ticks of 1/64 s,
// about 194 days; ipvsadm's limit is 31 days). Entry timers must stay well
// inside the 2^31-tick window of their wrapping comparison.
const maxTimeout = time.Duration(1<<30) * time.Second / 64

// Method is a connection's forwarding method (IP_VS_CONN_F_FWD_MASK values,
// shifted by one so that the zero value is invalid).
type Method uint8

// Forwarding methods.
const (
	_            Method = iota
	MethodMasq          // NAT (IP_VS_CONN_F_MASQ)
	MethodLocal         // local node (IP_VS_CONN_F_LOCALNODE)
	MethodTunnel        // IPIP/GUE/GRE (IP_VS_CONN_F_TUNNEL)
	MethodRoute         // direct routing (IP_VS_CONN_F_DROUTE)
	MethodBypass        // cache bypass (IP_VS_CONN_F_BYPASS)
)

var methodNames = [...]string{"invalid", "Masq", "Local", "Tunnel", "Route", "Bypass"}

// String returns the name ipvsadm prints in the Forward column.
func (m Method) String() string {
	if int(m) >= len(methodNames) {
		return "invalid"
	}
	return methodNames[m]
}
