package whmcssim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// api is includes/api.php: IP restriction (unless the access key is sent),
// then the credentials, then the API role, then the action itself — the
// order the field reports imply (an Invalid IP answer says nothing about
// the credentials; an Invalid Permissions answer proves them right).
func (s *Server) api(w http.ResponseWriter, r *http.Request, sc *scenario) {
	if sc.cloudflare {
		setCloudflareHeaders(w)
	}
	// WHMCS reads $_REQUEST: query string and form body alike.
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, sc, errorBody("Invalid request"))
		return
	}
	f := r.Form
	if sc.ip.deny && !(s.opts.AccessKey != "" && f.Get("accesskey") == s.opts.AccessKey) {
		writeJSON(w, sc.ip.status, sc, errorBody("Invalid IP "+callerIP(r, sc)))
		return
	}
	id, secret := first(f.Get("identifier"), f.Get("username")), first(f.Get("secret"), f.Get("password"))
	switch {
	case id == "" && secret == "":
		writeJSON(w, http.StatusForbidden, sc, errorBody("Authentication Failed"))
		return
	case id != s.opts.Identifier:
		writeJSON(w, http.StatusForbidden, sc, errorBody("Invalid or missing credentials"))
		return
	case secret != s.opts.Secret:
		writeJSON(w, http.StatusForbidden, sc, errorBody("Authentication Failed"))
		return
	}
	action := strings.ToLower(f.Get("action"))
	if action == "" {
		writeJSON(w, http.StatusBadRequest, sc, errorBody("Empty action request"))
		return
	}
	// A restricted role is checked before the action's existence, so a
	// nonexistent action comes back as Invalid Permissions.
	if sc.role != nil && !sc.role[action] {
		writeJSON(w, http.StatusForbidden, sc, errorBody(fmt.Sprintf("Invalid Permissions: API action %q is not allowed", action)))
		return
	}
	h, ok := actions[action]
	if !ok || (sc.legacy && action == "whmcsdetails") {
		writeJSON(w, http.StatusOK, sc, errorBody(fmt.Sprintf("Invalid API Action: %q is not a valid API action", action)))
		return
	}
	writeJSON(w, http.StatusOK, sc, h(s, sc, f.Get))
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func errorBody(msg string) map[string]any { return map[string]any{"result": "error", "message": msg} }

type actionFunc func(s *Server, sc *scenario, param func(string) string) map[string]any

func success(kv ...any) map[string]any {
	m := map[string]any{"result": "success"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func list(s *Server, sc *scenario, param func(string) string) map[string]any {
	return success("totalresults", 0, "startnumber", 0, "numreturned", 0)
}

// notFoundByID answers a lookup of an entity that does not exist: a
// business error, served at HTTP 200 once authorisation passed.
func notFoundByID(idParam, msg string) actionFunc {
	return func(s *Server, sc *scenario, param func(string) string) map[string]any {
		if param(idParam) == "" || param(idParam) == "0" {
			return errorBody(msg)
		}
		return success()
	}
}

var actions = map[string]actionFunc{
	"whmcsdetails": func(s *Server, sc *scenario, _ func(string) string) map[string]any {
		v := s.versionOf(sc)
		return success("whmcs", map[string]string{"version": v, "canonicalversion": v + "-release.1"})
	},
	"getadmindetails": func(s *Server, sc *scenario, _ func(string) string) map[string]any {
		v := s.versionOf(sc)
		return success("adminid", "1", "name", "Site Admin", "notes", "", "signature", "",
			"allowedpermissions", "Main Homepage,My Account,List Clients,API Access",
			"departments", ",1,", "whmcs", map[string]string{"version": v, "canonicalversion": v + "-release.1"})
	},
	"getclients": func(s *Server, sc *scenario, _ func(string) string) map[string]any {
		return success("totalresults", 2, "startnumber", 0, "numreturned", 1, "clients", map[string]any{
			"client": []map[string]any{{"id": 1, "firstname": "Ada", "lastname": "Example", "companyname": "Example PBX Ltd", "email": "ada@example.com", "datecreated": "2024-01-15", "groupid": 0, "status": "Active"}},
		})
	},
	"getclientsdetails":  notFoundByID("clientid", "Client Not Found"),
	"getclientsproducts": list,
	"getclientsdomains":  list,
	"getclientsaddons":   list,
	"getproducts":        list,
	"getorders":          list,
	"getinvoices":        list,
	"getinvoice":         notFoundByID("invoiceid", "Invoice ID Not Found"),
	"gettickets":         list,
	"getticket":          notFoundByID("ticketid", "Ticket ID Not Found"),
	"gettransactions":    list,
	"getquotes":          list,
	"getcontacts":        list,
	"getemails":          notFoundByID("clientid", "Client ID Not Found"),
	"getusers":           list,
	"getcurrencies": func(*Server, *scenario, func(string) string) map[string]any {
		return success("totalresults", 1, "currencies", map[string]any{"currency": []map[string]any{{"id": 1, "code": "USD", "prefix": "$", "suffix": " USD", "format": 1, "rate": "1.00000"}}})
	},
	"getstats": func(*Server, *scenario, func(string) string) map[string]any {
		return success("income_today", "$0.00 USD", "orders_pending", 0, "tickets_allactive", 0)
	},
	"gethealthstatus": func(*Server, *scenario, func(string) string) map[string]any {
		return success("checks", map[string]any{"success": []any{}, "warning": []any{}, "danger": []any{}})
	},
	"getservers":        list,
	"getactivitylog":    list,
	"getpaymentmethods": list,
	"getconfigurationvalue": func(_ *Server, _ *scenario, param func(string) string) map[string]any {
		if param("setting") == "" {
			return errorBody("Parameter setting is required")
		}
		return success("setting", param("setting"), "value", "")
	},
}

// writeJSON writes body as WHMCS does: PHP's json_encode escapes "/" as
// "\/", and WHMCS writes quotes inside strings as \u0022 (a byte search for
// \" in its messages fails; only decoded JSON matches).
func writeJSON(w http.ResponseWriter, status int, sc *scenario, body map[string]any) {
	key := "result"
	if sc.envelope == "status" {
		key = "status"
	}
	outcome, _ := body["result"].(string)
	delete(body, "result")
	rest, err := json.Marshal(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	// WHMCS puts the envelope key first.
	b := []byte(fmt.Sprintf("{%q:%q", key, outcome))
	if len(rest) > 2 {
		b = append(append(b, ','), rest[1:]...)
	} else {
		b = append(b, '}')
	}
	b = bytes.ReplaceAll(b, []byte(`\"`), []byte(`\u0022`))
	b = bytes.ReplaceAll(b, []byte(`/`), []byte(`\/`))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
