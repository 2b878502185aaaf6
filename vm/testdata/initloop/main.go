// Command initloop never finishes initialising: it must be refused at deploy.
package main

var sink int

func init() {
	for {
		sink++
	}
}

//go:wasmexport run
func run() {}

func main() {}
