// Package conf reads uvs configuration: native TOML, keepalived.conf (with
// include), ldirectord.cf and ipvsadm rules (ipvsadm -S output), all into one
// model. Parsing (syntax, with file:line:col positions) and compiling
// (defaults, validation) are separate steps; every problem is reported, not
// just the first.
//
// It must not import dataplane, conntrack, director, vrrp, checks or any cmd
// package; only director and cmd import conf.
package conf
