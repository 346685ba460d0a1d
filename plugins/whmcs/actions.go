package whmcs

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/pbxwatch/pbxwatch/sdk/yamlerr"
)

// readActions are the WHMCS API actions known to only read, with the group
// the API role dialog files them under (WHMCS API index). Only these, and
// unknown names starting with "Get" (custom or misspelt actions), may be
// probed. Built on first use: every process of the multi-call binary runs
// this package's initialisers (docs/design.md "Package initialisers run
// in every process").
var readActions = sync.OnceValue(func() map[string]string {
	return map[string]string{
		"WhmcsDetails": "System", "GetAdminDetails": "System", "GetActivityLog": "System",
		"GetAutomationLog": "System", "GetConfigurationValue": "System", "GetCurrencies": "System",
		"GetPaymentMethods": "System", "GetStaffOnline": "System", "GetStats": "System",
		"GetToDoItems": "System", "GetToDoItemStatuses": "System", "GetEmailTemplates": "System",
		"GetAdminUsers": "System",
		"GetOrders":     "Orders", "GetOrderStatuses": "Orders", "GetProducts": "Orders", "GetPromotions": "Orders",
		"GetCredits": "Billing", "GetInvoice": "Billing", "GetInvoices": "Billing", "GetQuotes": "Billing",
		"GetTransactions": "Billing", "GetPayMethods": "Billing",
		"GetModuleConfigurationParameters": "Module", "GetModuleQueue": "Module",
		"GetAnnouncements":     "Support",
		"GetCancelledPackages": "Client", "GetClientGroups": "Client", "GetClients": "Client",
		"GetClientsAddons": "Client", "GetClientsDetails": "Client", "GetClientsDomains": "Client",
		"GetClientsProducts": "Client", "GetContacts": "Client", "GetEmails": "Client",
		"GetProject": "Project Management", "GetProjects": "Project Management",
		"GetAffiliates":          "Affiliates",
		"DomainGetLockingStatus": "Domains", "DomainGetNameservers": "Domains", "DomainGetWhoisInfo": "Domains",
		"DomainWhois": "Domains", "GetTLDPricing": "Domains", "GetRegistrars": "Domains",
		"GetHealthStatus": "Servers", "GetServers": "Servers",
		"GetSupportDepartments": "Tickets", "GetSupportStatuses": "Tickets", "GetTicket": "Tickets",
		"GetTicketCounts": "Tickets", "GetTicketNotes": "Tickets", "GetTicketPredefinedCats": "Tickets",
		"GetTicketPredefinedReplies": "Tickets", "GetTickets": "Tickets",
		"GetUsers": "Users", "GetUserPermissions": "Users", "GetPermissionsList": "Users",
	}
})

// secretActions read, but return secrets a monitor's credential must not
// be able to fetch.
var secretActions = map[string]string{
	"ListOAuthCredentials": "it returns every OAuth/OpenID Connect client's clientSecret. To watch OpenID Connect set `oidc: true`, which reads only the public discovery document and keys",
	"GetClientPassword":    "it returns a client's password (or its hash). Probe GetClientsDetails instead",
	"DecryptPassword":      "it decrypts any stored password. Leave it out of the monitor's API role",
}

// writePrefixes start the names of actions that change WHMCS or the world
// (create records, send mail, charge cards, provision services).
var writePrefixes = []string{
	"Accept", "Activate", "Add", "Affiliate", "Apply", "Block", "Cancel", "Capture", "Change", "Close",
	"Create", "Deactivate", "Delete", "Encrypt", "End", "Fraud", "Gen", "Log", "Merge", "Module",
	"Open", "Order", "Pending", "Register", "Reset", "Send", "Set", "Start", "Trigger", "Unblock",
	"Update", "Upgrade", "Validate",
}

// domainWrites are the Domain* actions that reach the registrar to change
// something.
var domainWrites = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^Domain(Register|Release|Renew|RequestEPP|Toggle|Transfer|Update)`)
})

var actionName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*$`) })

// misnamed maps action names people guess to the real ones.
var misnamed = sync.OnceValue(func() map[string]string {
	return map[string]string{
		"getsystemstats": "GetStats", "getstatistics": "GetStats", "getclient": "GetClientsDetails",
		"getclientdetails": "GetClientsDetails", "getclientproducts": "GetClientsProducts",
		"getclientsservices": "GetClientsProducts", "getservices": "GetClientsProducts",
		"getproduct": "GetProducts", "getorder": "GetOrders", "getversion": "WhmcsDetails",
		"getwhmcsdetails": "WhmcsDetails", "getdomains": "GetClientsDomains", "getclientdomains": "GetClientsDomains",
		"getinvoicelist": "GetInvoices", "getticketlist": "GetTickets", "getaddons": "GetClientsAddons",
		"gethealth": "GetHealthStatus", "getadmins": "GetAdminUsers", "gettodolist": "GetToDoItems",
	}
})

// canonical returns the official spelling of a known read action.
func canonical(name string) (string, bool) {
	for a := range readActions() {
		if strings.EqualFold(a, name) {
			return a, true
		}
	}
	return name, false
}

// checkActions validates required_actions: known reads in their official
// spelling, unknown Get* names as given; writes and secret-returning
// actions refused with the reason and what to list instead.
func checkActions(in []string) ([]string, error) {
	var errs []error
	var out []string
	seen := map[string]bool{}
	writes := false
	for _, a := range in {
		if err := actionPolicy(a); err != nil {
			if errors.Is(err, errWriteAction) {
				writes = true
				err = errors.New(strings.TrimSuffix(err.Error(), " "+errWriteAction.Error()))
			}
			errs = append(errs, err)
			continue
		}
		c, _ := canonical(a)
		if !seen[strings.ToLower(c)] {
			seen[strings.ToLower(c)] = true
			out = append(out, c)
		}
	}
	if writes {
		errs = append(errs, errWriteAction)
	}
	return out, errors.Join(errs...)
}

// errWriteAction explains, once, why write actions are refused.
var errWriteAction = errors.New("(a monitor can only prove an action is allowed by calling it, and write actions have side effects even with made-up IDs: CreateQuote creates a quote for a client that does not exist. Keep write actions ticked in the API role if your integration needs them, but do not list them here)")

func actionPolicy(a string) error {
	if !actionName().MatchString(a) {
		return fmt.Errorf("%q is not an API action name (letters and digits, e.g. GetClients)", a)
	}
	for s, why := range secretActions {
		if strings.EqualFold(a, s) {
			return fmt.Errorf("%s is refused: %s", s, why)
		}
	}
	if _, ok := canonical(a); ok {
		return nil
	}
	if isWrite(a) {
		return fmt.Errorf("%s is refused: it changes WHMCS (or the outside world); list a read action of the same area instead%s. %w", a, readInstead(a), errWriteAction)
	}
	if !strings.HasPrefix(a, "Get") && !strings.HasPrefix(a, "get") {
		return fmt.Errorf("%s is not a known read-only WHMCS action, so the plugin will not call it: list only read actions (Get*, WhmcsDetails, DomainWhois, DomainGet*)%s", a, suggestionSuffix(a))
	}
	return nil
}

func isWrite(a string) bool {
	if domainWrites().MatchString(a) {
		return true
	}
	for _, p := range writePrefixes {
		if len(a) > len(p) && strings.EqualFold(a[:len(p)], p) {
			return true
		}
	}
	return false
}

// readInstead names read actions about the same thing as write action a:
// AddClient -> GetClients, UpdateClientProduct -> GetClientsProducts.
func readInstead(a string) string {
	noun := strings.ToLower(a)
	for _, p := range writePrefixes {
		if strings.HasPrefix(noun, strings.ToLower(p)) {
			noun = noun[len(p):]
			break
		}
	}
	noun = strings.TrimPrefix(noun, "domain")
	if strings.HasPrefix(strings.ToLower(a), "module") || noun == "" {
		return ", e.g. GetClientsProducts (module commands act on services)"
	}
	for r := range readActions() {
		if l := strings.ToLower(r); l == "get"+noun || l == "get"+noun+"s" {
			return ", e.g. " + r
		}
	}
	key := strings.ReplaceAll(noun, "s", "")
	var hits []string
	for r := range readActions() {
		if strings.Contains(strings.ReplaceAll(strings.ToLower(r), "s", ""), key) {
			hits = append(hits, r)
		}
	}
	if len(hits) == 0 {
		return ""
	}
	slices.Sort(hits)
	if len(hits) > 3 {
		hits = hits[:3]
	}
	return ", e.g. " + strings.Join(hits, " or ")
}

// isBuiltin tells whether a is an action of WHMCS's API index that the
// plugin knows (the read actions it may probe).
func isBuiltin(a string) bool {
	_, ok := readActions()[a]
	return ok
}

// nearBuiltin returns the built-in action a name is most likely a typo or
// guess of ("" when it is near none: a custom action, probably).
func nearBuiltin(a string) string {
	if s := suggest(a); s != "" && !strings.EqualFold(s, a) {
		return s
	}
	return ""
}

// suggest returns the real action a misspelt or guessed name most likely
// means, or "".
func suggest(a string) string {
	if s, ok := misnamed()[strings.ToLower(a)]; ok {
		return s
	}
	best, bestD := "", 4
	for r := range readActions() {
		if d := yamlerr.EditDistance(strings.ToLower(a), strings.ToLower(r)); d < bestD || (d == bestD && r < best) {
			best, bestD = r, d
		}
	}
	return best
}

func suggestionSuffix(a string) string {
	if s := suggest(a); s != "" {
		return " (did you mean " + s + "?)"
	}
	return ""
}

// probeParams are the minimal parameters that make an action do as little
// as possible: one row at most, or a lookup of ID 0, which no record has (a
// "not found" answer at HTTP 200 proves the action is allowed).
func probeParams(action string) map[string]string {
	switch action {
	case "GetClientsDetails", "GetEmails", "GetContacts", "GetCredits", "GetPayMethods":
		return map[string]string{"clientid": "0"}
	case "GetInvoice":
		return map[string]string{"invoiceid": "0"}
	case "GetTicket", "GetTicketNotes":
		return map[string]string{"ticketid": "0"}
	case "GetProject":
		return map[string]string{"projectid": "0"}
	case "GetTransactions":
		return map[string]string{"transid": "0"}
	case "GetProducts":
		return map[string]string{"pid": "0"}
	case "GetConfigurationValue":
		return map[string]string{"setting": "SystemURL"}
	case "DomainGetLockingStatus", "DomainGetNameservers", "DomainGetWhoisInfo":
		return map[string]string{"domainid": "0"}
	case "DomainWhois":
		// No domain: a validation error proves the action is allowed without
		// WHMCS querying a WHOIS server.
		return nil
	case "GetModuleConfigurationParameters":
		return map[string]string{"moduleType": "gateway", "moduleName": "pbxwatch_probe"}
	case "WhmcsDetails", "GetAdminDetails", "GetCurrencies", "GetStats", "GetHealthStatus":
		return nil
	default:
		return map[string]string{"limitnum": "1"}
	}
}

// roleBox names the box to tick in the API role dialog for an action.
func roleBox(action string) string {
	if g, ok := readActions()[action]; ok {
		return g + " > " + action
	}
	return action
}
