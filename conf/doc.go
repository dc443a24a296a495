// Package conf reads uvs configuration: native TOML, keepalived.conf (with
// include), ldirectord.cf and ipvsadm rules (ipvsadm -S output), all into one
// model. Parsing (syntax, with file:line:col positions) and compiling
// (defaults, validation) are separate steps; every problem is reported, not
// just the first.
//
// Entry points: Load / LoadFile / LoadWith detect the format by content,
// parse and Compile; ParseWith, ParseKeepalived, ParseTOML,
// ParseLdirectord and ParseIPVSRules only parse. (*Config).MarshalTOML
// writes the canonical native TOML (uvs conf convert) and Dump the compiled
// model (uvs conf dump). The model is in model.go; docs/config.md documents
// every native key.
//
// Files: model.go and enums.go (the model), kalex.go (keepalived lines:
// comments, @conditionals, $VARIABLES, include), kaparse.go and
// keepalived.go (keepalived blocks), entries.go (one-line value-block
// entries shared with TOML), toml.go and tomlwrite.go (native TOML),
// compile.go (defaults and validation), load.go (detection, loading),
// ldirectord.go and ipvsadm.go (the other formats).
//
// Reading is bounded (include depth and count, line length, total size,
// problems per stage) so hostile input cannot exhaust memory or time. It
// must not import dataplane, conntrack, director, vrrp, checks or any cmd
// package; only director and cmd import conf.
package conf
