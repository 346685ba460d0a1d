package freepbx

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/pbxwatch/pbxwatch/internal/frontlayer"
	"github.com/pbxwatch/pbxwatch/sdk"
)

// Answers that are not the API module's OAuth or GraphQL JSON: FreePBX's
// framework (ajax.php refusals, Whoops exception JSON, Slim's not-found
// answers, the GUI's login page), the layers in front of FreePBX (CDN, WAF,
// reverse proxy, the web server's own pages), and what nobody explains.
// What the answer says decides before its status does.

// whoops is the framework's Whoops JsonResponseHandler output:
// {"error":{"type":"<exception class>","message":"...","file":...,"line":...}}.
type whoops struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

func (a apiBody) exception() (whoops, bool) {
	var w whoops
	if json.Unmarshal(a.Error, &w) != nil || (w.Type == "" && w.Message == "") {
		return whoops{}, false
	}
	return w, true
}

// noModuleMessages are ajax.php's words for a request without a usable
// module (FreePBX's Ajax::doRequest), sent as {"error":"..."} or as the
// message of the framework's Whoops JSON.
var noModuleMessages = []string{"Module requested invalid", "Module or Command were null. Check your code."}

// noModule returns the words of an ajax.php refusal for a missing or
// invalid module, as the answer wrote them.
func noModule(b apiBody) (string, bool) {
	said := b.errorCode()
	if w, ok := b.exception(); ok {
		said = w.Message
	}
	said = strings.TrimSpace(said)
	for _, m := range noModuleMessages {
		if strings.EqualFold(said, m) {
			return frontlayer.Field(said, 120), true
		}
	}
	return "", false
}

var (
	// missingClass: Self_Helper's exceptions when ajax.php cannot load a
	// module's class: the module is not installed (or its files are gone).
	missingClass = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?:Attempted to load (\w+) with a hint of .* and it didn't exist|Unable to locate the FreePBX BMO Class '(\w+)')`)
	})
	// slimNotFound: Slim saw a path it has no route for; the rewrite that
	// turns /admin/api/api/<command>/<route> into module, command and
	// route did not happen as FreePBX's .htaccess says.
	slimNotFound = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)(HttpNotFoundException|HttpMethodNotAllowedException|^not found\.?$|^method not allowed)`)
	})
)

// classifyAnswer explains an answer that is not the API module's own JSON
// for endpoint ("token" or "gql"). ok is false for nothing it recognises;
// the caller then reports it as unrecognised.
func classifyAnswer(endpoint string, ex *exchange, b apiBody) (sdk.Diagnosis, bool) {
	if said, ok := noModule(b); ok {
		// ajax.php refuses a request that names no (valid) module: the
		// rewrite that turns /admin/api/api/<command> into module=api did
		// not run (admin/api/.htaccess ignored, or a proxy dropped it).
		return diagRoutingBroken(endpoint, ex, fmt.Sprintf("FreePBX's ajax.php answered \"%s\": it was reached without module=api, so the /admin/api rewrite rule did not run", said)), true
	}
	switch b.errorCode() {
	case "ajaxRequest declined":
		if onAPIPath(ex.url) {
			// ajax.php saw no api module or no token/gql command although
			// the URL names them: the rewrite did not run (Apache served
			// admin/api/api.php through MultiViews, or a proxy dropped the
			// query string).
			return diagRoutingBroken(endpoint, ex, "FreePBX's ajax.php answered {\"error\":\"ajaxRequest declined\"}: it received no module=api&command="+endpoint+", so the /admin/api rewrite rule did not run"), true
		}
		return diagAjaxDeclined(ex), true
	case "ajaxRequest declined - Referrer":
		return diagReferrer(ex), true
	case "Not Authenticated":
		return diagNotAuthenticated(ex), true
	}
	if _, before, ok := frontlayer.SplitPHPOutput(ex.body); ok {
		return diagPHPOutput(endpoint, ex, before), true
	}
	if w, ok := b.exception(); ok {
		switch m := missingClass().FindStringSubmatch(w.Message); {
		case m != nil && strings.EqualFold(m[1]+m[2], "api"):
			return diagAPIModuleMissing(ex, w.Message), true
		case slimNotFound().MatchString(w.Type) || slimNotFound().MatchString(w.Message):
			return diagRouteMismatch(endpoint, ex, fmt.Sprintf("the API module's router did not find the route (%s: %s): the path it received is not /%s", shortType(w.Type), w.Message, endpoint)), true
		}
		return diagServerError(endpoint, ex), true
	}
	if text := strings.TrimSpace(string(ex.body[:min(len(ex.body), 200)])); strings.HasPrefix(text, "Method not allowed") || strings.HasPrefix(b.Message, "Method not allowed") {
		return diagRouteMismatch(endpoint, ex, "the API module's router answered 405 Method not allowed: the request reached it with another method than POST (a proxy, or a redirect that turned it into a GET)"), true
	}
	if slimNotFound().MatchString(strings.TrimSpace(b.Message)) || strings.Contains(string(ex.body), "The page you are looking for could not be found") {
		return diagRouteMismatch(endpoint, ex, "the API module's router (Slim) answered that it has no such route: the path it received is not /"+endpoint), true
	}
	l, named := frontlayer.Identify(ex.header, ex.body)
	if named && l.Refuses() && !(l.ID == "cloudflare" && ex.status >= 500) {
		// (Cloudflare's 5xx pages say it could not reach FreePBX: a
		// server error, reported below with the page quoted.)
		return diagEdgeBlocked(endpoint, ex, l), true
	}
	switch ex.status {
	case 401, 403, 406, 429:
		if json.Valid(ex.body) && len(strings.TrimSpace(string(ex.body))) > 0 {
			// Some application's JSON (FreePBX's REST API answers scope
			// errors so): not a page of a layer in front.
			break
		}
		// Not FreePBX's JSON, yet a refusal: the web server or a layer
		// in front of it said no.
		switch {
		case len(strings.TrimSpace(string(ex.body))) == 0:
			// Nothing to name a product by: say so, and leave the
			// candidates (fail2ban, a firewall's ban) to the steps.
			l = frontlayer.Layer{ID: "empty", Product: "An unidentified layer (an empty answer)"}
		case !named:
			l = frontlayer.Layer{ID: "unknown", Product: "An unidentified layer"}
		}
		return diagEdgeBlocked(endpoint, ex, l), true
	}
	if frontlayer.LooksHTML(ex.header, ex.body) && freepbxGUIPage(ex.body) {
		return diagRoutingBroken(endpoint, ex, "FreePBX's administration GUI answered with a web page ("+orQuoted(frontlayer.Title(ex.body))+") instead of the API: the request reached the GUI, not admin/api/api.php"), true
	}
	switch {
	case ex.status >= 300 && ex.status < 400:
		return diagRedirect(endpoint, ex), true
	case ex.status >= 500:
		return diagServerError(endpoint, ex), true
	}
	return sdk.Diagnosis{}, false
}

// onAPIPath tells whether u is one of the API module's endpoints.
func onAPIPath(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	return strings.HasSuffix(p.Path, tokenPath) || strings.HasSuffix(p.Path, gqlPath)
}

func freepbxGUIPage(body []byte) bool {
	b := strings.ToLower(string(body[:min(len(body), 64<<10)]))
	return strings.Contains(b, "freepbx") || strings.Contains(b, "sangoma")
}

func shortType(t string) string {
	if i := strings.LastIndex(t, `\`); i >= 0 {
		return t[i+1:]
	}
	return t
}

func orQuoted(s string) string {
	if s == "" {
		return "untitled"
	}
	return frontlayer.Quote(s)
}
