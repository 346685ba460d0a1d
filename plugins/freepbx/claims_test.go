package freepbx

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/testutil/verbatim"
	"github.com/pbxwatch/pbxwatch/plugins/freepbx/freepbxsim"
)

// quotedDetails are the details that present the server's words.
var quotedDetails = []string{"body", "page_title", "server_header", "www_authenticate", "output_before_json", "marker"}

// TestQuotesAreVerbatim: over every recorded answer, what a diagnosis
// presents as the server's words (a quoted message, a title, a header, an
// excerpt) is an excerpt of what was served (the answer itself, or the
// ajax.php follow-up the check asks): bounded, scrubbed, never rebuilt.
func TestQuotesAreVerbatim(t *testing.T) {
	for _, a := range freepbxsim.Answers() {
		t.Run(a.Name, func(t *testing.T) {
			t.Parallel()
			block := fmt.Sprintf("url: %s\nclient_id: answer.%s\nclient_secret_file: %s\n", simURL(t), a.Name, secretFile(t, testSecret))
			res := checkWith(t, block, 5*time.Second)
			h := http.Header{}
			for k, v := range a.Headers {
				h.Set(k, v)
			}
			served := []verbatim.Served{verbatim.Answer(h, []byte(a.Body))}
			if a.Ajax != nil {
				ah := http.Header{}
				for k, v := range a.Ajax.Headers {
					ah.Set(k, v)
				}
				served = append(served, verbatim.Answer(ah, []byte(a.Ajax.Body)))
			}
			holds := func(q string) bool {
				for _, s := range served {
					if s.Holds(q) {
						return true
					}
				}
				return false
			}
			for _, d := range res.Diagnoses {
				var quotes []string
				for _, k := range quotedDetails {
					if v := d.Details[k]; v != "" {
						quotes = append(quotes, v)
					}
				}
				quotes = append(quotes, verbatim.Quotes(d.Message, served...)...)
				for _, q := range quotes {
					if !holds(q) {
						t.Errorf("%s quotes %q, which the answer did not say\nmessage: %s\ndetails: %v", d.Code, q, d.Message, d.Details)
					}
				}
			}
		})
	}
}

// TestLayerNamedOnlyOnItsMarker: a refusal in front of FreePBX names no
// product but the one whose marker the answer carries.
func TestLayerNamedOnlyOnItsMarker(t *testing.T) {
	for _, a := range freepbxsim.Answers() {
		if a.Expect != "freepbx.edge_blocked" {
			continue
		}
		t.Run(a.Name, func(t *testing.T) {
			t.Parallel()
			block := fmt.Sprintf("url: %s\nclient_id: answer.%s\nclient_secret_file: %s\n", simURL(t), a.Name, secretFile(t, testSecret))
			res := checkWith(t, block, 5*time.Second)
			for _, d := range res.Diagnoses {
				if d.Code != "freepbx.edge_blocked" {
					continue
				}
				text := d.Message + "\n" + strings.Join(d.Remediation, "\n") + "\n" + d.Details["product"]
				named, err := verbatim.NamedWithoutMarker(d.Details["layer"], text)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range named {
					t.Errorf("layer %s names %s without its marker:\n%s", d.Details["layer"], p, text)
				}
			}
		})
	}
}
