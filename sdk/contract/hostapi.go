package contract

// hostAPI is the host as the SDK sees it: the wasm implementation calls the
// imported functions; tests on the build machine can install a fake.
type hostAPI interface {
	input() []byte
	setResult(b []byte)
	get(key []byte) ([]byte, bool)
	set(key, value []byte)
	del(key []byte)
	scan(prefix, after []byte, max int) []byte
	caller() [32]byte
	callerOrg() string
	callerRole() string
	self() [32]byte
	height() uint64
	timeMilli() int64
	txHash() [32]byte
	emit(topic string, data []byte)
	sha256(b []byte) [32]byte
	ed25519Verify(pk *[32]byte, msg []byte, sig *[64]byte) bool
	consentVerify(group, meaning string, msg, sig []byte) bool
	seal(key []byte, prefix bool)
	govern(group string)
	abort(msg string)
	recordScope(name string)
}
