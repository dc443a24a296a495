// Package pkttest checks frames with an independent decoder (gopacket) in
// tests: every layer must decode and every checksum must verify. Only test
// code imports it.
//
// It must not import any non-internal uvs package.
package pkttest
