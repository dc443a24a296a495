// Package header provides zero-copy views over Ethernet, ARP, IPv4, IPv6,
// TCP, UDP, ICMP and ICMPv6 headers, validation, and RFC 1071/1624
// checksums.
//
// Parsed.Decode validates a frame once and copies out what the dataplane
// needs (addresses, ports, offsets, the packet quoted by an ICMP error, ARP
// and Neighbour Discovery fields), returning a closed-enum Reason; the
// rewrite methods change the frame in place with incremental checksum
// updates; the Put functions build ARP, ND, ICMP errors and tunnel headers
// into caller buffers. None of the per-packet functions allocate (tests
// assert testing.AllocsPerRun == 0).
//
// It must not import any non-internal uvs package. gopacket is used only
// by its tests, as an independent encoder and checksum verifier.
package header
