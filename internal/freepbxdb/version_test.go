package freepbxdb

import "testing"

func TestAcceptsAnySecret(t *testing.T) {
	for v, want := range map[string]bool{
		"17.0.1": true, "17.0.1alpha": true, "17.0.7.3": true, "17.0.8": false, "17.0.10": false, "17.1.0": false,
		"16.0.13": false, "16.0.40.1": false, "18.0.1": false, "": false,
	} {
		if got := AcceptsAnySecret(v); got != want {
			t.Errorf("AcceptsAnySecret(%q) = %v", v, got)
		}
	}
}
