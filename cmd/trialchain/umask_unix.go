//go:build unix

package main

import "syscall"

// privateFiles makes every file the process creates from now on 0600 at
// most and every directory 0700 (a node's logs, contract cache, store).
func privateFiles() { syscall.Umask(0o077) }
