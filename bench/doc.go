// Package bench holds end-to-end benchmarks of the uvs pipeline; the figures
// and the commands that produced them are recorded in bench/README.md.
//
// It is a leaf: nothing imports it.
package bench
