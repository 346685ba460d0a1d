package freepbx

import (
	"crypto/md5"  //nolint:gosec // FreePBX's algo column may name it
	"crypto/sha1" //nolint:gosec // FreePBX's algo column may name it
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"hash"
	"strings"
)

// phpHashes are the algorithms of PHP's hash() that api_applications.algo
// may name. FreePBX writes sha256 (Applications::$secretHashAlgo).
var phpHashes = map[string]func() hash.Hash{
	"md5": md5.New, "sha1": sha1.New, "sha224": sha256.New224, "sha256": sha256.New,
	"sha384": sha512.New384, "sha512": sha512.New, "sha512/224": sha512.New512_224, "sha512/256": sha512.New512_256,
	"sha3-224": func() hash.Hash { return sha3.New224() }, "sha3-256": func() hash.Hash { return sha3.New256() },
	"sha3-384": func() hash.Hash { return sha3.New384() }, "sha3-512": func() hash.Hash { return sha3.New512() },
}

// secretMatches is Applications::authenticate: hash(algo, secret) compared
// with the stored lowercase hex. known is false for an algorithm pbxwatch
// does not implement.
func secretMatches(algo, secret, stored string) (match, known bool) {
	algo = strings.ToLower(strings.TrimSpace(algo))
	if algo == "" {
		algo = "sha256"
	}
	newHash, ok := phpHashes[algo]
	if !ok {
		return false, false
	}
	h := newHash()
	h.Write([]byte(secret))
	sum := hex.EncodeToString(h.Sum(nil))
	return subtle.ConstantTimeCompare([]byte(sum), []byte(strings.ToLower(stored))) == 1, true
}
