// Command pbxwatch-plugin-tlscheck is a pbxwatch check plugin: it connects
// to a TLS endpoint (the FreePBX GUI on 443, UCP on 8003, a PJSIP TLS
// transport on 5061, a provisioning server), verifies its certificate and
// warns before it expires.
//
// It is the template docs/writing-plugins.md walks through: copy this
// folder, rename the module, and change check.go.
//
//	checks:
//	  - name: gui_certificate
//	    plugin: tlscheck
//	    schedule: "@every 1h"
//	    config:
//	      address: pbx.example.com:443
//	      warn_days: 21
//	      critical_days: 7
package main

import "github.com/pbxwatch/pbxwatch/sdk"

func main() { sdk.Serve(&checker{}) }
