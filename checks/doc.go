// Package checks runs real-server health checks (TCP, HTTP, SSL, MISC, SMTP,
// DNS, UDP, PING and ldirectord's connect/negotiate) with keepalived's retry
// and delay semantics and reports transitions to the director.
//
// It must not import conf, director, dataplane, conntrack, vrrp or any cmd
// package: the director hands it its settings.
package checks
