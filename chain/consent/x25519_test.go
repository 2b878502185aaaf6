package consent

import "crypto/ecdh"

// x25519Base is X25519(scalar, 9) computed by the standard library, as an
// independent check of the conversion.
func x25519Base(scalar []byte) ([]byte, error) {
	k, err := ecdh.X25519().NewPrivateKey(scalar)
	if err != nil {
		return nil, err
	}
	return k.PublicKey().Bytes(), nil
}
