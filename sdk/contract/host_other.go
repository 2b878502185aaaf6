//go:build !wasm

package contract

// Outside wasm there is no host: every function of this package that needs
// one panics. (The package still builds, so its docs and examples compile.)
var host hostAPI = noHost{}

type noHost struct{ hostAPI }
