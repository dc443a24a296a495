// Package vrrp is the VRRP (RFC 3768 v2, RFC 5798 v3) state machine and its
// socket shell, interoperable with keepalived.
//
// It must not import conf, director, dataplane, conntrack, checks or any cmd
// package: the director hands it its settings.
package vrrp
