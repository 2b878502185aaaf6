// Command minimal is the smallest Go contract: one empty method, no SDK.
package main

//go:wasmexport run
func run() {}

func main() {}
