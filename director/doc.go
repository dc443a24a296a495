// Package director owns the desired state: it compiles configuration, health
// and VRRP state into an immutable dataplane Snapshot and swaps it in
// atomically, applying reloads as a diff. It also drives offline replay of
// captures through the real dataplane.
//
// It may import conf, dataplane, conntrack, scheduler, vrrp, checks and
// internal packages. It must not import any cmd package.
package director
