// Package header provides zero-copy views over Ethernet, ARP, IPv4, IPv6,
// TCP, UDP, ICMP and ICMPv6 headers, validation, and RFC 1071/1624
// checksums.
//
// It must not import any non-internal uvs package.
package header
