// Package dataplane is the hot path: it reads frame batches from a link,
// decodes them, finds the virtual service, finds or creates the connection,
// advances its state, rewrites (NAT, DR, TUN, reply-NAT) and transmits. It
// answers ARP and IPv6 neighbour solicitations for active VIPs, resolves
// neighbours, originates ICMP errors and translates those that belong to a
// connection. Per packet it returns a verdict and, on drop, a counted reason.
//
// It reads an immutable Snapshot with one atomic load per batch and never
// takes a configuration lock. It may import conntrack, scheduler and
// internal packages; it must not import conf, director, vrrp, checks,
// Prometheus or any cmd package.
package dataplane
