package fakelog

import (
	"fmt"
	"io"
	"math/rand"
)

// accessMix is a FreePBX web server's day: the GUI's pages and assets,
// ajax.php polls, UCP, and a few integrations calling the API, most calls
// answered 200 and a few refused or failing.
var accessMix = []struct {
	weight   int
	method   string
	target   string
	statuses []int
}{
	{30, "GET", "/admin/assets/js/jquery-3.6.0.min.js?load_version=16.0.40", []int{200, 304, 304}},
	{12, "GET", "/admin/config.php?display=extensions", []int{200, 200, 302}},
	{20, "POST", "/admin/ajax.php?module=framework&command=navbarToogle", []int{200, 200, 200, 403}},
	{10, "GET", "/admin/ajax.php?module=dashboard&command=getcontent&rawname=overview", []int{200, 200, 401}},
	{8, "POST", "/ucp/ajax.php?module=home&command=poll", []int{200, 200, 401}},
	{6, "POST", "/admin/api/api/token", []int{200, 200, 200, 401, 400}},
	{8, "POST", "/admin/api/api/gql", []int{200, 200, 200, 200, 403, 500}},
	{4, "GET", "/admin/api/api/rest/core/extensions/1001", []int{200, 404, 401}},
	{2, "GET", "/favicon.ico", []int{404}},
}

var (
	accessClients = []string{"192.0.2.10", "192.0.2.11", "198.51.100.7", "203.0.113.50", "2001:db8::15", "10.20.30.40"}
	userAgents    = []string{
		"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
		"GuzzleHttp/7",
		"python-requests/2.31.0",
		"curl/7.88.1",
	}
)

// WriteAccess writes at least size bytes of an Apache combined-format
// access log of a FreePBX host to w, ending with a whole line. The output
// is deterministic.
func WriteAccess(w io.Writer, size int64) error {
	rng := rand.New(rand.NewSource(7))
	total := 0
	for _, m := range accessMix {
		total += m.weight
	}
	var n int64
	for i := 0; n < size; i++ {
		r := rng.Intn(total)
		k := 0
		for r >= accessMix[k].weight {
			r -= accessMix[k].weight
			k++
		}
		m := accessMix[k]
		ts := fmt.Sprintf("%02d/Nov/2026:%02d:%02d:%02d +0100", 1+i/86400%28, i/3600%24, i/60%60, i%60)
		status := m.statuses[rng.Intn(len(m.statuses))]
		c, err := fmt.Fprintf(w, "%s - - [%s] \"%s %s HTTP/1.1\" %d %d \"https://pbx.example.com/admin/config.php\" \"%s\"\n",
			accessClients[rng.Intn(len(accessClients))], ts, m.method, m.target, status, 200+rng.Intn(30000), userAgents[rng.Intn(len(userAgents))])
		if err != nil {
			return err
		}
		n += int64(c)
	}
	return nil
}
