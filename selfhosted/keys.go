package selfhosted

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"slices"
	"sync"
)

// Key is an application key: the secret from which the provider derives
// the keys that hash targets, derive codes and seal what it stores. Keep it
// out of the store (in a secret manager or the environment): anyone with
// the store and the key can pass checks; anyone with only the store cannot.
//
// Its String method never prints the secret.
type Key struct {
	// ID names the key, so records sealed under it can be opened after a
	// new key becomes the primary one. 1 to 32 bytes, stored in clear
	// beside every sealed record.
	ID string
	// Secret is at least 32 random bytes.
	Secret []byte
}

// String describes the key without its secret.
func (k Key) String() string { return "selfhosted.Key{ID:" + k.ID + " Secret:[redacted]}" }

// GoString is like String.
func (k Key) GoString() string { return k.String() }

// Format prints what String does for every verb (%d or %x included), so no
// verb prints the secret.
func (k Key) Format(f fmt.State, verb rune) { formatString(f, verb, k.String()) }

// derived holds what the provider derives from one Key.
type derived struct {
	id     string
	aead   cipher.AEAD  // seals records
	code   cipher.Block // derives codes from a verification's nonce
	target []byte       // HMAC key that names targets and identities
	hmacs  sync.Pool    // of *scratch, with h keyed with target
}

// scratch is reusable working memory, so hashing and deriving codes do not
// allocate.
type scratch struct {
	h   hash.Hash
	sum [sha256.Size]byte
	out [16]byte
	in  []byte // what is hashed, copied here so hashing a string does not allocate
}

func derive(k Key) (*derived, error) {
	if k.ID == "" || len(k.ID) > 32 {
		return nil, fmt.Errorf("selfhosted: key ID must be 1 to 32 bytes, got %d", len(k.ID))
	}
	if len(k.Secret) < 32 {
		return nil, fmt.Errorf("selfhosted: key %q: secret must be at least 32 bytes, got %d", k.ID, len(k.Secret))
	}
	sub := func(label string) []byte {
		m := hmac.New(sha256.New, k.Secret)
		m.Write([]byte("verifykit/selfhosted/v1/" + label))
		return m.Sum(nil)
	}
	sealBlock, err := aes.NewCipher(sub("seal"))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(sealBlock)
	if err != nil {
		return nil, err
	}
	codeBlock, err := aes.NewCipher(sub("code"))
	if err != nil {
		return nil, err
	}
	d := &derived{id: k.ID, aead: aead, code: codeBlock, target: sub("target")}
	d.hmacs.New = func() any { return &scratch{h: hmac.New(sha256.New, d.target)} }
	return d, nil
}

// namer names targets and identities in the store with a keyed hash. Its
// key (the name key) does not change when the application key rotates, so
// a record keeps its name through a rotation and every replica, whichever
// keys it has, looks for it in one place (see Provider.ensureKey).
type namer struct {
	hmacs sync.Pool // of *scratch, with h keyed with the name key
}

func newNamer(key []byte) *namer {
	key = slices.Clone(key)
	n := new(namer)
	n.hmacs.New = func() any { return &scratch{h: hmac.New(sha256.New, key)} }
	return n
}

// name returns a 16-byte keyed hash of kind and s: the store's name for a
// target or an identity, which does not reveal it.
func (n *namer) name(dst []byte, kind byte, s string) []byte {
	sc := n.hmacs.Get().(*scratch)
	sc.h.Reset()
	sc.in = append(append(sc.in[:0], kind), s...)
	sc.h.Write(sc.in)
	out := sc.h.Sum(sc.sum[:0])
	dst = append(dst, out[:16]...)
	n.hmacs.Put(sc)
	return dst
}

// keyring is the primary key and the older keys still accepted.
type keyring struct {
	primaryKey Key
	primary    *derived
	older      []*derived // in the order given
	byID       map[string]*derived
}

func newKeyring(primary Key, older []Key) (*keyring, error) {
	kr := &keyring{byID: make(map[string]*derived)}
	for i, k := range append([]Key{primary}, older...) {
		d, err := derive(k)
		if err != nil {
			return nil, err
		}
		if _, dup := kr.byID[d.id]; dup {
			return nil, fmt.Errorf("selfhosted: two keys have the ID %q", d.id)
		}
		kr.byID[d.id] = d
		if i == 0 {
			kr.primary = d
		} else {
			kr.older = append(kr.older, d)
		}
	}
	return kr, nil
}

var errOpen = errors.New("sealed record does not open (unknown key ID or tampered)")

// seal returns keyIDLen | keyID | nonce | AES-GCM(plain) with aad.
func (d *derived) seal(plain, aad []byte) []byte {
	buf := d.startSeal(nil, len(plain))
	hdr := len(buf)
	return d.finishSeal(append(buf, plain...), hdr, aad)
}

// startSeal returns keyIDLen | keyID | nonce in out's array (when it is
// large enough), with room for n bytes of plaintext (appended by the
// caller) and the tag, so that finishSeal seals in place.
func (d *derived) startSeal(out []byte, n int) []byte {
	ns := d.aead.NonceSize()
	out = slices.Grow(out[:0], 1+len(d.id)+ns+n+d.aead.Overhead())
	out = append(out, byte(len(d.id)))
	out = append(out, d.id...)
	out = out[:len(out)+ns]
	_, _ = rand.Read(out[len(out)-ns:])
	return out
}

// finishSeal seals buf[hdr:], what was appended to startSeal's result, in
// place.
func (d *derived) finishSeal(buf []byte, hdr int, aad []byte) []byte {
	return d.aead.Seal(buf[:hdr], buf[hdr-d.aead.NonceSize():hdr], buf[hdr:], aad)
}

// open opens what seal sealed, with whichever key of the ring sealed it,
// and returns that key with the plaintext.
func (kr *keyring) open(sealed, aad []byte) (*derived, []byte, error) {
	if len(sealed) < 1 || len(sealed) < 1+int(sealed[0]) {
		return nil, nil, errOpen
	}
	id := sealed[1 : 1+int(sealed[0])]
	d := kr.primary
	if string(id) != d.id {
		d = kr.byID[string(id)]
	}
	if d == nil {
		return nil, nil, errOpen
	}
	rest := sealed[1+len(id):]
	ns := d.aead.NonceSize()
	if len(rest) < ns+d.aead.Overhead() {
		return nil, nil, errOpen
	}
	plain, err := d.aead.Open(rest[ns:ns], rest[:ns], rest[ns:], aad)
	if err != nil {
		return nil, nil, errOpen
	}
	return d, plain, nil
}
