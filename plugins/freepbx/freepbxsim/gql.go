package freepbxsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// gqlType is an object type of the simulated schema. A field whose type is
// nil is a scalar.
type gqlType struct {
	name   string
	fields map[string]*gqlType
}

var (
	scalar      *gqlType
	coreUserT   = &gqlType{name: "coreuser", fields: map[string]*gqlType{"id": scalar, "extension": scalar, "name": scalar, "outboundCid": scalar, "voicemail": scalar}}
	extensionT  = &gqlType{name: "extension", fields: map[string]*gqlType{"id": scalar, "extensionId": scalar, "tech": scalar, "status": scalar, "message": scalar, "user": coreUserT}}
	extConnT    = &gqlType{name: "extensionConnection", fields: map[string]*gqlType{"status": scalar, "message": scalar, "totalCount": scalar, "count": scalar, "extension": extensionT}}
	systemT     = &gqlType{name: "system", fields: map[string]*gqlType{"version": scalar, "engine": scalar, "needReload": scalar}}
	coreQueries = map[string]*gqlType{"fetchAllExtensions": extConnT, "fetchAllValidExtensions": extConnT}
)

// covers is FreePBX's ApiBase::checkScope: the token's scopes cover
// "<type>:<module>:<key>" when they hold the type, type:module,
// type:module:read|write (for keys starting with read/write) or the scope
// itself — i.e. any colon-prefix of it.
func covers(granted []string, scope string) bool {
	for _, g := range granted {
		if scope == g || strings.HasPrefix(scope, g+":") {
			return true
		}
	}
	return false
}

// queryType builds the Query type as Gql/Api.php does: each module class
// adds its fields only when the token's scopes pass its check.
func queryType(sc scenario, scopes []string) *gqlType {
	q := &gqlType{name: "Query", fields: map[string]*gqlType{}}
	// core's Extensions class checks checkAllReadScope(), i.e. "read".
	if !sc.coreDisabled && covers(scopes, "gql:core:read") {
		for name, t := range coreQueries {
			q.fields[name] = t
		}
	}
	if covers(scopes, "gql:framework:read:system") {
		q.fields["system"] = systemT
	}
	return q
}

type gqlError struct {
	Message   string        `json:"message"`
	Locations []gqlLocation `json:"locations,omitempty"`
}

type gqlLocation struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// gql answers POST /admin/api/api/gql.
func (s *Server) gql(w http.ResponseWriter, r *http.Request, v Version, sc scenario) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, v)
		return
	}
	scopes, hint := s.bearer(r, v)
	if hint != "" {
		accessDenied(w, v, hint)
		return
	}
	var req struct {
		Query string `json:"query"`
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	_ = json.Unmarshal(body, &req)
	doc, perr := parseQuery(req.Query)
	if perr != nil {
		writeErrors(w, v, []gqlError{*perr})
		return
	}
	if doc.operation != "query" {
		writeErrors(w, v, []gqlError{{Message: "Schema is not configured for mutations.", Locations: []gqlLocation{doc.loc}}})
		return
	}
	q := queryType(sc, scopes)
	if errs := validate(q, doc.fields); len(errs) > 0 {
		writeErrors(w, v, errs)
		return
	}
	data, failed := s.execute(sc, doc.fields)
	if failed != "" {
		// Both versions turn a first field answering status false into a
		// 400 with that message.
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": []map[string]any{{"message": failed, "status": false}}})
		return
	}
	var buf bytes.Buffer
	buf.WriteString(`{"data":`)
	buf.Write(data)
	buf.WriteString("}")
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(buf.Bytes())
}

// writeErrors renders GraphQL validation errors. FreePBX 16 returns the
// first as {"message","status":false} with HTTP 400; 17 meant to as well,
// but its withBody call drops the status, so graphql-php's own errors go
// out with 200.
func writeErrors(w http.ResponseWriter, v Version, errs []gqlError) {
	if v == V16 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": []map[string]any{{"message": errs[0].Message, "status": false}}})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"errors": errs})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// validate checks every selected field exists, as graphql-php's
// FieldsOnCorrectType and ScalarLeafs rules do.
func validate(t *gqlType, fields []*field) []gqlError {
	var errs []gqlError
	for _, f := range fields {
		ft, ok := t.fields[f.name]
		loc := []gqlLocation{f.loc}
		switch {
		case !ok:
			errs = append(errs, gqlError{Message: fmt.Sprintf("Cannot query field %q on type %q.", f.name, t.name), Locations: loc})
		case ft == nil && len(f.sel) > 0:
			errs = append(errs, gqlError{Message: fmt.Sprintf("Field %q must not have a selection since type \"String\" has no subfields.", f.name), Locations: loc})
		case ft != nil && len(f.sel) == 0:
			errs = append(errs, gqlError{Message: fmt.Sprintf("Field %q of type %q must have a sub selection.", f.name, ft.name), Locations: loc})
		case ft != nil:
			errs = append(errs, validate(ft, f.sel)...)
		}
	}
	return errs
}

// execute resolves a validated query. failed is the message of a top-level
// resolver answering status false.
func (s *Server) execute(sc scenario, fields []*field) (data []byte, failed string) {
	out := object{}
	for i, f := range fields {
		var val map[string]any
		switch f.name {
		case "fetchAllExtensions", "fetchAllValidExtensions":
			if sc.noExtensions {
				if i == 0 {
					return nil, "Sorry, unable to find any extensions"
				}
				val = map[string]any{"status": false, "message": "Sorry, unable to find any extensions"}
				break
			}
			val = s.extensions(f.name == "fetchAllValidExtensions")
		case "system":
			val = map[string]any{"version": "17.0.19.23", "engine": "asterisk 21.4.1", "needReload": false}
		}
		out = append(out, kv{f.responseKey(), project(val, f.sel)})
	}
	b, _ := json.Marshal(out)
	return b, ""
}

func (s *Server) extensions(valid bool) map[string]any {
	list := make([]any, 0, len(s.opts.Extensions))
	for _, ext := range s.opts.Extensions {
		list = append(list, map[string]any{
			"id": "ZXh0ZW5zaW9uOj" + ext, "extensionId": ext, "tech": "pjsip", "status": true, "message": nil,
			"user": map[string]any{"id": ext, "extension": ext, "name": "User " + ext, "outboundCid": nil, "voicemail": "default"},
		})
	}
	msg := "Extension's found successfully"
	if valid {
		msg = "Valid core extensions"
	}
	return map[string]any{"status": true, "message": msg, "totalCount": len(list), "count": len(list), "extension": list}
}

// object is a JSON object that keeps the query's field order.
type object []kv

type kv struct {
	k string
	v any
}

func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(e.k)
		v, err := json.Marshal(e.v)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// project shapes a resolved value by a selection set.
func project(val any, sel []*field) any {
	switch x := val.(type) {
	case map[string]any:
		o := object{}
		for _, f := range sel {
			o = append(o, kv{f.responseKey(), project(x[f.name], f.sel)})
		}
		return o
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = project(e, sel)
		}
		return out
	default:
		return val
	}
}
