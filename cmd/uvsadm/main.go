// Command uvsadm is ipvsadm for uvs: the same command line and byte-identical
// output, spoken to a running uvs daemon over its control socket.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "uvsadm: the control socket is not implemented yet (see README status table)")
	os.Exit(2)
}
