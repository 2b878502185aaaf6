//go:build !unix

package main

// privateFiles: file modes are not Unix modes here; the store still
// applies its own.
func privateFiles() {}
