// Package link is the frame I/O seam: one Link interface with batched reads
// and writes over caller-owned buffers, implemented by an in-memory pair for
// tests and a pcap link for replay (live AF_PACKET and TUN links come later).
//
// It must not import any non-internal uvs package.
package link
