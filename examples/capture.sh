#!/bin/bash
# capture.sh: make the example captures for `uvs replay` (examples/*/in.pcap).
#
# Real Linux stacks in network namespaces on one bridge: two clients, a
# director, two real servers. The director is emulated with the kernel's own
# tools (no ip_vs here): nftables DNAT for NAT, policy routing for DR/TUN. The
# capture is taken INBOUND on the director's one interface, so each in.pcap
# holds exactly what a director receives. Run as root; needs ip, nft, tcpdump,
# ethtool, python3. Idempotent: everything lives in namespaces named
# uvsex<pid>-*, removed on exit (also on failure). Touches nothing else.
set -euo pipefail

cd "$(dirname "$0")"
P="uvsex$$"
PY="${PYTHON:-python3}"
WORK="$(mktemp -d "/tmp/$P.XXXXXX")"
PIDS=""
NSS=""

VIP4=198.51.100.100
VIP6=2001:db8:100::100
MAC_D=02:00:00:00:00:02
MAC_R1=02:00:00:00:02:21
MAC_R2=02:00:00:00:02:22

die() { echo "capture.sh: $*" >&2; exit 1; }

teardown() {
	local pid ns
	for pid in $PIDS; do kill "$pid" 2>/dev/null || true; done
	for pid in $PIDS; do wait "$pid" 2>/dev/null || true; done
	for ns in $NSS; do ip netns del "$ns" 2>/dev/null || true; done
	PIDS=""
	NSS=""
}
cleanup() { set +e; teardown; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || die "must run as root"
for t in ip nft tcpdump ethtool sysctl "$PY"; do
	command -v "$t" >/dev/null || die "missing $t"
done

# nsx NS CMD...: run CMD in this run's namespace NS.
nsx() { local ns="$P-$1"; shift; ip netns exec "$ns" "$@"; }
sc() { local ns="$1"; shift; nsx "$ns" sysctl -qw "$@"; }

# A real server: HTTP/1.0 on TCP 80 and DNS on UDP 53, both answering with its
# name. It serves at most 64 requests and lives at most 120 s.
cat >"$WORK/server.py" <<'EOF'
import select, socket, struct, sys, time
name, fam, tcp_addr, udp_addr, ready = sys.argv[1:6]
af = socket.AF_INET6 if fam == "6" else socket.AF_INET
t = socket.socket(af, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind((tcp_addr, 80))
t.listen(8)
u = socket.socket(af, socket.SOCK_DGRAM)
u.bind((udp_addr, 53))
open(ready, "w").close()
deadline = time.monotonic() + 120
served = 0
while served < 64 and time.monotonic() < deadline:
    r, _, _ = select.select([t, u], [], [], 1.0)
    if u in r:  # a DNS query (one question): answer TXT "<name>"
        q, peer = u.recvfrom(512)
        if len(q) > 12:
            txt = name.encode()
            u.sendto(q[:2] + struct.pack("!5H", 0x8500, 1, 1, 0, 0) + q[12:]
                     + struct.pack("!3HIHB", 0xC00C, 16, 1, 0, len(txt) + 1, len(txt))
                     + txt, peer)
        served += 1
    if t in r:
        c, peer = t.accept()
        c.settimeout(3)
        try:
            req = b""
            while b"\r\n\r\n" not in req and len(req) < 4096:
                d = c.recv(1024)
                if not d:
                    break
                req += d
            body = name + "\n"
            c.sendall(("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                       "Content-Length: %d\r\n\r\n%s" % (len(body), body)).encode())
            c.shutdown(socket.SHUT_WR)
            for _ in range(16):  # until the client's FIN
                if not c.recv(1024):
                    break
        except OSError:
            pass
        finally:
            c.close()
        served += 1
EOF

# One client transaction: a full TCP request/response/close, or one UDP
# DNS request/reply, from a fixed source port; fails unless WANT answered.
cat >"$WORK/client.py" <<'EOF'
import socket, struct, sys
fam, proto, src, sport, vip, port, want = sys.argv[1:8]
af = socket.AF_INET6 if fam == "6" else socket.AF_INET
s = socket.socket(af, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
s.settimeout(3)
s.bind((src, int(sport)))
s.connect((vip, int(port)))
if proto == "tcp":
    s.sendall(b"GET / HTTP/1.0\r\nHost: www.example.com\r\n\r\n")
    resp = b""
    for _ in range(64):
        d = s.recv(4096)
        if not d:
            break
        resp += d
    got = resp.split(b"\r\n\r\n", 1)[-1].decode().strip()
else:
    q = (struct.pack("!6H", int(sport), 0x0100, 1, 0, 0, 0)
         + b"\x03www\x07example\x03com\x00" + struct.pack("!2H", 16, 1))
    s.send(q)  # TXT? www.example.com
    a = s.recv(512)
    off = len(q) + 12  # the TXT rdata, after the copied question
    ok = a[:2] == q[:2] and len(a) > off
    got = a[off + 1:off + 1 + a[off]].decode() if ok else "?"
s.close()
print("  %s %s:%s -> %s:%s answered by %s" % (proto, src, sport, vip, port, got))
if got != want:
    sys.exit("want %s" % want)
EOF

# build FAMILY: namespaces sw (the bridge), c1 c2 (clients), d (director),
# r1 r2 (real servers); one veth each to the bridge, fixed MACs, no TX
# checksum offload. Addresses are left to the caller.
build() {
	local fam="$1" n mac
	for n in sw c1 c2 d r1 r2; do
		ip netns add "$P-$n"
		NSS="$NSS $P-$n"
		nsx "$n" ip link set lo up
		sc "$n" net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
		if [ "$fam" = 4 ] || [ "$n" = sw ]; then
			sc "$n" net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
		else
			# no DAD, RA, RS or SLAAC: only NDP and the traffic remain
			# (MLD is filtered out of the capture).
			sc "$n" net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
				net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 \
				net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.router_solicitations=0 \
				net.ipv6.conf.default.autoconf=0
		fi
	done
	nsx sw ip link add name br0 type bridge stp_state 0 mcast_snooping 0
	nsx sw ip link set br0 up
	for n in c1:02:00:00:00:01:10 c2:02:00:00:00:01:11 d:$MAC_D r1:$MAC_R1 r2:$MAC_R2; do
		mac="${n#*:}"
		n="${n%%:*}"
		ip -n "$P-sw" link add name "$n" address "02:00:00:00:ff:${mac##*:}" \
			type veth peer name eth0 address "$mac" netns "$P-$n"
		nsx sw ethtool -K "$n" tx off >/dev/null
		nsx "$n" ethtool -K eth0 tx off >/dev/null
		nsx sw ip link set dev "$n" master br0 up
		nsx "$n" ip link set eth0 up
	done
}

# servers FAMILY TCP_ADDR UDP_ADDR: start real1 and real2, wait until bound.
servers() {
	local n i
	for n in 1 2; do
		ip netns exec "$P-r$n" "$PY" "$WORK/server.py" "real$n" "$1" "$2" "$3" "$WORK/ready.r$n" &
		PIDS="$PIDS $!"
	done
	for i in $(seq 50); do
		[ -e "$WORK/ready.r1" ] && [ -e "$WORK/ready.r2" ] && return 0
		sleep 0.1
	done
	die "real servers did not start"
}

# capture_start FILTER...: tcpdump inbound on the director's eth0.
TCPDUMP_PID=""
capture_start() {
	local i
	rm -f "$WORK/in.pcap" "$WORK/tcpdump.err"
	ip netns exec "$P-d" tcpdump -Z root -Q in -i eth0 -nn --immediate-mode -U -s 0 -w "$WORK/in.pcap" "$@" \
		2>"$WORK/tcpdump.err" &
	TCPDUMP_PID=$!
	PIDS="$PIDS $TCPDUMP_PID"
	for i in $(seq 50); do
		grep -q "listening on" "$WORK/tcpdump.err" 2>/dev/null && { sleep 0.2; return 0; }
		sleep 0.1
	done
	die "tcpdump did not start: $(cat "$WORK/tcpdump.err")"
}

# capture_stop EXAMPLE TCP UDP REPLIES: stop tcpdump, check the capture holds
# TCP whole connections and UDP queries (and, with REPLIES=yes, the real
# servers' side of each, as a NAT director sees it) with good checksums, and
# install it as EXAMPLE/in.pcap.
capture_stop() {
	local ex="$1" tcp="$2" udp="$3" replies="$4" n
	sleep 1
	kill "$TCPDUMP_PID"
	wait "$TCPDUMP_PID" || true
	tcpdump -nn -e -vv -r "$WORK/in.pcap" >"$WORK/dump.txt" 2>/dev/null
	! grep -qi "incorrect" "$WORK/dump.txt" || die "$ex: bad checksums in capture"
	tcpdump -nn -r "$WORK/in.pcap" >"$WORK/frames.txt" 2>/dev/null
	check() {
		n=$(grep -c -- "$1" "$WORK/frames.txt" || true)
		[ "$n" = "$2" ] || die "$ex: $n frames match '$1', want $2"
	}
	check '\.80: Flags \[S\],' "$tcp"
	check '\.80: Flags \[F\.\],' "$tcp"
	check '\.53: [0-9]*+ TXT?' "$udp"
	if [ "$replies" = yes ]; then
		check '\.80 > .*Flags \[S\.\],' "$tcp"
		check '\.80 > .*Flags \[F\.\],' "$tcp"
		check '\.53 > .*TXT "real' "$udp"
	fi
	mkdir -p "$ex"
	cp "$WORK/in.pcap" "$ex/in.pcap"
	echo "$ex/in.pcap: $(wc -l <"$WORK/frames.txt") frames"
}

# tx FAMILY CLIENT SRC PROTO SPORT VIP PORT WANT: one transaction, then a pause
# so connections never overlap.
tx() {
	nsx "$2" "$PY" "$WORK/client.py" "$1" "$4" "$3" "$5" "$6" "$7" "$8"
	sleep 0.3
}

# Traffic for every example: client ports 41xxx are answered by real2, 42xxx by
# real1. For NAT the kernel's DNAT alternates real2, real1, ... per service
# (numgen), which is what uvs's rr does with real1 listed first in the config:
# IPVS puts each added real server at the head of its list.
v4_nat() {
	build 4
	nsx c1 ip addr add 198.51.100.10/24 dev eth0
	nsx c2 ip addr add 198.51.100.11/24 dev eth0
	nsx d ip addr add 198.51.100.2/24 dev eth0
	nsx d ip addr add 192.0.2.1/24 dev eth0
	nsx d ip addr add "$VIP4/32" dev eth0
	sc d net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0 \
		net.ipv4.conf.default.send_redirects=0 net.ipv4.conf.eth0.send_redirects=0
	nsx d nft -f - <<EOF
table ip $P {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr $VIP4 tcp dport 80 dnat to numgen inc mod 2 map { 0 : 192.0.2.22, 1 : 192.0.2.21 }
		ip daddr $VIP4 udp dport 53 dnat to numgen inc mod 2 map { 0 : 192.0.2.22, 1 : 192.0.2.21 }
	}
}
EOF
	for n in 1 2; do
		nsx "r$n" ip addr add "192.0.2.2$n/24" dev eth0
		nsx "r$n" ip route add default via 192.0.2.1
		sc "r$n" net.ipv4.conf.all.accept_redirects=0
	done
	servers 4 0.0.0.0 0.0.0.0
	capture_start
	tx 4 c1 198.51.100.10 tcp 41001 "$VIP4" 80 real2
	tx 4 c1 198.51.100.10 udp 41101 "$VIP4" 53 real2
	tx 4 c2 198.51.100.11 tcp 42002 "$VIP4" 80 real1
	tx 4 c2 198.51.100.11 udp 42102 "$VIP4" 53 real1
	tx 4 c1 198.51.100.10 tcp 41003 "$VIP4" 80 real2
	tx 4 c2 198.51.100.11 tcp 42004 "$VIP4" 80 real1
	capture_stop nat 4 2 yes
	teardown
}

# DR and TUN: a director receives the same frames from clients in both; only
# what it transmits differs. The director holds the VIP (so the kernel answers
# ARP for it) but policy routing sends TCP/UDP to the VIP on to a real server:
# client ports 41xxx to real2, 42xxx to real1. Its neighbours are static, as
# they are for `uvs replay --neigh`. Real servers hold the VIP on lo with ARP
# suppressed and answer clients directly (on-link route), never via the director.
v4_dr() {
	local ex="$1" udp="$2" n p t
	build 4
	nsx c1 ip addr add 198.51.100.10/24 dev eth0
	nsx c2 ip addr add 198.51.100.11/24 dev eth0
	nsx d ip addr add 198.51.100.2/24 dev eth0
	nsx d ip addr add 192.0.2.1/24 dev eth0
	nsx d ip addr add "$VIP4/32" dev eth0
	sc d net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0 \
		net.ipv4.conf.default.send_redirects=0 net.ipv4.conf.eth0.send_redirects=0
	nsx d ip neigh replace 192.0.2.21 lladdr "$MAC_R1" nud permanent dev eth0
	nsx d ip neigh replace 192.0.2.22 lladdr "$MAC_R2" nud permanent dev eth0
	nsx d ip route add "$VIP4/32" via 192.0.2.21 dev eth0 table 121
	nsx d ip route add "$VIP4/32" via 192.0.2.22 dev eth0 table 122
	for p in tcp udp; do
		nsx d ip rule add pref 100 to "$VIP4/32" ipproto "$p" sport 41000-41999 lookup 122
		nsx d ip rule add pref 100 to "$VIP4/32" ipproto "$p" sport 42000-42999 lookup 121
	done
	nsx d ip rule add pref 200 lookup local
	nsx d ip rule del pref 0 lookup local
	for n in 1 2; do
		nsx "r$n" ip addr add "192.0.2.2$n/24" dev eth0
		nsx "r$n" ip addr add "$VIP4/32" dev lo
		nsx "r$n" ip route add 198.51.100.0/24 dev eth0
		for t in all eth0; do
			sc "r$n" "net.ipv4.conf.$t.arp_ignore=1" "net.ipv4.conf.$t.arp_announce=2"
		done
	done
	servers 4 0.0.0.0 "$VIP4"
	capture_start
	tx 4 c1 198.51.100.10 tcp 41001 "$VIP4" 80 real2
	if [ "$udp" = udp ]; then tx 4 c1 198.51.100.10 udp 41101 "$VIP4" 53 real2; fi
	tx 4 c2 198.51.100.11 tcp 42002 "$VIP4" 80 real1
	if [ "$udp" = udp ]; then tx 4 c2 198.51.100.11 udp 42102 "$VIP4" 53 real1; fi
	tx 4 c1 198.51.100.10 tcp 41003 "$VIP4" 80 real2
	tx 4 c2 198.51.100.11 tcp 42004 "$VIP4" 80 real1
	if [ "$udp" = udp ]; then capture_stop "$ex" 4 2 no; else capture_stop "$ex" 4 0 no; fi
	teardown
}

# IPv6 NAT. MLD (ICMPv6 131/143 behind a hop-by-hop header) is left out of the
# capture.
v6_nat() {
	build 6
	nsx c1 ip addr add 2001:db8:100::10/64 dev eth0 nodad
	nsx c2 ip addr add 2001:db8:100::11/64 dev eth0 nodad
	nsx d ip addr add 2001:db8:100::2/64 dev eth0 nodad
	nsx d ip addr add 2001:db8:200::1/64 dev eth0 nodad
	nsx d ip addr add "$VIP6/128" dev eth0 nodad
	sc d net.ipv6.conf.all.forwarding=1
	nsx d nft -f - <<EOF
table ip6 $P {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		ip6 daddr $VIP6 tcp dport 80 dnat to numgen inc mod 2 map { 0 : 2001:db8:200::22, 1 : 2001:db8:200::21 }
	}
}
EOF
	for n in 1 2; do
		nsx "r$n" ip addr add "2001:db8:200::2$n/64" dev eth0 nodad
		nsx "r$n" ip -6 route add default via 2001:db8:200::1
		sc "r$n" net.ipv6.conf.all.accept_redirects=0 net.ipv6.conf.eth0.accept_redirects=0
	done
	servers 6 :: ::
	capture_start not '(ip6[6] == 0 and ip6[40] == 58 and ip6[41] == 0 and (ip6[48] == 130 or ip6[48] == 131 or ip6[48] == 132 or ip6[48] == 143))'
	tx 6 c1 2001:db8:100::10 tcp 41001 "$VIP6" 80 real2
	tx 6 c2 2001:db8:100::11 tcp 42002 "$VIP6" 80 real1
	tx 6 c1 2001:db8:100::10 tcp 41003 "$VIP6" 80 real2
	tx 6 c2 2001:db8:100::11 tcp 42004 "$VIP6" 80 real1
	capture_stop nat6 4 0 yes
	teardown
}

echo "nat:"
v4_nat
echo "dr:"
v4_dr dr tcp
echo "tun:"
v4_dr tun udp
echo "nat6:"
v6_nat
