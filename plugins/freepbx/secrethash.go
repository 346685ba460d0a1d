package main

import (
	"crypto/md5"  //nolint:gosec // FreePBX's algo column may name it
	"crypto/sha1" //nolint:gosec // FreePBX's algo column may name it
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"hash"
	"strconv"
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

// versionLess compares FreePBX module versions numerically part by part
// ("17.0.10" > "17.0.8"); a part's trailing letters ("1alpha") are ignored.
func versionLess(a, b string) bool {
	pa, pb := versionParts(a), versionParts(b)
	for i := range max(len(pa), len(pb)) {
		x, y := 0, 0
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		if x != y {
			return x < y
		}
	}
	return false
}

func versionParts(v string) []int {
	var out []int
	for _, p := range strings.Split(strings.TrimSpace(v), ".") {
		n := 0
		for n < len(p) && p[n] >= '0' && p[n] <= '9' {
			n++
		}
		i, _ := strconv.Atoi(p[:n])
		out = append(out, i)
	}
	return out
}

func versionMajor(v string) int {
	if p := versionParts(v); len(p) > 0 {
		return p[0]
	}
	return 0
}

// fixedAPIVersion fixes CVE-2026-44237.
const fixedAPIVersion = "17.0.8"

// acceptsAnySecret reports whether api module version v has
// CVE-2026-44237: 17.x before 17.0.8 validates no client secret.
func acceptsAnySecret(v string) bool {
	return versionMajor(v) == 17 && versionLess(v, fixedAPIVersion)
}
